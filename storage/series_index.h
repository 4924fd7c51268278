#pragma once

// SeriesIndex: labels <-> dense uint64 series ref, stored in the "series" column family. A ref
// is assigned on a series' first write and never reused.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "model/labels.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class WriteBatch;
}  // namespace rocksdb

namespace kura::storage {

// Lookups are thread-safe; AllocateRef is thread-compatible (the node serializes writers).
class SeriesIndex {
 public:
  // `db` and `family` are not owned and must outlive the index.
  SeriesIndex(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family) : db_(db), family_(family) {}

  // Finds the next free ref after the refs on disk.
  absl::Status Init();

  // The ref of a stored series, or nullopt when the series was never written.
  absl::StatusOr<std::optional<uint64_t>> Lookup(std::string_view canonical_labels) const;
  // The labels of each ref, in order. DataLoss when one is missing.
  absl::StatusOr<std::vector<model::Labels>> LabelsOf(absl::Span<const uint64_t> refs) const;
  // The same as canonical bytes (model::Labels::CanonicalBytes), as stored: no parsing.
  absl::StatusOr<std::vector<std::string>> CanonicalLabelsOf(absl::Span<const uint64_t> refs) const;

  // A new ref; it becomes durable only with AddToBatch's batch.
  uint64_t AllocateRef() { return next_ref_++; }
  // Adds both directions of the mapping to `batch`.
  void AddToBatch(uint64_t ref, std::string_view canonical_labels,
                  rocksdb::WriteBatch* batch) const;

 private:
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* family_;
  uint64_t next_ref_ = 1;
};

}  // namespace kura::storage
