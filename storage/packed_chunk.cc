#include "storage/packed_chunk.h"

#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/chunk_format.h"

namespace kura::storage {
namespace {

// 9: most of zstd's ratio on these columns at a fraction of its top levels' CPU; compaction
// runs in the background, once per partition.
constexpr int kZstdLevel = 9;
// The value column's mode byte: XOR words, decimal deltas at scale mode - 1, or bit-packed
// deltas of the bit patterns.
constexpr uint8_t kXorMode = 0;
constexpr uint8_t kBitDeltaMode = chunk_format::kMaxDecimalScale + 2;
// Set in the mode byte when the chunk's timestamps are a shared column: its id follows.
constexpr uint8_t kSharedTimestampsFlag = 0x80;
// Values per bit-packed block: small enough that an outlier (a reset, a sign flip) widens few
// values, large enough that the width byte is a small share of a block.
constexpr size_t kBlockValues = 32;
// Set in a block's width byte when its deltas are stored as they are, not zigzag-encoded.
constexpr uint8_t kUnsignedBlock = 0x80;
// A block's packed bits, plus room for the 9-byte window that reads or writes one value.
constexpr size_t kBlockBufferBytes = kBlockValues * 8 + 9;
// A timestamp varint plus a value varint (or word, or word and block header) at most.
constexpr uint64_t kMaxBytesPerSample = 20;

void PutVarint(std::string* dst, uint64_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    const uint8_t byte = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

uint64_t ZigZag(uint64_t v) {
  return (v << 1) ^ static_cast<uint64_t>(static_cast<int64_t>(v) >> 63);
}
uint64_t UnZigZag(uint64_t v) { return (v >> 1) ^ (~(v & 1) + 1); }

void PutInt64(std::string* dst, int64_t v) {
  const uint64_t u = static_cast<uint64_t>(v);
  for (int shift = 56; shift >= 0; shift -= 8) dst->push_back(static_cast<char>(u >> shift));
}

uint64_t LoadLittleEndian64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

void StoreLittleEndian64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

// Appends the bit-delta value column: the first value's bits as an 8-byte big-endian word (a
// delta from 0 would widen the whole first block), then the others in blocks of kBlockValues:
// a width byte w (0..64), then each zigzag delta of the bit patterns from the previous value in
// w bits, least significant bit first, the block padded with zero bits to a whole byte.
void PutBitDeltas(std::string* dst, absl::Span<const model::Sample> samples) {
  uint64_t prev = std::bit_cast<uint64_t>(samples.front().value);
  PutInt64(dst, static_cast<int64_t>(prev));
  uint64_t deltas[kBlockValues];
  for (size_t begin = 1; begin < samples.size(); begin += kBlockValues) {
    const size_t n = std::min(kBlockValues, samples.size() - begin);
    uint64_t any = 0;
    for (size_t i = 0; i < n; ++i) {
      const uint64_t bits = std::bit_cast<uint64_t>(samples[begin + i].value);
      deltas[i] = bits - prev;  // wraps, like the decoder's addition
      prev = bits;
      any |= deltas[i];
    }
    // A block of a rising counter has no negative delta, and then needs no sign bit.
    const bool unsigned_deltas = static_cast<int64_t>(any) >= 0;
    if (!unsigned_deltas) {
      any = 0;
      for (size_t i = 0; i < n; ++i) any |= deltas[i] = ZigZag(deltas[i]);
    }
    const int width = std::bit_width(any);
    dst->push_back(static_cast<char>(width | (unsigned_deltas ? kUnsignedBlock : 0)));
    uint8_t buf[kBlockBufferBytes] = {};
    for (size_t i = 0; i < n; ++i) {
      const size_t pos = i * width;
      const int shift = static_cast<int>(pos & 7);
      uint8_t* p = buf + (pos >> 3);
      StoreLittleEndian64(p, LoadLittleEndian64(p) | (deltas[i] << shift));
      // shift > 0 here, so the shift below is in range.
      if (shift + width > 64) p[8] |= static_cast<uint8_t>(deltas[i] >> (64 - shift));
    }
    dst->append(reinterpret_cast<const char*>(buf), (n * width + 7) / 8);
  }
}

// Reads the bit-delta column into the values of `samples`; false if `in` ends early or a block
// is malformed (a width above 64, nonzero padding).
bool GetBitDeltas(std::string_view* in, absl::Span<model::Sample> samples) {
  if (in->size() < 8) return false;
  uint64_t bits = chunk_format::GetBigEndian(*in, 0, 8);
  in->remove_prefix(8);
  samples.front().value = std::bit_cast<double>(bits);
  for (size_t begin = 1; begin < samples.size(); begin += kBlockValues) {
    const size_t n = std::min(kBlockValues, samples.size() - begin);
    if (in->empty()) return false;
    const uint8_t block_header = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    const int width = block_header & ~kUnsignedBlock;
    const bool unsigned_deltas = (block_header & kUnsignedBlock) != 0;
    if (width > 64) return false;
    const size_t num_bits = n * width;
    const size_t num_bytes = (num_bits + 7) / 8;
    if (in->size() < num_bytes) return false;
    // A zero-padded copy, so that every value is read with the same 9-byte window.
    uint8_t buf[kBlockBufferBytes] = {};
    std::memcpy(buf, in->data(), num_bytes);
    in->remove_prefix(num_bytes);
    if ((num_bits & 7) != 0 && (buf[num_bytes - 1] >> (num_bits & 7)) != 0) return false;
    const uint64_t mask = width == 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
    for (size_t i = 0; i < n; ++i) {
      const size_t pos = i * width;
      const int shift = static_cast<int>(pos & 7);
      const uint8_t* p = buf + (pos >> 3);
      uint64_t delta = LoadLittleEndian64(p) >> shift;
      if (shift + width > 64) delta |= static_cast<uint64_t>(p[8]) << (64 - shift);
      delta &= mask;
      bits += unsigned_deltas ? delta : UnZigZag(delta);
      samples[begin + i].value = std::bit_cast<double>(bits);
    }
  }
  return true;
}

// The smallest decimal scale at which every value is exactly DecimalValue(scaled, scale), so
// that decoding gives back the same bits; -1 when there is none.
int DecimalScale(absl::Span<const model::Sample> samples, std::vector<int64_t>* scaled) {
  for (int scale = 0; scale <= chunk_format::kMaxDecimalScale; ++scale) {
    scaled->clear();
    bool exact = true;
    for (const model::Sample& s : samples) {
      int64_t v = 0;
      if (!chunk_format::DecimalBase(s.value, scale, &v) ||
          std::bit_cast<uint64_t>(chunk_format::DecimalValue(v, scale)) !=
              std::bit_cast<uint64_t>(s.value)) {
        exact = false;
        break;
      }
      scaled->push_back(v);
    }
    if (exact) return scale;
  }
  return -1;
}

// Decodes the whole chunk up front; the columns are small next to a query's work.
class PackedChunkIterator final : public model::SampleIterator {
 public:
  PackedChunkIterator(std::string_view chunk, int64_t min_time_ms, int64_t max_time_ms,
                      const TimestampColumn* timestamps)
      : min_time_ms_(min_time_ms), max_time_ms_(max_time_ms) {
    status_ = Decode(chunk, timestamps);
    if (!status_.ok()) samples_.clear();
  }

  bool Next() override {
    while (++next_ < samples_.size()) {
      const int64_t t = samples_[next_].timestamp_ms;
      if (t > max_time_ms_) break;
      if (t >= min_time_ms_) return true;
    }
    next_ = samples_.size();
    return false;
  }
  model::Sample At() const override { return samples_[next_]; }
  absl::Status status() const override { return status_; }

  absl::Status AppendRemaining(std::vector<model::Sample>* out) override {
    const size_t from = next_ + 1;  // next_ starts at -1
    if (from >= samples_.size()) {
      next_ = samples_.size();
      return status_;
    }
    // The samples in range are one contiguous run of the decoded ones.
    const auto begin = samples_.begin() + static_cast<std::ptrdiff_t>(from);
    const auto first = std::partition_point(
        begin, samples_.end(), [&](const model::Sample& s) { return s.timestamp_ms < min_time_ms_; });
    const auto last = std::partition_point(
        first, samples_.end(), [&](const model::Sample& s) { return s.timestamp_ms <= max_time_ms_; });
    out->insert(out->end(), first, last);
    next_ = samples_.size();
    return status_;
  }
  // Version 2 has no start timestamps (compaction packs no series that has them).
  absl::Status AppendRemainingWithStarts(std::vector<model::Sample>* out,
                                         std::vector<int64_t>* starts) override {
    return AppendRemaining(out);
  }

 private:
  absl::Status Decode(std::string_view chunk, const TimestampColumn* timestamps);

  const int64_t min_time_ms_;
  const int64_t max_time_ms_;
  std::vector<model::Sample> samples_;
  size_t next_ = static_cast<size_t>(-1);
  absl::Status status_;
};

struct PackedHeader {
  uint64_t count = 0;
  int64_t min_time_ms = 0;
  int64_t max_time_ms = 0;
  uint8_t mode = 0;
  // Set when the timestamps are a shared column, named by this id.
  std::optional<uint64_t> timestamp_column;
};

bool ParsePackedHeader(std::string_view* in, PackedHeader* header) {
  if (in->empty() || static_cast<uint8_t>(in->front()) != kPackedChunkVersion) return false;
  in->remove_prefix(1);
  if (!GetVarint(in, &header->count) || header->count == 0 || in->size() < 17) return false;
  header->min_time_ms = static_cast<int64_t>(chunk_format::GetBigEndian(*in, 0, 8));
  header->max_time_ms = static_cast<int64_t>(chunk_format::GetBigEndian(*in, 8, 8));
  const uint8_t mode_byte = static_cast<uint8_t>((*in)[16]);
  in->remove_prefix(17);
  header->mode = mode_byte & ~kSharedTimestampsFlag;
  if ((mode_byte & kSharedTimestampsFlag) != 0) {
    if (in->size() < 8) return false;
    header->timestamp_column = chunk_format::GetBigEndian(*in, 0, 8);
    in->remove_prefix(8);
  }
  // Larger counts are never written; the bound keeps what a corrupt header can make the
  // decoder allocate (kMaxBytesPerSample per sample) small.
  return header->count <= kMaxPackedChunkSamples && header->mode <= kBitDeltaMode &&
         header->min_time_ms <= header->max_time_ms;
}

// The delta-of-delta varints of every timestamp after the first.
void AppendTimestampDeltas(absl::Span<const int64_t> timestamps, std::string* out) {
  uint64_t prev_delta = 0;
  for (size_t i = 1; i < timestamps.size(); ++i) {
    const uint64_t delta =
        static_cast<uint64_t>(timestamps[i]) - static_cast<uint64_t>(timestamps[i - 1]);
    PutVarint(out, ZigZag(delta - prev_delta));
    prev_delta = delta;
  }
}

// Reads what AppendTimestampDeltas wrote for `count` timestamps from `first` on. False on a
// truncated column or timestamps that do not ascend.
bool ReadTimestampDeltas(std::string_view* in, int64_t first, uint64_t count,
                         std::vector<int64_t>* out) {
  out->resize(count);
  (*out)[0] = first;
  uint64_t t = static_cast<uint64_t>(first);
  uint64_t delta = 0;
  for (uint64_t i = 1; i < count; ++i) {
    uint64_t dod = 0;
    if (!GetVarint(in, &dod)) return false;
    delta += UnZigZag(dod);  // wraps like the encoder's subtraction
    t += delta;
    if (static_cast<int64_t>(t) <= (*out)[i - 1]) return false;
    (*out)[i] = static_cast<int64_t>(t);
  }
  return true;
}

// One zstd context per thread for each direction: ZSTD_decompress and ZSTD_compress build and
// free a context on every call, which costs more than decoding a series' few-kilobyte frame.
struct ZstdContextFree {
  void operator()(ZSTD_DCtx* context) const { ZSTD_freeDCtx(context); }
  void operator()(ZSTD_CCtx* context) const { ZSTD_freeCCtx(context); }
};

ZSTD_DCtx* ThreadDecompressionContext() {
  thread_local std::unique_ptr<ZSTD_DCtx, ZstdContextFree> context(ZSTD_createDCtx());
  return context.get();
}

ZSTD_CCtx* ThreadCompressionContext() {
  thread_local std::unique_ptr<ZSTD_CCtx, ZstdContextFree> context(ZSTD_createCCtx());
  return context.get();
}

// Decompresses a zstd frame whose stated size lies in [min_size, max_size], so that a corrupt
// header cannot make it allocate more than its count allows.
bool Decompress(std::string_view frame, uint64_t min_size, uint64_t max_size,
                std::string* out) {
  const unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR || size < min_size ||
      size > max_size) {
    return false;
  }
  out->assign(size, '\0');
  const size_t got = ZSTD_decompressDCtx(ThreadDecompressionContext(), out->data(), out->size(),
                                         frame.data(), frame.size());
  return !ZSTD_isError(got) && got == size;
}

void AppendCompressed(std::string_view payload, std::string* out) {
  const size_t header_size = out->size();
  out->resize(header_size + ZSTD_compressBound(payload.size()));
  const size_t written =
      ZSTD_compressCCtx(ThreadCompressionContext(), out->data() + header_size,
                        out->size() - header_size, payload.data(), payload.size(), kZstdLevel);
  // Compressing into a buffer of ZSTD_compressBound bytes cannot fail.
  out->resize(header_size + (ZSTD_isError(written) ? 0 : written));
}

absl::Status PackedChunkIterator::Decode(std::string_view chunk,
                                         const TimestampColumn* timestamps) {
  const absl::Status corrupt = absl::DataLossError("corrupt packed chunk");
  PackedHeader header;
  if (!ParsePackedHeader(&chunk, &header)) return corrupt;
  const bool shared = header.timestamp_column.has_value();
  if (shared && timestamps == nullptr) {
    return absl::DataLossError("packed chunk without its timestamp column");
  }
  // The zstd frame holds the timestamps unless they are shared, and the values unless they are
  // bit deltas (those follow it). Every timestamp but the first takes at least a byte there,
  // and so does every value, so a count the frame cannot hold is corrupt before anything is
  // allocated for it; a frame that would hold nothing is left out.
  const uint64_t min_frame_bytes =
      (shared ? 0 : header.count - 1) + (header.mode == kBitDeltaMode ? 0 : header.count);
  std::string payload;
  std::string_view raw_values = chunk;
  if (min_frame_bytes > 0) {
    if (header.mode == kBitDeltaMode) {
      const size_t frame_size = ZSTD_findFrameCompressedSize(chunk.data(), chunk.size());
      if (ZSTD_isError(frame_size) || frame_size > chunk.size()) return corrupt;
      raw_values = chunk.substr(frame_size);
      chunk = chunk.substr(0, frame_size);
    }
    if (!Decompress(chunk, min_frame_bytes, header.count * kMaxBytesPerSample, &payload)) {
      return corrupt;
    }
  }
  std::string_view in = payload;
  std::vector<int64_t> own_timestamps;
  if (!shared) {
    if (!ReadTimestampDeltas(&in, header.min_time_ms, header.count, &own_timestamps)) {
      return corrupt;
    }
    timestamps = &own_timestamps;
  }
  if (timestamps->size() != header.count || timestamps->front() != header.min_time_ms ||
      timestamps->back() != header.max_time_ms) {
    return absl::DataLossError("packed chunk does not fit its timestamps");
  }
  samples_.resize(header.count);
  for (uint64_t i = 0; i < header.count; ++i) samples_[i].timestamp_ms = (*timestamps)[i];
  if (header.mode == kBitDeltaMode) {
    if (!in.empty() || !GetBitDeltas(&raw_values, absl::MakeSpan(samples_))) return corrupt;
    return raw_values.empty() ? absl::OkStatus() : corrupt;
  }
  uint64_t bits = 0;
  int64_t scaled = 0;
  for (model::Sample& sample : samples_) {
    if (header.mode == kXorMode) {
      if (in.size() < 8) return corrupt;
      bits ^= chunk_format::GetBigEndian(in, 0, 8);
      in.remove_prefix(8);
      sample.value = std::bit_cast<double>(bits);
    } else {
      uint64_t d = 0;
      if (!GetVarint(&in, &d)) return corrupt;
      scaled += static_cast<int64_t>(UnZigZag(d));
      sample.value = chunk_format::DecimalValue(scaled, header.mode - 1);
    }
  }
  return in.empty() ? absl::OkStatus() : corrupt;
}

}  // namespace

namespace {

// The header, then `payload` compressed unless it is empty, then `raw`.
std::string FinishChunk(absl::Span<const model::Sample> samples, uint8_t mode,
                        std::optional<uint64_t> timestamp_column, std::string_view payload,
                        std::string_view raw = {}) {
  std::string chunk(1, static_cast<char>(kPackedChunkVersion));
  PutVarint(&chunk, samples.size());
  PutInt64(&chunk, samples.front().timestamp_ms);
  PutInt64(&chunk, samples.back().timestamp_ms);
  if (timestamp_column.has_value()) {
    chunk.push_back(static_cast<char>(mode | kSharedTimestampsFlag));
    PutInt64(&chunk, static_cast<int64_t>(*timestamp_column));
  } else {
    chunk.push_back(static_cast<char>(mode));
  }
  if (!payload.empty()) AppendCompressed(payload, &chunk);
  chunk.append(raw);
  return chunk;
}

}  // namespace

std::string EncodePackedChunk(absl::Span<const model::Sample> samples,
                              std::optional<uint64_t> timestamp_column) {
  std::string payload;
  payload.reserve(samples.size() * 10);
  if (!timestamp_column.has_value()) {
    std::vector<int64_t> timestamps(samples.size());
    for (size_t i = 0; i < samples.size(); ++i) timestamps[i] = samples[i].timestamp_ms;
    AppendTimestampDeltas(timestamps, &payload);
  }
  std::vector<int64_t> scaled;
  const int scale = DecimalScale(samples, &scaled);
  if (scale >= 0) {
    int64_t prev = 0;
    for (int64_t v : scaled) {
      PutVarint(&payload, ZigZag(static_cast<uint64_t>(v - prev)));
      prev = v;
    }
    return FinishChunk(samples, static_cast<uint8_t>(scale + 1), timestamp_column, payload);
  }
  // Bit deltas win on floats that move by small amounts (counters, random walks); XOR words
  // under zstd on values that repeat a few bit patterns. Which one is smaller shows only after
  // compression, and compaction can afford to compress twice. The bit deltas stay outside the
  // zstd frame: zstd finds nothing in them, and one frame's literal statistics for both columns
  // cost the timestamps over a third of a byte per sample.
  std::string values;
  values.reserve(samples.size() * 8 + 8);
  PutBitDeltas(&values, samples);
  std::string bit_deltas =
      FinishChunk(samples, kBitDeltaMode, timestamp_column, payload, values);
  uint64_t prev = 0;
  for (const model::Sample& s : samples) {
    const uint64_t bits = std::bit_cast<uint64_t>(s.value);
    PutInt64(&payload, static_cast<int64_t>(bits ^ prev));
    prev = bits;
  }
  std::string xor_words = FinishChunk(samples, kXorMode, timestamp_column, payload);
  return xor_words.size() < bit_deltas.size() ? xor_words : bit_deltas;
}

std::optional<uint64_t> PackedChunkTimestampColumn(std::string_view chunk) {
  PackedHeader header;
  if (!ParsePackedHeader(&chunk, &header)) return std::nullopt;
  return header.timestamp_column;
}

std::unique_ptr<model::SampleIterator> NewPackedChunkIterator(std::string_view chunk,
                                                              int64_t min_time_ms,
                                                              int64_t max_time_ms,
                                                              const TimestampColumn* timestamps) {
  return std::make_unique<PackedChunkIterator>(chunk, min_time_ms, max_time_ms, timestamps);
}

std::string EncodeTimestampColumn(absl::Span<const int64_t> timestamps) {
  std::string column;
  PutVarint(&column, timestamps.size());
  PutInt64(&column, timestamps.front());
  std::string payload;
  AppendTimestampDeltas(timestamps, &payload);
  AppendCompressed(payload, &column);
  return column;
}

absl::StatusOr<TimestampColumn> DecodeTimestampColumn(std::string_view column) {
  const absl::Status corrupt = absl::DataLossError("corrupt timestamp column");
  uint64_t count = 0;
  // A column is as long as a chunk at most, which bounds what a corrupt one can allocate.
  if (!GetVarint(&column, &count) || count == 0 || count > kMaxPackedChunkSamples ||
      column.size() < 8) {
    return corrupt;
  }
  const int64_t first = static_cast<int64_t>(chunk_format::GetBigEndian(column, 0, 8));
  column.remove_prefix(8);
  std::string payload;
  // A varint per timestamp after the first: at least one byte, at most ten.
  if (!Decompress(column, count - 1, (count - 1) * 10, &payload)) return corrupt;
  std::string_view in = payload;
  TimestampColumn timestamps;
  if (!ReadTimestampDeltas(&in, first, count, &timestamps) || !in.empty()) return corrupt;
  return timestamps;
}

uint64_t TimestampColumnId(absl::Span<const int64_t> timestamps) {
  // FNV-1a over the 8-byte words, then SplitMix64's finalizer: stable on disk, unlike
  // absl::Hash, and collisions are checked against the stored column before one is shared.
  uint64_t h = 0xcbf29ce484222325ULL;
  for (int64_t t : timestamps) h = (h ^ static_cast<uint64_t>(t)) * 0x100000001b3ULL;
  h ^= timestamps.size();
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

absl::Status ReadPackedChunkHeader(std::string_view chunk, int* num_samples, int64_t* min_time_ms,
                                   int64_t* max_time_ms) {
  PackedHeader header;
  if (!ParsePackedHeader(&chunk, &header)) {
    return absl::DataLossError("bad packed chunk header");
  }
  *num_samples = static_cast<int>(header.count);
  *min_time_ms = header.min_time_ms;
  *max_time_ms = header.max_time_ms;
  return absl::OkStatus();
}

}  // namespace kura::storage
