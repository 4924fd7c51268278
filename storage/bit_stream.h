#pragma once

// BitWriter and BitReader: the two ends of the most-significant-bit-first bit stream that chunks
// are made of (docs/format/chunk.md).

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

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

// Reads bits written by BitWriter from a view, never past its end. Thread-compatible.
class BitReader {
 public:
  // `in` must stay alive while the reader is used.
  explicit BitReader(std::string_view in) : in_(in) {}

  // Reads `num_bits` bits into the low bits of *value. Returns false, leaving *value
  // unspecified, if fewer bits remain. REQUIRES: 0 <= num_bits <= 64.
  bool ReadBits(int num_bits, uint64_t* value) {
    // Fast path, all but the stream's last 9 bytes: one unaligned load of the 8 bytes holding
    // the next bits, and the byte after for what a shift moved out.
    const size_t byte = bit_pos_ >> 3;
    if (num_bits > 0 && byte + 9 <= in_.size()) {
      const int shift = static_cast<int>(bit_pos_ & 7);
      const auto* p = reinterpret_cast<const uint8_t*>(in_.data()) + byte;
      uint64_t window = LoadBigEndian64(p) << shift;
      if (shift > 0) window |= p[8] >> (8 - shift);
      *value = window >> (64 - num_bits);
      bit_pos_ += static_cast<size_t>(num_bits);
      return true;
    }
    return ReadBitsSlow(num_bits, value);
  }
  bool ReadBit(bool* bit) {
    uint64_t v;
    if (!ReadBits(1, &v)) return false;
    *bit = v != 0;
    return true;
  }
  // Reads a unary prefix: ones up to the first zero (which is consumed too), or `max_ones` ones
  // (then no zero follows). *ones is how many. REQUIRES: 0 < max_ones < 64.
  bool ReadOnes(int max_ones, int* ones) {
    const size_t byte = bit_pos_ >> 3;
    if (byte + 9 <= in_.size()) {
      const int shift = static_cast<int>(bit_pos_ & 7);
      const auto* p = reinterpret_cast<const uint8_t*>(in_.data()) + byte;
      // 57 or more valid bits: enough for any prefix in use.
      const int n = std::countl_one(LoadBigEndian64(p) << shift);
      *ones = n < max_ones ? n : max_ones;
      bit_pos_ += static_cast<size_t>(n < max_ones ? n + 1 : max_ones);
      return true;
    }
    return ReadOnesSlow(max_ones, ones);
  }
  // Returns false on truncation or on a varint longer than 64 bits.
  bool ReadUvarint(uint64_t* value);
  bool ReadVarint(int64_t* value);

  // Bits not yet read.
  size_t remaining_bits() const { return in_.size() * 8 - bit_pos_; }

 private:
  static uint64_t LoadBigEndian64(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, sizeof(v));
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
    return v;
  }
  bool ReadBitsSlow(int num_bits, uint64_t* value);
  bool ReadOnesSlow(int max_ones, int* ones);

  std::string_view in_;
  size_t bit_pos_ = 0;  // The next bit of in_ to read, counted from its first byte's top bit.
};

inline uint64_t ZigzagEncode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t ZigzagDecode(uint64_t v) { return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1)); }

}  // namespace kura::storage
