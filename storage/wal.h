#pragma once

// The write-ahead log: one record per accepted write, kept in the "wal" column family under an
// increasing sequence number and written in the same RocksDB batch (and RocksDB WAL write) as
// the index entries it needs. Records are deleted once a checkpoint covers them. Format in
// docs/format/keys.md.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/types/span.h"
#include "model/sample.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class WriteBatch;
}  // namespace rocksdb

namespace kura::storage {

// Nearly every series of a remote-write request carries one sample: inline, not allocated.
using WalSamples = absl::InlinedVector<model::Sample, 1>;

// The samples one record holds for one series.
struct WalSeriesSamples {
  uint64_t ref = 0;
  WalSamples samples;
};

// Appends the encoded record to `dst`.
void EncodeWalRecord(absl::Span<const WalSeriesSamples> series, std::string* dst);
// False on malformed input.
bool DecodeWalRecord(std::string_view in, std::vector<WalSeriesSamples>* out);

// Thread-compatible: the node serializes writers.
class Wal {
 public:
  // `db` and `family` are not owned and must outlive the Wal.
  Wal(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family) : db_(db), family_(family) {}

  // Finds the next sequence number after the records on disk.
  absl::Status Init();

  // Adds `record` to `batch` under a new sequence number, which it returns.
  uint64_t AddToBatch(std::string_view record, rocksdb::WriteBatch* batch);
  // Adds the deletion of every record with sequence < `end` to `batch`.
  void AddTruncateToBatch(uint64_t end, rocksdb::WriteBatch* batch);

  // Calls `fn` for every record in sequence order; stops at its first error.
  absl::Status Replay(
      absl::FunctionRef<absl::Status(uint64_t sequence, std::string_view record)> fn) const;

  uint64_t next_sequence() const { return next_sequence_; }

 private:
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* family_;
  uint64_t next_sequence_ = 1;
};

}  // namespace kura::storage
