#include "storage/chunk_encoder.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>

#include "storage/bit_stream.h"
#include "storage/chunk_decoder.h"
#include "storage/chunk_format.h"

namespace kura::storage {
namespace {

constexpr int kNoWindow = 0xff;

constexpr bool FitsSigned(int64_t v, int num_bits) {
  const int64_t half = int64_t{1} << (num_bits - 1);
  return v >= -half && v < half;
}

// A value written as a decimal delta: its code after the 111 prefix and scale, and the total
// size of the sample's value in bits.
struct DecimalDelta {
  int scale = 0;
  uint64_t code = 0;
  int num_bits = 0;
};

// The most one Append adds to the stream: a first sample's 10-byte varint and 64 bits, or a
// delta-of-delta's 68 bits and a value's 78, and a partly used byte before them.
constexpr size_t kMaxSampleBytes = 24;

// The most a start code adds: 111 and a 10-byte varint.
constexpr size_t kMaxStartBytes = 11;

// The smallest decimal delta: 111, 3 bits of scale, 0 and 8 bits.
constexpr int kMinDecimalBits = 3 + 3 + 1 + chunk_format::kDecimalDeltaBits[0];

// Finds the smallest scale s at which `bits` is exactly an integer count of 10^-s (as
// chunk_format::DecimalValue computes it) and its delta from `prev` fits a bucket.
bool FindDecimalDelta(double prev, uint64_t bits, DecimalDelta* out) {
  const double value = std::bit_cast<double>(bits);
  for (int scale = 0; scale <= chunk_format::kMaxDecimalScale; ++scale) {
    const double scaled = value * chunk_format::kPow10[scale];
    // Larger scales only grow the magnitudes, so the first failure of these ends the search.
    if (!(std::fabs(scaled) < chunk_format::kMaxScaledMagnitude)) return false;
    int64_t base;
    if (!chunk_format::DecimalBase(prev, scale, &base)) return false;
    const double rounded = std::round(scaled);
    // A cheap filter before the exact check; it may only skip scales that would fail anyway.
    if (std::fabs(scaled - rounded) > std::fabs(scaled) * 1e-12) continue;
    const auto units = static_cast<int64_t>(rounded);
    if (std::bit_cast<uint64_t>(chunk_format::DecimalValue(units, scale)) != bits) continue;
    const int64_t delta = units - base;
    // Prefixes 0, 10 and 11 select kDecimalDeltaBits[0..2].
    const uint64_t prefixes[] = {0b0, 0b10, 0b11};
    const int prefix_bits[] = {1, 2, 2};
    for (int i = 0; i < 3; ++i) {
      const int value_bits = chunk_format::kDecimalDeltaBits[i];
      if (!FitsSigned(delta, value_bits)) continue;
      const uint64_t mask = (uint64_t{1} << value_bits) - 1;
      out->scale = scale;
      out->code = (prefixes[i] << value_bits) | (static_cast<uint64_t>(delta) & mask);
      out->num_bits = 6 + prefix_bits[i] + value_bits;
      return true;
    }
    return false;
  }
  return false;
}

}  // namespace

// A head holds one encoder per active series.
static_assert(sizeof(ChunkEncoder) <= 80);

ChunkEncoder::ChunkEncoder() : buf_(chunk_format::kShortHeaderSize, '\0') {
  buf_[0] = static_cast<char>(chunk_format::kVersion);
}

ChunkEncoder ChunkEncoder::WithStarts() {
  ChunkEncoder enc;
  enc.buf_[0] = static_cast<char>(chunk_format::kVersionWithStarts);
  enc.has_starts_ = true;
  return enc;
}

// Inline: the per-sample path of both Appends; a call per sample costs the ingest path a few
// percent.
inline void ChunkEncoder::AppendSample(int64_t timestamp_ms, uint64_t bits, BitWriter* writer) {
  if (num_samples_ == 0) {
    writer->WriteVarint(timestamp_ms);
    writer->WriteBits(bits, 64);
    min_time_ms_ = timestamp_ms;
  } else {
    // Unsigned arithmetic wraps, so deltas and their differences round-trip for any int64s.
    const uint64_t delta =
        static_cast<uint64_t>(timestamp_ms) - static_cast<uint64_t>(max_time_ms_);
    if (num_samples_ == 1) {
      writer->WriteUvarint(delta);
    } else {
      AppendDeltaOfDelta(static_cast<int64_t>(delta - prev_delta_), writer);
    }
    prev_delta_ = delta;
    AppendValue(bits, writer);
  }
  max_time_ms_ = timestamp_ms;
  prev_bits_ = bits;
}

inline void ChunkEncoder::FinishSample(const BitWriter& writer) {
  free_bits_ = static_cast<uint8_t>(writer.free_bits());
  last_byte_ = writer.last_byte();
  ++num_samples_;
  UpdateCount();
}

void ChunkEncoder::Append(int64_t timestamp_ms, double value) {
  if (has_starts_) {
    Append(timestamp_ms, value, 0);
    return;
  }
  assert(num_samples_ == 0 || timestamp_ms > max_time_ms_);
  if (buf_.capacity() - buf_.size() < kMaxSampleBytes) Reserve();
  BitWriter writer(&buf_, free_bits_, last_byte_);
  AppendSample(timestamp_ms, std::bit_cast<uint64_t>(value), &writer);
  FinishSample(writer);
}

void ChunkEncoder::Append(int64_t timestamp_ms, double value, int64_t start_ms) {
  if (!has_starts_) {
    if (start_ms == 0) {
      Append(timestamp_ms, value);
      return;
    }
    assert(num_samples_ == 0);
    if (num_samples_ > 0) {
      // A broken precondition loses the start rather than the chunk.
      Append(timestamp_ms, value);
      return;
    }
    buf_[0] = static_cast<char>(chunk_format::kVersionWithStarts);
    has_starts_ = true;
  }
  assert(num_samples_ == 0 || timestamp_ms > max_time_ms_);
  if (buf_.capacity() - buf_.size() < kMaxSampleBytes + kMaxStartBytes) Reserve();
  BitWriter writer(&buf_, free_bits_, last_byte_);
  // The start code refers to the previous sample's timestamp, which AppendSample replaces.
  const int64_t prev_time_ms = max_time_ms_;
  AppendSample(timestamp_ms, std::bit_cast<uint64_t>(value), &writer);
  AppendStart(timestamp_ms, prev_time_ms, start_ms, &writer);
  FinishSample(writer);
}

void ChunkEncoder::AppendStart(int64_t timestamp_ms, int64_t prev_time_ms, int64_t start_ms,
                               BitWriter* writer) {
  if (start_ms == prev_start_ms_) {
    writer->WriteBits(0b0, 1);
  } else if (num_samples_ > 0 && start_ms == prev_time_ms) {
    writer->WriteBits(0b10, 2);
  } else if (start_ms == 0) {
    writer->WriteBits(0b110, 3);
  } else {
    writer->WriteBits(0b111, 3);
    // Wrapping: any pair of int64s has a difference.
    writer->WriteVarint(static_cast<int64_t>(static_cast<uint64_t>(start_ms) -
                                             static_cast<uint64_t>(timestamp_ms)));
  }
  prev_start_ms_ = start_ms;
}

void ChunkEncoder::AppendDeltaOfDelta(int64_t dod, BitWriter* writer) {
  if (dod == 0) {
    writer->WriteBits(0b0, 1);
    return;
  }
  // Prefixes 10, 110, 1110 select kDodBits[0..2]; each is written with its value in one call.
  uint64_t prefix = 0b10;
  int prefix_bits = 2;
  for (int value_bits : chunk_format::kDodBits) {
    if (FitsSigned(dod, value_bits)) {
      const uint64_t mask = (uint64_t{1} << value_bits) - 1;
      writer->WriteBits((prefix << value_bits) | (static_cast<uint64_t>(dod) & mask),
                        prefix_bits + value_bits);
      return;
    }
    prefix = (prefix << 1) | 0b10;
    ++prefix_bits;
  }
  writer->WriteBits(0b1111, 4);
  writer->WriteBits(static_cast<uint64_t>(dod), 64);
}

void ChunkEncoder::AppendValue(uint64_t bits, BitWriter* writer) {
  const uint64_t x = bits ^ prev_bits_;
  if (x == 0) {
    writer->WriteBits(0b0, 1);
    return;
  }
  const int leading = std::min(std::countl_zero(x), chunk_format::kMaxLeadingZeros);
  const int trailing = std::countr_zero(x);
  const bool reuse =
      prev_leading_ != kNoWindow && leading >= prev_leading_ && trailing >= prev_trailing_;
  const int xor_bits =
      reuse ? 2 + 64 - prev_leading_ - prev_trailing_ : 3 + 11 + 64 - leading - trailing;
  DecimalDelta decimal;
  if (xor_bits > kMinDecimalBits &&
      FindDecimalDelta(std::bit_cast<double>(prev_bits_), bits, &decimal) &&
      decimal.num_bits < xor_bits) {
    writer->WriteBits((uint64_t{0b111} << 3) | static_cast<uint64_t>(decimal.scale), 6);
    writer->WriteBits(decimal.code, decimal.num_bits - 6);
    return;
  }
  if (reuse) {
    writer->WriteBits(0b10, 2);
    writer->WriteBits(x >> prev_trailing_, 64 - prev_leading_ - prev_trailing_);
    return;
  }
  const int significant = 64 - leading - trailing;
  // 110, then 5 bits of leading zeros and 6 bits of significant bits (64 is stored as 0).
  writer->WriteBits((uint64_t{0b110} << 11) | (static_cast<uint64_t>(leading) << 6) |
                        static_cast<uint64_t>(significant & 63),
                    14);
  writer->WriteBits(x >> trailing, significant);
  prev_leading_ = static_cast<uint8_t>(leading);
  prev_trailing_ = static_cast<uint8_t>(trailing);
}

void ChunkEncoder::UpdateCount() {
  const auto count = static_cast<uint32_t>(num_samples_);
  if (count < chunk_format::kLongCountMarker) {
    chunk_format::PutBigEndian(&buf_, 1, count, 2);
    return;
  }
  if (count == chunk_format::kLongCountMarker) {
    // Once per chunk, when it outgrows the short count.
    buf_.insert(chunk_format::kShortHeaderSize, 4, '\0');
    chunk_format::PutBigEndian(&buf_, 1, chunk_format::kLongCountMarker, 2);
  }
  chunk_format::PutBigEndian(&buf_, chunk_format::kShortHeaderSize, count, 4);
}

void ChunkEncoder::Reserve() {
  // reserve() on the buffer itself would double it: libstdc++ grows a string's capacity at
  // least twofold. A new string reserves what it is asked for.
  std::string grown;
  grown.reserve(buf_.size() + buf_.size() / 8 + kMaxSampleBytes);
  grown.append(buf_);
  buf_.swap(grown);
}

std::string_view ChunkEncoder::bytes() const { return buf_; }

size_t ChunkEncoder::size_bytes() const { return buf_.size(); }

size_t ChunkEncoder::capacity_bytes() const { return buf_.capacity(); }

ChunkEncoder ChunkEncoder::Resume(std::string_view chunk, const ChunkTail& tail) {
  ChunkEncoder enc;
  enc.buf_.assign(chunk);
  enc.min_time_ms_ = tail.min_time_ms;
  enc.max_time_ms_ = tail.max_time_ms;
  enc.prev_delta_ = tail.delta;
  enc.prev_bits_ = tail.bits;
  enc.prev_start_ms_ = tail.start_ms;
  enc.has_starts_ = tail.has_starts;
  enc.num_samples_ = tail.num_samples;
  enc.prev_leading_ = static_cast<uint8_t>(tail.leading);
  enc.prev_trailing_ = static_cast<uint8_t>(tail.trailing);
  enc.free_bits_ = static_cast<uint8_t>(tail.free_bits);
  enc.last_byte_ = static_cast<uint8_t>(enc.buf_.back());
  return enc;
}

std::string ChunkEncoder::TakeBytes() {
  std::string bytes = std::move(buf_);
  *this = ChunkEncoder();
  return bytes;
}

}  // namespace kura::storage
