#include "storage/bit_stream.h"

#include <algorithm>

namespace kura::storage {
namespace {

inline uint64_t LowMask(int num_bits) {
  return num_bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << num_bits) - 1;
}

}  // namespace

void BitWriter::WriteBitsSlow(uint64_t value, int num_bits) {
  while (num_bits > 0) {
    if (free_bits_ == 0) {
      dst_->push_back('\0');
      free_bits_ = 8;
    }
    const int take = std::min(num_bits, free_bits_);
    num_bits -= take;
    const uint64_t part = (value >> num_bits) & LowMask(take);
    const auto last = static_cast<uint8_t>(dst_->back());
    dst_->back() = static_cast<char>(last | (part << (free_bits_ - take)));
    free_bits_ -= take;
  }
}

void BitWriter::WriteUvarint(uint64_t value) {
  while (value >= 0x80) {
    WriteBits((value & 0x7f) | 0x80, 8);
    value >>= 7;
  }
  WriteBits(value, 8);
}

void BitWriter::WriteVarint(int64_t value) { WriteUvarint(ZigzagEncode(value)); }

bool BitReader::ReadBitsSlow(int num_bits, uint64_t* value) {
  if (static_cast<size_t>(num_bits) > remaining_bits()) return false;
  // The stream's last bytes (or no bits at all): a byte at a time.
  uint64_t result = 0;
  while (num_bits > 0) {
    const int used = static_cast<int>(bit_pos_ & 7);
    const int take = std::min(num_bits, 8 - used);
    const auto byte = static_cast<uint8_t>(in_[bit_pos_ >> 3]);
    result = (result << take) | ((byte >> (8 - used - take)) & LowMask(take));
    bit_pos_ += static_cast<size_t>(take);
    num_bits -= take;
  }
  *value = result;
  return true;
}

bool BitReader::ReadOnesSlow(int max_ones, int* ones) {
  *ones = 0;
  while (*ones < max_ones) {
    bool one;
    if (!ReadBit(&one)) return false;
    if (!one) break;
    ++*ones;
  }
  return true;
}

bool BitReader::ReadUvarint(uint64_t* value) {
  uint64_t result = 0;
  // 10 groups of 7 bits hold 64 bits; the 10th may only carry the top bit.
  for (int shift = 0; shift < 70; shift += 7) {
    uint64_t byte;
    if (!ReadBits(8, &byte)) return false;
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
