#pragma once

// WorkerPool: a fixed set of threads running queued tasks. TrySubmit refuses work beyond the
// queue bound, so overload becomes a fast refusal (503) instead of unbounded memory.

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace kura::cmd {

// Thread-safe.
class WorkerPool {
 public:
  WorkerPool(int threads, size_t max_queued);
  ~WorkerPool();  // Stop()

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False when `max_queued` tasks already wait or the pool is stopping.
  bool TrySubmit(std::function<void()> task);

  // Runs every queued task, then joins the threads. Idempotent.
  void Stop();

 private:
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Run();

  const size_t max_queued_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace kura::cmd
