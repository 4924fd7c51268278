#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "model/matcher.h"

namespace kura::model {

// Deletes series data, as Prometheus's admin API (delete_series, clean_tombstones) asks.
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
};

}  // namespace kura::model
