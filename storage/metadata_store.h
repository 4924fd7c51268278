#pragma once

// MetadataStore: the metadata of metric families (type, help, unit), the latest description of
// each, as remote write delivers it. There is one entry per family, a few thousand at most, so
// all of them live in memory and reads are served from there; the "metadata" column family
// (key: the family name; docs/format/keys.md) makes them durable.

#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "model/metadata.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
struct WriteOptions;
}  // namespace rocksdb

namespace kura::storage {

// Thread-safe.
class MetadataStore {
 public:
  // Neither is owned; both must outlive the store.
  MetadataStore(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family) : db_(db), family_(family) {}

  MetadataStore(const MetadataStore&) = delete;
  MetadataStore& operator=(const MetadataStore&) = delete;

  // Reads every entry from disk.
  absl::Status Load();

  // Each entry replaces its family's, durably before it is visible. Only entries that change
  // something are written, so a sender repeating every family's once a minute costs a lookup
  // per family. Of entries for one family, the last counts.
  absl::Status Update(absl::Span<const model::MetricMetadata> entries,
                      const rocksdb::WriteOptions& options);

  // Every family's entry, or only `family`'s when not empty; sorted by family.
  std::vector<model::MetricMetadata> Get(std::string_view family) const;

 private:
  rocksdb::DB* const db_;
  rocksdb::ColumnFamilyHandle* const family_;
  mutable absl::Mutex mu_;
  absl::btree_map<std::string, model::MetricMetadata> entries_ ABSL_GUARDED_BY(mu_);
};

// The column family's value for an entry, and back: type, help and unit, each as a varint
// length and its bytes. Parse returns false on malformed bytes.
std::string EncodeMetadataValue(const model::MetricMetadata& metadata);
bool ParseMetadataValue(std::string_view value, model::MetricMetadata* metadata);

}  // namespace kura::storage
