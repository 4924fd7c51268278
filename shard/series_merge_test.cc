#include "shard/series_merge.h"

#include <utility>
#include <vector>

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

TEST(SeriesMergeTest, NoNodesGiveAnEmptySet) {
  std::unique_ptr<model::SeriesSet> set = MergeNodeSeries({}, 0, 10, {});
  EXPECT_FALSE(set->Next());
  EXPECT_TRUE(set->warnings().empty());
}

}  // namespace
}  // namespace kura::shard
