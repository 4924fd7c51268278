#include "shard/fan_out.h"

#include <algorithm>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shard/router.h"
#include "shard/test_storage_nodes.h"

namespace kura::shard {
namespace {

using ::testing::ElementsAre;
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

absl::Status SelectStatus(model::SeriesSet* set) {
  while (set->Next()) {
  }
  return set->status();
}

// Select's error, or the set's at its end.
absl::Status SelectStatus(FanOut* fan_out, const model::LabelMatcher& matcher) {
  auto set = fan_out->Select({matcher}, 0, 1'000'000);
  if (!set.ok()) return set.status();
  return SelectStatus(set->get());
}

TEST_F(FanOutTest, StartTimestampsCrossTheClusterBothWays) {
  // Through the router to RF nodes, and back from every node, merged: a cumulative counter,
  // a delta series and one without starts.
  Router router(pool_.get(), {.replication_factor = 2}, &registry_);
  auto start_of = [](int kind, int64_t t) -> int64_t {
    if (kind == 0) return 500;
    if (kind == 1) return t - 1000;
    return 0;
  };
  for (int64_t t = 1000; t <= 300'000; t += 1000) {
    model::WriteBatch batch;
    for (int kind = 0; kind < 3; ++kind) {
      model::TimeSeries series{
          model::Labels::FromUnsorted({{"__name__", "s"}, {"kind", std::to_string(kind)}}),
          {{t, static_cast<double>(t)}},
          {start_of(kind, t)}};
      batch.series.push_back(std::move(series));
    }
    ASSERT_TRUE(router.Write(batch).ok());
  }
  FanOut fan_out(pool_.get(), {}, &registry_);
  auto set = fan_out.Select({NameIs("s")}, 0, 1'000'000);
  ASSERT_TRUE(set.ok()) << set.status();
  int kind = 0;
  for (; (*set)->Next(); ++kind) {
    std::vector<model::Sample> samples;
    std::vector<int64_t> starts;
    ASSERT_TRUE((*set)->At().NewIterator()->AppendRemainingWithStarts(&samples, &starts).ok());
    ASSERT_EQ(samples.size(), 300u) << kind;
    ASSERT_LE(starts.size(), samples.size());
    std::unique_ptr<model::SampleIterator> it = (*set)->At().NewIterator();
    for (size_t i = 0; i < samples.size(); ++i) {
      const int64_t want = start_of(kind, samples[i].timestamp_ms);
      EXPECT_EQ(i < starts.size() ? starts[i] : 0, want) << kind << " " << i;
      ASSERT_TRUE(it->Next());
      EXPECT_EQ(it->StartAt(), want) << kind << " " << i;
    }
    if (kind == 2) {
      EXPECT_TRUE(starts.empty());
    }
  }
  EXPECT_EQ(kind, 3);
  EXPECT_TRUE((*set)->status().ok());
}

TEST_F(FanOutTest, ReplicasAreMergedWithoutDuplicates) {
  WriteThroughRouter();
  FanOut fan_out(pool_.get(), {}, &registry_);
  auto set = fan_out.Select({NameIs("m")}, 0, 100'000);
  ASSERT_TRUE(set.ok()) << set.status();
  int series = 0;
  EXPECT_EQ(CountSamples(set->get(), &series), 50 * 20);
  EXPECT_EQ(series, 50);
  EXPECT_TRUE((*set)->status().ok());
  EXPECT_TRUE((*set)->warnings().empty());
  auto values = fan_out.LabelValues("i", {}, 0, 100'000);
  ASSERT_TRUE(values.ok());
  EXPECT_THAT(*values, SizeIs(50));
}

// Metadata goes to the replication factor's nodes by its family name, and the fan-out reads
// it back once, with one node down too.
TEST_F(FanOutTest, MetadataReachesReplicationFactorNodesAndReadsBackOnce) {
  Router router(pool_.get(), {.replication_factor = 2}, &registry_);
  model::WriteBatch batch;
  for (int i = 0; i < 20; ++i) {
    batch.metadata.push_back({absl::StrCat("family_", i), "counter", absl::StrCat("Help ", i), ""});
  }
  ASSERT_TRUE(router.Write(batch).ok());
  size_t stored = 0;
  for (int n = 0; n < 3; ++n) {
    absl::StatusOr<std::vector<model::MetricMetadata>> on_node = nodes_.node(n)->Metadata("");
    ASSERT_TRUE(on_node.ok());
    stored += on_node->size();
  }
  EXPECT_EQ(stored, 2u * 20);

  FanOut fan_out(pool_.get(), {}, &registry_);
  std::vector<model::MetricMetadata> want = batch.metadata;
  std::sort(want.begin(), want.end());
  absl::StatusOr<std::vector<model::MetricMetadata>> all = fan_out.Metadata("");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(*all, want);
  absl::StatusOr<std::vector<model::MetricMetadata>> one = fan_out.Metadata("family_7");
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_THAT(*one, ElementsAre(model::MetricMetadata{"family_7", "counter", "Help 7", ""}));

  nodes_.Stop(1);
  all = fan_out.Metadata("");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(*all, want) << "RF=2 covers one dead node";
}

TEST_F(FanOutTest, OneDeadNodeGivesCompleteDataWithAPartialResponseWarning) {
  WriteThroughRouter();
  nodes_.Stop(1);
  FanOut fan_out(pool_.get(), {}, &registry_);
  auto set = fan_out.Select({NameIs("m")}, 0, 100'000);
  ASSERT_TRUE(set.ok()) << set.status();
  int series = 0;
  EXPECT_EQ(CountSamples(set->get(), &series), 50 * 20) << "RF=2 covers one dead node";
  EXPECT_TRUE((*set)->status().ok());
  ASSERT_THAT((*set)->warnings(), SizeIs(1));
  EXPECT_THAT((*set)->warnings()[0], HasSubstr(nodes_.address(1)));

  FanOut strict(pool_.get(), {.partial_response = false}, &registry_);
  EXPECT_EQ(SelectStatus(&strict, NameIs("m")).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(strict.LabelNames({}, 0, 100'000).status().code(), absl::StatusCode::kUnavailable);

  nodes_.Restart(1);
  // Back in rotation after the probe's success past the backoff: no warning any more.
  bool clean = false;
  for (int i = 0; i < 60 && !clean; ++i) {
    auto again = fan_out.Select({NameIs("m")}, 0, 100'000);
    clean = again.ok() && SelectStatus(again->get()).ok() && (*again)->warnings().empty();
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
  ASSERT_TRUE(set.ok()) << set.status();
  int series = 0;
  EXPECT_EQ(CountSamples(set->get(), &series), 50 * 20);
  EXPECT_LT(absl::Now() - start, absl::Seconds(3)) << "the ejection, not the stream deadline";
  EXPECT_THAT((*set)->warnings(), SizeIs(1));
}

// Series with random-looking values (about 8 bytes a sample), written with RF=2.
void WriteBigSeries(NodePool* pool, base::Registry* registry, int num_series, int samples) {
  Router router(pool, {.replication_factor = 2}, registry);
  uint64_t x = 1;
  for (int t = 0; t < samples; t += 60) {
    model::WriteBatch batch;
    for (int i = 0; i < num_series; ++i) {
      model::TimeSeries series{
          model::Labels::FromUnsorted({{"__name__", "big"}, {"i", std::to_string(i)}}), {}};
      for (int k = t; k < t + 60 && k < samples; ++k) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        series.samples.push_back({k * 1000, static_cast<double>(x >> 11)});
      }
      batch.series.push_back(std::move(series));
    }
    ASSERT_TRUE(router.Write(batch).ok());
  }
}

TEST_F(FanOutTest, ManySeriesStreamFromThreeNodesAndMergeExactly) {
  WriteBigSeries(pool_.get(), &registry_, 3000, 60);
  FanOut fan_out(pool_.get(), {.read_ahead = {.max_series = 4}}, &registry_);
  auto set = fan_out.Select({NameIs("big")}, 0, 1'000'000);
  ASSERT_TRUE(set.ok()) << set.status();
  int series = 0;
  model::Labels prev;
  int samples = 0;
  while ((*set)->Next()) {
    if (series++ > 0) {
      EXPECT_LT(prev, (*set)->At().labels());
    }
    prev = (*set)->At().labels();
    std::unique_ptr<model::SampleIterator> it = (*set)->At().NewIterator();
    while (it->Next()) ++samples;
  }
  EXPECT_TRUE((*set)->status().ok()) << (*set)->status();
  EXPECT_EQ(series, 3000);
  EXPECT_EQ(samples, 3000 * 60) << "each sample once although it is on two nodes";
  EXPECT_TRUE((*set)->warnings().empty());
}

TEST_F(FanOutTest, ANodeDyingMidStreamGivesAWarningAndRF2KeepsTheDataComplete) {
  WriteBigSeries(pool_.get(), &registry_, 2000, 480);
  FanOut fan_out(pool_.get(), {.read_ahead = {.max_series = 2}}, &registry_);
  auto set = fan_out.Select({NameIs("big")}, 0, 1'000'000);
  ASSERT_TRUE(set.ok()) << set.status();
  int series = 0;
  int samples = 0;
  while ((*set)->Next()) {
    if (++series == 10) nodes_.Stop(1);
    std::unique_ptr<model::SampleIterator> it = (*set)->At().NewIterator();
    while (it->Next()) ++samples;
  }
  EXPECT_TRUE((*set)->status().ok()) << (*set)->status();
  EXPECT_EQ(series, 2000);
  EXPECT_EQ(samples, 2000 * 480);
  ASSERT_THAT((*set)->warnings(), SizeIs(1)) << "never a silently truncated answer";
  EXPECT_THAT((*set)->warnings()[0], HasSubstr(nodes_.address(1)));

  FanOut strict(pool_.get(), {.partial_response = false}, &registry_);
  EXPECT_EQ(SelectStatus(&strict, NameIs("big")).code(), absl::StatusCode::kUnavailable);
}

TEST_F(FanOutTest, ReadAheadBuffersAtMostItsBound) {
  WriteBigSeries(pool_.get(), &registry_, 500, 60);
  NodeClient client(nodes_.address(0));
  ReadAhead stream(client.OpenSelect({NameIs("big")}, 0, 1'000'000), {.max_series = 3});
  int entries = 0;
  while (stream.Next()) {
    ++entries;
    // A slow consumer: the reading thread fills the buffer meanwhile, and no further.
    if (entries % 50 == 0) absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_TRUE(stream.status().ok()) << stream.status();
  EXPECT_GT(entries, 100);
  EXPECT_EQ(stream.peak_buffered(), 3u);
}

}  // namespace
}  // namespace kura::shard
