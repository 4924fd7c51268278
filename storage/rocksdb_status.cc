#include "storage/rocksdb_status.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/status.h"

namespace kura::storage {
namespace {

bool IsLockHeld(const rocksdb::Status& status) {
  const std::string text = status.ToString();
  return absl::StrContains(text, "While lock file") || absl::StrContains(text, "/LOCK:") ||
         absl::StrContains(text, "lock hold by current process");
}

}  // namespace

absl::Status FromRocksDB(const rocksdb::Status& status, std::string_view context) {
  if (status.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat(std::string(context), ": ", status.ToString());
  switch (status.code()) {
    case rocksdb::Status::kNotFound:
      return absl::NotFoundError(message);
    case rocksdb::Status::kCorruption:
      return absl::DataLossError(message);
    case rocksdb::Status::kIOError:
      // RocksDB reports a LOCK file held by another process (or another DB object in this
      // process) as an IOError mentioning the lock.
      if (IsLockHeld(status)) {
        return absl::FailedPreconditionError(
            absl::StrCat(std::string(context),
                         ": the data directory is in use by another open node or process (",
                         status.ToString(), ")"));
      }
      return absl::UnavailableError(message);
    case rocksdb::Status::kBusy:
    case rocksdb::Status::kTimedOut:
    case rocksdb::Status::kTryAgain:
    case rocksdb::Status::kIncomplete:
    case rocksdb::Status::kShutdownInProgress:
    case rocksdb::Status::kAborted:
      return absl::UnavailableError(message);
    case rocksdb::Status::kInvalidArgument:
    case rocksdb::Status::kNotSupported:
      return absl::FailedPreconditionError(message);
    default:
      return absl::InternalError(message);
  }
}

}  // namespace kura::storage
