#pragma once

// MetricMetadata: what a metric family is (its type, help and unit), as remote write carries it
// and /api/v1/metadata serves it.

#include <string>

namespace kura::model {

struct MetricMetadata {
  std::string family;  // the family's name, e.g. "http_request_duration_seconds"
  // Prometheus's word for the type: "counter", "gauge", "histogram", "gaugehistogram",
  // "summary", "info", "stateset" or "unknown".
  std::string type;
  std::string help;
  std::string unit;

  friend bool operator==(const MetricMetadata&, const MetricMetadata&) = default;
  // By family, then type, help and unit.
  friend auto operator<=>(const MetricMetadata&, const MetricMetadata&) = default;
};

}  // namespace kura::model
