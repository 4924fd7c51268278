#include "shard/series_merge.h"

#include <utility>

#include "storage/chunk_decoder.h"
#include "storage/chunk_series_set.h"

namespace kura::shard {
namespace {

// One merged series: the chunks of every replica that returned it.
class MergedSeries : public model::Series {
 public:
  MergedSeries(int64_t min_time_ms, int64_t max_time_ms)
      : min_time_ms_(min_time_ms), max_time_ms_(max_time_ms) {}

  // Starts the next series, reusing the chunk vector's capacity.
  void Reset(const model::Labels& labels) {
    labels_ = labels;
    chunks_.clear();
  }
  void AddChunks(std::vector<std::string>* chunks) {
    for (std::string& chunk : *chunks) chunks_.push_back(std::move(chunk));
  }

  const model::Labels& labels() const override { return labels_; }

  std::unique_ptr<model::SampleIterator> NewIterator() const override {
    std::vector<std::unique_ptr<model::SampleIterator>> sources;
    sources.reserve(chunks_.size());
    for (const std::string& chunk : chunks_) {
      // Owning copies: the iterator outlives Reset() (model::Series::NewIterator).
      sources.push_back(storage::NewOwningChunkIterator(chunk, min_time_ms_, max_time_ms_));
    }
    return storage::NewMergingIterator(std::move(sources));
  }

 private:
  model::Labels labels_;
  const int64_t min_time_ms_;
  const int64_t max_time_ms_;
  std::vector<std::string> chunks_;
};

class MergedSeriesSet : public model::SeriesSet {
 public:
  MergedSeriesSet(std::vector<std::unique_ptr<SelectStream>> streams, int64_t min_time_ms,
                  int64_t max_time_ms, std::vector<std::string> warnings, StreamEndFn on_end)
      : streams_(std::move(streams)),
        has_head_(streams_.size(), false),
        current_(min_time_ms, max_time_ms),
        warnings_(std::move(warnings)),
        on_end_(std::move(on_end)) {}

  bool Next() override {
    if (!status_.ok()) return false;
    // A k-way merge; k is the number of nodes, so a linear scan for the smallest head is as
    // fast as a heap.
    const model::Labels* smallest = nullptr;
    for (size_t n = 0; n < streams_.size(); ++n) {
      if (!Fill(n)) return false;
      if (!has_head_[n]) continue;
      const model::Labels& labels = streams_[n]->At().labels;
      if (smallest == nullptr || labels < *smallest) smallest = &labels;
    }
    if (smallest == nullptr) return false;
    current_.Reset(*smallest);
    for (size_t n = 0; n < streams_.size(); ++n) {
      // A node's stream may split one series over consecutive entries.
      while (has_head_[n] && streams_[n]->At().labels == current_.labels()) {
        current_.AddChunks(&streams_[n]->At().chunks);
        has_head_[n] = false;
        if (!Fill(n)) return false;
      }
    }
    return true;
  }

  const model::Series& At() const override { return current_; }
  absl::Status status() const override { return status_; }
  std::vector<std::string> warnings() const override { return warnings_; }

 private:
  // Makes sure stream n has a head unless it ended. False when the set fails.
  bool Fill(size_t n) {
    if (has_head_[n] || streams_[n] == nullptr) return true;
    if (streams_[n]->Next()) {
      has_head_[n] = true;
      return true;
    }
    absl::Status end = on_end_(n, streams_[n]->status(), &warnings_);
    streams_[n].reset();
    if (end.ok()) return true;
    status_ = std::move(end);
    for (std::unique_ptr<SelectStream>& stream : streams_) stream.reset();
    return false;
  }

  std::vector<std::unique_ptr<SelectStream>> streams_;
  std::vector<bool> has_head_;
  MergedSeries current_;
  std::vector<std::string> warnings_;
  StreamEndFn on_end_;
  absl::Status status_;
};

}  // namespace

std::unique_ptr<model::SeriesSet> MergeSelectStreams(
    std::vector<std::unique_ptr<SelectStream>> streams, int64_t min_time_ms, int64_t max_time_ms,
    std::vector<std::string> warnings, StreamEndFn on_end) {
  return std::make_unique<MergedSeriesSet>(std::move(streams), min_time_ms, max_time_ms,
                                           std::move(warnings), std::move(on_end));
}

}  // namespace kura::shard
