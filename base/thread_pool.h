#pragma once

// ThreadPool: a fixed set of threads that run scheduled closures in the order they were
// scheduled. Used for work that one request splits up, such as decoding the series of a query
// on several cores; callers that wait for their closures should also do the work themselves
// while they wait (see query/decode_ahead.h), so a busy pool only slows them down.
//
// Thread-safe. The destructor runs the closures still queued, then joins the threads.
//
// Example:
//   base::ThreadPool pool(3);
//   pool.Schedule([batch] { batch->Work(); });

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace kura::base {

class ThreadPool {
 public:
  // REQUIRES: num_threads >= 0; with 0 nothing runs until the destructor, which runs the queue.
  explicit ThreadPool(int num_threads);
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool();

  void Schedule(std::function<void()> fn);

  int num_threads() const { return static_cast<int>(threads_.size()); }

 private:
  void Run();

  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace kura::base
