#pragma once

// Decoding of chunks: those ChunkEncoder writes (version 1, and 3 with start timestamps) and
// the packed chunks compaction writes (version 2, storage/packed_chunk.h), told apart by the
// first byte.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "model/series_set.h"

namespace kura::storage {

// Iterates the samples of one encoded chunk whose timestamps lie in [min_time_ms, max_time_ms].
// `chunk` must stay alive and unchanged while the iterator is used. A corrupt chunk ends the
// iteration with a DataLoss status.
std::unique_ptr<model::SampleIterator> NewChunkIterator(std::string_view chunk,
                                                        int64_t min_time_ms = INT64_MIN,
                                                        int64_t max_time_ms = INT64_MAX);

// Same, but the iterator owns its copy of the bytes.
std::unique_ptr<model::SampleIterator> NewOwningChunkIterator(std::string chunk,
                                                              int64_t min_time_ms = INT64_MIN,
                                                              int64_t max_time_ms = INT64_MAX);

// Reads the header: sample count and time bounds, without decoding samples.
struct ChunkMeta {
  int num_samples = 0;
  int64_t min_time_ms = 0;
  int64_t max_time_ms = 0;
};
absl::Status ReadChunkMeta(std::string_view chunk, ChunkMeta* meta);

// Where the encoder that wrote an unpacked (version 1 or 3) chunk stood after its last sample, so
// that appending can go on from the bytes as they are (ChunkEncoder::Resume) instead of
// re-encoding every sample.
struct ChunkTail {
  int num_samples = 0;
  int64_t min_time_ms = 0;
  int64_t max_time_ms = 0;
  uint64_t delta = 0;   // between the last two timestamps (0 with one sample)
  uint64_t bits = 0;    // the last value's bits
  int leading = 0xff;   // the XOR window in force; 0xff: none yet
  int trailing = 0;
  int free_bits = 0;    // unused low bits of the last byte
  bool has_starts = false;  // version 3
  int64_t start_ms = 0;     // the last sample's start timestamp
};
// DataLoss if the chunk does not decode, InvalidArgument if it is a packed chunk.
absl::Status ReadChunkTail(std::string_view chunk, ChunkTail* tail);

}  // namespace kura::storage
