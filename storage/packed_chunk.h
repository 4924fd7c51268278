#pragma once

// Packed chunks (format version 2): the denser encoding compaction writes for the chunks of
// closed partitions. Timestamps as delta-of-delta varints under zstd, and values as decimal
// deltas (when every value is a short decimal, checked bit for bit), as XOR words under zstd, or
// as bit-packed deltas of the bit patterns, whichever is smallest. Lossless for every bit
// pattern, like version 1, but read whole: meant for long chunks (a series' day) that are read
// rarely and kept long. Layout in docs/format/chunk.md.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "model/sample.h"
#include "model/series_set.h"

namespace kura::storage {

inline constexpr uint8_t kPackedChunkVersion = 2;

// Whether `chunk` is a packed chunk (its first byte, the version, says so).
inline bool IsPackedChunk(std::string_view chunk) {
  return !chunk.empty() && static_cast<uint8_t>(chunk[0]) == kPackedChunkVersion;
}

// At most this many samples per packed chunk: a series' day at 1.3 s.
inline constexpr uint64_t kMaxPackedChunkSamples = 1 << 16;

// REQUIRES: `samples` holds 1 to kMaxPackedChunkSamples samples with ascending, unique
// timestamps. With a `timestamp_column` id the chunk leaves its timestamps out and names that
// column instead (the caller stores the column, EncodeTimestampColumn of the timestamps).
std::string EncodePackedChunk(absl::Span<const model::Sample> samples,
                              std::optional<uint64_t> timestamp_column = std::nullopt);

// A decoded shared timestamp column: ascending, unique timestamps.
using TimestampColumn = std::vector<int64_t>;

// The id of the timestamp column a packed chunk names, or nullopt when it holds its own
// timestamps (or is not a packed chunk).
std::optional<uint64_t> PackedChunkTimestampColumn(std::string_view chunk);

// The samples of a packed chunk in [min_time_ms, max_time_ms]; the iterator keeps its own
// decompressed copy. A chunk that names a timestamp column needs it in `timestamps` (read
// during the call only). A corrupt chunk, or a column that does not fit it, ends the iteration
// with DataLoss.
std::unique_ptr<model::SampleIterator> NewPackedChunkIterator(
    std::string_view chunk, int64_t min_time_ms, int64_t max_time_ms,
    const TimestampColumn* timestamps = nullptr);

// Shared timestamp columns: series scraped together have the very same timestamps, so
// compaction stores them once per partition and the series' packed chunks name them by id.
// REQUIRES: `timestamps` is non-empty, ascending and unique.
std::string EncodeTimestampColumn(absl::Span<const int64_t> timestamps);
absl::StatusOr<TimestampColumn> DecodeTimestampColumn(std::string_view column);
// A content hash, the same in every process and version: the column's id.
uint64_t TimestampColumnId(absl::Span<const int64_t> timestamps);

// The header's count and time bounds, without decompressing.
absl::Status ReadPackedChunkHeader(std::string_view chunk, int* num_samples, int64_t* min_time_ms,
                                   int64_t* max_time_ms);

}  // namespace kura::storage
