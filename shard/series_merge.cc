#include "shard/series_merge.h"

#include <algorithm>
#include <utility>

#include "storage/chunk_decoder.h"
#include "storage/chunk_series_set.h"

namespace kura::shard {
namespace {

// One merged series: the chunks of every replica that returned it.
class MergedSeries : public model::Series {
 public:
  MergedSeries(model::Labels labels, int64_t min_time_ms, int64_t max_time_ms)
      : labels_(std::move(labels)), min_time_ms_(min_time_ms), max_time_ms_(max_time_ms) {}

  void AddChunks(std::vector<std::string> chunks) {
    for (std::string& chunk : chunks) chunks_.push_back(std::move(chunk));
  }

  const model::Labels& labels() const override { return labels_; }

  std::unique_ptr<model::SampleIterator> NewIterator() const override {
    std::vector<std::unique_ptr<model::SampleIterator>> sources;
    sources.reserve(chunks_.size());
    for (const std::string& chunk : chunks_) {
      sources.push_back(storage::NewChunkIterator(chunk, min_time_ms_, max_time_ms_));
    }
    return storage::NewMergingIterator(std::move(sources));
  }

 private:
  model::Labels labels_;
  int64_t min_time_ms_;
  int64_t max_time_ms_;
  std::vector<std::string> chunks_;
};

class MergedSeriesSet : public model::SeriesSet {
 public:
  MergedSeriesSet(std::vector<std::unique_ptr<MergedSeries>> series,
                  std::vector<std::string> warnings)
      : series_(std::move(series)), warnings_(std::move(warnings)) {}

  bool Next() override { return ++next_ <= series_.size(); }
  const model::Series& At() const override { return *series_[next_ - 1]; }
  absl::Status status() const override { return absl::OkStatus(); }
  std::vector<std::string> warnings() const override { return warnings_; }

 private:
  std::vector<std::unique_ptr<MergedSeries>> series_;
  std::vector<std::string> warnings_;
  size_t next_ = 0;
};

}  // namespace

std::unique_ptr<model::SeriesSet> MergeNodeSeries(std::vector<std::vector<EncodedSeries>> per_node,
                                                  int64_t min_time_ms, int64_t max_time_ms,
                                                  std::vector<std::string> warnings) {
  // A k-way merge by labels; k is the number of nodes, so a linear scan for the smallest head
  // is as fast as a heap.
  std::vector<size_t> pos(per_node.size(), 0);
  std::vector<std::unique_ptr<MergedSeries>> merged;
  while (true) {
    const model::Labels* smallest = nullptr;
    for (size_t n = 0; n < per_node.size(); ++n) {
      if (pos[n] == per_node[n].size()) continue;
      const model::Labels& labels = per_node[n][pos[n]].labels;
      if (smallest == nullptr || labels < *smallest) smallest = &labels;
    }
    if (smallest == nullptr) break;
    auto series = std::make_unique<MergedSeries>(*smallest, min_time_ms, max_time_ms);
    const model::Labels key = *smallest;
    for (size_t n = 0; n < per_node.size(); ++n) {
      // A node's stream may split one series over consecutive entries.
      while (pos[n] < per_node[n].size() && per_node[n][pos[n]].labels == key) {
        series->AddChunks(std::move(per_node[n][pos[n]].chunks));
        ++pos[n];
      }
    }
    merged.push_back(std::move(series));
  }
  return std::make_unique<MergedSeriesSet>(std::move(merged), std::move(warnings));
}

}  // namespace kura::shard
