#pragma once

// Query results as `promtool query ... -o json` prints them, normalized so that the answers of
// two servers can be compared: series sorted by their labels, timestamps in milliseconds,
// values as doubles.

#include <cstdint>
#include <string>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace kura::integration {

struct ResultPoint {
  int64_t timestamp_ms = 0;
  std::string text;  // as the server formatted it
  double value = 0;
};

struct ResultSeries {
  std::string labels;  // canonical: {a="1", b="2"} with names sorted
  std::vector<ResultPoint> points;
};

// Parses a vector, matrix or scalar printed by promtool's JSON output ("null" is empty).
absl::StatusOr<std::vector<ResultSeries>> ParsePromtoolJson(absl::string_view output);

// "" when `expected` and `actual` hold the same series in the same order with the same
// timestamps and values; values match exactly (NaN equals NaN) or, when `relative_tolerance` is
// above zero, within it. Otherwise a description of the first difference.
std::string DiffResults(const std::vector<ResultSeries>& expected,
                        const std::vector<ResultSeries>& actual, double relative_tolerance);

// Renders a result for failure messages, at most `max_series` series.
std::string FormatResults(const std::vector<ResultSeries>& results, size_t max_series = 10);

}  // namespace kura::integration
