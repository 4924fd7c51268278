#pragma once

// The one translation of rocksdb::Status into absl::Status.

#include <string_view>

#include "absl/status/status.h"

namespace rocksdb {
class Status;
}

namespace kura::storage {

// OK stays OK. Disk and transient errors become Unavailable (the caller may retry), corruption
// DataLoss, NotFound NotFound, a held LOCK file (another process owns the directory)
// FailedPrecondition; anything else Internal. `context` says what was being done.
absl::Status FromRocksDB(const rocksdb::Status& status, std::string_view context);

}  // namespace kura::storage
