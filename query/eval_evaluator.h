#pragma once

// Evaluator: evaluates one AST over a range of steps [start, end] spaced by `interval`, the way
// Prometheus's evaluator does (an instant query is a range of one step). Selectors and range
// functions work series-at-a-time; operators that need every series of a step (vector matching,
// sort, label functions) work step-at-a-time through RangeEval().
//
// Not thread-safe: one query owns its evaluators. Subqueries evaluate in a child evaluator
// sharing the QueryContext.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "model/series_reader.h"
#include "query/ast.h"
#include "query/engine.h"
#include "query/eval_value.h"

namespace kura::query {

// State shared by every evaluator of one query.
struct QueryContext {
  model::SeriesReader* reader = nullptr;
  const EngineOptions* options = nullptr;
  int64_t query_start_ms = 0;  // what `@ start()` and `@ end()` mean
  int64_t query_end_ms = 0;
  int64_t query_step_ms = 0;  // 0 for instant queries, as step() reports
  absl::Time deadline = absl::InfiniteFuture();
  int64_t current_samples = 0;
  int64_t peak_samples = 0;
  int64_t total_queryable_samples = 0;
  Annotations annotations;

  // DeadlineExceeded once the query's time is up, Cancelled once options->cancelled says so.
  absl::Status CheckDeadline() const;
  // Accounts for `n` more samples held in memory; FailedPrecondition past max_samples.
  absl::Status AddSamples(int64_t n);
};

// One argument of a step-wise operator at one step.
struct StepArg {
  ValueType type = ValueType::kNone;
  const Vector* vector = nullptr;  // kVector
  double scalar = 0;               // kScalar
  std::string_view str;            // kString
};

class Evaluator {
 public:
  // REQUIRES: interval_ms > 0, end_ms >= start_ms.
  Evaluator(QueryContext* ctx, int64_t start_ms, int64_t end_ms, int64_t interval_ms);

  absl::StatusOr<EvalValue> Eval(const Expr& expr);

  int64_t start_ms() const { return start_ms_; }
  int64_t end_ms() const { return end_ms_; }
  int64_t interval_ms() const { return interval_ms_; }
  int64_t num_steps() const { return (end_ms_ - start_ms_) / interval_ms_ + 1; }
  int64_t StepTime(int64_t step) const { return start_ms_ + step * interval_ms_; }
  QueryContext& ctx() { return *ctx_; }
  bool delayed_name_removal() const { return ctx_->options->enable_delayed_name_removal; }

  // Removes the name now, or marks it for removal at the end under delayed name removal.
  void DropName(model::Labels* labels, bool* drop_name) const;

  // Calls `fn` once per step with the arguments' values at that step and merges the vectors
  // it appends to `out` into series. Errors on two equal label sets within one step.
  using StepFunction =
      absl::FunctionRef<absl::Status(absl::Span<const StepArg> args, int64_t ts, Vector* out)>;
  absl::StatusOr<EvalValue> RangeEval(absl::Span<const EvalValue* const> args, StepFunction fn);

  // A scalar value with `fn(step)` at every step.
  EvalValue ScalarValue(absl::FunctionRef<double(int64_t ts)> fn) const;

  // Raw points per series for a range argument (matrix selector or subquery): enough history
  // for every step's window. Also returns the selector's offset/@ for window placement.
  struct RangeInput {
    Matrix series;
    int64_t range_ms = 0;
    int64_t offset_ms = 0;
    AtModifier at = AtModifier::kNone;
    int64_t at_ms = 0;
    const VectorSelector* selector = nullptr;  // set for matrix selectors
    // History the series hold beyond each window (range_start - before, range_end + after]:
    // the lookback delta on the left for `anchored` and on both sides for `smoothed`.
    int64_t before_ms = 0;
    int64_t after_ms = 0;
    // Set by the caller: a matrix selector's series come with their start timestamps.
    bool with_starts = false;
  };
  absl::StatusOr<RangeInput> EvalRangeInput(const Expr& expr);
  // The same one series at a time: `in` gets everything but the series, and `fn` each series
  // in turn. A matrix selector's series are read as `fn` goes (their buffer reused, so a
  // query over many series never holds all their samples); a subquery's are computed first.
  absl::Status ForEachRangeSeries(const Expr& expr, RangeInput* in,
                                  absl::FunctionRef<absl::Status(Series& series)> fn);
  // How many points a series with `samples` samples can have at most when each sample is
  // seen by the steps of a `window_ms` window (a hint to reserve, not a bound under `@`).
  size_t MaxPoints(size_t samples, int64_t window_ms) const {
    const auto per_sample = static_cast<size_t>(window_ms / interval_ms_ + 1);
    return std::min(static_cast<size_t>(num_steps()), samples * per_sample);
  }
  // The right end of the window evaluated at step time `ts`.
  int64_t WindowEnd(int64_t ts, AtModifier at, int64_t at_ms, int64_t offset_ms) const;

  // Instant vector selector; with `timestamps`, values are the samples' timestamps in seconds.
  absl::StatusOr<EvalValue> EvalVectorSelector(const VectorSelector& vs, bool timestamps);
  // The same one series at a time (`fn` may take the series' labels and points).
  absl::Status ForEachSelectorSeries(const VectorSelector& vs, bool timestamps,
                                     absl::FunctionRef<absl::Status(Series&)> fn);
  // The series `expr` evaluates to, one at a time in the order Eval would list them, without
  // collecting them: for a selector and for range-vector functions whose results cannot
  // share a label set (see ForEachCallSeries). False, calling nothing, for other expressions.
  absl::StatusOr<bool> ForEachSeries(const Expr& expr,
                                     absl::FunctionRef<absl::Status(Series&)> fn);
  // Instant vector selector with `smoothed`: values interpolated at each step between the
  // samples around it (within the lookback delta on either side).
  absl::StatusOr<EvalValue> EvalSmoothedSelector(const VectorSelector& vs);

 private:
  absl::StatusOr<EvalValue> EvalSubqueryMatrix(const SubqueryExpr& sq, int64_t* range_ms);
  absl::StatusOr<EvalValue> EvalTopLevelRange(const Expr& expr);
  absl::StatusOr<EvalValue> EvalUnary(const UnaryExpr& u);
  absl::StatusOr<std::unique_ptr<model::SeriesSet>> Select(const VectorSelector& vs,
                                                           int64_t mint, int64_t maxt);

  QueryContext* ctx_;
  int64_t start_ms_;
  int64_t end_ms_;
  int64_t interval_ms_;
};

// Merges series whose label sets became equal (after a name was dropped), as Prometheus's
// step-wise evaluation does; FailedPrecondition when two of them have a value at one time.
absl::Status MergeSameLabels(Matrix* matrix);

// Replaces `*samples` with every sample of `series`, stale markers included.
absl::Status ReadSamples(const model::Series& series, std::vector<model::Sample>* samples);

// Unwraps parentheses.
const Expr& UnwrapParens(const Expr& expr);

}  // namespace kura::query
