#pragma once

// PromQL function calls: the function table (name -> implementation) and the evaluation of a
// Call node. Range-vector functions (rate, *_over_time, ...) run series-at-a-time over a
// sliding window; element-wise functions (abs, clamp, hour, ...) map each series' points;
// functions that need a whole step's vector (sort, label_replace, histogram_quantile, absent)
// run step-at-a-time.

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "query/ast.h"
#include "query/eval_value.h"

namespace kura::query {

class Evaluator;

// The samples of one series inside one step's window (range_start_ms, range_end_ms].
struct RangeWindow {
  absl::Span<const FloatPoint> points;
  int64_t range_start_ms = 0;
  int64_t range_end_ms = 0;
  int64_t range_ms = 0;
  double range_seconds = 0;  // range_ms / 1000, computed once per call rather than per window
  int64_t step_ms = 0;        // the evaluation time of the step (predict_linear's origin)
  const double* params = nullptr;  // the call's scalar arguments at this step, in order
  // Set for an `anchored` or `smoothed` selector: `points` then also hold the samples up to the
  // lookback delta before range_start_ms (and, when smoothed, after range_end_ms).
  bool anchored = false;
  bool smoothed = false;
  // Where the caller counted them: counter resets (a value below the one before) from the
  // series' first point through each of `points`, one per point. Equal first and last counts
  // mean no reset in the window, and rate() and increase() skip their scan for one.
  absl::Span<const uint32_t> resets;
  // Empty, or the start timestamps of `points` (0: unknown), for rate(), increase(), irate()
  // and resets() with use-start-timestamps.
  absl::Span<const int64_t> starts;
  // Set by rate() and increase() when a start timestamp in the window overlaps the sample
  // before it (see StartOverlaps); the caller then warns.
  bool* start_overlap = nullptr;
};

// Prometheus's isStartTimestampReset: whether the counter restarted between two samples, as
// their start timestamps tell. A start after the previous sample is a reset. A start at the
// previous sample is one for a delta series (each sample starts where the last one ended) but
// not for a cumulative one whose start is unknown (OpenTelemetry then repeats the previous
// timestamp), told apart by the previous sample's own start. Unknown (0) or impossible
// starts (at or after the sample) say nothing.
inline bool IsStartTimestampReset(int64_t prev_start, int64_t prev_t, int64_t start, int64_t t) {
  if (start == 0 || start >= t || start < prev_t) return false;
  if (start > prev_t) return true;
  if (prev_start > prev_t) return false;  // invalid: treated as unknown
  return prev_start != 0 && prev_start != prev_t;
}

// Prometheus's checkStartTimeOverlap: a start before the previous sample that is not the
// previous sample's own start, so the two samples claim overlapping intervals.
inline bool StartOverlaps(int64_t prev_start, int64_t prev_t, int64_t start) {
  return start != 0 && start < prev_t && start != prev_start;
}

// Returns the function's value for one window, or nullopt for "no sample".
using RangeFunction = std::optional<double> (*)(const RangeWindow& window);

// Maps one value; `params` are the call's scalar arguments after the vector, at this step.
// Returns nullopt to drop the sample.
using ElementFunction = std::optional<double> (*)(double v, const double* params);

// The range-vector function named `name`, or nullptr.
RangeFunction FindRangeFunction(std::string_view name);
// The element-wise function named `name`, or nullptr.
ElementFunction FindElementFunction(std::string_view name);

// Evaluates a function call in `ev`'s step range.
absl::StatusOr<EvalValue> EvalCall(Evaluator& ev, const Call& call);

// For a range-vector function over a selector whose results cannot share a label set (the
// name is kept, or removed only at the end, or the selector names one metric): calls `fn`
// with each result series in turn, as EvalCall would list them, and returns true. False,
// calling nothing, for every other call.
absl::StatusOr<bool> ForEachCallSeries(Evaluator& ev, const Call& call,
                                       absl::FunctionRef<absl::Status(Series& series)> fn);

}  // namespace kura::query
