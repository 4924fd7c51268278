#pragma once

// SelectStream: one storage node's answer to a Select, pulled series by series as it arrives,
// in the house iterator shape. shard::NodeClient opens one over gRPC; shard::ReadAhead reads one
// ahead on its own thread; MergeSelectStreams (shard/series_merge.h) merges several.

#include "absl/status/status.h"
#include "shard/encoded_series.h"

namespace kura::shard {

// Not thread-safe, except Cancel().
class SelectStream {
 public:
  virtual ~SelectStream() = default;
  // Advances to the next entry; false at the end or on error (see status()). Entries are sorted
  // by labels; one series may span consecutive entries.
  virtual bool Next() = 0;
  // REQUIRES: the last Next() returned true. The caller may move the chunks out.
  virtual EncodedSeries& At() = 0;
  virtual absl::Status status() const = 0;
  // Thread-safe: ends the stream early; a Next() waiting on the node returns false soon after.
  virtual void Cancel() = 0;
};

}  // namespace kura::shard
