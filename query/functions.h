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
};

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
