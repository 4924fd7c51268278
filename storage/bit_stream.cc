#include "storage/bit_stream.h"

#include <algorithm>

namespace kura::storage {
namespace {

inline uint64_t LowMask(int num_bits) {
  return num_bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << num_bits) - 1;
}

}  // namespace

void BitWriter::WriteBitsSlow(uint64_t value, int num_bits) {
  // Here num_bits > free_bits_ or free_bits_ == 0: the last byte's free bits take the top bits,
  // then the rest go out as whole bytes in one append instead of a push_back and a
  // read-modify-write per byte.
  if (num_bits == 0) return;  // nothing to write, and no byte to open
  value &= LowMask(num_bits);
  if (free_bits_ > 0) {
    num_bits -= free_bits_;  // now in [1, 64)
    dst_->back() = static_cast<char>(last_ | (value >> num_bits));
    value &= LowMask(num_bits);
  }
  // Left-aligned in 64 bits, the bits are the stream's next bytes in big-endian order; the
  // unused low bits of the last one are zero.
  const uint64_t aligned = num_bits == 64 ? value : value << (64 - num_bits);
  const int num_bytes = (num_bits + 7) / 8;
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(aligned >> (56 - 8 * i));
  dst_->append(bytes, static_cast<size_t>(num_bytes));
  free_bits_ = num_bytes * 8 - num_bits;
  last_ = static_cast<uint8_t>(bytes[num_bytes - 1]);
}

void BitWriter::WriteUvarint(uint64_t value) {
  while (value >= 0x80) {
    WriteBits((value & 0x7f) | 0x80, 8);
    value >>= 7;
  }
  WriteBits(value, 8);
}

void BitWriter::WriteVarint(int64_t value) { WriteUvarint(ZigzagEncode(value)); }

bool BitReader::ReadUvarint(uint64_t* value) {
  uint64_t result = 0;
  // 10 groups of 7 bits hold 64 bits; the 10th may only carry the top bit.
  for (int shift = 0; shift < 70; shift += 7) {
    uint64_t byte;
    if (!ReadFewBits(8, &byte)) return false;
    if (shift == 63 && byte > 1) return false;
    result |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *value = result;
      return true;
    }
  }
  return false;
}

bool BitReader::ReadVarint(int64_t* value) {
  uint64_t u;
  if (!ReadUvarint(&u)) return false;
  *value = ZigzagDecode(u);
  return true;
}

}  // namespace kura::storage
