#pragma once

// ReadAhead: reads a SelectStream on its own thread into a bounded buffer, so that the fan-out
// receives from every storage node at once while its merge consumes them in label order. When
// the buffer is full the thread stops reading; gRPC's flow control then fills and the node's
// stream waits. What one node's answer holds in memory is the buffer, the message being
// decoded (about 1 MiB at most, proto/storage.proto) and the HTTP/2 window.
//
//   auto stream = std::make_unique<ReadAhead>(client.OpenSelect(matchers, mint, maxt),
//                                             ReadAheadOptions{});

#include <cstddef>
#include <deque>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "shard/select_stream.h"

namespace kura::shard {

struct ReadAheadOptions {
  // The buffer is full at this many entries or this many bytes of labels and chunks, whichever
  // comes first; one entry always fits.
  size_t max_series = 256;
  size_t max_bytes = 4 << 20;
};

// Next(), At() and status() from one consumer thread; Cancel() from any.
class ReadAhead : public SelectStream {
 public:
  ReadAhead(std::unique_ptr<SelectStream> source, ReadAheadOptions options);
  ~ReadAhead() override;  // cancels the source and joins the reading thread

  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  bool Next() override;
  EncodedSeries& At() override { return current_; }
  absl::Status status() const override;
  void Cancel() override;

  // The most entries the buffer ever held.
  size_t peak_buffered() const;

 private:
  void Run();

  const std::unique_ptr<SelectStream> source_;
  const ReadAheadOptions options_;
  mutable absl::Mutex mu_;
  std::deque<EncodedSeries> buffer_ ABSL_GUARDED_BY(mu_);
  size_t buffered_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  size_t peak_buffered_ ABSL_GUARDED_BY(mu_) = 0;
  bool source_done_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;  // the consumer is gone
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  EncodedSeries current_;
  std::thread thread_;
};

}  // namespace kura::shard
