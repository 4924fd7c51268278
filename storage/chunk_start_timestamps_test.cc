// Start timestamps in chunks (version 3): round trips through ChunkEncoder and the decoder,
// the choice of version, resuming, and corrupt codes.

#include <bit>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "model/sample.h"
#include "storage/bit_stream.h"
#include "storage/chunk_decoder.h"
#include "storage/chunk_encoder.h"
#include "storage/chunk_format.h"

namespace kura::storage {
namespace {

using model::Sample;

struct WithStart {
  int64_t timestamp_ms = 0;
  double value = 0;
  int64_t start_ms = 0;
};

struct Decoded {
  std::vector<WithStart> samples;
  absl::Status status;
};

// Decodes sample by sample (At, StartAt) and in bulk (AppendRemainingWithStarts) and checks
// that both agree.
Decoded DecodeAll(std::string_view chunk, int64_t min_time_ms = INT64_MIN,
                  int64_t max_time_ms = INT64_MAX) {
  Decoded d;
  auto it = NewChunkIterator(chunk, min_time_ms, max_time_ms);
  while (it->Next()) d.samples.push_back({it->At().timestamp_ms, it->At().value, it->StartAt()});
  d.status = it->status();
  // Something before, so that the starts' padding to the output's size shows.
  std::vector<Sample> bulk = {{INT64_MIN, 0}};
  std::vector<int64_t> starts;
  EXPECT_EQ(
      NewChunkIterator(chunk, min_time_ms, max_time_ms)->AppendRemainingWithStarts(&bulk, &starts),
      d.status);
  EXPECT_LE(starts.size(), bulk.size());
  EXPECT_EQ(bulk.size(), d.samples.size() + 1);
  for (size_t i = 0; i + 1 < bulk.size() && i < d.samples.size(); ++i) {
    EXPECT_EQ(bulk[i + 1].timestamp_ms, d.samples[i].timestamp_ms);
    EXPECT_EQ(std::bit_cast<uint64_t>(bulk[i + 1].value),
              std::bit_cast<uint64_t>(d.samples[i].value));
    EXPECT_EQ(i + 1 < starts.size() ? starts[i + 1] : 0, d.samples[i].start_ms) << i;
  }
  if (!starts.empty()) {
    EXPECT_EQ(starts[0], 0);
  }
  return d;
}

std::string Encode(const std::vector<WithStart>& samples) {
  ChunkEncoder enc;
  for (const WithStart& s : samples) enc.Append(s.timestamp_ms, s.value, s.start_ms);
  return std::string(enc.bytes());
}

void ExpectSame(const std::vector<WithStart>& want, const std::vector<WithStart>& got) {
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(want[i].timestamp_ms, got[i].timestamp_ms) << "sample " << i;
    ASSERT_EQ(std::bit_cast<uint64_t>(want[i].value), std::bit_cast<uint64_t>(got[i].value))
        << "sample " << i;
    ASSERT_EQ(want[i].start_ms, got[i].start_ms) << "sample " << i;
  }
}

void ExpectRoundTrip(const std::vector<WithStart>& samples) {
  const std::string chunk = Encode(samples);
  Decoded d = DecodeAll(chunk);
  ASSERT_TRUE(d.status.ok()) << d.status;
  ExpectSame(samples, d.samples);
  ChunkMeta meta;
  ASSERT_TRUE(ReadChunkMeta(chunk, &meta).ok());
  EXPECT_EQ(meta.num_samples, static_cast<int>(samples.size()));
  if (!samples.empty()) {
    EXPECT_EQ(meta.min_time_ms, samples.front().timestamp_ms);
    EXPECT_EQ(meta.max_time_ms, samples.back().timestamp_ms);
  }
}

// Interesting starts for a sample at `t` after one at `prev` whose start was `prev_start`.
int64_t RandomStart(std::mt19937_64& rng, int64_t t, int64_t prev, int64_t prev_start) {
  switch (rng() % 12) {
    case 0:
      return 0;
    case 1:
      return prev;  // a delta sample
    case 2:
      return static_cast<int64_t>(rng());  // anything, far from t
    case 3:
      return INT64_MIN;
    case 4:
      return INT64_MAX;
    case 5:
      return t + 1 + static_cast<int64_t>(rng() % 1000);  // after the sample itself
    case 6:
      return t;
    case 7:
      return -1 - static_cast<int64_t>(rng() % 100000);
    default:
      return prev_start;  // cumulative: the same start as before
  }
}

std::vector<WithStart> RandomSamples(std::mt19937_64& rng, int n) {
  std::vector<WithStart> out;
  int64_t t = static_cast<int64_t>(rng()) >> 4;
  int64_t prev = 0;
  int64_t start = 1 + static_cast<int64_t>(rng() % 1000);
  double v = 0;
  for (int i = 0; i < n; ++i) {
    if (i > 0) start = RandomStart(rng, t, prev, start);
    if (rng() % 4 == 0) v = std::bit_cast<double>(rng());
    if (rng() % 4 == 0) v = static_cast<double>(rng() % 1000);
    out.push_back({t, v, start});
    prev = t;
    int64_t step = 15000 + static_cast<int64_t>(rng() % 200) - 100;
    if (rng() % 16 == 0) step = 1 + static_cast<int64_t>(rng() % (int64_t{1} << 40));
    if (t > INT64_MAX - step) break;
    t += step;
  }
  return out;
}

TEST(ChunkStartTimestampsTest, VersionIsChosenAtTheFirstSample) {
  ChunkEncoder without;
  without.Append(1000, 1, 0);
  without.Append(2000, 2);
  EXPECT_FALSE(without.has_starts());
  EXPECT_EQ(without.bytes()[0], chunk_format::kVersion);

  ChunkEncoder with;
  EXPECT_FALSE(with.has_starts());
  with.Append(1000, 1, 500);
  EXPECT_TRUE(with.has_starts());
  EXPECT_EQ(with.bytes()[0], chunk_format::kVersionWithStarts);
  // The 2-argument Append writes a start of 0 into a version-3 chunk.
  with.Append(2000, 2);
  ExpectSame({{1000, 1, 500}, {2000, 2, 0}}, DecodeAll(with.bytes()).samples);

  ChunkEncoder forced = ChunkEncoder::WithStarts();
  EXPECT_TRUE(forced.has_starts());
  forced.Append(1000, 1);
  forced.Append(2000, 2, 1000);
  EXPECT_EQ(forced.bytes()[0], chunk_format::kVersionWithStarts);
  ExpectSame({{1000, 1, 0}, {2000, 2, 1000}}, DecodeAll(forced.bytes()).samples);

  // TakeBytes leaves a new encoder that chooses again.
  EXPECT_EQ(with.TakeBytes()[0], chunk_format::kVersionWithStarts);
  EXPECT_FALSE(with.has_starts());
}

TEST(ChunkStartTimestampsTest, VersionOneChunksHaveNoStarts) {
  ChunkEncoder enc;
  enc.Append(1000, 1);
  enc.Append(2000, 2);
  Decoded d = DecodeAll(enc.bytes());
  ASSERT_TRUE(d.status.ok());
  ExpectSame({{1000, 1, 0}, {2000, 2, 0}}, d.samples);
  std::vector<Sample> out;
  std::vector<int64_t> starts;
  ASSERT_TRUE(NewChunkIterator(enc.bytes())->AppendRemainingWithStarts(&out, &starts).ok());
  EXPECT_EQ(out.size(), 2u);
  EXPECT_TRUE(starts.empty());
}

TEST(ChunkStartTimestampsTest, CumulativeDeltaAndUnknownStarts) {
  std::vector<WithStart> cumulative, delta, mixed;
  for (int64_t i = 0; i < 120; ++i) {
    const int64_t t = 1'700'000'000'000 + i * 15'000 + (i * 7) % 5;
    cumulative.push_back({t, static_cast<double>(i * 10), 1'699'999'000'000});
    delta.push_back(
        {t, static_cast<double>(i % 3), delta.empty() ? t - 15'000 : delta.back().timestamp_ms});
    mixed.push_back({t, 1, i % 5 == 1 ? 0 : 1'699'999'000'000 + (i / 10)});
  }
  ExpectRoundTrip(cumulative);
  ExpectRoundTrip(delta);
  ExpectRoundTrip(mixed);
  // Codes 0 and 10 take a bit and two: a constant start adds under a bit per sample, a delta
  // series' two bits, beyond the first sample's varint.
  auto without_starts = [](std::vector<WithStart> samples) {
    for (WithStart& s : samples) s.start_ms = 0;
    return Encode(samples).size();
  };
  EXPECT_LE(Encode(cumulative).size(), without_starts(cumulative) + 120 / 8 + 8);
  EXPECT_LE(Encode(delta).size(), without_starts(delta) + 2 * 120 / 8 + 8);
}

TEST(ChunkStartTimestampsTest, ExtremeStarts) {
  const int64_t kMin = std::numeric_limits<int64_t>::min();
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  ExpectRoundTrip({{kMin, 1, kMax}, {kMin + 1, 2, kMin}, {0, 3, kMax}, {kMax, 4, kMin}});
  ExpectRoundTrip({{-5000, 1, -10000}, {-4000, 2, -5000}, {-3000, 3, 0}, {-2000, 4, 5}});
  // A start after its sample, a start equal to it, a start of 0 between others.
  ExpectRoundTrip({{100, 1, 200}, {200, 2, 200}, {300, 3, 0}, {400, 4, 300}, {500, 5, 300}});
  ExpectRoundTrip({{1, 0, 1}});
}

TEST(ChunkStartTimestampsTest, RandomRoundTrips) {
  std::mt19937_64 rng(31);
  for (int round = 0; round < 300; ++round) {
    SCOPED_TRACE(round);
    ExpectRoundTrip(RandomSamples(rng, 1 + static_cast<int>(rng() % 300)));
  }
}

TEST(ChunkStartTimestampsTest, MoreSamplesThanTheShortCountHolds) {
  std::vector<WithStart> samples;
  for (int64_t i = 0; i < 70000; ++i) samples.push_back({i * 1000, 1, i / 500 * 500 + 1});
  ExpectRoundTrip(samples);
}

TEST(ChunkStartTimestampsTest, FiltersByTimeRangeWithStarts) {
  const std::vector<WithStart> samples = {
      {10, 1, 5}, {20, 2, 10}, {30, 3, 10}, {40, 4, 0}, {50, 5, 45}};
  Decoded d = DecodeAll(Encode(samples), 20, 40);
  ASSERT_TRUE(d.status.ok());
  ExpectSame({{20, 2, 10}, {30, 3, 10}, {40, 4, 0}}, d.samples);
  // The owning iterator forwards them too.
  auto it = NewOwningChunkIterator(Encode(samples), 45, 60);
  ASSERT_TRUE(it->Next());
  EXPECT_EQ(it->StartAt(), 45);
  EXPECT_FALSE(it->Next());
}

TEST(ChunkStartTimestampsTest, ResumedEncoderWritesWhatTheOriginalWould) {
  std::mt19937_64 rng(32);
  for (int round = 0; round < 60; ++round) {
    SCOPED_TRACE(round);
    std::vector<WithStart> samples = RandomSamples(rng, 1 + static_cast<int>(rng() % 200));
    if (samples.front().start_ms == 0) samples.front().start_ms = 7;  // version 3
    const std::string whole = Encode(samples);
    for (size_t k = 1; k <= samples.size(); k += 1 + samples.size() / 30) {
      ChunkEncoder first;
      for (size_t i = 0; i < k; ++i) {
        first.Append(samples[i].timestamp_ms, samples[i].value, samples[i].start_ms);
      }
      const std::string prefix(first.bytes());
      ChunkTail tail;
      ASSERT_TRUE(ReadChunkTail(prefix, &tail).ok()) << k;
      EXPECT_TRUE(tail.has_starts);
      EXPECT_EQ(tail.start_ms, samples[k - 1].start_ms);
      ChunkEncoder resumed = ChunkEncoder::Resume(prefix, tail);
      EXPECT_TRUE(resumed.has_starts());
      for (size_t i = k; i < samples.size(); ++i) {
        resumed.Append(samples[i].timestamp_ms, samples[i].value, samples[i].start_ms);
      }
      ASSERT_EQ(resumed.bytes(), whole) << "split at " << k << " of " << samples.size();
    }
  }
  // A version-1 tail resumes as version 1.
  ChunkEncoder v1;
  v1.Append(1, 1);
  ChunkTail tail;
  ASSERT_TRUE(ReadChunkTail(v1.bytes(), &tail).ok());
  EXPECT_FALSE(tail.has_starts);
  EXPECT_FALSE(ChunkEncoder::Resume(v1.bytes(), tail).has_starts());
}

TEST(ChunkStartTimestampsTest, BytesDecodableAfterEveryAppend) {
  std::mt19937_64 rng(33);
  std::vector<WithStart> samples = RandomSamples(rng, 200);
  samples.front().start_ms = 3;
  ChunkEncoder enc;
  for (size_t i = 0; i < samples.size(); ++i) {
    enc.Append(samples[i].timestamp_ms, samples[i].value, samples[i].start_ms);
    Decoded d = DecodeAll(enc.bytes());
    ASSERT_TRUE(d.status.ok()) << i << ": " << d.status;
    ExpectSame({samples.begin(), samples.begin() + static_cast<ptrdiff_t>(i) + 1}, d.samples);
  }
}

TEST(ChunkStartTimestampsTest, TruncationAtEveryLengthIsDataLoss) {
  std::mt19937_64 rng(34);
  for (int round = 0; round < 5; ++round) {
    std::vector<WithStart> samples = RandomSamples(rng, 150);
    samples.front().start_ms = 11;
    const std::string chunk = Encode(samples);
    for (size_t len = 0; len < chunk.size(); ++len) {
      SCOPED_TRACE(len);
      Decoded d = DecodeAll(std::string_view(chunk).substr(0, len));
      EXPECT_EQ(d.status.code(), absl::StatusCode::kDataLoss);
      ASSERT_LT(d.samples.size(), samples.size());
      ExpectSame({samples.begin(), samples.begin() + static_cast<ptrdiff_t>(d.samples.size())},
                 d.samples);
      ChunkMeta meta;
      EXPECT_EQ(ReadChunkMeta(std::string_view(chunk).substr(0, len), &meta).code(),
                absl::StatusCode::kDataLoss);
    }
  }
}

TEST(ChunkStartTimestampsTest, BitFlipsNeverCrash) {
  std::mt19937_64 rng(35);
  std::vector<WithStart> samples = RandomSamples(rng, 120);
  samples.front().start_ms = 11;
  const std::string chunk = Encode(samples);
  for (size_t bit = 0; bit < chunk.size() * 8; ++bit) {
    std::string corrupt = chunk;
    corrupt[bit / 8] = static_cast<char>(corrupt[bit / 8] ^ (1 << (bit % 8)));
    Decoded d = DecodeAll(corrupt);
    if (!d.status.ok()) {
      EXPECT_EQ(d.status.code(), absl::StatusCode::kDataLoss);
    }
    for (size_t i = 1; i < d.samples.size(); ++i) {
      ASSERT_LT(d.samples[i - 1].timestamp_ms, d.samples[i].timestamp_ms) << bit;
    }
  }
}

TEST(ChunkStartTimestampsTest, PreviousTimestampCodeOnTheFirstSampleIsDataLoss) {
  // Header of version 3 with one sample: t0 = 0, v0, then start code 10.
  std::string chunk("\x03\x00\x01", 3);
  BitWriter writer(&chunk, 0);
  writer.WriteVarint(0);
  writer.WriteBits(0, 64);
  writer.WriteBits(0b10, 2);
  Decoded d = DecodeAll(chunk);
  EXPECT_EQ(d.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(d.samples.empty());
  // The same chunk with code 110 (start 0) decodes.
  std::string ok("\x03\x00\x01", 3);
  BitWriter ok_writer(&ok, 0);
  ok_writer.WriteVarint(0);
  ok_writer.WriteBits(0, 64);
  ok_writer.WriteBits(0b110, 3);
  ExpectSame({{0, 0, 0}}, DecodeAll(ok).samples);
}

TEST(ChunkStartTimestampsTest, UnknownVersionIsDataLoss) {
  ChunkEncoder v3;
  v3.Append(1000, 1, 1);
  v3.Append(2000, 2, 1000);
  std::string unknown(v3.bytes());
  unknown[0] = 4;
  EXPECT_EQ(DecodeAll(unknown).status.code(), absl::StatusCode::kDataLoss);
  ChunkMeta meta;
  EXPECT_EQ(ReadChunkMeta(unknown, &meta).code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace kura::storage
