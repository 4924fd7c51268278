#pragma once

// The SeriesSet a node's Select returns: each series reads its written chunks lazily from the
// chunks column family and merges them, in time order and without duplicates, with the head's
// chunks that were copied when the query started, leaving out the samples that tombstones
// delete.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "model/labels.h"
#include "model/series_set.h"
#include "rocksdb/slice.h"
#include "storage/tombstones.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class Iterator;
}  // namespace rocksdb

namespace kura::storage {

class TimestampColumns;

struct ChunkSeriesData {
  uint64_t ref = 0;
  model::Labels labels;
  std::vector<std::string> head_chunks;  // encoded, copied from the head
  std::vector<TimeInterval> deleted;     // tombstones of the series, sorted by min time
};

// RocksDB iterators over the chunks column family, handed from series to series of one query.
// Creating one per series (a version reference, an iterator per memtable, L0 file and level)
// and seeking it afresh took about a tenth of a query's CPU over many series; a reused
// iterator keeps its files and index blocks open. The iterators keep the memtables and table files they
// were created on until the pool goes, with the query's set and its series' iterators.
// Thread-safe: series may be read on several threads.
class ChunkIteratorPool {
 public:
  // An iterator and the upper bound it reads to, which its holder may change between seeks.
  struct Entry {
    ~Entry();  // out of line: rocksdb::Iterator is incomplete here
    std::string upper;
    rocksdb::Slice bound;                   // of `upper`
    std::unique_ptr<rocksdb::Iterator> it;  // its iterate_upper_bound is &bound
  };

  // The DB must outlive the pool.
  ChunkIteratorPool(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* chunks)
      : db_(db), chunks_(chunks) {}
  ChunkIteratorPool(const ChunkIteratorPool&) = delete;
  ChunkIteratorPool& operator=(const ChunkIteratorPool&) = delete;
  ~ChunkIteratorPool();

  // A free iterator, or a new one. An iterator sees the chunks written before it was created:
  // the head chunks a query copied before its first Take hold the newer samples, so reading
  // with an iterator created earlier in the query loses none.
  std::unique_ptr<Entry> Take();
  void Return(std::unique_ptr<Entry> entry);

 private:
  rocksdb::DB* const db_;
  rocksdb::ColumnFamilyHandle* const chunks_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Entry>> free_ ABSL_GUARDED_BY(mu_);
};

struct ChunkSource {
  std::shared_ptr<ChunkIteratorPool> chunks;  // over the chunks column family
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
