#pragma once

// WriteBatch: the series (labels + samples) that one write carries, and the metadata of metric
// families it may carry besides.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/labels.h"
#include "model/metadata.h"
#include "model/sample.h"

namespace kura::model {

struct TimeSeries {
  Labels labels;
  std::vector<Sample> samples;  // ascending timestamps
  // Empty, or one per sample: its start timestamp (SampleIterator::StartAt), 0 if unknown.
  std::vector<int64_t> start_timestamps_ms;
};

struct WriteBatch {
  std::vector<TimeSeries> series;
  // How the sender describes metric families (Prometheus sends every family's once a minute,
  // in requests of their own); each replaces what was known of its family.
  std::vector<MetricMetadata> metadata;

  size_t NumSamples() const {
    size_t n = 0;
    for (const auto& s : series) n += s.samples.size();
    return n;
  }
};

}  // namespace kura::model
