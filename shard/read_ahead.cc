#include "shard/read_ahead.h"

#include <algorithm>
#include <utility>

namespace kura::shard {
namespace {

size_t Bytes(const EncodedSeries& series) {
  size_t bytes = series.labels.CanonicalView().size();
  for (const std::string& chunk : series.chunks) bytes += chunk.size();
  return bytes;
}

}  // namespace

ReadAhead::ReadAhead(std::unique_ptr<SelectStream> source, ReadAheadOptions options)
    : source_(std::move(source)), options_(options), thread_([this] { Run(); }) {}

ReadAhead::~ReadAhead() {
  Cancel();
  thread_.join();
}

void ReadAhead::Cancel() {
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }
  source_->Cancel();
}

void ReadAhead::Run() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto has_room = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return closed_ || buffer_.empty() ||
               (buffer_.size() < options_.max_series && buffered_bytes_ < options_.max_bytes);
      };
      mu_.Await(absl::Condition(&has_room));
      if (closed_) return;
    }
    // Outside the lock: this waits on the node.
    const bool more = source_->Next();
    absl::MutexLock lock(&mu_);
    if (!more) {
      source_done_ = true;
      status_ = source_->status();
      return;
    }
    buffered_bytes_ += Bytes(source_->At());
    buffer_.push_back(std::move(source_->At()));
    peak_buffered_ = std::max(peak_buffered_, buffer_.size());
  }
}

bool ReadAhead::Next() {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return !buffer_.empty() || source_done_ || closed_;
  };
  mu_.Await(absl::Condition(&ready));
  if (buffer_.empty()) {
    if (!source_done_ && status_.ok()) status_ = absl::CancelledError("select stream cancelled");
    return false;
  }
  current_ = std::move(buffer_.front());
  buffer_.pop_front();
  buffered_bytes_ -= Bytes(current_);
  return true;
}

absl::Status ReadAhead::status() const {
  absl::MutexLock lock(&mu_);
  return status_;
}

size_t ReadAhead::peak_buffered() const {
  absl::MutexLock lock(&mu_);
  return peak_buffered_;
}

}  // namespace kura::shard
