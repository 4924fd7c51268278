#include "storage/keys.h"

#include <string>

#include "gtest/gtest.h"

namespace kura::storage {
namespace {

TEST(KeysTest, SignedIntegersSortNumerically) {
  const int64_t values[] = {INT64_MIN, -86400000, -1, 0, 1, 1700000000000, INT64_MAX};
  for (size_t i = 1; i < std::size(values); ++i) {
    std::string a, b;
    PutInt64BE(&a, values[i - 1]);
    PutInt64BE(&b, values[i]);
    EXPECT_LT(a, b) << values[i - 1] << " vs " << values[i];
    EXPECT_EQ(DecodeInt64BE(b), values[i]);
  }
}

TEST(KeysTest, PartitionOfFloorsBeforeEpoch) {
  EXPECT_EQ(PartitionOf(0, 1000), 0);
  EXPECT_EQ(PartitionOf(999, 1000), 0);
  EXPECT_EQ(PartitionOf(1000, 1000), 1);
  EXPECT_EQ(PartitionOf(-1, 1000), -1);
  EXPECT_EQ(PartitionOf(-1000, 1000), -1);
  EXPECT_EQ(PartitionOf(-1001, 1000), -2);
}

TEST(KeysTest, VarintRoundTrip) {
  for (uint64_t v : {uint64_t{0}, uint64_t{127}, uint64_t{128}, uint64_t{300}, UINT64_MAX}) {
    std::string buf;
    PutVarint64(&buf, v);
    std::string_view in = buf;
    uint64_t out = 0;
    ASSERT_TRUE(GetVarint64(&in, &out));
    EXPECT_EQ(out, v);
    EXPECT_TRUE(in.empty());
  }
  std::string_view truncated = "\x80";
  uint64_t out = 0;
  EXPECT_FALSE(GetVarint64(&truncated, &out));
}

TEST(KeysTest, PostingKeyRoundTrip) {
  const std::string key = PostingKey(-3, "job", "api", 42);
  PostingKeyParts parts;
  ASSERT_TRUE(ParsePostingKey(key, &parts));
  EXPECT_EQ(parts.partition, -3);
  EXPECT_EQ(parts.name, "job");
  EXPECT_EQ(parts.value, "api");
  EXPECT_EQ(parts.ref, 42u);
  EXPECT_EQ(key.substr(0, LabelPairPrefix(-3, "job", "api").size()),
            LabelPairPrefix(-3, "job", "api"));

  ASSERT_TRUE(ParsePostingKey(PostingKey(7, "", "", 1), &parts));
  EXPECT_EQ(parts.name, "");
  EXPECT_EQ(parts.value, "");
  EXPECT_FALSE(ParsePostingKey("short", &parts));
}

TEST(KeysTest, PairPrefixDoesNotMatchLongerValues) {
  const std::string prefix = LabelPairPrefix(1, "job", "a");
  const std::string other = PostingKey(1, "job", "ab", 5);
  EXPECT_NE(other.compare(0, prefix.size(), prefix), 0);
}

TEST(KeysTest, ChunkKeysSortByPartitionRefTime) {
  EXPECT_LT(ChunkKey(1, 9, 500), ChunkKey(2, 1, 0));
  EXPECT_LT(ChunkKey(1, 1, 500), ChunkKey(1, 2, -5));
  EXPECT_LT(ChunkKey(1, 1, -5), ChunkKey(1, 1, 5));
  int64_t partition = 0, min_time = 0;
  uint64_t ref = 0;
  ASSERT_TRUE(ParseChunkKey(ChunkKey(-2, 77, -123), &partition, &ref, &min_time));
  EXPECT_EQ(partition, -2);
  EXPECT_EQ(ref, 77u);
  EXPECT_EQ(min_time, -123);
}

TEST(KeysTest, RefKeys) {
  uint64_t ref = 0;
  ASSERT_TRUE(ParseSeriesByRefKey(SeriesByRefKey(12345), &ref));
  EXPECT_EQ(ref, 12345u);
  EXPECT_FALSE(ParseSeriesByRefKey(CheckpointChunkKey(1), &ref));
  ASSERT_TRUE(ParseCheckpointChunkKey(CheckpointChunkKey(9), &ref));
  EXPECT_EQ(ref, 9u);
}

TEST(KeysTest, TombstoneKeysSortByRefThenInterval) {
  EXPECT_LT(TombstoneKey(1, 500, 600), TombstoneKey(2, -5, 0));
  EXPECT_LT(TombstoneKey(1, -5, 0), TombstoneKey(1, 5, 6));
  EXPECT_TRUE(TombstoneKey(3, 1, 2).starts_with(TombstoneSeriesPrefix(3)));
  uint64_t ref = 0;
  int64_t min_time = 0, max_time = 0;
  ASSERT_TRUE(ParseTombstoneKey(TombstoneKey(7, -10, INT64_MAX), &ref, &min_time, &max_time));
  EXPECT_EQ(ref, 7u);
  EXPECT_EQ(min_time, -10);
  EXPECT_EQ(max_time, INT64_MAX);
  EXPECT_FALSE(ParseTombstoneKey(TombstoneSeriesPrefix(7), &ref, &min_time, &max_time));
}

}  // namespace
}  // namespace kura::storage
