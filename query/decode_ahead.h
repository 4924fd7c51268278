#pragma once

// DecodeAhead: reads the series of a SeriesSet and decodes their samples ahead of the
// evaluator on a thread pool, so that one query's chunk decoding (most of its work on a
// selector over many series) uses more than one core. Series come out in the set's order.
//
// Work goes in batches: while the consumer evaluates one batch the pool decodes the next, and a
// consumer that reaches a batch before the pool is done decodes the rest itself. At most two
// batches are held; their size adapts to about kBatchSamples samples, so a query over long
// series does not buffer more than a few hundred KiB ahead. Batches that small keep the pool
// decoding while the consumer evaluates: with the whole selection in one batch, the evaluation
// of its series waited for all of them to be decoded (a query over 80 series of 720 samples
// took 12% longer).
//
// Not thread-safe: one consumer. The destructor stops what has not started and waits for the
// series being decoded, so nothing runs on behalf of a query that has returned.
//
// Example:
//   DecodeAhead series(std::move(set), pool);
//   while (series.Next()) Use(series.labels(), series.samples());
//   RETURN_IF_ERROR(series.status());

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "base/thread_pool.h"
#include "model/labels.h"
#include "model/sample.h"
#include "model/series_set.h"

namespace kura::query {

class DecodeAhead {
 public:
  // Samples a batch aims at once the first batches have shown how long the series are.
  static constexpr size_t kBatchSamples = size_t{1} << 13;

  // With a null `pool` (or one without threads) the consumer decodes every series itself.
  // With `with_starts`, the samples' start timestamps are read too (see starts()).
  DecodeAhead(std::unique_ptr<model::SeriesSet> set, base::ThreadPool* pool,
              bool with_starts = false);
  DecodeAhead(const DecodeAhead&) = delete;
  DecodeAhead& operator=(const DecodeAhead&) = delete;
  ~DecodeAhead();

  // The next series with its samples; false at the end or on an error (see status()).
  bool Next();
  // REQUIRES: the last Next() returned true. Valid until the next call to Next().
  const model::Labels& labels() const;
  // Every sample of the series in the selected range, stale markers included.
  const std::vector<model::Sample>& samples() const;
  // With `with_starts`: the start timestamps of samples(), parallel to them but possibly
  // shorter (model::SampleIterator::AppendRemainingWithStarts). Empty otherwise.
  const std::vector<int64_t>& starts() const;
  absl::Status status() const { return status_; }

 private:
  class Batch;

  // Starts decoding the next batch of the set's series; false when none is left.
  bool StartBatch();

  std::unique_ptr<model::SeriesSet> set_;
  base::ThreadPool* pool_;
  const bool with_starts_;
  std::deque<std::shared_ptr<Batch>> pending_;  // started, in order
  std::shared_ptr<Batch> current_;
  size_t index_ = 0;                               // in current_
  std::vector<std::vector<model::Sample>> spare_;  // emptied buffers of consumed batches
  size_t batch_series_ = 8;  // the first batches are small: a query may want few series
  bool set_done_ = false;
  absl::Status status_;
};

}  // namespace kura::query
