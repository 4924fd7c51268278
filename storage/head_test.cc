#include "storage/head.h"

#include "gtest/gtest.h"

namespace kura::storage {
namespace {

TEST(HeadTest, CutsChunksAtSizeAndPartition) {
  Head head(/*max_samples_per_chunk=*/3, /*partition_length_ms=*/100);
  HeadSeries* series = head.Create(1, "a");
  for (int64_t t = 10; t <= 50; t += 10) head.Append(series, {t, static_cast<double>(t)});
  ASSERT_EQ(head.pending().size(), 1u);  // 10,20,30 closed; 40,50 open
  EXPECT_EQ(head.pending()[0].min_time_ms, 10);
  EXPECT_EQ(head.pending()[0].max_time_ms, 30);
  EXPECT_EQ(series->chunk.num_samples(), 2);
  head.Append(series, {120, 1});  // next partition
  ASSERT_EQ(head.pending().size(), 2u);
  EXPECT_EQ(head.pending()[1].partition, 0);
  EXPECT_EQ(series->chunk_partition, 1);
  EXPECT_EQ(series->newest->timestamp_ms, 120);
}

TEST(HeadTest, FindSampleLooksInPendingAndOpenChunks) {
  Head head(3, 1000);
  HeadSeries* series = head.Create(1, "a");
  for (int64_t t = 10; t <= 50; t += 10) head.Append(series, {t, t * 2.0});
  bool older = true;
  EXPECT_EQ(head.FindSample(*series, 20, &older), 40.0);
  EXPECT_FALSE(older);
  EXPECT_EQ(head.FindSample(*series, 50, &older), 100.0);
  EXPECT_EQ(head.FindSample(*series, 45, &older), std::nullopt);
  EXPECT_FALSE(older);
  EXPECT_EQ(head.FindSample(*series, 5, &older), std::nullopt);
  EXPECT_TRUE(older);
  head.ClearPending();
  EXPECT_EQ(head.FindSample(*series, 20, &older), std::nullopt);
  EXPECT_TRUE(older);
}

TEST(HeadTest, CopyChunksFiltersByTime) {
  Head head(2, 1000);
  HeadSeries* series = head.Create(4, "x");
  for (int64_t t = 1; t <= 5; ++t) head.Append(series, {t, 1});
  std::vector<std::string> chunks;
  head.CopyChunks(4, 3, 4, &chunks);
  EXPECT_EQ(chunks.size(), 1u);  // only [3,4]
  chunks.clear();
  head.CopyChunks(4, 0, 100, &chunks);
  EXPECT_EQ(chunks.size(), 3u);
  chunks.clear();
  head.CopyChunks(5, 0, 100, &chunks);
  EXPECT_TRUE(chunks.empty());
  ASSERT_NE(head.FindByLabels("x"), nullptr);
  EXPECT_EQ(head.FindByLabels("x")->ref, 4u);
  EXPECT_EQ(head.FindByLabels("y"), nullptr);
}

TEST(HeadTest, EvictIdleClosesAndForgetsOldSeries) {
  Head head(10, 100);
  HeadSeries* old_series = head.Create(1, "old");
  head.Append(old_series, {50, 1});
  HeadSeries* new_series = head.Create(2, "new");
  head.Append(new_series, {250, 1});
  EXPECT_EQ(head.EvictIdle(2), 1u);
  EXPECT_EQ(head.num_series(), 1u);
  EXPECT_EQ(head.Find(1), nullptr);
  EXPECT_EQ(head.FindByLabels("old"), nullptr);
  EXPECT_EQ(head.FindByLabels("new"), new_series);
  ASSERT_EQ(head.pending().size(), 1u);
  EXPECT_EQ(head.pending()[0].ref, 1u);
  EXPECT_EQ(head.EvictIdle(2), 0u);
}

}  // namespace
}  // namespace kura::storage
