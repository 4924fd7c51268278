#pragma once

// ChunkEncoder: appends samples of one series to an encoded chunk (format in
// docs/format/chunk.md; the first byte is the format version).

#include <cstdint>
#include <string>
#include <string_view>

namespace kura::storage {

class BitWriter;
struct ChunkTail;

// Gorilla-style: delta-of-delta timestamps, XOR-compressed float bits. Every float bit pattern
// round-trips (NaN payloads, the stale marker, +-Inf, -0). Thread-compatible.
//
// A chunk carries start timestamps (model::SampleIterator::StartAt) only when it must: the
// version is chosen at the first sample, 3 (with starts) if that sample has a nonzero start,
// else 1, and it cannot change afterwards. A caller whose series gains a start in the middle
// of a version-1 chunk cuts the chunk first:
//
//   if (start_ms != 0 && enc.num_samples() > 0 && !enc.has_starts()) Close(std::move(enc));
//   enc.Append(t, v, start_ms);
class ChunkEncoder {
 public:
  ChunkEncoder();
  // An encoder that writes version 3 whatever the first sample's start: for re-encoding
  // samples of which a later one has a start.
  static ChunkEncoder WithStarts();
  ChunkEncoder(const ChunkEncoder&) = delete;
  ChunkEncoder& operator=(const ChunkEncoder&) = delete;
  ChunkEncoder(ChunkEncoder&&) = default;
  ChunkEncoder& operator=(ChunkEncoder&&) = default;

  // REQUIRES: timestamp_ms > the previous appended timestamp. The start is 0 (unknown), and
  // nothing is stored for it in a version-1 chunk.
  void Append(int64_t timestamp_ms, double value);
  // The same with a start timestamp. REQUIRES: as above, and has_starts() or start_ms == 0 or
  // num_samples() == 0.
  void Append(int64_t timestamp_ms, double value, int64_t start_ms);
  // Whether the chunk stores start timestamps (version 3). While the encoder is empty, whether
  // it was made WithStarts().
  bool has_starts() const { return has_starts_; }

  int num_samples() const { return num_samples_; }
  int64_t min_time_ms() const { return min_time_ms_; }
  int64_t max_time_ms() const { return max_time_ms_; }
  // The complete encoded chunk so far; valid until the next Append. Decodable at any point.
  std::string_view bytes() const;
  // Size of bytes() without building it.
  size_t size_bytes() const;
  // The memory the buffer holds for bytes(): at most about an eighth more than their size.
  size_t capacity_bytes() const;
  // Moves the chunk's bytes out, leaving this encoder empty as if new.
  std::string TakeBytes();

  // An encoder that goes on appending to `chunk` exactly as the one that wrote it would: the
  // bytes are taken as they are, not re-encoded. REQUIRES: ReadChunkTail(chunk) gave `tail`,
  // with at least one sample.
  static ChunkEncoder Resume(std::string_view chunk, const ChunkTail& tail);

 private:
  // Writes the sample's timestamp and value and updates their state, not the count.
  void AppendSample(int64_t timestamp_ms, uint64_t bits, BitWriter* writer);
  // Writes the XOR of `bits` with the previous value's bits.
  void AppendValue(uint64_t bits, BitWriter* writer);
  // Writes the start code of a sample; `prev_time_ms` is the previous sample's timestamp.
  void AppendStart(int64_t timestamp_ms, int64_t prev_time_ms, int64_t start_ms, BitWriter* writer);
  // Stores the writer's position and counts the sample.
  void FinishSample(const BitWriter& writer);
  void AppendDeltaOfDelta(int64_t dod, BitWriter* writer);
  // Stores num_samples_ in the header, widening it when the short form overflows.
  void UpdateCount();
  // Makes room for one more sample in buf_ in a step proportional to its size (std::string's
  // own growth doubles, which leaves a head of 100k open chunks up to half empty).
  void Reserve();

  // A head holds one encoder per active series, so the state is packed: 80 bytes.
  std::string buf_;  // header + bit stream
  int64_t min_time_ms_ = 0;
  int64_t max_time_ms_ = 0;
  // Delta-of-delta and XOR state carried between appends.
  uint64_t prev_delta_ = 0;  // Unsigned: a delta between int64 timestamps may exceed INT64_MAX.
  uint64_t prev_bits_ = 0;
  int64_t prev_start_ms_ = 0;  // the last sample's start (version 3)
  int32_t num_samples_ = 0;
  uint8_t prev_leading_ = 0xff;  // 0xff: no XOR window yet.
  uint8_t prev_trailing_ = 0;
  // BitWriter::free_bits() of the stream in buf_, and the version, kept here rather than read
  // from buf_[0]: the ingest path touches chunks that are not in the CPU cache.
  uint8_t free_bits_ : 3 = 0;
  bool has_starts_ : 1 = false;
  uint8_t last_byte_ = 0;  // BitWriter::last_byte(): buf_.back() once the stream has a byte
};

}  // namespace kura::storage
