// The memory budget on a real node: the head stays within its share by writing chunks out
// early, then by refusing new series with Unavailable; what was accepted stays readable.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/node.h"

namespace kura::storage {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kBudgetBytes = int64_t{8} << 20;
// SplitMemoryBudget's head share of kBudgetBytes: all but a quarter and a 32nd.
constexpr int64_t kHeadShareBytes = kBudgetBytes - kBudgetBytes / 4 - kBudgetBytes / 32;

model::Labels SeriesLabels(int i) {
  return model::Labels::FromUnsorted(
      {{"__name__", "memory_test_series"}, {"instance", absl::StrCat("host-", i, ".example")}});
}

int64_t CountSamples(Node& node, int64_t max_time) {
  absl::StatusOr<model::LabelMatcher> m =
      model::LabelMatcher::Create(model::MatchType::kEqual, "__name__", "memory_test_series");
  EXPECT_TRUE(m.ok());
  std::vector<model::LabelMatcher> matchers = {*m};
  absl::StatusOr<std::unique_ptr<model::SeriesSet>> set = node.Select(matchers, 0, max_time);
  EXPECT_TRUE(set.ok()) << set.status();
  int64_t count = 0;
  while ((*set)->Next()) {
    std::unique_ptr<model::SampleIterator> it = (*set)->At().NewIterator();
    while (it->Next()) ++count;
  }
  return count;
}

class NodeMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<base::TempDir> temp = base::TempDir::Create("node_memory_test");
    ASSERT_TRUE(temp.ok()) << temp.status();
    temp_ = *std::move(temp);
    options_.data_dir = temp_.path() + "/data";
    options_.memory_budget_bytes = kBudgetBytes;
  }

  base::TempDir temp_;
  NodeOptions options_;
};

TEST_F(NodeMemoryTest, ChunksGoOutEarlyWhenTheHeadFills) {
  absl::StatusOr<std::unique_ptr<Node>> opened = Node::Open(options_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Node& node = **opened;
  // 10000 series fit in the head's share; with chunks of 100 samples each they do not.
  constexpr int kSeries = 10000;
  constexpr int kSteps = 100;
  for (int step = 0; step < kSteps; ++step) {
    model::WriteBatch batch;
    for (int i = 0; i < kSeries; ++i) {
      batch.series.push_back({SeriesLabels(i), {{step * 15000, step * 1.37 + i}}});
    }
    absl::Status status = node.Write(batch);
    ASSERT_TRUE(status.ok()) << status;
    ASSERT_LE(node.stats().head_memory_bytes, kHeadShareBytes + (int64_t{1} << 20));
  }
  const NodeStats stats = node.stats();
  EXPECT_GT(stats.memory_pressure_flushes, 0);
  EXPECT_EQ(stats.memory_rejected_writes, 0);
  EXPECT_EQ(stats.memory_budget_bytes, kBudgetBytes);
  EXPECT_GT(stats.memtable_bytes, 0);
  EXPECT_EQ(CountSamples(node, kSteps * 15000), int64_t{kSeries} * kSteps);
}

TEST_F(NodeMemoryTest, NewSeriesAreRefusedWhenSeriesAloneFillTheHead) {
  absl::StatusOr<std::unique_ptr<Node>> opened = Node::Open(options_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Node& node = **opened;
  int accepted = 0;
  absl::Status refused;
  for (int batch_index = 0; batch_index < 100 && refused.ok(); ++batch_index) {
    model::WriteBatch batch;
    for (int i = 0; i < 1000; ++i) {
      batch.series.push_back({SeriesLabels(batch_index * 1000 + i), {{1000, 1}}});
    }
    refused = node.Write(batch);
    if (refused.ok()) accepted += 1000;
  }
  ASSERT_FALSE(refused.ok()) << "the head never filled";
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(refused.message()), HasSubstr("memory budget exhausted"));
  EXPECT_EQ(node.stats().memory_rejected_writes, 1);
  // Series already in the head go on writing; a refused write left nothing behind.
  model::WriteBatch existing;
  existing.series.push_back({SeriesLabels(0), {{2000, 2}}});
  absl::Status status = node.Write(existing);
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(CountSamples(node, 3000), accepted + 1);
  EXPECT_TRUE(node.WriteHealth().ok());
}

TEST_F(NodeMemoryTest, RejectsABudgetTooSmallToShare) {
  options_.memory_budget_bytes = 1 << 20;
  absl::StatusOr<std::unique_ptr<Node>> node = Node::Open(options_);
  EXPECT_EQ(node.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kura::storage
