#include "storage/chunk_decoder.h"

#include <algorithm>
#include <bit>
#include <initializer_list>
#include <string>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "storage/bit_stream.h"
#include "storage/chunk_format.h"
#include "storage/packed_chunk.h"

namespace kura::storage {
namespace {

constexpr int kNoWindow = 0xff;

// What decoding a sample reads and updates: the stream position and the previous sample.
// The decode functions below take it by reference and are always inlined, so a loop over a
// local copy keeps it in registers; as members of the iterator, every field would be loaded
// and stored around each sample, since stores of decoded samples (int64_t, double) may alias
// them as far as the compiler knows.
struct DecoderState {
  BitReader reader{std::string_view()};
  int64_t t = 0;
  uint64_t delta = 0;
  uint64_t bits = 0;
  int leading = kNoWindow;
  int trailing = 0;
  // Set while bits is DecimalValue(decimal_scaled, decimal_scale) (see DecodeDecimal).
  int decimal_scale = -1;
  int64_t decimal_scaled = 0;
  int64_t start_ms = 0;  // of the current sample; stays 0 in a version-1 chunk
};

// A table of small numbers as the bytes of a constant: a shift and a mask of a register take
// fewer cycles than a load, and each timestamp's decode waits on its lookup (9% faster decoding
// of the benchmark dataset; for the decimal widths, whose lookup is not on that path, slower).
constexpr uint64_t PackBytes(std::initializer_list<int> bytes) {
  uint64_t packed = 0;
  int shift = 0;
  for (int b : bytes) {
    packed |= static_cast<uint64_t>(b) << shift;
    shift += 8;
  }
  return packed;
}
ABSL_ATTRIBUTE_ALWAYS_INLINE inline int ByteAt(uint64_t packed, int index) {
  return static_cast<int>((packed >> (8 * index)) & 0xff);
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool DecodeDeltaOfDelta(BitReader& reader, uint64_t* dod) {
  // The prefix is 0, 10, 110, 1110 or 1111, followed by 0, 14, 17, 20 or 64 bits. Parsed from
  // the register without a branch on the prefix: scrape jitter of a few milliseconds mixes the
  // first two codes at random, and a mispredicted branch per sample cost more than the rest of
  // the timestamp's decoding.
  static constexpr uint64_t kValueBits = PackBytes(
      {0, chunk_format::kDodBits[0], chunk_format::kDodBits[1], chunk_format::kDodBits[2]});
  reader.Fill();
  const uint64_t bits = reader.Peek();
  const int ones = std::min(std::countl_one(bits), 4);
  if (ones == 4) {
    if (reader.count() < 4) return false;
    reader.Skip(4);
    return reader.ReadBits(64, dod);
  }
  const int value_bits = ByteAt(kValueBits, ones);
  const int length = ones + 1 + value_bits;
  if (length > reader.count()) return false;
  // The value's bits, then sign-extended; both in two shifts so that none is by 64 when
  // value_bits is 0.
  const int unused = 63 - value_bits;
  const uint64_t v = ((bits << (ones + 1)) >> 1) >> unused;
  *dod = static_cast<uint64_t>(static_cast<int64_t>(v << unused << 1) >> unused >> 1);
  reader.Skip(length);
  return true;
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool DecodeXor(DecoderState& s) {
  uint64_t x;
  if (!s.reader.ReadBits(64 - s.leading - s.trailing, &x)) return false;
  s.bits ^= x << s.trailing;
  s.decimal_scale = -1;
  return true;
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool DecodeDecimal(DecoderState& s) {
  // <scale: 3 bits> then 0 <8 bits> | 10 <16 bits> | 11 <32 bits>, parsed from the register
  // like a delta-of-delta: the width follows the size of each change, which varies at random.
  struct Width {
    int8_t prefix;
    int8_t value_bits;
  };
  static constexpr Width kWidths[] = {{1, chunk_format::kDecimalDeltaBits[0]},
                                      {1, chunk_format::kDecimalDeltaBits[0]},
                                      {2, chunk_format::kDecimalDeltaBits[1]},
                                      {2, chunk_format::kDecimalDeltaBits[2]}};
  s.reader.Fill();
  const uint64_t bits = s.reader.Peek();
  const int scale = static_cast<int>(bits >> 61);
  const Width width = kWidths[(bits >> 59) & 3];
  const int header = 3 + width.prefix;
  const int value_bits = width.value_bits;
  if (header + value_bits > s.reader.count()) return false;
  const uint64_t delta = static_cast<uint64_t>(
      static_cast<int64_t>(bits << header) >> (64 - value_bits));  // sign-extended
  s.reader.Skip(header + value_bits);
  int64_t base;
  if (scale == s.decimal_scale) {
    base = s.decimal_scaled;
  } else if (!chunk_format::DecimalBase(std::bit_cast<double>(s.bits), scale, &base)) {
    return false;
  }
  const int64_t scaled = base + static_cast<int64_t>(delta);
  s.bits = std::bit_cast<uint64_t>(chunk_format::DecimalValue(scaled, scale));
  // DecimalBase of that value gives `scaled` back while the two roundings (divide, multiply)
  // stay below half a unit: |scaled| < 2^50 keeps them under a quarter. The next decimal
  // sample at this scale then skips the multiply and llround of its previous value.
  s.decimal_scale = std::abs(scaled) < (int64_t{1} << 50) ? scale : -1;
  s.decimal_scaled = scaled;
  return true;
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool DecodeValue(DecoderState& s) {
  // The code is 0, 10, 110 or 111: count its ones.
  int ones = 0;
  if (!s.reader.ReadOnes(3, &ones)) return false;
  switch (ones) {
    case 0:
      return true;
    case 1:
      if (s.leading == kNoWindow) return false;
      return DecodeXor(s);
    case 2: {
      uint64_t window;
      if (!s.reader.ReadFewBits(11, &window)) return false;
      const int leading = static_cast<int>(window >> 6);
      int significant = static_cast<int>(window & 63);
      if (significant == 0) significant = 64;
      if (leading + significant > 64) return false;
      s.leading = leading;
      s.trailing = 64 - leading - significant;
      return DecodeXor(s);
    }
    default:
      return DecodeDecimal(s);
  }
}

// `first`: of the chunk's first sample, which has no previous timestamp.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool DecodeStart(DecoderState& s, int64_t prev_time_ms,
                                                     bool first) {
  // The code is 0, 10, 110 or 111 (chunk_format::kMaxStartCodeOnes): count its ones.
  int ones = 0;
  if (!s.reader.ReadOnes(chunk_format::kMaxStartCodeOnes, &ones)) return false;
  switch (ones) {
    case 0:
      return true;
    case 1:
      if (first) return false;
      s.start_ms = prev_time_ms;
      return true;
    case 2:
      s.start_ms = 0;
      return true;
    default: {
      int64_t offset = 0;
      if (!s.reader.ReadVarint(&offset)) return false;
      s.start_ms = static_cast<int64_t>(static_cast<uint64_t>(s.t) + static_cast<uint64_t>(offset));
      return true;
    }
  }
}

// A sample after the first, `delta` after the previous one: its value code, and start code
// in version 3 (kStarts).
template <bool kStarts>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool DecodeRest(DecoderState& s, uint64_t delta) {
  const auto t = static_cast<int64_t>(static_cast<uint64_t>(s.t) + delta);
  // Timestamps strictly increase; anything else is corruption (or a wrapped sum).
  if (t <= s.t) return false;
  const int64_t prev_time_ms = s.t;
  s.t = t;
  s.delta = delta;
  if (!DecodeValue(s)) return false;
  if constexpr (kStarts) return DecodeStart(s, prev_time_ms, /*first=*/false);
  return true;
}

// A sample after the second, the case of nearly every sample: nothing out of line (version
// 3's start offsets aside), so a local DecoderState stays in registers.
template <bool kStarts>
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool DecodeLater(DecoderState& s) {
  uint64_t dod;
  if (!DecodeDeltaOfDelta(s.reader, &dod)) return false;
  return DecodeRest<kStarts>(s, s.delta + dod);
}

// Decodes the samples of a chunk in order; filters to [min_time_ms, max_time_ms]. kStarts:
// the chunk is of version 3, with start timestamps. A template rather than a flag, so that the
// version-1 loop, nearly every chunk's, has no start code to test per sample.
template <bool kStarts>
class ChunkIterator final : public model::SampleIterator {
 public:
  static constexpr uint8_t kChunkVersion =
      kStarts ? chunk_format::kVersionWithStarts : chunk_format::kVersion;

  ChunkIterator(std::string_view chunk, int64_t min_time_ms, int64_t max_time_ms)
      : min_time_ms_(min_time_ms), max_time_ms_(max_time_ms) {
    size_t header_size = 0;
    if (!chunk_format::ParseHeader(chunk, kChunkVersion, &num_samples_, &header_size)) {
      Fail("bad chunk header");
      return;
    }
    state_.reader = BitReader(chunk.substr(header_size));
    done_ = min_time_ms > max_time_ms;
  }

  bool Next() override {
    while (!done_ && decoded_ < num_samples_) {
      if (!DecodeSample()) {
        FailAtSample();
        return false;
      }
      ++decoded_;
      if (state_.t > max_time_ms_)
        done_ = true;
      else if (state_.t >= min_time_ms_)
        return true;
    }
    if (!done_) CheckEnd();
    done_ = true;
    return false;
  }

  model::Sample At() const override { return {state_.t, std::bit_cast<double>(state_.bits)}; }
  int64_t StartAt() const override { return state_.start_ms; }

  absl::Status status() const override { return status_; }

  // REQUIRES: Next() returned false with an ok status, every sample in range.
  void Tail(ChunkTail* tail) const {
    tail->num_samples = static_cast<int>(decoded_);
    tail->max_time_ms = state_.t;
    tail->delta = state_.delta;
    tail->bits = state_.bits;
    tail->leading = state_.leading;
    tail->trailing = state_.trailing;
    tail->free_bits = padding_bits_;
    tail->has_starts = kStarts;
    tail->start_ms = state_.start_ms;
  }

  absl::Status AppendRemaining(std::vector<model::Sample>* out) override {
    // The first two samples are coded unlike the rest. Not by Next(), which would go on
    // decoding one sample at a time up to the first in the range: a chunk that starts before
    // the range is mostly skipped by AppendLater's loop.
    while (!done_ && decoded_ < 2 && decoded_ < num_samples_) {
      if (!DecodeSample()) {
        FailAtSample();
        return status_;
      }
      ++decoded_;
      if (state_.t > max_time_ms_) {
        done_ = true;
      } else if (state_.t >= min_time_ms_) {
        out->push_back(At());
      }
    }
    AppendLater(out);
    while (Next()) out->push_back(At());  // the end check; final: no virtual call
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
        starts->push_back(state_.start_ms);
      }
      return status_;
    }
  }

 private:
  bool DecodeSample() {
    if (decoded_ == 0) {
      if (!state_.reader.ReadVarint(&state_.t) || !state_.reader.ReadBits(64, &state_.bits)) {
        return false;
      }
      if constexpr (kStarts) return DecodeStart(state_, state_.t, /*first=*/true);
      return true;
    }
    if (decoded_ == 1) {
      uint64_t delta;
      return state_.reader.ReadUvarint(&delta) && DecodeRest<kStarts>(state_, delta);
    }
    return DecodeLater<kStarts>(state_);
  }

  // What AppendRemaining's Next() loop would append from the third sample on, up to the
  // chunk's end or the range's, decoded on a local copy of the state.
  void AppendLater(std::vector<model::Sample>* out) {
    if (done_ || decoded_ < 2 || decoded_ >= num_samples_) return;
    const size_t size = out->size();
    out->resize(size + (num_samples_ - decoded_));
    model::Sample* const begin = out->data() + size;
    model::Sample* end = begin;
    DecoderState s = state_;
    uint32_t decoded = decoded_;
    bool ok = true;
    while (decoded < num_samples_) {
      if (!DecodeLater<kStarts>(s)) {
        ok = false;
        break;
      }
      ++decoded;
      if (s.t > max_time_ms_) {
        done_ = true;
        break;
      }
      if (s.t >= min_time_ms_) *end++ = {s.t, std::bit_cast<double>(s.bits)};
    }
    out->resize(size + static_cast<size_t>(end - begin));
    state_ = s;
    decoded_ = decoded;
    if (!ok) FailAtSample();
  }

  // After the last sample only the zero padding of the last byte may remain.
  void CheckEnd() {
    const int left = static_cast<int>(state_.reader.remaining_bits());
    padding_bits_ = left;
    uint64_t padding = 0;
    if (left >= 8 || !state_.reader.ReadBits(left, &padding) || padding != 0) {
      Fail("trailing bytes after the last sample of a chunk");
    }
  }

  void FailAtSample() {
    Fail(absl::StrCat("corrupt chunk at sample ", decoded_, " of ", num_samples_));
  }
  void Fail(const std::string& what) {
    status_ = absl::DataLossError(what);
    done_ = true;
  }

  DecoderState state_;
  int64_t min_time_ms_;
  int64_t max_time_ms_;
  uint32_t num_samples_ = 0;
  uint32_t decoded_ = 0;
  bool done_ = false;
  absl::Status status_;
  int padding_bits_ = 0;  // after the last sample, once CheckEnd ran
};

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
  // Only the ends are wanted, but the bulk path decodes the fastest: a restart reads the tail
  // of every series' open chunk.
  std::vector<model::Sample> samples;
  RETURN_IF_ERROR(it.AppendRemaining(&samples));
  it.Tail(tail);
  tail->min_time_ms = samples.empty() ? 0 : samples.front().timestamp_ms;
  if (samples.empty()) tail->max_time_ms = 0;
  return absl::OkStatus();
}

template <bool kStarts>
absl::Status ReadMeta(std::string_view chunk, ChunkMeta* meta) {
  *meta = ChunkMeta();
  // The time bounds are not in the header, which keeps chunks small; a chunk decodes in ~1 us.
  ChunkIterator<kStarts> it(chunk, INT64_MIN, INT64_MAX);
  std::vector<model::Sample> samples;
  RETURN_IF_ERROR(it.AppendRemaining(&samples));
  if (samples.empty()) return absl::OkStatus();
  meta->num_samples = static_cast<int>(samples.size());
  meta->min_time_ms = samples.front().timestamp_ms;
  meta->max_time_ms = samples.back().timestamp_ms;
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
