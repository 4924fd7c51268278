#pragma once

// WriteBatch: the series (labels + samples) that one write carries.

#include <cstddef>
#include <vector>

#include "model/labels.h"
#include "model/sample.h"

namespace kura::model {

struct TimeSeries {
  Labels labels;
  std::vector<Sample> samples;  // ascending timestamps
};

struct WriteBatch {
  std::vector<TimeSeries> series;

  size_t NumSamples() const {
    size_t n = 0;
    for (const auto& s : series) n += s.samples.size();
    return n;
  }
};

}  // namespace kura::model
