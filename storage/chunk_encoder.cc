#include "storage/chunk_encoder.h"

#include <algorithm>
#include <bit>
#include <cassert>

#include "storage/bit_stream.h"
#include "storage/chunk_format.h"

namespace kura::storage {
namespace {

constexpr int kNoWindow = 0xff;

constexpr bool FitsSigned(int64_t v, int num_bits) {
  const int64_t half = int64_t{1} << (num_bits - 1);
  return v >= -half && v < half;
}

}  // namespace

ChunkEncoder::ChunkEncoder() : buf_(chunk_format::kShortHeaderSize, '\0') {
  buf_[0] = static_cast<char>(chunk_format::kVersion);
}

void ChunkEncoder::Append(int64_t timestamp_ms, double value) {
  assert(num_samples_ == 0 || timestamp_ms > max_time_ms_);
  const auto bits = std::bit_cast<uint64_t>(value);
  BitWriter writer(&buf_, free_bits_);
  if (num_samples_ == 0) {
    writer.WriteVarint(timestamp_ms);
    writer.WriteBits(bits, 64);
    min_time_ms_ = timestamp_ms;
  } else {
    // Unsigned arithmetic wraps, so deltas and their differences round-trip for any int64s.
    const uint64_t delta = static_cast<uint64_t>(timestamp_ms) - static_cast<uint64_t>(max_time_ms_);
    if (num_samples_ == 1) {
      writer.WriteUvarint(delta);
    } else {
      AppendDeltaOfDelta(static_cast<int64_t>(delta - prev_delta_), &writer);
    }
    prev_delta_ = delta;
    AppendValue(bits, &writer);
  }
  max_time_ms_ = timestamp_ms;
  prev_bits_ = bits;
  free_bits_ = writer.free_bits();
  ++num_samples_;
  UpdateCount();
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
  if (prev_leading_ != kNoWindow && leading >= prev_leading_ && trailing >= prev_trailing_) {
    writer->WriteBits(0b10, 2);
    writer->WriteBits(x >> prev_trailing_, 64 - prev_leading_ - prev_trailing_);
    return;
  }
  const int significant = 64 - leading - trailing;
  // 11, then 5 bits of leading zeros and 6 bits of significant bits (64 is stored as 0).
  writer->WriteBits((uint64_t{0b11} << 11) | (static_cast<uint64_t>(leading) << 6) |
                        static_cast<uint64_t>(significant & 63),
                    13);
  writer->WriteBits(x >> trailing, significant);
  prev_leading_ = leading;
  prev_trailing_ = trailing;
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

std::string_view ChunkEncoder::bytes() const { return buf_; }

size_t ChunkEncoder::size_bytes() const { return buf_.size(); }

}  // namespace kura::storage
