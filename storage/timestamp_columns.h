#pragma once

// TimestampColumns: the shared timestamp columns of a node's packed chunks. Series scraped by
// one scrape have the very same timestamps, so compaction stores each distinct column once per
// partition in the chunks family (keys.h: TimestampColumnKey) and the packed chunks name it by
// its content hash (storage/packed_chunk.h). Readers resolve them here; recently used columns
// stay decoded, within a byte budget. Thread-safe.
//
// Example:
//   TimestampColumns columns(db, chunks_family, 16 << 20);
//   std::unique_ptr<model::SampleIterator> it = columns.NewIterator(partition, stored_bytes);

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "model/series_set.h"
#include "storage/packed_chunk.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
}  // namespace rocksdb

namespace kura::storage {

class TimestampColumns {
 public:
  TimestampColumns(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* chunks, int64_t cache_bytes)
      : db_(db), chunks_(chunks), cache_bytes_(cache_bytes) {}

  // An iterator over `chunk`, stored in `partition`, in [min_time_ms, max_time_ms], with its
  // timestamp column when it names one. The iterator owns what it needs: `chunk` may go away.
  std::unique_ptr<model::SampleIterator> NewIterator(int64_t partition, std::string_view chunk,
                                                     int64_t min_time_ms = INT64_MIN,
                                                     int64_t max_time_ms = INT64_MAX) const;

  // The column `id` of `partition`. DataLoss when it is missing or corrupt.
  absl::StatusOr<std::shared_ptr<const TimestampColumn>> Get(int64_t partition,
                                                             uint64_t id) const;

 private:
  rocksdb::DB* const db_;
  rocksdb::ColumnFamilyHandle* const chunks_;
  const int64_t cache_bytes_;
  mutable absl::Mutex mu_;
  mutable absl::flat_hash_map<std::pair<int64_t, uint64_t>, std::shared_ptr<const TimestampColumn>>
      cache_ ABSL_GUARDED_BY(mu_);
  mutable int64_t cached_bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace kura::storage
