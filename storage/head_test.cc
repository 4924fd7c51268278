#include "storage/head.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "storage/chunk_decoder.h"

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

TEST(HeadTest, AStartTimestampCutsAChunkWithoutStartsOnce) {
  Head head(/*max_samples_per_chunk=*/4, /*partition_length_ms=*/1000);
  HeadSeries* series = head.Create(1, "a");
  head.Append(series, {10, 1});
  head.Append(series, {20, 2});
  EXPECT_FALSE(series->chunk.has_starts());
  // The first known start closes the version-1 chunk.
  head.Append(series, {30, 3}, 5);
  ASSERT_EQ(head.pending().size(), 1u);
  EXPECT_EQ(head.pending()[0].max_time_ms, 20);
  EXPECT_TRUE(series->chunk.has_starts());
  // Unknown starts after it do not cut, nor do known ones in the next chunk: a series whose
  // starts are only sometimes known keeps full chunks.
  head.Append(series, {40, 4});
  head.Append(series, {50, 5}, 5);
  head.Append(series, {60, 6}, 0);
  EXPECT_EQ(head.pending().size(), 1u);
  head.Append(series, {70, 7}, 0);
  ASSERT_EQ(head.pending().size(), 2u);  // cut at 4 samples: 30..60
  head.Append(series, {80, 8}, 9);
  EXPECT_EQ(head.pending().size(), 2u);
  EXPECT_TRUE(series->chunk.has_starts());

  std::vector<std::string> chunks;
  head.CopyChunks(1, 0, 1000, &chunks);
  ASSERT_EQ(chunks.size(), 3u);
  std::vector<std::pair<int64_t, int64_t>> got;
  for (const std::string& chunk : chunks) {
    std::unique_ptr<model::SampleIterator> it = NewChunkIterator(chunk);
    while (it->Next()) got.emplace_back(it->At().timestamp_ms, it->StartAt());
  }
  const std::vector<std::pair<int64_t, int64_t>> want = {{10, 0}, {20, 0}, {30, 5}, {40, 0},
                                                         {50, 5}, {60, 0}, {70, 0}, {80, 9}};
  EXPECT_EQ(got, want);
}

TEST(HeadTest, OutOfOrderSamplesKeepTheirStarts) {
  Head head(/*max_samples_per_chunk=*/10, /*partition_length_ms=*/1000);
  HeadSeries* series = head.Create(1, "a");
  for (int64_t t = 100; t <= 140; t += 10) head.Append(series, {t, 1});
  EXPECT_FALSE(series->chunk.has_starts());
  // Into the open chunk, which becomes version 3; and before it, into the buffer.
  head.InsertOutOfOrder(series, {115, 2}, 7);
  EXPECT_TRUE(series->chunk.has_starts());
  head.InsertOutOfOrder(series, {50, 3});
  head.InsertOutOfOrder(series, {60, 4}, 8);
  head.InsertOutOfOrder(series, {40, 5});
  ASSERT_EQ(series->out_of_order.size(), 3u);
  EXPECT_EQ(series->out_of_order[2].start_ms, 8);

  std::vector<std::string> chunks;
  head.CopyChunks(1, 0, 1000, &chunks);
  ASSERT_EQ(chunks.size(), 2u);  // open chunk, then the buffer as one
  std::vector<std::pair<int64_t, int64_t>> got;
  for (const std::string& chunk : chunks) {
    std::unique_ptr<model::SampleIterator> it = NewChunkIterator(chunk);
    while (it->Next()) got.emplace_back(it->At().timestamp_ms, it->StartAt());
  }
  const std::vector<std::pair<int64_t, int64_t>> want = {
      {100, 0}, {110, 0}, {115, 7}, {120, 0}, {130, 0}, {140, 0}, {40, 0}, {50, 0}, {60, 8}};
  EXPECT_EQ(got, want);
  head.ClearOutOfOrder(series);
  EXPECT_EQ(head.num_out_of_order(), 0);
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

TEST(HeadTest, OutOfOrderSamplesGoIntoTheOpenChunkOrTheBuffer) {
  Head head(/*max_samples_per_chunk=*/4, /*partition_length_ms=*/1000);
  HeadSeries* series = head.Create(1, "a");
  for (int64_t t = 10; t <= 60; t += 10) head.Append(series, {t, static_cast<double>(t)});
  head.ClearPending();                       // 10..40 written; 50, 60 open
  head.InsertOutOfOrder(series, {55, 5.5});  // in the open chunk's span
  head.InsertOutOfOrder(series, {15, 1.5});  // before it: the buffer
  head.InsertOutOfOrder(series, {15, 9.9});  // a timestamp the head holds stays as it is
  EXPECT_EQ(series->chunk.num_samples(), 3);
  ASSERT_EQ(series->out_of_order.size(), 1u);
  EXPECT_EQ(head.num_out_of_order(), 1);
  bool older = false;
  EXPECT_EQ(head.FindSample(*series, 55, &older), 5.5);
  EXPECT_EQ(head.FindSample(*series, 15, &older), 1.5);
  std::vector<std::string> chunks;
  head.CopyChunks(1, 0, 100, &chunks);
  EXPECT_EQ(chunks.size(), 2u);  // the open chunk and the buffer as one
  // A series with out-of-order samples stays in the head until they are written.
  EXPECT_EQ(head.EvictIdle(5), 0u);
  EXPECT_EQ(head.SeriesWithOutOfOrder().size(), 1u);
  head.ClearOutOfOrder(series);
  EXPECT_EQ(head.num_out_of_order(), 0);
  EXPECT_EQ(head.EvictIdle(5), 1u);
}

TEST(HeadTest, MemoryFollowsSeriesAndChunks) {
  Head head(120, 1000);
  EXPECT_EQ(head.memory_bytes(), 0);
  HeadSeries* series = head.Create(1, "labels");
  const int64_t empty = head.memory_bytes();
  const int64_t series_part = empty - head.chunk_memory_bytes();
  EXPECT_GT(series_part, 0);
  for (int64_t t = 0; t < 100; ++t) head.Append(series, {t, static_cast<double>(t * t)});
  const int64_t full = head.memory_bytes();
  EXPECT_GT(full, empty + 100);
  EXPECT_EQ(full - head.chunk_memory_bytes(), series_part);
  head.CloseAllChunks();
  ASSERT_EQ(head.pending().size(), 1u);
  // The chunk's buffer moved to pending, plus a new empty open chunk.
  const std::string& pending = head.pending()[0].bytes;
  EXPECT_EQ(head.memory_bytes(), empty + static_cast<int64_t>(pending.capacity()) + 1);
  // Its buffer grew in small steps: within an eighth of its size and one sample.
  EXPECT_LE(pending.capacity(), pending.size() * 9 / 8 + 48);
  head.ClearPending();
  EXPECT_EQ(head.memory_bytes(), empty);
  EXPECT_EQ(head.EvictIdle(5), 1u);
  EXPECT_EQ(head.memory_bytes(), 0);
}

TEST(HeadTest, FindsByLabelsWithTheirHashAndComparesTheBytes) {
  Head head(120, 86'400'000);
  HeadSeries* a = head.Create(1, "a\xff" "1\xff");
  ASSERT_EQ(head.FindByLabels(CanonicalLabelsView{"a\xff" "1\xff",
                                                  model::Labels::HashCanonical("a\xff" "1\xff")}),
            a);
  // Colliding hashes: the bytes decide.
  HeadSeries* x = head.Create(2, model::CanonicalLabels::Copy("x", 7));
  HeadSeries* y = head.Create(3, model::CanonicalLabels::Copy("y", 7));
  EXPECT_EQ(head.FindByLabels(CanonicalLabelsView{"x", 7}), x);
  EXPECT_EQ(head.FindByLabels(CanonicalLabelsView{"y", 7}), y);
  EXPECT_EQ(head.FindByLabels(CanonicalLabelsView{"z", 7}), nullptr);
}

TEST(HeadTest, FindsSeriesCreatedFromLabels) {
  Head head(120, 86'400'000);
  const model::Labels labels = model::Labels::FromSorted({{"__name__", "up"}, {"job", "api"}});
  HeadSeries* series = head.Create(1, labels.Canonical());
  EXPECT_EQ(head.FindByLabels(labels.CanonicalView()), series);
  EXPECT_EQ(head.FindByLabels(CanonicalLabelsView{labels.CanonicalView(), labels.Hash()}), series);
  // A copy of the same bytes finds it too; other bytes do not.
  const std::string copy(labels.CanonicalView());
  EXPECT_EQ(head.FindByLabels(copy), series);
  EXPECT_EQ(head.FindByLabels("__name__\xffup\xff"), nullptr);
  // Evicted, it is found no more.
  EXPECT_EQ(head.EvictIdle(1), 1u);
  EXPECT_EQ(head.FindByLabels(copy), nullptr);
  EXPECT_EQ(head.Find(1), nullptr);
}

}  // namespace
}  // namespace kura::storage
