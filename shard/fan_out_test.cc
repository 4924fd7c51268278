#include "shard/fan_out.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shard/router.h"
#include "shard/test_storage_nodes.h"

namespace kura::shard {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

model::LabelMatcher NameIs(const std::string& name) {
  return *model::LabelMatcher::Create(model::MatchType::kEqual, "__name__", name);
}

class FanOutTest : public ::testing::Test {
 protected:
  FanOutTest() : nodes_(3) {
    absl::StatusOr<std::unique_ptr<NodePool>> pool =
        NodePool::Create({.membership = {.nodes = nodes_.addresses()}}, &registry_);
    EXPECT_TRUE(pool.ok());
    pool_ = *std::move(pool);
  }

  // 50 series x 20 samples, written with RF=2.
  void WriteThroughRouter() {
    Router router(pool_.get(), {.replication_factor = 2}, &registry_);
    for (int t = 1; t <= 20; ++t) {
      model::WriteBatch batch;
      for (int i = 0; i < 50; ++i) {
        batch.series.push_back(
            {model::Labels::FromUnsorted({{"__name__", "m"}, {"i", std::to_string(i)}}),
             {{t * 1000, static_cast<double>(t)}}});
      }
      ASSERT_TRUE(router.Write(batch).ok());
    }
  }

  TestStorageNodes nodes_;
  base::Registry registry_;
  std::unique_ptr<NodePool> pool_;
};

int CountSamples(model::SeriesSet* set, int* series) {
  int samples = 0;
  *series = 0;
  while (set->Next()) {
    ++*series;
    std::unique_ptr<model::SampleIterator> it = set->At().NewIterator();
    int64_t prev = -1;
    while (it->Next()) {
      EXPECT_GT(it->At().timestamp_ms, prev);
      prev = it->At().timestamp_ms;
      ++samples;
    }
  }
  return samples;
}

TEST_F(FanOutTest, ReplicasAreMergedWithoutDuplicates) {
  WriteThroughRouter();
  FanOut fan_out(pool_.get(), {}, &registry_);
  auto set = fan_out.Select({NameIs("m")}, 0, 100'000);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_TRUE((*set)->warnings().empty());
  int series = 0;
  EXPECT_EQ(CountSamples(set->get(), &series), 50 * 20);
  EXPECT_EQ(series, 50);
  auto values = fan_out.LabelValues("i", {}, 0, 100'000);
  ASSERT_TRUE(values.ok());
  EXPECT_THAT(*values, SizeIs(50));
}

TEST_F(FanOutTest, OneDeadNodeGivesCompleteDataWithAPartialResponseWarning) {
  WriteThroughRouter();
  nodes_.Stop(1);
  FanOut fan_out(pool_.get(), {}, &registry_);
  auto set = fan_out.Select({NameIs("m")}, 0, 100'000);
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_THAT((*set)->warnings(), SizeIs(1));
  EXPECT_THAT((*set)->warnings()[0], HasSubstr(nodes_.address(1)));
  int series = 0;
  EXPECT_EQ(CountSamples(set->get(), &series), 50 * 20) << "RF=2 covers one dead node";

  FanOut strict(pool_.get(), {.partial_response = false}, &registry_);
  EXPECT_EQ(strict.Select({NameIs("m")}, 0, 100'000).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(strict.LabelNames({}, 0, 100'000).status().code(), absl::StatusCode::kUnavailable);

  nodes_.Restart(1);
  // Back in rotation after the probe's success past the backoff: no warning any more.
  bool clean = false;
  for (int i = 0; i < 60 && !clean; ++i) {
    auto again = fan_out.Select({NameIs("m")}, 0, 100'000);
    clean = again.ok() && (*again)->warnings().empty();
    if (!clean) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(clean);
}

TEST_F(FanOutTest, AHungNodeHoldsAQueryOnlyUntilItIsEjected) {
  WriteThroughRouter();
  nodes_.Hang(2);
  FanOut fan_out(pool_.get(), {}, &registry_);
  const absl::Time start = absl::Now();
  auto set = fan_out.Select({NameIs("m")}, 0, 100'000);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2)) << "not the 5 s call deadline";
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_THAT((*set)->warnings(), SizeIs(1));
  int series = 0;
  EXPECT_EQ(CountSamples(set->get(), &series), 50 * 20);
}

}  // namespace
}  // namespace kura::shard
