#pragma once

// Tombstones: the time intervals deleted from series by the admin API, per series ref. They are
// few (deletions are rare and CleanTombstones removes them), so all of them live in memory and
// every read consults them there; the "tombstones" column family makes them durable.

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
}  // namespace rocksdb

namespace kura::storage {

// Both ends inclusive.
struct TimeInterval {
  int64_t min_time_ms = 0;
  int64_t max_time_ms = 0;

  bool Contains(int64_t t) const { return min_time_ms <= t && t <= max_time_ms; }
  bool Overlaps(int64_t min_ms, int64_t max_ms) const {
    return min_time_ms <= max_ms && min_ms <= max_time_ms;
  }
};

// Thread-safe.
class Tombstones {
 public:
  // Neither is owned; both must outlive the tombstones.
  Tombstones(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family) : db_(db), family_(family) {}

  Tombstones(const Tombstones&) = delete;
  Tombstones& operator=(const Tombstones&) = delete;

  // Reads every tombstone from disk.
  absl::Status Load();

  // Adds the intervals durably (a synced write) before they take effect.
  absl::Status Add(absl::Span<const std::pair<uint64_t, TimeInterval>> entries);
  // Replaces the intervals of `ref`; none left removes its tombstones.
  absl::Status Replace(uint64_t ref, std::vector<TimeInterval> intervals);

  // The deleted intervals of `ref`, sorted by min time; empty when it has none.
  std::vector<TimeInterval> Of(uint64_t ref) const;
  // Every ref with tombstones, ascending.
  std::vector<uint64_t> Refs() const;
  bool empty() const;
  size_t num_series() const;

 private:
  rocksdb::DB* const db_;
  rocksdb::ColumnFamilyHandle* const family_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, std::vector<TimeInterval>> intervals_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kura::storage
