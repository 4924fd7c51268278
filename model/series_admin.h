#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "model/matcher.h"

namespace kura::model {

// What Prometheus's TSDB admin API asks of the data: deleting series (delete_series,
// clean_tombstones), compacting and snapshots.
// Implemented by storage::Node. Thread-safe.
class SeriesAdmin {
 public:
  virtual ~SeriesAdmin() = default;

  // Deletes the samples in [min_time_ms, max_time_ms] (both inclusive) of every series matching
  // all `matchers`. Reads stop returning them as soon as this returns OK; their space is
  // reclaimed by CleanTombstones. Samples written after the call are not deleted.
  virtual absl::Status DeleteSeries(absl::Span<const LabelMatcher> matchers, int64_t min_time_ms,
                                    int64_t max_time_ms) = 0;

  // Rewrites the stored data that deletions cover without the deleted samples, so the space is
  // reclaimed.
  virtual absl::Status CleanTombstones() = 0;

  // Compacts the stored data now (merging and re-encoding chunks, dropping superseded data)
  // instead of in the background, so that its size on disk is what it settles at.
  virtual absl::Status Compact() = 0;

  // Prometheus's snapshot: saves a copy of everything acknowledged so far beside the data
  // (`snapshots/<name>` in the data directory, hard links where the files allow) and returns
  // its name, e.g. "20261202T101500Z-6f1d3c2a9b8e7d05". The copy is itself a data directory
  // that a node can be started on, to back up or move the data.
  virtual absl::StatusOr<std::string> Snapshot() = 0;
};

}  // namespace kura::model
