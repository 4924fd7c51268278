#pragma once

// Packed chunks (format version 2): the denser encoding compaction writes for the chunks of
// closed partitions. Timestamps as delta-of-delta varints under zstd, and values as decimal
// deltas (when every value is a short decimal, checked bit for bit), as XOR words under zstd, or
// as bit-packed deltas of the bit patterns, whichever is smallest. Lossless for every bit
// pattern, like version 1, but read whole: meant for long chunks (a series' day) that are read
// rarely and kept long. Layout in docs/format/chunk.md.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "model/sample.h"
#include "model/series_set.h"

namespace kura::storage {

inline constexpr uint8_t kPackedChunkVersion = 2;

// REQUIRES: `samples` is non-empty with ascending, unique timestamps.
std::string EncodePackedChunk(absl::Span<const model::Sample> samples);

// The samples of a packed chunk in [min_time_ms, max_time_ms]; the iterator keeps its own
// decompressed copy. A corrupt chunk ends the iteration with DataLoss.
std::unique_ptr<model::SampleIterator> NewPackedChunkIterator(std::string_view chunk,
                                                              int64_t min_time_ms,
                                                              int64_t max_time_ms);

// The header's count and time bounds, without decompressing.
absl::Status ReadPackedChunkHeader(std::string_view chunk, int* num_samples, int64_t* min_time_ms,
                                   int64_t* max_time_ms);

}  // namespace kura::storage
