#pragma once

// The SeriesSet a node's Select returns: each series reads its written chunks lazily from the
// chunks column family and merges them, in time order and without duplicates, with the head's
// chunks that were copied when the query started, leaving out the samples that tombstones
// delete.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/labels.h"
#include "model/series_set.h"
#include "storage/tombstones.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
}  // namespace rocksdb

namespace kura::storage {

class TimestampColumns;

struct ChunkSeriesData {
  uint64_t ref = 0;
  model::Labels labels;
  std::vector<std::string> head_chunks;  // encoded, copied from the head
  std::vector<TimeInterval> deleted;     // tombstones of the series, sorted by min time
};

struct ChunkSource {
  rocksdb::DB* db = nullptr;
  rocksdb::ColumnFamilyHandle* chunks = nullptr;
  const TimestampColumns* timestamp_columns = nullptr;  // resolves the chunks' shared columns
  std::vector<int64_t> partitions;  // ascending; the partitions overlapping the range
  int64_t min_time_ms = 0;
  int64_t max_time_ms = 0;
};

// Merges sample iterators: ascending timestamps, and of equal timestamps only the first in
// `sources` order.
std::unique_ptr<model::SampleIterator> NewMergingIterator(
    std::vector<std::unique_ptr<model::SampleIterator>> sources);

// Leaves out the samples inside any of `deleted` (sorted by min time).
std::unique_ptr<model::SampleIterator> NewTombstoneFilter(std::unique_ptr<model::SampleIterator> it,
                                                          std::vector<TimeInterval> deleted);

// Whether `series` keeps a sample in the source's range once its tombstones apply.
absl::StatusOr<bool> HasSamples(const ChunkSource& source, const ChunkSeriesData& series);

// Series must already be sorted by labels. A series with tombstones and no sample left in the
// range is skipped. The DB must outlive the set and its iterators.
std::unique_ptr<model::SeriesSet> NewChunkSeriesSet(ChunkSource source,
                                                    std::vector<ChunkSeriesData> series);

}  // namespace kura::storage
