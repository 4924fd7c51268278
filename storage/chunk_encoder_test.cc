#include "storage/chunk_encoder.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "model/sample.h"
#include "storage/bit_stream.h"
#include "storage/chunk_decoder.h"

namespace kura::storage {
namespace {

using model::Sample;

struct Decoded {
  std::vector<Sample> samples;
  absl::Status status;
};

Decoded DecodeAll(std::string_view chunk, int64_t min_time_ms = INT64_MIN,
                  int64_t max_time_ms = INT64_MAX) {
  Decoded d;
  auto it = NewChunkIterator(chunk, min_time_ms, max_time_ms);
  while (it->Next()) d.samples.push_back(it->At());
  d.status = it->status();
  // The bulk read yields the very same samples and status.
  std::vector<Sample> bulk;
  EXPECT_EQ(NewChunkIterator(chunk, min_time_ms, max_time_ms)->AppendRemaining(&bulk), d.status);
  EXPECT_EQ(bulk.size(), d.samples.size());
  for (size_t i = 0; i < std::min(bulk.size(), d.samples.size()); ++i) {
    EXPECT_EQ(bulk[i].timestamp_ms, d.samples[i].timestamp_ms);
    EXPECT_EQ(std::bit_cast<uint64_t>(bulk[i].value), std::bit_cast<uint64_t>(d.samples[i].value));
  }
  return d;
}

std::string Encode(const std::vector<Sample>& samples) {
  ChunkEncoder enc;
  for (const Sample& s : samples) enc.Append(s.timestamp_ms, s.value);
  return std::string(enc.bytes());
}

// Compares timestamps and exact value bits, so NaN payloads and -0.0 count.
void ExpectSameSamples(const std::vector<Sample>& want, const std::vector<Sample>& got) {
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(want[i].timestamp_ms, got[i].timestamp_ms) << "sample " << i;
    ASSERT_EQ(std::bit_cast<uint64_t>(want[i].value), std::bit_cast<uint64_t>(got[i].value))
        << "sample " << i;
  }
}

void ExpectRoundTrip(const std::vector<Sample>& samples) {
  const std::string chunk = Encode(samples);
  Decoded d = DecodeAll(chunk);
  ASSERT_TRUE(d.status.ok()) << d.status;
  ExpectSameSamples(samples, d.samples);
  ChunkMeta meta;
  ASSERT_TRUE(ReadChunkMeta(chunk, &meta).ok());
  EXPECT_EQ(meta.num_samples, static_cast<int>(samples.size()));
  if (!samples.empty()) {
    EXPECT_EQ(meta.min_time_ms, samples.front().timestamp_ms);
    EXPECT_EQ(meta.max_time_ms, samples.back().timestamp_ms);
  }
}

double FromBits(uint64_t bits) { return std::bit_cast<double>(bits); }

std::vector<double> SpecialValues() {
  return {0.0,
          -0.0,
          std::numeric_limits<double>::infinity(),
          -std::numeric_limits<double>::infinity(),
          model::StaleNaN(),
          std::numeric_limits<double>::quiet_NaN(),
          FromBits(0x7ff8000000000001ULL),  // quiet NaN with a payload
          FromBits(0xfff0000000000001ULL),  // negative signalling NaN
          FromBits(0x7fffffffffffffffULL),
          std::numeric_limits<double>::denorm_min(),
          -std::numeric_limits<double>::denorm_min(),
          FromBits(0x000fffffffffffffULL),  // largest denormal
          std::numeric_limits<double>::min(),
          std::numeric_limits<double>::max(),
          std::numeric_limits<double>::lowest(),
          1.0,
          -1.0,
          0.1,
          1e300,
          FromBits(0x8000000000000001ULL)};
}

// Random samples mixing regular scrapes with jitter, gaps and long jumps, and values that are
// constant, integer, decimal or random bit patterns.
std::vector<Sample> RandomSamples(std::mt19937_64& rng, int n) {
  std::vector<Sample> out;
  int64_t t = static_cast<int64_t>(rng()) >> 8;
  double v = 0;
  for (int i = 0; i < n; ++i) {
    switch (rng() % 8) {
      case 0:
        v = std::bit_cast<double>(rng());
        break;
      case 1:
        v = static_cast<double>(static_cast<int64_t>(rng() % 1000000));
        break;
      case 2:
        v = static_cast<double>(rng() % 10000) / 100;
        break;
      case 3:
        v = SpecialValues()[rng() % SpecialValues().size()];
        break;
      default:
        break;
    }
    out.push_back({t, v});
    int64_t step = 15000 + static_cast<int64_t>(rng() % 200) - 100;
    if (rng() % 16 == 0) step = 1 + static_cast<int64_t>(rng() % (int64_t{1} << 40));
    if (rng() % 64 == 0) step = 1;
    if (t > INT64_MAX - step) break;
    t += step;
  }
  return out;
}

TEST(BitStreamTest, RandomWidthsRoundTrip) {
  std::mt19937_64 rng(1);
  std::vector<std::pair<uint64_t, int>> written;
  std::string buf = "hdr";
  BitWriter writer(&buf, 0);
  for (int i = 0; i < 2000; ++i) {
    const int width = static_cast<int>(rng() % 65);
    const uint64_t v = width == 64 ? rng() : rng() & ((uint64_t{1} << width) - 1);
    writer.WriteBits(v, width);
    written.emplace_back(v, width);
  }
  BitReader reader(std::string_view(buf).substr(3));
  for (const auto& [v, width] : written) {
    uint64_t got;
    ASSERT_TRUE(reader.ReadBits(width, &got));
    ASSERT_EQ(v, got) << width;
  }
  EXPECT_LT(reader.remaining_bits(), 8u);
  uint64_t past_end;
  EXPECT_FALSE(reader.ReadBits(8, &past_end));
}

// The stream, one bit at a time: what BitWriter's byte layout must equal (docs/format/chunk.md).
void AppendBitsOneByOne(uint64_t value, int num_bits, std::string* dst, int* free_bits) {
  for (int i = num_bits - 1; i >= 0; --i) {
    if (*free_bits == 0) {
      dst->push_back('\0');
      *free_bits = 8;
    }
    --*free_bits;
    if ((value >> i) & 1) dst->back() = static_cast<char>(dst->back() | (1 << *free_bits));
  }
}

TEST(BitStreamTest, LayoutMatchesBitByBitWriting) {
  std::mt19937_64 rng(7);
  std::string buf = "hdr";
  std::string expected = "hdr";
  int expected_free_bits = 0;
  BitWriter writer(&buf, 0);
  for (int i = 0; i < 5000; ++i) {
    const int width = static_cast<int>(rng() % 65);
    // Bits above `width` must be ignored.
    const uint64_t v = rng();
    writer.WriteBits(v, width);
    AppendBitsOneByOne(v, width, &expected, &expected_free_bits);
    ASSERT_EQ(expected, buf) << "write " << i << " of width " << width;
    ASSERT_EQ(expected_free_bits, writer.free_bits());
    ASSERT_EQ(static_cast<uint8_t>(buf.back()), writer.last_byte());
  }
}

// Writers that live for one call each, as ChunkEncoder's, continue the stream exactly, whether
// they are handed the last byte or read it.
TEST(BitStreamTest, ShortLivedWritersContinueTheStream) {
  std::mt19937_64 rng(9);
  std::string expected = "h";
  int expected_free_bits = 0;
  std::string with_last = "h";
  std::string reading = "h";
  int free_bits = 0;
  int reading_free_bits = 0;
  uint8_t last_byte = 0;
  for (int i = 0; i < 3000; ++i) {
    const int width = static_cast<int>(rng() % 65);
    const uint64_t v = rng();
    BitWriter a(&with_last, free_bits, last_byte);
    a.WriteBits(v, width);
    free_bits = a.free_bits();
    last_byte = a.last_byte();
    BitWriter b(&reading, reading_free_bits);
    b.WriteBits(v, width);
    reading_free_bits = b.free_bits();
    AppendBitsOneByOne(v, width, &expected, &expected_free_bits);
    ASSERT_EQ(expected, with_last) << i;
    ASSERT_EQ(expected, reading) << i;
  }
}

TEST(BitStreamTest, VarintsRoundTripUnaligned) {
  const std::vector<int64_t> values = {0, 1, -1, 63, -64, 64, INT64_MAX, INT64_MIN, 1 << 20};
  std::string buf;
  BitWriter writer(&buf, 0);
  for (int64_t v : values) {
    writer.WriteBit(true);
    writer.WriteVarint(v);
    writer.WriteUvarint(static_cast<uint64_t>(v));
  }
  BitReader reader(buf);
  for (int64_t v : values) {
    bool bit;
    int64_t s;
    uint64_t u;
    ASSERT_TRUE(reader.ReadBit(&bit) && bit);
    ASSERT_TRUE(reader.ReadVarint(&s));
    ASSERT_TRUE(reader.ReadUvarint(&u));
    EXPECT_EQ(v, s);
    EXPECT_EQ(static_cast<uint64_t>(v), u);
  }
}

TEST(BitStreamTest, OverlongVarintIsRejected) {
  const std::string eleven_bytes(11, '\x80');
  BitReader reader(eleven_bytes);
  uint64_t v;
  EXPECT_FALSE(reader.ReadUvarint(&v));
}

TEST(ChunkEncoderTest, EmptyChunkHasNoSamples) {
  ChunkEncoder enc;
  EXPECT_EQ(enc.num_samples(), 0);
  EXPECT_EQ(static_cast<uint8_t>(enc.bytes()[0]), 1);  // format version
  Decoded d = DecodeAll(enc.bytes());
  EXPECT_TRUE(d.status.ok());
  EXPECT_TRUE(d.samples.empty());
  ChunkMeta meta;
  ASSERT_TRUE(ReadChunkMeta(enc.bytes(), &meta).ok());
  EXPECT_EQ(meta.num_samples, 0);
}

TEST(ChunkEncoderTest, OneSample) {
  ExpectRoundTrip({{-5, 3.25}});
  ExpectRoundTrip({{INT64_MIN, model::StaleNaN()}});
  ExpectRoundTrip({{INT64_MAX, -0.0}});
}

TEST(ChunkEncoderTest, TracksCountAndTimeBounds) {
  ChunkEncoder enc;
  enc.Append(1000, 1);
  enc.Append(2000, 2);
  enc.Append(3500, 2);
  EXPECT_EQ(enc.num_samples(), 3);
  EXPECT_EQ(enc.min_time_ms(), 1000);
  EXPECT_EQ(enc.max_time_ms(), 3500);
  EXPECT_EQ(enc.size_bytes(), enc.bytes().size());
}

TEST(ChunkEncoderTest, SpecialFloatsRoundTripBitExact) {
  const std::vector<double> specials = SpecialValues();
  std::vector<Sample> samples;
  int64_t t = 1'700'000'000'000;
  // Every ordered pair, so each value is XORed against each other value.
  for (double a : specials) {
    for (double b : specials) {
      samples.push_back({t += 15000, a});
      samples.push_back({t += 15000, b});
    }
  }
  ExpectRoundTrip(samples);
}

TEST(ChunkEncoderTest, StaleMarkersBetweenValues) {
  std::vector<Sample> samples;
  for (int i = 0; i < 120; ++i) {
    samples.push_back({i * 15000, i % 7 == 3 ? model::StaleNaN() : static_cast<double>(i)});
  }
  ExpectRoundTrip(samples);
}

TEST(ChunkEncoderTest, ConstantSeriesIsSmall) {
  std::vector<Sample> samples;
  for (int i = 0; i < 120; ++i) samples.push_back({1'700'000'000'000 + i * 15000, 42});
  ExpectRoundTrip(samples);
  // 2 bits per sample after the first two, plus 19 bytes for the header and first samples.
  EXPECT_LE(Encode(samples).size(), 50u);
}

TEST(ChunkEncoderTest, CounterRoundTrips) {
  std::mt19937_64 rng(2);
  std::vector<Sample> samples;
  double v = 1000;
  int64_t t = 1'700'000'000'000;
  for (int i = 0; i < 120; ++i) {
    samples.push_back({t, v});
    t += 15000 + static_cast<int64_t>(rng() % 20) - 10;
    v += static_cast<double>(rng() % 50);
  }
  ExpectRoundTrip(samples);
}

TEST(ChunkEncoderTest, BigTimestampJumpsAndNegativeTimes) {
  ExpectRoundTrip({{INT64_MIN, 1}, {INT64_MAX, 2}});
  ExpectRoundTrip({{INT64_MIN, 1}, {INT64_MIN + 1, 2}, {INT64_MAX - 1, 3}, {INT64_MAX, 4}});
  ExpectRoundTrip({{-1'000'000'000'000, 1},
                   {-999'999'985'000, 2},
                   {-1, 3},
                   {0, 4},
                   {1, 5},
                   {365LL * 24 * 3600 * 1000 * 30, 6},  // 30 years later
                   {365LL * 24 * 3600 * 1000 * 30 + 15000, 7},
                   {365LL * 24 * 3600 * 1000 * 30 + 15001, 8},
                   {INT64_MAX, 9}});
}

TEST(ChunkEncoderTest, EveryDeltaOfDeltaBucketEdge) {
  std::vector<Sample> samples;
  int64_t t = 0;
  int64_t delta = 1'000'000'000;
  samples.push_back({t, 0});
  for (int bits : {14, 17, 20, 21}) {
    const int64_t half = int64_t{1} << (bits - 1);
    for (int64_t dod : {half - 1, -half, half, -half - 1, int64_t{0}, int64_t{1}, int64_t{-1}}) {
      delta += dod;
      t += delta;
      samples.push_back({t, static_cast<double>(dod)});
    }
  }
  ExpectRoundTrip(samples);
}

TEST(ChunkEncoderTest, DecimalValuesRoundTrip) {
  std::mt19937_64 rng(8);
  std::vector<Sample> samples;
  int64_t t = 0;
  for (int scale = 0; scale <= 9; ++scale) {
    const double unit = std::pow(10.0, -scale);
    int64_t units = static_cast<int64_t>(rng() % 100000) - 50000;
    for (int i = 0; i < 40; ++i) {
      samples.push_back({t += 15000, static_cast<double>(units) * unit});
      samples.push_back({t += 15000, static_cast<double>(units) / std::pow(10.0, scale)});
      // Steps across every decimal delta bucket edge, and beyond the widest one.
      const int64_t steps[] = {
          1, -1, 127, -128, 128, -129, 32767, -32768, 32768, INT32_MAX, INT64_C(1) << 33};
      units += steps[rng() % std::size(steps)];
    }
  }
  // Edges: magnitudes near 2^53, values that are not short decimals, and zeros of both signs.
  for (double v : {9007199254740991.0, -9007199254740991.0, 9007199254740992.0, 0.1 + 0.2, 0.3,
                   1e-7, 1.5e-8, 0.0, -0.0, 0.0, 123456.7, 123456.8, 1e22, 1e-300, 0.125, -2.5}) {
    samples.push_back({t += 15000, v});
  }
  ExpectRoundTrip(samples);
}

// The decoder carries a decimal run's scaled integer from sample to sample below 2^50 and
// recomputes it from the value above: runs that walk across that edge at every scale.
TEST(ChunkEncoderTest, DecimalRunsAcrossTheCarriedIntegerEdge) {
  std::mt19937_64 rng(9);
  std::vector<Sample> samples;
  int64_t t = 0;
  for (int scale = 0; scale <= 7; ++scale) {
    for (int64_t edge : {int64_t{1} << 50, -(int64_t{1} << 50), int64_t{1} << 52}) {
      int64_t units = edge - 300;
      for (int i = 0; i < 60; ++i) {
        samples.push_back({t += 15000, static_cast<double>(units) / std::pow(10.0, scale)});
        units += static_cast<int64_t>(rng() % 21);
      }
    }
  }
  ExpectRoundTrip(samples);
}

TEST(ChunkEncoderTest, DecimalGaugeIsSmallerThanXor) {
  std::mt19937_64 rng(9);
  std::vector<Sample> samples;
  int64_t hundredths = 5000;
  for (int i = 0; i < 120; ++i) {
    samples.push_back({i * 15000LL, static_cast<double>(hundredths) / 100});
    hundredths += static_cast<int64_t>(rng() % 201) - 100;
  }
  ExpectRoundTrip(samples);
  // XOR alone takes over 8 bytes per sample here; 2 bits of dod plus 15 of value is ~2.2.
  EXPECT_LE(Encode(samples).size(), 3u * 120);
}

TEST(ChunkEncoderTest, SizesFrom1To10kSamples) {
  std::mt19937_64 rng(3);
  for (int n : {1, 2, 3, 120, 121, 10000}) {
    SCOPED_TRACE(n);
    ExpectRoundTrip(RandomSamples(rng, n));
  }
}

TEST(ChunkEncoderTest, MoreSamplesThanTheShortCountHolds) {
  std::vector<Sample> samples;
  for (int i = 0; i < 70000; ++i) samples.push_back({i * 1000LL, static_cast<double>(i % 100)});
  ExpectRoundTrip(samples);
}

TEST(ChunkEncoderTest, RandomRoundTrips) {
  std::mt19937_64 rng(4);
  for (int round = 0; round < 200; ++round) {
    SCOPED_TRACE(round);
    ExpectRoundTrip(RandomSamples(rng, 1 + static_cast<int>(rng() % 300)));
  }
}

// A resumed encoder must write exactly what the one that kept appending writes.
void ExpectResumesAtEverySplit(const std::vector<Sample>& samples) {
  const std::string whole = Encode(samples);
  for (size_t k = 1; k <= samples.size(); k += 1 + samples.size() / 40) {
    ChunkEncoder first;
    for (size_t i = 0; i < k; ++i) first.Append(samples[i].timestamp_ms, samples[i].value);
    const std::string prefix(first.bytes());
    ChunkTail tail;
    ASSERT_TRUE(ReadChunkTail(prefix, &tail).ok()) << k;
    EXPECT_EQ(tail.num_samples, static_cast<int>(k));
    EXPECT_EQ(tail.min_time_ms, samples.front().timestamp_ms);
    EXPECT_EQ(tail.max_time_ms, samples[k - 1].timestamp_ms);
    ChunkEncoder resumed = ChunkEncoder::Resume(prefix, tail);
    for (size_t i = k; i < samples.size(); ++i) {
      resumed.Append(samples[i].timestamp_ms, samples[i].value);
    }
    ASSERT_EQ(resumed.bytes(), whole) << "split at " << k << " of " << samples.size();
    EXPECT_EQ(resumed.num_samples(), static_cast<int>(samples.size()));
    EXPECT_EQ(resumed.max_time_ms(), samples.back().timestamp_ms);
  }
}

TEST(ChunkEncoderTest, ResumedEncoderWritesWhatTheOriginalWould) {
  std::mt19937_64 rng(12);
  for (int round = 0; round < 60; ++round) {
    SCOPED_TRACE(round);
    ExpectResumesAtEverySplit(RandomSamples(rng, 1 + static_cast<int>(rng() % 300)));
  }
  // Decimal runs, stale markers and a count past the short header's.
  std::vector<Sample> decimals;
  for (int i = 0; i < 400; ++i) {
    decimals.push_back({i * 15'000LL, i % 50 == 7 ? model::StaleNaN() : (i % 13) * 0.25 + 100.05});
  }
  ExpectResumesAtEverySplit(decimals);
  ChunkTail tail;
  EXPECT_EQ(ReadChunkTail("\x02garbage", &tail).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadChunkTail(Encode(decimals).substr(0, 20), &tail).code(),
            absl::StatusCode::kDataLoss);
}

TEST(ChunkEncoderTest, BytesDecodableAfterEveryAppend) {
  std::mt19937_64 rng(5);
  const std::vector<Sample> samples = RandomSamples(rng, 300);
  ChunkEncoder enc;
  for (size_t i = 0; i < samples.size(); ++i) {
    enc.Append(samples[i].timestamp_ms, samples[i].value);
    Decoded d = DecodeAll(enc.bytes());
    ASSERT_TRUE(d.status.ok()) << i << ": " << d.status;
    ExpectSameSamples({samples.begin(), samples.begin() + static_cast<ptrdiff_t>(i) + 1},
                      d.samples);
  }
}

TEST(ChunkEncoderTest, MovedEncoderKeepsAppending) {
  ChunkEncoder a;
  a.Append(1, 1.5);
  ChunkEncoder b = std::move(a);
  b.Append(2, 2.5);
  Decoded d = DecodeAll(b.bytes());
  ASSERT_TRUE(d.status.ok());
  ExpectSameSamples({{1, 1.5}, {2, 2.5}}, d.samples);
}

TEST(ChunkEncoderTest, BufferGrowsInSmallSteps) {
  std::mt19937_64 rng(6);
  const std::vector<Sample> samples = RandomSamples(rng, 2000);
  ChunkEncoder enc;
  size_t growths = 0;
  size_t capacity = enc.capacity_bytes();
  for (const Sample& s : samples) {
    enc.Append(s.timestamp_ms, s.value);
    if (enc.capacity_bytes() != capacity) ++growths;
    capacity = enc.capacity_bytes();
    // An eighth of the size and one sample's worst case, never double.
    ASSERT_LE(enc.capacity_bytes(), std::max<size_t>(30, enc.size_bytes() * 9 / 8 + 48))
        << enc.num_samples();
  }
  // Steps of an eighth: a logarithmic number of them.
  EXPECT_LT(growths, 80u);
  ExpectSameSamples(samples, DecodeAll(enc.bytes()).samples);
}

TEST(ChunkEncoderTest, TakeBytesLeavesAnEmptyEncoder) {
  ChunkEncoder enc;
  enc.Append(1, 1.5);
  enc.Append(2, 2.5);
  const std::string expected(enc.bytes());
  const std::string taken = enc.TakeBytes();
  EXPECT_EQ(taken, expected);
  EXPECT_EQ(enc.num_samples(), 0);
  EXPECT_EQ(enc.bytes(), Encode({}));
  enc.Append(3, 3.5);
  ExpectSameSamples({{3, 3.5}}, DecodeAll(enc.bytes()).samples);
  ExpectSameSamples({{1, 1.5}, {2, 2.5}}, DecodeAll(taken).samples);
}

TEST(ChunkDecoderTest, FiltersByTimeRange) {
  std::vector<Sample> samples;
  for (int i = 0; i < 120; ++i) samples.push_back({i * 10 - 500, static_cast<double>(i)});
  const std::string chunk = Encode(samples);
  const std::vector<std::pair<int64_t, int64_t>> ranges = {
      {INT64_MIN, INT64_MAX}, {-500, -500}, {-499, -491}, {-495, 105}, {690, 690},
      {691, INT64_MAX},       {0, 0},       {5, 5},       {100, 50},   {INT64_MIN, -501}};
  for (const auto& [lo, hi] : ranges) {
    SCOPED_TRACE(testing::Message() << lo << ".." << hi);
    std::vector<Sample> want;
    for (const Sample& s : samples) {
      if (s.timestamp_ms >= lo && s.timestamp_ms <= hi) want.push_back(s);
    }
    Decoded d = DecodeAll(chunk, lo, hi);
    EXPECT_TRUE(d.status.ok());
    ExpectSameSamples(want, d.samples);
  }
}


// AppendRemaining decodes the samples after the second in a loop of its own; it must go on
// from wherever Next() left the iterator.
TEST(ChunkDecoderTest, AppendRemainingGoesOnFromAnyPosition) {
  std::mt19937_64 rng(9);
  const std::vector<Sample> samples = RandomSamples(rng, 130);
  const std::string chunk = Encode(samples);
  for (size_t read = 0; read <= samples.size(); ++read) {
    SCOPED_TRACE(read);
    auto it = NewChunkIterator(chunk);
    std::vector<Sample> got;
    for (size_t i = 0; i < read; ++i) {
      ASSERT_TRUE(it->Next());
      got.push_back(it->At());
    }
    ASSERT_TRUE(it->AppendRemaining(&got).ok());
    ExpectSameSamples(samples, got);
  }
}
TEST(ChunkDecoderTest, OwningIteratorOutlivesTheCallersBytes) {
  std::string chunk = Encode({{10, 1}, {20, 2}, {30, 3}});
  auto it = NewOwningChunkIterator(chunk, 15, 30);
  chunk.assign(chunk.size(), '\xff');
  std::vector<Sample> got;
  while (it->Next()) got.push_back(it->At());
  EXPECT_TRUE(it->status().ok());
  ExpectSameSamples({{20, 2}, {30, 3}}, got);
}

TEST(ChunkDecoderTest, TruncationAtEveryLengthIsDataLoss) {
  std::mt19937_64 rng(6);
  for (int round = 0; round < 5; ++round) {
    const std::vector<Sample> samples = RandomSamples(rng, 150);
    const std::string chunk = Encode(samples);
    for (size_t len = 0; len < chunk.size(); ++len) {
      SCOPED_TRACE(len);
      Decoded d = DecodeAll(std::string_view(chunk).substr(0, len));
      EXPECT_EQ(d.status.code(), absl::StatusCode::kDataLoss);
      ASSERT_LT(d.samples.size(), samples.size());
      ExpectSameSamples(
          {samples.begin(), samples.begin() + static_cast<ptrdiff_t>(d.samples.size())}, d.samples);
      ChunkMeta meta;
      EXPECT_EQ(ReadChunkMeta(std::string_view(chunk).substr(0, len), &meta).code(),
                absl::StatusCode::kDataLoss);
    }
  }
}

TEST(ChunkDecoderTest, BitFlipsNeverCrash) {
  std::mt19937_64 rng(7);
  const std::string chunk = Encode(RandomSamples(rng, 120));
  for (size_t bit = 0; bit < chunk.size() * 8; ++bit) {
    std::string corrupt = chunk;
    corrupt[bit / 8] = static_cast<char>(corrupt[bit / 8] ^ (1 << (bit % 8)));
    Decoded d = DecodeAll(corrupt);
    // A flip in a value's bits still decodes; whatever decodes keeps the iterator's contract.
    if (!d.status.ok()) {
      EXPECT_EQ(d.status.code(), absl::StatusCode::kDataLoss);
    }
    for (size_t i = 1; i < d.samples.size(); ++i) {
      ASSERT_LT(d.samples[i - 1].timestamp_ms, d.samples[i].timestamp_ms) << bit;
    }
  }
}

TEST(ChunkDecoderTest, TrailingBytesAreDataLoss) {
  std::string chunk = Encode({{1, 1}, {2, 2}});
  chunk.push_back('\0');
  EXPECT_EQ(DecodeAll(chunk).status.code(), absl::StatusCode::kDataLoss);
}

TEST(ChunkDecoderTest, UnknownVersionIsDataLoss) {
  std::string chunk = Encode({{1, 1}});
  chunk[0] = 2;
  Decoded d = DecodeAll(chunk);
  EXPECT_EQ(d.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(d.samples.empty());
  ChunkMeta meta;
  EXPECT_EQ(ReadChunkMeta(chunk, &meta).code(), absl::StatusCode::kDataLoss);
}

TEST(ChunkDecoderTest, NonIncreasingTimestampsAreDataLoss) {
  // A zero delta cannot come from ChunkEncoder: header, count 2, t0 = 0, v0, delta 0, '0' bit.
  std::string chunk("\x01\x00\x02", 3);
  BitWriter writer(&chunk, 0);
  writer.WriteVarint(0);
  writer.WriteBits(0, 64);
  writer.WriteUvarint(0);
  writer.WriteBit(false);
  Decoded d = DecodeAll(chunk);
  EXPECT_EQ(d.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(d.samples.size(), 1u);
}

}  // namespace
}  // namespace kura::storage

namespace kura::storage {
namespace {

TEST(BitStreamTest, UnaryPrefixesReadLikeBitByBit) {
  // Prefixes of 0..5 ones, each cut at 4 ones, between random bits, up to the stream's end.
  std::mt19937_64 rng(21);
  std::string buf;
  BitWriter writer(&buf, 0);
  std::vector<std::pair<int, uint64_t>> written;  // ones, the bits after
  for (int i = 0; i < 3000; ++i) {
    const int ones = static_cast<int>(rng() % 6);
    for (int k = 0; k < ones; ++k) writer.WriteBit(true);
    if (ones < 4) writer.WriteBit(false);
    const uint64_t bits = rng() & 0x1f;
    writer.WriteBits(bits, 5);
    written.emplace_back(ones, bits);
  }
  BitReader reader(buf);
  for (const auto& [ones, bits] : written) {
    int got = -1;
    ASSERT_TRUE(reader.ReadOnes(4, &got));
    // Five ones read as four, and the fifth is then the first of the following bits.
    const int expected = std::min(ones, 4);
    ASSERT_EQ(got, expected);
    uint64_t rest = 0;
    const int extra = ones - expected;
    ASSERT_TRUE(reader.ReadBits(extra + 5, &rest));
    ASSERT_EQ(rest, (((uint64_t{1} << extra) - 1) << 5) | bits);
  }
  int past_end = 0;
  EXPECT_LT(reader.remaining_bits(), 8u);
  // Only zero padding is left: a zero ends the prefix, if any bit is left at all.
  if (reader.remaining_bits() > 0) {
    EXPECT_TRUE(reader.ReadOnes(4, &past_end));
    EXPECT_EQ(past_end, 0);
  }
  BitReader empty{std::string_view()};
  EXPECT_FALSE(empty.ReadOnes(4, &past_end));
}

}  // namespace
}  // namespace kura::storage
