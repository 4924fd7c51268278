#pragma once

// The chunk header and the constants that ChunkEncoder and the chunk decoder share. The layout
// is drawn in docs/format/chunk.md.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kura::storage::chunk_format {

inline constexpr uint8_t kVersion = 1;
// Version 1's layout with a start-timestamp code after each sample's value code. Only chunks
// holding a nonzero start are written this way: nearly every series has none.
inline constexpr uint8_t kVersionWithStarts = 3;
// A 2-byte count fits Prometheus-sized chunks (120 samples); this value in it means a 4-byte
// count follows, so chunks merged by compaction may hold more.
inline constexpr uint32_t kLongCountMarker = 0xffff;
inline constexpr size_t kShortHeaderSize = 3;
inline constexpr size_t kLongHeaderSize = kShortHeaderSize + 4;

// Delta-of-delta buckets after a prefix of 0, 10, 110 and 1110: two's complement values of this
// many bits. 14 bits hold +-8 s of scrape jitter in milliseconds. The prefix 1111 is followed by
// 64 raw bits, so any jump between int64 timestamps can be written.
inline constexpr int kDodBits[] = {14, 17, 20};

// The XOR window's leading-zero count has 5 bits; larger counts are stored as this.
inline constexpr int kMaxLeadingZeros = 31;

// Value codes: 0 same bits as the previous value; 10 XOR in the previous window; 110 XOR with a
// new window; 111 decimal delta: 3 bits of scale s, then the value's change in units of 10^-s.
inline constexpr int kMaxDecimalScale = 7;
inline constexpr double kPow10[kMaxDecimalScale + 1] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7};
// Decimal deltas after a prefix of 0, 10 and 11: two's complement values of this many bits.
inline constexpr int kDecimalDeltaBits[] = {8, 16, 32};
// Scaled values stay below 2^53, where doubles hold every integer.
inline constexpr double kMaxScaledMagnitude = 9007199254740992.0;

// The previous value in units of 10^-scale, rounded: what a decimal delta is added to. Encoder
// and decoder share this one computation, so they agree bit for bit. Returns false if the
// scaled value is not finite or too large to be held exactly.
inline bool DecimalBase(double prev, int scale, int64_t* base) {
  const double scaled = prev * kPow10[scale];
  if (!(std::fabs(scaled) < kMaxScaledMagnitude)) return false;
  *base = std::llround(scaled);
  return true;
}

// The value a decimal sample decodes to. Integers (scale 0) skip the division by 1, which
// changes nothing but costs a divider's latency per sample.
inline double DecimalValue(int64_t scaled, int scale) {
  if (scale == 0) return static_cast<double>(scaled);
  return static_cast<double>(scaled) / kPow10[scale];
}

inline void PutBigEndian(std::string* buf, size_t offset, uint64_t value, int num_bytes) {
  for (int i = num_bytes - 1; i >= 0; --i) {
    (*buf)[offset + i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
}

inline uint64_t GetBigEndian(std::string_view in, size_t offset, int num_bytes) {
  uint64_t value = 0;
  for (int i = 0; i < num_bytes; ++i) value = (value << 8) | static_cast<uint8_t>(in[offset + i]);
  return value;
}

// Start-timestamp codes (version 3), against the previous sample's start s (0 before the
// first sample) and timestamp p: 0 the start is s (a cumulative series); 10 the start is p (a
// delta series: each interval starts where the last ended; invalid on a chunk's first
// sample); 110 the start is 0 (unknown); 111 a zigzag varint of start - timestamp follows.
inline constexpr int kMaxStartCodeOnes = 3;

// The version of a chunk ChunkEncoder writes (kVersion or kVersionWithStarts), or 0 for
// anything else, an empty view included.
inline uint8_t UnpackedVersion(std::string_view chunk) {
  if (chunk.empty()) return 0;
  const auto version = static_cast<uint8_t>(chunk[0]);
  return version == kVersion || version == kVersionWithStarts ? version : 0;
}

// Parses the header of `chunk`. Returns false if it is truncated or not of `version`.
inline bool ParseHeader(std::string_view chunk, uint8_t version, uint32_t* num_samples,
                        size_t* header_size) {
  if (chunk.size() < kShortHeaderSize || static_cast<uint8_t>(chunk[0]) != version) return false;
  *num_samples = static_cast<uint32_t>(GetBigEndian(chunk, 1, 2));
  *header_size = kShortHeaderSize;
  if (*num_samples == kLongCountMarker) {
    if (chunk.size() < kLongHeaderSize) return false;
    *num_samples = static_cast<uint32_t>(GetBigEndian(chunk, kShortHeaderSize, 4));
    *header_size = kLongHeaderSize;
    // The long form is only written for counts that do not fit the short one.
    if (*num_samples < kLongCountMarker) return false;
  }
  return true;
}

}  // namespace kura::storage::chunk_format
