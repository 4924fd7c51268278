#include "storage/packed_chunk.h"

#include <zstd.h>

#include <bit>
#include <optional>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "storage/chunk_format.h"

namespace kura::storage {
namespace {

// 9: most of zstd's ratio on these columns at a fraction of its top levels' CPU; compaction
// runs in the background, once per partition.
constexpr int kZstdLevel = 9;
// The value column's mode byte: XOR words, or decimal deltas at scale mode - 1.
constexpr uint8_t kXorMode = 0;
// Set in the mode byte when the chunk's timestamps are a shared column: its id follows.
constexpr uint8_t kSharedTimestampsFlag = 0x80;
// A timestamp varint plus a value varint (or word) at most.
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
  return header->mode <= chunk_format::kMaxDecimalScale + 1 &&
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
  const size_t got = ZSTD_decompress(out->data(), out->size(), frame.data(), frame.size());
  return !ZSTD_isError(got) && got == size;
}

void AppendCompressed(std::string_view payload, std::string* out) {
  const size_t header_size = out->size();
  out->resize(header_size + ZSTD_compressBound(payload.size()));
  const size_t written = ZSTD_compress(out->data() + header_size, out->size() - header_size,
                                       payload.data(), payload.size(), kZstdLevel);
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
  // Every sample takes at least one byte per column (the first none for its timestamp), so a
  // count the payload cannot hold is corrupt before anything is allocated for it.
  const uint64_t timestamp_bytes = shared ? 0 : header.count - 1;
  std::string payload;
  if (!Decompress(chunk, header.count + timestamp_bytes, header.count * kMaxBytesPerSample,
                  &payload)) {
    return corrupt;
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

std::string EncodePackedChunk(absl::Span<const model::Sample> samples,
                              std::optional<uint64_t> timestamp_column) {
  std::string payload;
  payload.reserve(samples.size() * 4);
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
  } else {
    uint64_t prev = 0;
    for (const model::Sample& s : samples) {
      const uint64_t bits = std::bit_cast<uint64_t>(s.value);
      PutInt64(&payload, static_cast<int64_t>(bits ^ prev));
      prev = bits;
    }
  }
  std::string chunk(1, static_cast<char>(kPackedChunkVersion));
  PutVarint(&chunk, samples.size());
  PutInt64(&chunk, samples.front().timestamp_ms);
  PutInt64(&chunk, samples.back().timestamp_ms);
  const uint8_t mode = scale >= 0 ? scale + 1 : kXorMode;
  if (timestamp_column.has_value()) {
    chunk.push_back(static_cast<char>(mode | kSharedTimestampsFlag));
    PutInt64(&chunk, static_cast<int64_t>(*timestamp_column));
  } else {
    chunk.push_back(static_cast<char>(mode));
  }
  AppendCompressed(payload, &chunk);
  return chunk;
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
  if (!GetVarint(&column, &count) || count == 0 || column.size() < 8) return corrupt;
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
  if (!ParsePackedHeader(&chunk, &header) || header.count > INT32_MAX) {
    return absl::DataLossError("bad packed chunk header");
  }
  *num_samples = static_cast<int>(header.count);
  *min_time_ms = header.min_time_ms;
  *max_time_ms = header.max_time_ms;
  return absl::OkStatus();
}

}  // namespace kura::storage
