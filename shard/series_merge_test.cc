#include "shard/series_merge.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/chunk_encoder.h"

namespace kura::shard {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

model::Labels L(const std::string& name) {
  return model::Labels::FromUnsorted({{"__name__", name}});
}

std::string Chunk(std::vector<std::pair<int64_t, double>> samples) {
  storage::ChunkEncoder encoder;
  for (auto [t, v] : samples) encoder.Append(t, v);
  return std::string(encoder.bytes());
}

std::vector<std::pair<int64_t, double>> Samples(const model::Series& series) {
  std::vector<std::pair<int64_t, double>> out;
  std::unique_ptr<model::SampleIterator> it = series.NewIterator();
  while (it->Next()) out.emplace_back(it->At().timestamp_ms, it->At().value);
  EXPECT_TRUE(it->status().ok());
  return out;
}

// A node's answer already at hand.
class VectorStream : public SelectStream {
 public:
  explicit VectorStream(std::vector<EncodedSeries> series) : series_(std::move(series)) {}
  bool Next() override { return ++next_ <= series_.size(); }
  EncodedSeries& At() override { return series_[next_ - 1]; }
  absl::Status status() const override { return status_; }
  void Cancel() override {}
  absl::Status status_;

 private:
  std::vector<EncodedSeries> series_;
  size_t next_ = 0;
};

std::unique_ptr<model::SeriesSet> MergeNodeSeries(std::vector<std::vector<EncodedSeries>> per_node,
                                                  int64_t min_time_ms, int64_t max_time_ms,
                                                  std::vector<std::string> warnings) {
  std::vector<std::unique_ptr<SelectStream>> streams;
  for (std::vector<EncodedSeries>& series : per_node) {
    streams.push_back(std::make_unique<VectorStream>(std::move(series)));
  }
  return MergeSelectStreams(
      std::move(streams), min_time_ms, max_time_ms, std::move(warnings),
      [](size_t, const absl::Status& status, std::vector<std::string>*) { return status; });
}

TEST(SeriesMergeTest, MergesReplicasDropsDuplicateTimestampsAndKeepsOrder) {
  std::vector<std::vector<EncodedSeries>> per_node(3);
  per_node[0].push_back({L("a"), {Chunk({{1, 1}, {2, 2}})}});
  per_node[0].push_back({L("c"), {Chunk({{5, 5}})}});
  per_node[1].push_back({L("a"), {Chunk({{2, 2}, {3, 3}})}});
  per_node[1].push_back({L("b"), {Chunk({{4, 9}})}});
  // A series split over two stream messages.
  per_node[2].push_back({L("c"), {Chunk({{5, 5}, {6, 6}})}});
  per_node[2].push_back({L("c"), {Chunk({{7, 7}})}});
  std::unique_ptr<model::SeriesSet> set =
      MergeNodeSeries(std::move(per_node), 2, 100, {"partial response: node x"});
  EXPECT_THAT(set->warnings(), ElementsAre("partial response: node x"));
  std::vector<std::string> names;
  std::vector<std::vector<std::pair<int64_t, double>>> samples;
  while (set->Next()) {
    names.emplace_back(set->At().labels().Get("__name__"));
    samples.push_back(Samples(set->At()));
  }
  ASSERT_TRUE(set->status().ok());
  EXPECT_THAT(names, ElementsAre("a", "b", "c"));
  EXPECT_THAT(samples[0], ElementsAre(Pair(2, 2), Pair(3, 3)));  // 1 is before the range
  EXPECT_THAT(samples[1], ElementsAre(Pair(4, 9)));
  EXPECT_THAT(samples[2], ElementsAre(Pair(5, 5), Pair(6, 6), Pair(7, 7)));
}

TEST(SeriesMergeTest, ReplicasKeepStartTimestamps) {
  // Replica 0 holds a version-1 chunk and one with starts; replica 1 the same samples with
  // starts, overlapping both. Of equal timestamps the first replica's sample is kept.
  storage::ChunkEncoder with_starts;
  for (int64_t t : {3, 4, 5}) with_starts.Append(t, static_cast<double>(t), t - 1);
  storage::ChunkEncoder overlapping;
  for (int64_t t : {2, 3, 6}) overlapping.Append(t, static_cast<double>(t), 100 + t);
  std::vector<std::vector<EncodedSeries>> per_node(2);
  per_node[0].push_back({L("a"), {Chunk({{1, 1}, {2, 2}}), std::string(with_starts.bytes())}});
  per_node[1].push_back({L("a"), {std::string(overlapping.bytes())}});
  std::unique_ptr<model::SeriesSet> set = MergeNodeSeries(std::move(per_node), 0, 100, {});
  ASSERT_TRUE(set->Next());
  const std::vector<std::pair<int64_t, int64_t>> want = {{1, 0}, {2, 0}, {3, 2},
                                                         {4, 3}, {5, 4}, {6, 106}};
  std::vector<std::pair<int64_t, int64_t>> got;
  std::unique_ptr<model::SampleIterator> it = set->At().NewIterator();
  while (it->Next()) got.emplace_back(it->At().timestamp_ms, it->StartAt());
  EXPECT_EQ(got, want);
  std::vector<model::Sample> samples;
  std::vector<int64_t> starts;
  ASSERT_TRUE(set->At().NewIterator()->AppendRemainingWithStarts(&samples, &starts).ok());
  got.clear();
  for (size_t i = 0; i < samples.size(); ++i) {
    got.emplace_back(samples[i].timestamp_ms, i < starts.size() ? starts[i] : 0);
  }
  EXPECT_EQ(got, want);
  EXPECT_FALSE(set->Next());
}

TEST(SeriesMergeTest, AStreamThatFailsAddsItsWarningOrFailsTheSet) {
  std::vector<std::unique_ptr<SelectStream>> streams;
  auto failing = std::make_unique<VectorStream>(std::vector<EncodedSeries>{{L("a"), {}}});
  failing->status_ = absl::UnavailableError("reset");
  streams.push_back(std::move(failing));
  streams.push_back(std::make_unique<VectorStream>(
      std::vector<EncodedSeries>{{L("a"), {Chunk({{1, 1}})}}, {L("b"), {Chunk({{2, 2}})}}}));
  std::unique_ptr<model::SeriesSet> set = MergeSelectStreams(
      std::move(streams), 0, 10, {},
      [](size_t stream, const absl::Status& status, std::vector<std::string>* warnings) {
        if (!status.ok())
          warnings->push_back(absl::StrCat("node ", stream, ": ", status.message()));
        return absl::OkStatus();
      });
  std::vector<std::string> names;
  while (set->Next()) names.emplace_back(set->At().labels().Get("__name__"));
  EXPECT_TRUE(set->status().ok());
  EXPECT_THAT(names, ElementsAre("a", "b"));
  EXPECT_THAT(set->warnings(), ElementsAre("node 0: reset"));
}

TEST(SeriesMergeTest, NoNodesGiveAnEmptySet) {
  std::unique_ptr<model::SeriesSet> set = MergeNodeSeries({}, 0, 10, {});
  EXPECT_FALSE(set->Next());
  EXPECT_TRUE(set->warnings().empty());
}

}  // namespace
}  // namespace kura::shard
