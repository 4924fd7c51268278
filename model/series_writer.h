#pragma once

#include "absl/status/status.h"
#include "model/write_batch.h"

namespace kura::model {

// Accepts batches of samples. Implemented by storage::Node (standalone) and shard::Router
// (cluster). Thread-safe.
class SeriesWriter {
 public:
  virtual ~SeriesWriter() = default;
  // Returns OK only once every sample in `batch` is durable. A batch is applied whole or not at
  // all: InvalidArgument (e.g. an out-of-order sample, naming the series) means nothing of it
  // was written; ResourceExhausted / Unavailable mean "retry later".
  virtual absl::Status Write(const WriteBatch& batch) = 0;
};

}  // namespace kura::model
