// Node::Rep's snapshot, Prometheus's admin/tsdb/snapshot: a copy of the node's data that is a
// data directory of its own.

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "rocksdb/utilities/checkpoint.h"
#include "storage/node.h"
#include "storage/node_rep.h"
#include "storage/rocksdb_status.h"

namespace kura::storage {

absl::StatusOr<std::string> Node::Rep::Snapshot() {
  // Named as Prometheus names them: UTC time, then random hex so that two in one second differ.
  absl::BitGen random;
  const std::string name =
      absl::StrCat(absl::FormatTime("%Y%m%dT%H%M%SZ", absl::Now(), absl::UTCTimeZone()), "-",
                   absl::Hex(absl::Uniform<uint64_t>(random, 0, uint64_t{1} << 63)));
  const std::filesystem::path parent = std::filesystem::path(options_.data_dir) / "snapshots";
  std::error_code error;
  std::filesystem::create_directories(parent, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("creating the snapshots directory: ", error.message()));
  }
  rocksdb::Checkpoint* raw = nullptr;
  RETURN_IF_ERROR(FromRocksDB(rocksdb::Checkpoint::Create(db_, &raw), "starting a snapshot"));
  const std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // After the head's own checkpoint RocksDB holds every acknowledged sample (open chunks
  // included) and the WAL nothing more, so a copy of RocksDB is the whole node. Writes wait
  // until the copy is taken, so none lands between the two.
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Checkpoint());
  // log_size_for_flush = 0: memtables are flushed first, so the copy is SST files (links).
  RETURN_IF_ERROR(FromRocksDB(checkpoint->CreateCheckpoint((parent / name).string(), 0),
                              "writing a snapshot"));
  return name;
}

absl::StatusOr<std::string> Node::Snapshot() { return rep_->Snapshot(); }

}  // namespace kura::storage
