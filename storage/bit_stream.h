#pragma once

// BitWriter and BitReader: the two ends of the most-significant-bit-first bit stream that chunks
// are made of (docs/format/chunk.md).

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/base/attributes.h"

namespace kura::storage {

// Appends bits to the end of a caller's buffer, most significant bit first. Bytes before the
// stream (a header) are left alone, and the buffer may be edited there between writes; only its
// last byte belongs to the writer. Unused low bits of the last byte are zero, so the buffer is a
// complete, decodable stream after every write. Thread-compatible.
class BitWriter {
 public:
  // `dst` is not owned and must outlive the writer. `free_bits` is free_bits() of the writer
  // that wrote the stream so far (0 for a new stream, which starts at a fresh byte), so a
  // writer can live for one call while its owner keeps only this int.
  explicit BitWriter(std::string* dst, int free_bits = 0)
      : dst_(dst),
        free_bits_(free_bits),
        last_(free_bits > 0 ? static_cast<uint8_t>(dst->back()) : 0) {}
  // The same with last_byte() of that writer kept too: the writer then only stores to the
  // buffer and never loads from it. The ingest path appends to many chunks that are not in the
  // CPU cache, and a load of their last byte waited for memory, where a store does not.
  BitWriter(std::string* dst, int free_bits, uint8_t last_byte)
      : dst_(dst), free_bits_(free_bits), last_(last_byte) {}

  // Appends the low `num_bits` bits of `value`. REQUIRES: 0 <= num_bits <= 64.
  void WriteBits(uint64_t value, int num_bits) {
    if (num_bits <= free_bits_ && free_bits_ > 0) {  // Fast path: the bits fit the last byte.
      free_bits_ -= num_bits;
      const uint64_t part = value & ((uint64_t{1} << num_bits) - 1);
      last_ = static_cast<uint8_t>(last_ | (part << free_bits_));
      dst_->back() = static_cast<char>(last_);
      return;
    }
    WriteBitsSlow(value, num_bits);
  }
  void WriteBit(bool bit) { WriteBits(bit ? 1 : 0, 1); }
  // Appends `value` as an unsigned LEB128 varint (7 bits per byte, low groups first).
  void WriteUvarint(uint64_t value);
  // Zigzag-maps `value` so small magnitudes of either sign stay short, then WriteUvarint.
  void WriteVarint(int64_t value);

  // Unused low bits of the buffer's last byte, in [0, 8).
  int free_bits() const { return free_bits_; }
  // The buffer's last byte as this writer left it; 0 while the stream is empty.
  uint8_t last_byte() const { return last_; }

 private:
  void WriteBitsSlow(uint64_t value, int num_bits);

  std::string* dst_;
  int free_bits_;  // Unused low bits of dst_->back(); 0 means the next bit opens a byte.
  uint8_t last_;   // == dst_->back() once the stream has a byte
};

// Reads bits written by BitWriter from a view, never past its end. Thread-compatible. The reads
// are always inlined: a decoder that keeps its reader in a local variable then has it in
// registers, which an out-of-line call (taking the reader's address) would prevent.
//
// The next bits wait in a 64-bit register, most significant first: a read is a shift of it,
// and it is topped up with one unaligned 8-byte load while 8 bytes remain (the stream's last
// bytes go in one at a time). The bits below the counted ones are either zero or the very
// bits that follow in the stream, so a top-up can OR the next load over them.
class BitReader {
 public:
  static constexpr int kMaxFastBits = 56;  // a top-up leaves at least this many bits counted

  // `in` must stay alive while the reader is used.
  explicit BitReader(std::string_view in)
      : next_(reinterpret_cast<const uint8_t*>(in.data())), end_(next_ + in.size()) {}

  // Reads `num_bits` bits into the low bits of *value. Returns false, leaving *value
  // unspecified and the position unchanged, if fewer bits remain. REQUIRES: 0 <= num_bits <= 64.
  ABSL_ATTRIBUTE_ALWAYS_INLINE bool ReadBits(int num_bits, uint64_t* value) {
    if (num_bits > kMaxFastBits) {
      // Two reads that each fit the register: the high bits, then the low 32. Inline, like
      // the rest, so a reader kept in a decoder's local variable can live in registers.
      if (static_cast<size_t>(num_bits) > remaining_bits()) return false;
      uint64_t high = 0, low = 0;
      ReadFewBits(num_bits - 32, &high);
      ReadFewBits(32, &low);
      *value = (high << 32) | low;
      return true;
    }
    return ReadFewBits(num_bits, value);
  }
  // ReadBits without the case of more than kMaxFastBits bits. REQUIRES: num_bits <= 56.
  ABSL_ATTRIBUTE_ALWAYS_INLINE bool ReadFewBits(int num_bits, uint64_t* value) {
    if (count_ < num_bits) {
      Refill();
      if (count_ < num_bits) return false;
    }
    *value = num_bits == 0 ? 0 : buf_ >> (64 - num_bits);
    buf_ <<= num_bits;
    count_ -= num_bits;
    return true;
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE bool ReadBit(bool* bit) {
    uint64_t v;
    if (!ReadFewBits(1, &v)) return false;
    *bit = v != 0;
    return true;
  }
  // Reads a unary prefix: ones up to the first zero (which is consumed too), or `max_ones` ones
  // (then no zero follows). *ones is how many. REQUIRES: 0 < max_ones < 64.
  ABSL_ATTRIBUTE_ALWAYS_INLINE bool ReadOnes(int max_ones, int* ones) {
    if (count_ <= max_ones) Refill();
    // Only counted bits: past the stream's end the register holds zeros, which end a prefix.
    const int n = std::min(std::countl_one(buf_), count_);
    if (n >= max_ones) {
      *ones = max_ones;
      buf_ <<= max_ones;
      count_ -= max_ones;
      return true;
    }
    if (n == count_) return false;  // the stream ends inside the prefix
    *ones = n;
    buf_ <<= n + 1;
    count_ -= n + 1;
    return true;
  }
  // For decoders that parse a whole code from the register, without a branch per field: after
  // Fill(), Peek() holds at least kMaxFastBits counted bits from its top bit down (or every bit
  // left, zeros below them), and Skip(n) consumes n <= count() of them.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void Fill() { Refill(); }
  uint64_t Peek() const { return buf_; }
  int count() const { return count_; }
  void Skip(int n) {
    buf_ <<= n;
    count_ -= n;
  }

  // Returns false on truncation or on a varint longer than 64 bits.
  bool ReadUvarint(uint64_t* value);
  bool ReadVarint(int64_t* value);
  // Bits not yet read.
  size_t remaining_bits() const {
    return static_cast<size_t>(end_ - next_) * 8 + static_cast<size_t>(count_);
  }

 private:
  static uint64_t LoadBigEndian64(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, sizeof(v));
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
    return v;
  }
  // Counts at least kMaxFastBits bits, or every bit left.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void Refill() {
    if (end_ - next_ >= 8) {
      buf_ |= LoadBigEndian64(next_) >> count_;
      next_ += (63 - count_) >> 3;
      count_ |= kMaxFastBits;
      return;
    }
    while (count_ <= kMaxFastBits && next_ < end_) {
      buf_ |= uint64_t{*next_++} << (kMaxFastBits - count_);
      count_ += 8;
    }
  }

  const uint8_t* next_;  // the first byte not yet counted in buf_
  const uint8_t* end_;
  uint64_t buf_ = 0;  // the next count_ bits of the stream, from the top bit down
  int count_ = 0;
};

inline uint64_t ZigzagEncode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t ZigzagDecode(uint64_t v) { return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1)); }

}  // namespace kura::storage
