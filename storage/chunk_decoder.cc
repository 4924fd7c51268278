#include "storage/chunk_decoder.h"

#include <bit>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/bit_stream.h"
#include "storage/chunk_format.h"
#include "storage/packed_chunk.h"

namespace kura::storage {
namespace {

constexpr int kNoWindow = 0xff;

// Decodes the samples of a chunk in order; filters to [min_time_ms, max_time_ms]. kStarts:
// the chunk is of version 3, with start timestamps. A template rather than a flag, so that the
// version-1 loop, nearly every chunk's, has no start code to test per sample.
template <bool kStarts>
class ChunkIterator final : public model::SampleIterator {
 public:
  static constexpr uint8_t kChunkVersion =
      kStarts ? chunk_format::kVersionWithStarts : chunk_format::kVersion;

  ChunkIterator(std::string_view chunk, int64_t min_time_ms, int64_t max_time_ms)
      : reader_(std::string_view()), min_time_ms_(min_time_ms), max_time_ms_(max_time_ms) {
    size_t header_size = 0;
    if (!chunk_format::ParseHeader(chunk, kChunkVersion, &num_samples_, &header_size)) {
      Fail("bad chunk header");
      return;
    }
    reader_ = BitReader(chunk.substr(header_size));
    done_ = min_time_ms > max_time_ms;
  }

  bool Next() override {
    while (!done_ && decoded_ < num_samples_) {
      if (!DecodeSample()) {
        Fail(absl::StrCat("corrupt chunk at sample ", decoded_, " of ", num_samples_));
        return false;
      }
      ++decoded_;
      if (t_ > max_time_ms_)
        done_ = true;
      else if (t_ >= min_time_ms_)
        return true;
    }
    if (!done_) CheckEnd();
    done_ = true;
    return false;
  }

  model::Sample At() const override { return {t_, std::bit_cast<double>(bits_)}; }
  int64_t StartAt() const override { return start_ms_; }

  absl::Status status() const override { return status_; }

  // REQUIRES: Next() returned false with an ok status, every sample in range.
  void Tail(ChunkTail* tail) const {
    tail->num_samples = static_cast<int>(decoded_);
    tail->max_time_ms = t_;
    tail->delta = delta_;
    tail->bits = bits_;
    tail->leading = leading_;
    tail->trailing = trailing_;
    tail->free_bits = padding_bits_;
    tail->has_starts = kStarts;
    tail->start_ms = start_ms_;
  }

  absl::Status AppendRemaining(std::vector<model::Sample>* out) override {
    while (Next()) out->push_back(At());  // final: no virtual call per sample
    return status_;
  }

  absl::Status AppendRemainingWithStarts(std::vector<model::Sample>* out,
                                         std::vector<int64_t>* starts) override {
    if constexpr (!kStarts) {
      return AppendRemaining(out);
    } else {
      starts->resize(out->size(), 0);
      while (Next()) {
        out->push_back(At());
        starts->push_back(start_ms_);
      }
      return status_;
    }
  }

 private:
  bool DecodeSample();
  bool DecodeDeltaOfDelta(uint64_t* dod);
  bool DecodeValue();
  bool DecodeXor();
  bool DecodeDecimal();
  bool DecodeStart(int64_t prev_time_ms);

  // After the last sample only the zero padding of the last byte may remain.
  void CheckEnd() {
    const int left = static_cast<int>(reader_.remaining_bits());
    padding_bits_ = left;
    uint64_t padding = 0;
    if (left >= 8 || !reader_.ReadBits(left, &padding) || padding != 0) {
      Fail("trailing bytes after the last sample of a chunk");
    }
  }

  void Fail(const std::string& what) {
    status_ = absl::DataLossError(what);
    done_ = true;
  }

  BitReader reader_;
  int64_t min_time_ms_;
  int64_t max_time_ms_;
  uint32_t num_samples_ = 0;
  uint32_t decoded_ = 0;
  bool done_ = false;
  absl::Status status_;
  int64_t t_ = 0;
  uint64_t delta_ = 0;
  uint64_t bits_ = 0;
  int leading_ = kNoWindow;
  int trailing_ = 0;
  int padding_bits_ = 0;  // after the last sample, once CheckEnd ran
  // Set while bits_ is DecimalValue(decimal_scaled_, decimal_scale_) (see DecodeDecimal).
  int decimal_scale_ = -1;
  int64_t decimal_scaled_ = 0;
  int64_t start_ms_ = 0;  // of the current sample; stays 0 in a version-1 chunk
};

template <bool kStarts>
bool ChunkIterator<kStarts>::DecodeSample() {
  if (decoded_ == 0) {
    if (!reader_.ReadVarint(&t_) || !reader_.ReadBits(64, &bits_)) return false;
    if constexpr (kStarts) return DecodeStart(t_);
    return true;
  }
  uint64_t delta;
  if (decoded_ == 1) {
    if (!reader_.ReadUvarint(&delta)) return false;
  } else {
    uint64_t dod;
    if (!DecodeDeltaOfDelta(&dod)) return false;
    delta = delta_ + dod;
  }
  const auto t = static_cast<int64_t>(static_cast<uint64_t>(t_) + delta);
  // Timestamps strictly increase; anything else is corruption (or a wrapped sum).
  if (t <= t_) return false;
  const int64_t prev_time_ms = t_;
  t_ = t;
  delta_ = delta;
  if (!DecodeValue()) return false;
  if constexpr (kStarts) return DecodeStart(prev_time_ms);
  return true;
}

template <bool kStarts>
bool ChunkIterator<kStarts>::DecodeStart(int64_t prev_time_ms) {
  // The code is 0, 10, 110 or 111 (chunk_format::kMaxStartCodeOnes): count its ones.
  int ones = 0;
  if (!reader_.ReadOnes(chunk_format::kMaxStartCodeOnes, &ones)) return false;
  switch (ones) {
    case 0:
      return true;
    case 1:
      if (decoded_ == 0) return false;  // the first sample has no previous timestamp
      start_ms_ = prev_time_ms;
      return true;
    case 2:
      start_ms_ = 0;
      return true;
    default: {
      int64_t offset = 0;
      if (!reader_.ReadVarint(&offset)) return false;
      start_ms_ = static_cast<int64_t>(static_cast<uint64_t>(t_) + static_cast<uint64_t>(offset));
      return true;
    }
  }
}

template <bool kStarts>
bool ChunkIterator<kStarts>::DecodeDeltaOfDelta(uint64_t* dod) {
  // The prefix is 0, 10, 110, 1110 or 1111: count its ones.
  int ones = 0;
  if (!reader_.ReadOnes(4, &ones)) return false;
  if (ones == 0) {
    *dod = 0;
    return true;
  }
  if (ones == 4) return reader_.ReadBits(64, dod);
  const int value_bits = chunk_format::kDodBits[ones - 1];
  uint64_t v;
  if (!reader_.ReadBits(value_bits, &v)) return false;
  if ((v >> (value_bits - 1)) != 0) v |= ~uint64_t{0} << value_bits;  // Sign-extend.
  *dod = v;
  return true;
}

template <bool kStarts>
bool ChunkIterator<kStarts>::DecodeValue() {
  // The code is 0, 10, 110 or 111: count its ones.
  int ones = 0;
  if (!reader_.ReadOnes(3, &ones)) return false;
  switch (ones) {
    case 0:
      return true;
    case 1:
      if (leading_ == kNoWindow) return false;
      return DecodeXor();
    case 2: {
      uint64_t window;
      if (!reader_.ReadBits(11, &window)) return false;
      const int leading = static_cast<int>(window >> 6);
      int significant = static_cast<int>(window & 63);
      if (significant == 0) significant = 64;
      if (leading + significant > 64) return false;
      leading_ = leading;
      trailing_ = 64 - leading - significant;
      return DecodeXor();
    }
    default:
      return DecodeDecimal();
  }
}

template <bool kStarts>
bool ChunkIterator<kStarts>::DecodeXor() {
  uint64_t x;
  if (!reader_.ReadBits(64 - leading_ - trailing_, &x)) return false;
  bits_ ^= x << trailing_;
  decimal_scale_ = -1;
  return true;
}

template <bool kStarts>
bool ChunkIterator<kStarts>::DecodeDecimal() {
  uint64_t scale;
  bool wide;
  if (!reader_.ReadBits(3, &scale) || !reader_.ReadBit(&wide)) return false;
  int value_bits = chunk_format::kDecimalDeltaBits[0];
  if (wide) {
    bool widest;
    if (!reader_.ReadBit(&widest)) return false;
    value_bits = chunk_format::kDecimalDeltaBits[widest ? 2 : 1];
  }
  uint64_t delta;
  if (!reader_.ReadBits(value_bits, &delta)) return false;
  if ((delta >> (value_bits - 1)) != 0) delta |= ~uint64_t{0} << value_bits;  // Sign-extend.
  int64_t base;
  const int s = static_cast<int>(scale);
  if (s == decimal_scale_) {
    base = decimal_scaled_;
  } else if (!chunk_format::DecimalBase(std::bit_cast<double>(bits_), s, &base)) {
    return false;
  }
  const int64_t scaled = base + static_cast<int64_t>(delta);
  bits_ = std::bit_cast<uint64_t>(chunk_format::DecimalValue(scaled, s));
  // DecimalBase of that value gives `scaled` back while the two roundings (divide, multiply)
  // stay below half a unit: |scaled| < 2^50 keeps them under a quarter. The next decimal
  // sample at this scale then skips the multiply and llround of its previous value.
  decimal_scale_ = std::abs(scaled) < (int64_t{1} << 50) ? s : -1;
  decimal_scaled_ = scaled;
  return true;
}

// Keeps the bytes alive for a ChunkIterator over them.
template <bool kStarts>
class OwningChunkIterator final : public model::SampleIterator {
 public:
  OwningChunkIterator(std::string chunk, int64_t min_time_ms, int64_t max_time_ms)
      : chunk_(std::move(chunk)), it_(chunk_, min_time_ms, max_time_ms) {}
  bool Next() override { return it_.Next(); }
  model::Sample At() const override { return it_.At(); }
  int64_t StartAt() const override { return it_.StartAt(); }
  absl::Status status() const override { return it_.status(); }
  absl::Status AppendRemaining(std::vector<model::Sample>* out) override {
    return it_.AppendRemaining(out);
  }
  absl::Status AppendRemainingWithStarts(std::vector<model::Sample>* out,
                                         std::vector<int64_t>* starts) override {
    return it_.AppendRemainingWithStarts(out, starts);
  }

 private:
  const std::string chunk_;
  ChunkIterator<kStarts> it_;
};

template <bool kStarts>
absl::Status ReadTail(std::string_view chunk, ChunkTail* tail) {
  ChunkIterator<kStarts> it(chunk, INT64_MIN, INT64_MAX);
  *tail = ChunkTail();
  bool first = true;
  while (it.Next()) {
    if (first) tail->min_time_ms = it.At().timestamp_ms;
    first = false;
  }
  if (!it.status().ok()) return it.status();
  it.Tail(tail);
  if (tail->num_samples == 0) tail->min_time_ms = tail->max_time_ms = 0;
  return absl::OkStatus();
}

template <bool kStarts>
absl::Status ReadMeta(std::string_view chunk, ChunkMeta* meta) {
  *meta = ChunkMeta();
  // The time bounds are not in the header, which keeps chunks small; a chunk decodes in ~1 us.
  ChunkIterator<kStarts> it(chunk, INT64_MIN, INT64_MAX);
  int n = 0;
  while (it.Next()) {
    if (n++ == 0) meta->min_time_ms = it.At().timestamp_ms;
    meta->max_time_ms = it.At().timestamp_ms;
  }
  if (!it.status().ok()) return it.status();
  meta->num_samples = n;
  return absl::OkStatus();
}

}  // namespace

std::unique_ptr<model::SampleIterator> NewChunkIterator(std::string_view chunk, int64_t min_time_ms,
                                                        int64_t max_time_ms) {
  if (IsPackedChunk(chunk)) return NewPackedChunkIterator(chunk, min_time_ms, max_time_ms);
  // Anything but version 3 goes to the version-1 iterator, which reports what is wrong.
  if (chunk_format::UnpackedVersion(chunk) == chunk_format::kVersionWithStarts) {
    return std::make_unique<ChunkIterator<true>>(chunk, min_time_ms, max_time_ms);
  }
  return std::make_unique<ChunkIterator<false>>(chunk, min_time_ms, max_time_ms);
}

std::unique_ptr<model::SampleIterator> NewOwningChunkIterator(std::string chunk,
                                                              int64_t min_time_ms,
                                                              int64_t max_time_ms) {
  // A packed chunk's iterator decompresses a copy of its own.
  if (IsPackedChunk(chunk)) return NewPackedChunkIterator(chunk, min_time_ms, max_time_ms);
  if (chunk_format::UnpackedVersion(chunk) == chunk_format::kVersionWithStarts) {
    return std::make_unique<OwningChunkIterator<true>>(std::move(chunk), min_time_ms, max_time_ms);
  }
  return std::make_unique<OwningChunkIterator<false>>(std::move(chunk), min_time_ms, max_time_ms);
}

absl::Status ReadChunkTail(std::string_view chunk, ChunkTail* tail) {
  if (IsPackedChunk(chunk)) return absl::InvalidArgumentError("a packed chunk has no tail");
  if (chunk_format::UnpackedVersion(chunk) == chunk_format::kVersionWithStarts) {
    return ReadTail<true>(chunk, tail);
  }
  return ReadTail<false>(chunk, tail);
}

absl::Status ReadChunkMeta(std::string_view chunk, ChunkMeta* meta) {
  if (IsPackedChunk(chunk)) {
    *meta = ChunkMeta();
    return ReadPackedChunkHeader(chunk, &meta->num_samples, &meta->min_time_ms, &meta->max_time_ms);
  }
  const bool with_starts = chunk_format::UnpackedVersion(chunk) == chunk_format::kVersionWithStarts;
  uint32_t num_samples = 0;
  size_t header_size = 0;
  if (!chunk_format::ParseHeader(
          chunk, with_starts ? chunk_format::kVersionWithStarts : chunk_format::kVersion,
          &num_samples, &header_size)) {
    return absl::DataLossError("bad chunk header");
  }
  return with_starts ? ReadMeta<true>(chunk, meta) : ReadMeta<false>(chunk, meta);
}

}  // namespace kura::storage
