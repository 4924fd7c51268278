#include "storage/packed_chunk.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <iterator>
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
  // The bulk read yields the very same samples.
  std::vector<model::Sample> bulk;
  EXPECT_TRUE(NewChunkIterator(chunk, min_time_ms, max_time_ms)->AppendRemaining(&bulk).ok());
  EXPECT_EQ(bulk.size(), out.size());
  for (size_t i = 0; i < std::min(bulk.size(), out.size()); ++i) {
    EXPECT_EQ(bulk[i].timestamp_ms, out[i].timestamp_ms);
    EXPECT_EQ(std::bit_cast<uint64_t>(bulk[i].value), std::bit_cast<uint64_t>(out[i].value));
  }
  return out;
}

// The value column's mode byte, after the version, the count varint and the two time bounds.
int ModeOf(const std::string& chunk) {
  size_t i = 1;
  while (static_cast<uint8_t>(chunk[i]) & 0x80) ++i;
  return static_cast<uint8_t>(chunk[i + 1 + 16]);
}

constexpr int kBitDeltaMode = 9;

// Every byte string must decode to OK or DataLoss, in time order, and never crash.
void ExpectOkOrDataLoss(const std::string& chunk) {
  std::unique_ptr<model::SampleIterator> it = NewChunkIterator(chunk);
  int64_t last = INT64_MIN;
  bool first = true;
  while (it->Next()) {
    if (!first) {
      EXPECT_GT(it->At().timestamp_ms, last);
    }
    first = false;
    last = it->At().timestamp_ms;
  }
  EXPECT_TRUE(it->status().ok() || it->status().code() == absl::StatusCode::kDataLoss)
      << it->status();
}

absl::StatusCode DecodeStatus(const std::string& chunk) {
  std::unique_ptr<model::SampleIterator> it = NewChunkIterator(chunk);
  while (it->Next()) {
  }
  return it->status().code();
}

// A random walk of non-decimal floats: what bit deltas are for.
std::vector<model::Sample> RandomWalk(std::mt19937_64* rng, size_t n, double start, double step) {
  std::uniform_real_distribution<double> unit(-1, 1);
  std::vector<model::Sample> samples;
  double v = start;
  for (size_t i = 0; i < n; ++i) {
    samples.push_back({1700000000000 + static_cast<int64_t>(i) * 15000, v});
    v += step * unit(*rng);
  }
  return samples;
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

TEST(PackedChunkTest, FloatRandomWalksAndCountersTakeBitDeltas) {
  std::mt19937_64 rng(1);
  const std::vector<model::Sample> walk = RandomWalk(&rng, 5760, 1234.5678, 0.01);
  const std::string chunk = EncodePackedChunk(walk);
  EXPECT_EQ(ModeOf(chunk), kBitDeltaMode);
  // Steps of 1e-2 at 1234 are about 2^35 units in the last place: 36 bits and a sign.
  EXPECT_LT(static_cast<double>(chunk.size()) / walk.size(), 5.0);
  ExpectRoundTrip(walk);
  // A counter of float increments that resets twice, and one that crosses many binades.
  std::vector<model::Sample> counter;
  double v = 0.25;
  for (int i = 0; i < 3000; ++i) {
    counter.push_back({i * 15000, v});
    v = (i == 1000 || i == 2000) ? 0 : v + std::uniform_real_distribution<double>(0, 0.7)(rng);
  }
  EXPECT_EQ(ModeOf(EncodePackedChunk(counter)), kBitDeltaMode);
  ExpectRoundTrip(counter);
  std::vector<model::Sample> growing;
  for (int i = 0; i < 2000; ++i) growing.push_back({i, std::exp(i * 0.3) + 1.0 / 3});
  ExpectRoundTrip(growing);
}

TEST(PackedChunkTest, AdversarialBitPatternsAmongBitDeltas) {
  // Special values in a series that is otherwise a random walk, so it stays in bit-delta mode:
  // each makes its block 64 bits wide, and every pattern must still come back exactly.
  const double specials[] = {model::StaleNaN(),
                             std::bit_cast<double>(uint64_t{0x7ff8dead0000beef}),
                             std::bit_cast<double>(uint64_t{0xfff0000000000001}),
                             std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity(),
                             -0.0,
                             0.0,
                             std::numeric_limits<double>::denorm_min(),
                             -std::numeric_limits<double>::denorm_min(),
                             std::numeric_limits<double>::max(),
                             std::numeric_limits<double>::lowest(),
                             std::bit_cast<double>(~uint64_t{0}),
                             std::bit_cast<double>(uint64_t{0x8000000000000000}),
                             -1234.5678};
  std::mt19937_64 rng(2);
  std::vector<model::Sample> samples = RandomWalk(&rng, 4000, 1234.5678, 0.01);
  for (size_t i = 0; i < std::size(specials); ++i) {
    samples[100 + i * 97].value = specials[i];
    samples[101 + i * 97].value = specials[(i + 1) % std::size(specials)];
  }
  EXPECT_EQ(ModeOf(EncodePackedChunk(samples)), kBitDeltaMode);
  ExpectRoundTrip(samples);
  // A whole stretch of sign flips and huge jumps: blocks of width 64, zigzagged.
  for (int i = 2000; i < 2100; ++i) {
    samples[i].value = (i % 2 == 0 ? 1 : -1) * std::bit_cast<double>(rng() >> 1);
  }
  EXPECT_EQ(ModeOf(EncodePackedChunk(samples)), kBitDeltaMode);
  ExpectRoundTrip(samples);
}

TEST(PackedChunkTest, ConstantStretchesAndPartialBlocks) {
  std::mt19937_64 rng(3);
  // Counts around the block size of 32 deltas, so that the last block is short or full.
  for (size_t n : {1, 2, 3, 31, 32, 33, 34, 63, 64, 65, 66, 97, 1000, 1025}) {
    ExpectRoundTrip(RandomWalk(&rng, n, 0.1 + 0.2, 1e-3));
    // A constant non-decimal: width-0 blocks (XOR words may still be smaller).
    std::vector<model::Sample> constant = RandomWalk(&rng, n, 1.0 / 3, 0);
    ExpectRoundTrip(constant);
  }
  // Long constant stretches inside a random walk: width-0 blocks in bit-delta mode.
  std::vector<model::Sample> samples = RandomWalk(&rng, 3000, 77.7777, 0.5);
  for (int i = 500; i < 700; ++i) samples[i].value = samples[499].value;
  for (int i = 2900; i < 3000; ++i) samples[i].value = samples[2899].value;
  EXPECT_EQ(ModeOf(EncodePackedChunk(samples)), kBitDeltaMode);
  ExpectRoundTrip(samples);
}

// 34 values one unit in the last place apart times 5: a width byte of 0x83 (3 bits, no sign)
// for a block of 32 deltas in 12 bytes, then one for the last delta in one byte, 5 bits of it
// padding. The value column is the chunk's last 8 + 13 + 2 bytes, outside the zstd frame.
std::string SmallBitDeltaChunk() {
  std::vector<model::Sample> samples;
  for (int i = 0; i < 34; ++i) {
    samples.push_back({i * 1000, std::bit_cast<double>(std::bit_cast<uint64_t>(1.0) + 5 * i)});
  }
  return EncodePackedChunk(samples);
}

TEST(PackedChunkTest, BitDeltaLayout) {
  const std::string chunk = SmallBitDeltaChunk();
  ASSERT_EQ(ModeOf(chunk), kBitDeltaMode);
  ASSERT_GT(chunk.size(), 23u + 19u);
  const std::string values = chunk.substr(chunk.size() - 23);
  EXPECT_EQ(values.substr(0, 8), std::string("\x3f\xf0\0\0\0\0\0\0", 8));
  EXPECT_EQ(static_cast<uint8_t>(values[8]), 0x83);
  EXPECT_EQ(static_cast<uint8_t>(values[8 + 13]), 0x83);
  EXPECT_EQ(static_cast<uint8_t>(values[22]), 5);
  // 5, 5, 5, ... in 3 bits each, least significant bit first: 101 101 10|1 101 101 1|...
  EXPECT_EQ(static_cast<uint8_t>(values[9]), 0b01101101);
  EXPECT_EQ(Decode(chunk).size(), 34u);
}

TEST(PackedChunkTest, MalformedBitDeltasAreDataLoss) {
  const std::string chunk = SmallBitDeltaChunk();
  const size_t values = chunk.size() - 23;
  std::string bad = chunk;
  bad[values + 8] = static_cast<char>(0x80 | 65);  // a width above 64
  EXPECT_EQ(DecodeStatus(bad), absl::StatusCode::kDataLoss);
  bad = chunk;
  bad[chunk.size() - 1] |= 0x80;  // a padding bit set
  EXPECT_EQ(DecodeStatus(bad), absl::StatusCode::kDataLoss);
  bad = chunk;
  bad[values + 8] = 64;  // wider than the bytes that follow
  EXPECT_EQ(DecodeStatus(bad), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeStatus(chunk + '\0'), absl::StatusCode::kDataLoss);  // trailing byte
  for (size_t n = 1; n < chunk.size(); ++n) {
    EXPECT_EQ(DecodeStatus(chunk.substr(0, n)), absl::StatusCode::kDataLoss) << n;
  }
  // A count of 2^31 (beyond what is ever written) in front of a valid frame.
  bad = chunk;
  bad.replace(1, 1, "\x80\x80\x80\x80\x08");
  EXPECT_EQ(DecodeStatus(bad), absl::StatusCode::kDataLoss);
}

TEST(PackedChunkTest, DamagedBitDeltaChunksAreOkOrDataLoss) {
  std::mt19937_64 rng(11);
  std::vector<model::Sample> samples = RandomWalk(&rng, 300, 5.5555, 0.001);
  samples[150].value = -0.0;
  samples[151].value = model::StaleNaN();
  const std::string chunk = EncodePackedChunk(samples);
  ASSERT_EQ(ModeOf(chunk), kBitDeltaMode);
  for (size_t n = 0; n < chunk.size(); ++n) {
    EXPECT_EQ(DecodeStatus(chunk.substr(0, n)), absl::StatusCode::kDataLoss) << n;
  }
  for (int round = 0; round < 2000; ++round) {
    std::string bad = chunk;
    for (int flips = 1 + static_cast<int>(rng() % 3); flips > 0; --flips) {
      bad[1 + rng() % (bad.size() - 1)] ^= static_cast<char>(1 + rng() % 255);
    }
    ExpectOkOrDataLoss(bad);
    ExpectOkOrDataLoss(bad.substr(0, rng() % bad.size()));
  }
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
