#include "storage/packed_chunk.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "storage/chunk_decoder.h"

namespace kura::storage {
namespace {

std::vector<model::Sample> Decode(const std::string& chunk, int64_t min_time_ms = INT64_MIN,
                                  int64_t max_time_ms = INT64_MAX) {
  std::unique_ptr<model::SampleIterator> it = NewChunkIterator(chunk, min_time_ms, max_time_ms);
  std::vector<model::Sample> out;
  while (it->Next()) out.push_back(it->At());
  EXPECT_TRUE(it->status().ok()) << it->status();
  return out;
}

void ExpectRoundTrip(const std::vector<model::Sample>& samples) {
  const std::string chunk = EncodePackedChunk(samples);
  const std::vector<model::Sample> got = Decode(chunk);
  ASSERT_EQ(got.size(), samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    EXPECT_EQ(got[i].timestamp_ms, samples[i].timestamp_ms) << i;
    EXPECT_EQ(std::bit_cast<uint64_t>(got[i].value), std::bit_cast<uint64_t>(samples[i].value))
        << i << ": " << samples[i].value;
  }
  ChunkMeta meta;
  ASSERT_TRUE(ReadChunkMeta(chunk, &meta).ok());
  EXPECT_EQ(meta.num_samples, static_cast<int>(samples.size()));
  EXPECT_EQ(meta.min_time_ms, samples.front().timestamp_ms);
  EXPECT_EQ(meta.max_time_ms, samples.back().timestamp_ms);
}

TEST(PackedChunkTest, EveryBitPatternRoundTrips) {
  const double nan_payload = std::bit_cast<double>(uint64_t{0x7ff8dead0000beef});
  const double negative_nan = std::bit_cast<double>(uint64_t{0xfff0000000000001});
  ExpectRoundTrip({{INT64_MIN, model::StaleNaN()},
                   {-1, nan_payload},
                   {0, -0.0},
                   {1, 0.0},
                   {2, std::numeric_limits<double>::infinity()},
                   {3, -std::numeric_limits<double>::infinity()},
                   {4, std::numeric_limits<double>::denorm_min()},
                   {5, std::numeric_limits<double>::max()},
                   {6, negative_nan},
                   {INT64_MAX, std::numeric_limits<double>::lowest()}});
}

TEST(PackedChunkTest, DecimalsAndDecimalLookalikes) {
  // Short decimals take the decimal column; one value that is not exactly a decimal at any
  // scale, and -0.0, which a decimal would turn into +0.0, push the chunk to XOR words.
  std::vector<model::Sample> decimals;
  for (int i = 0; i < 1000; ++i) decimals.push_back({i * 15000, 51.37 + i * 0.01});
  ExpectRoundTrip(decimals);
  decimals.push_back({1000 * 15000, 0.1 + 0.2});
  ExpectRoundTrip(decimals);
  ExpectRoundTrip({{0, 1}, {1, -0.0}, {2, 3}});
  ExpectRoundTrip({{0, 9007199254740993.0}, {1, -9007199254740992.0}, {2, 1e300}});
}

TEST(PackedChunkTest, RandomSeriesRoundTrip) {
  std::mt19937_64 rng(20261201);
  for (int round = 0; round < 50; ++round) {
    std::vector<model::Sample> samples;
    int64_t t = static_cast<int64_t>(rng() % 2000000000000) - 1000000000000;
    const size_t n = 1 + rng() % 3000;
    for (size_t i = 0; i < n; ++i) {
      double v = 0;
      switch (rng() % 4) {
        case 0:
          v = std::bit_cast<double>(rng());
          break;  // any bits, NaNs included
        case 1:
          v = static_cast<double>(rng() % 100000) / 100;
          break;
        case 2:
          v = static_cast<double>(static_cast<int64_t>(rng()));
          break;
        default:
          v = i == 0 ? 1.0 : samples.back().value;
          break;
      }
      samples.push_back({t, v});
      // Mostly steady steps with jitter, sometimes huge jumps.
      t += rng() % 50 == 0 ? static_cast<int64_t>(rng() % (int64_t{1} << 40)) + 1
                           : 15000 + static_cast<int64_t>(rng() % 7) - 3;
    }
    ExpectRoundTrip(samples);
  }
}

TEST(PackedChunkTest, FiltersToTheRange) {
  std::vector<model::Sample> samples;
  for (int i = 0; i < 100; ++i) samples.push_back({i * 10, static_cast<double>(i)});
  const std::string chunk = EncodePackedChunk(samples);
  const std::vector<model::Sample> got = Decode(chunk, 95, 125);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].timestamp_ms, 100);
  EXPECT_EQ(got[2].timestamp_ms, 120);
  EXPECT_TRUE(Decode(chunk, 2000, 3000).empty());
}

TEST(PackedChunkTest, CorruptChunksAreDataLossNeverACrash) {
  std::vector<model::Sample> samples;
  for (int i = 0; i < 200; ++i) samples.push_back({i * 15000, i * 0.5});
  const std::string chunk = EncodePackedChunk(samples);
  for (size_t n = 1; n < chunk.size(); ++n) {
    std::unique_ptr<model::SampleIterator> it = NewChunkIterator(chunk.substr(0, n));
    while (it->Next()) {
    }
    EXPECT_EQ(it->status().code(), absl::StatusCode::kDataLoss) << n;
  }
  std::mt19937_64 rng(7);
  for (int round = 0; round < 500; ++round) {
    std::string bad = chunk;
    bad[1 + rng() % (bad.size() - 1)] ^= static_cast<char>(1 + rng() % 255);
    std::unique_ptr<model::SampleIterator> it = NewChunkIterator(bad);
    int64_t last = INT64_MIN;
    while (it->Next()) {
      // Whatever a damaged chunk yields, it stays in time order.
      EXPECT_GT(it->At().timestamp_ms, last);
      last = it->At().timestamp_ms;
    }
  }
}

TEST(PackedChunkTest, SmallerThanVersionOneOnScrapedData) {
  std::mt19937_64 rng(42);
  std::vector<model::Sample> samples;
  int64_t t = 1700000000000;
  int64_t hundredths = 5000;
  for (int i = 0; i < 5760; ++i) {
    samples.push_back({t, static_cast<double>(hundredths) / 100});
    t += 15000 + static_cast<int64_t>(rng() % 7) - 3;
    hundredths += static_cast<int64_t>(rng() % 201) - 100;
  }
  const std::string chunk = EncodePackedChunk(samples);
  EXPECT_LT(static_cast<double>(chunk.size()) / samples.size(), 2.0);
}

}  // namespace
}  // namespace kura::storage

namespace kura::storage {
namespace {

std::vector<model::Sample> JitteredScrapes(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<model::Sample> samples;
  int64_t t = 1'700'000'000'000;
  double v = 1e6;
  for (int i = 0; i < n; ++i) {
    samples.push_back({t + static_cast<int64_t>(rng() % 7) - 3, v});
    t += 15000;
    v += static_cast<double>(rng() % 1000) * 0.25;
  }
  return samples;
}

TimestampColumn TimestampsOf(const std::vector<model::Sample>& samples) {
  TimestampColumn timestamps;
  for (const model::Sample& s : samples) timestamps.push_back(s.timestamp_ms);
  return timestamps;
}

std::vector<model::Sample> DecodeWith(const std::string& chunk, const TimestampColumn* column,
                                      absl::Status* status) {
  std::unique_ptr<model::SampleIterator> it =
      NewPackedChunkIterator(chunk, INT64_MIN, INT64_MAX, column);
  std::vector<model::Sample> out;
  while (it->Next()) out.push_back(it->At());
  *status = it->status();
  return out;
}

TEST(PackedChunkTest, SharedTimestampColumnRoundTrips) {
  const std::vector<model::Sample> samples = JitteredScrapes(720, 3);
  const TimestampColumn timestamps = TimestampsOf(samples);
  const uint64_t id = TimestampColumnId(timestamps);
  const std::string chunk = EncodePackedChunk(samples, id);
  EXPECT_EQ(PackedChunkTimestampColumn(chunk), id);
  EXPECT_EQ(PackedChunkTimestampColumn(EncodePackedChunk(samples)), std::nullopt);
  // Jittered timestamps cost a packed chunk more than 2 bits a sample; naming a column, none.
  EXPECT_LT(chunk.size() + samples.size() / 4, EncodePackedChunk(samples).size());

  absl::StatusOr<TimestampColumn> column = DecodeTimestampColumn(EncodeTimestampColumn(timestamps));
  ASSERT_TRUE(column.ok()) << column.status();
  EXPECT_EQ(*column, timestamps);
  absl::Status status;
  const std::vector<model::Sample> got = DecodeWith(chunk, &*column, &status);
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_EQ(got.size(), samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    EXPECT_EQ(got[i].timestamp_ms, samples[i].timestamp_ms);
    EXPECT_EQ(std::bit_cast<uint64_t>(got[i].value), std::bit_cast<uint64_t>(samples[i].value));
  }
  ChunkMeta meta;
  ASSERT_TRUE(ReadChunkMeta(chunk, &meta).ok());
  EXPECT_EQ(meta.num_samples, 720);
  EXPECT_EQ(meta.min_time_ms, samples.front().timestamp_ms);
  EXPECT_EQ(meta.max_time_ms, samples.back().timestamp_ms);
}

TEST(PackedChunkTest, ChunkWithoutItsColumnOrWithAnotherIsDataLoss) {
  const std::vector<model::Sample> samples = JitteredScrapes(300, 4);
  const TimestampColumn timestamps = TimestampsOf(samples);
  const std::string chunk = EncodePackedChunk(samples, TimestampColumnId(timestamps));
  absl::Status status;
  // The generic decoder has no column to give it.
  std::unique_ptr<model::SampleIterator> it = NewChunkIterator(chunk);
  EXPECT_FALSE(it->Next());
  EXPECT_EQ(it->status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(DecodeWith(chunk, nullptr, &status).empty());
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  const TimestampColumn shorter(timestamps.begin(), timestamps.end() - 1);
  EXPECT_TRUE(DecodeWith(chunk, &shorter, &status).empty());
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  TimestampColumn shifted = timestamps;
  shifted.front() -= 1;
  EXPECT_TRUE(DecodeWith(chunk, &shifted, &status).empty());
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
}

TEST(PackedChunkTest, ColumnIdsDependOnEveryTimestamp) {
  const TimestampColumn timestamps = TimestampsOf(JitteredScrapes(500, 5));
  const uint64_t id = TimestampColumnId(timestamps);
  EXPECT_EQ(id, TimestampColumnId(timestamps));
  for (size_t i = 0; i < timestamps.size(); i += 37) {
    TimestampColumn changed = timestamps;
    changed[i] += 1;
    EXPECT_NE(TimestampColumnId(changed), id) << i;
  }
  EXPECT_NE(TimestampColumnId(absl::MakeConstSpan(timestamps).subspan(1)), id);
}

TEST(PackedChunkTest, CorruptColumnsAreDataLossNeverACrash) {
  const TimestampColumn timestamps = TimestampsOf(JitteredScrapes(400, 6));
  const std::string column = EncodeTimestampColumn(timestamps);
  for (size_t n = 0; n < column.size(); ++n) {
    EXPECT_EQ(DecodeTimestampColumn(column.substr(0, n)).status().code(),
              absl::StatusCode::kDataLoss)
        << n;
  }
  EXPECT_EQ(DecodeTimestampColumn(column + "x").status().code(), absl::StatusCode::kDataLoss);
  std::mt19937_64 rng(8);
  for (int round = 0; round < 500; ++round) {
    std::string bad = column;
    bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    absl::StatusOr<TimestampColumn> decoded = DecodeTimestampColumn(bad);
    if (!decoded.ok()) {
      EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
      continue;
    }
    for (size_t i = 1; i < decoded->size(); ++i) EXPECT_GT((*decoded)[i], (*decoded)[i - 1]);
  }
}

}  // namespace
}  // namespace kura::storage
