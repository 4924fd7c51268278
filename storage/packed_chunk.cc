#include "storage/packed_chunk.h"

#include <zstd.h>

#include <bit>
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
  PackedChunkIterator(std::string_view chunk, int64_t min_time_ms, int64_t max_time_ms)
      : min_time_ms_(min_time_ms), max_time_ms_(max_time_ms) {
    status_ = Decode(chunk);
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
  absl::Status Decode(std::string_view chunk);

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
};

bool ParsePackedHeader(std::string_view* in, PackedHeader* header) {
  if (in->empty() || static_cast<uint8_t>(in->front()) != kPackedChunkVersion) return false;
  in->remove_prefix(1);
  if (!GetVarint(in, &header->count) || header->count == 0 || in->size() < 17) return false;
  header->min_time_ms = static_cast<int64_t>(chunk_format::GetBigEndian(*in, 0, 8));
  header->max_time_ms = static_cast<int64_t>(chunk_format::GetBigEndian(*in, 8, 8));
  header->mode = static_cast<uint8_t>((*in)[16]);
  in->remove_prefix(17);
  return header->mode <= chunk_format::kMaxDecimalScale + 1 &&
         header->min_time_ms <= header->max_time_ms;
}

absl::Status PackedChunkIterator::Decode(std::string_view chunk) {
  const absl::Status corrupt = absl::DataLossError("corrupt packed chunk");
  PackedHeader header;
  if (!ParsePackedHeader(&chunk, &header)) return corrupt;
  const unsigned long long size = ZSTD_getFrameContentSize(chunk.data(), chunk.size());
  // Every sample takes at least one byte per column (the first none for its timestamp), so a
  // count the payload cannot hold is corrupt before anything is allocated for it.
  if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR ||
      header.count > (size + 1) / 2 || size > header.count * kMaxBytesPerSample) {
    return corrupt;
  }
  std::string payload(size, '\0');
  const size_t got = ZSTD_decompress(payload.data(), payload.size(), chunk.data(), chunk.size());
  if (ZSTD_isError(got) || got != size) return corrupt;
  std::string_view in = payload;
  samples_.resize(header.count);
  uint64_t t = static_cast<uint64_t>(header.min_time_ms);
  uint64_t delta = 0;
  for (uint64_t i = 0; i < header.count; ++i) {
    if (i > 0) {
      uint64_t dod = 0;
      if (!GetVarint(&in, &dod)) return corrupt;
      delta += UnZigZag(dod);  // wraps like the encoder's subtraction
      t += delta;
      if (static_cast<int64_t>(t) <= samples_[i - 1].timestamp_ms) return corrupt;
    }
    samples_[i].timestamp_ms = static_cast<int64_t>(t);
  }
  if (samples_.back().timestamp_ms != header.max_time_ms) return corrupt;
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

std::string EncodePackedChunk(absl::Span<const model::Sample> samples) {
  std::string payload;
  payload.reserve(samples.size() * 4);
  uint64_t prev_delta = 0;
  for (size_t i = 1; i < samples.size(); ++i) {
    const uint64_t delta = static_cast<uint64_t>(samples[i].timestamp_ms) -
                           static_cast<uint64_t>(samples[i - 1].timestamp_ms);
    PutVarint(&payload, ZigZag(delta - prev_delta));
    prev_delta = delta;
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
  chunk.push_back(static_cast<char>(scale >= 0 ? scale + 1 : kXorMode));
  const size_t header_size = chunk.size();
  chunk.resize(header_size + ZSTD_compressBound(payload.size()));
  const size_t written = ZSTD_compress(chunk.data() + header_size, chunk.size() - header_size,
                                       payload.data(), payload.size(), kZstdLevel);
  // Compressing into a buffer of ZSTD_compressBound bytes cannot fail.
  chunk.resize(header_size + (ZSTD_isError(written) ? 0 : written));
  return chunk;
}

std::unique_ptr<model::SampleIterator> NewPackedChunkIterator(std::string_view chunk,
                                                              int64_t min_time_ms,
                                                              int64_t max_time_ms) {
  return std::make_unique<PackedChunkIterator>(chunk, min_time_ms, max_time_ms);
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
