#pragma once

// Evaluation of duration expressions (Prometheus's promql/durations.go). step() and range()
// depend on the query, so the engine resolves every expression of a parsed query once, before
// evaluating it, into the selectors' millisecond fields; the parser folds the constant ones.

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "query/ast.h"

namespace kura::query {

// True when `expr` uses step() or range().
bool DependsOnQueryTiming(const DurationExpr& expr);

// Evaluates `expr` with step() = `step_ms` and range() = `range_ms`, into whole milliseconds
// (truncated, as Prometheus does). InvalidArgument on division or modulo by zero, a result out
// of range, or a result <= 0 unless `allow_negative` (offsets may be negative).
absl::StatusOr<int64_t> ResolveDurationMs(const DurationExpr& expr, int64_t step_ms,
                                          int64_t range_ms, bool allow_negative);

// Resolves every duration expression in the tree under `expr` into its selector's range_ms,
// step_ms or offset_ms. `step_ms` is the query step (0 for an instant query) and `range_ms`
// the query's end minus its start.
absl::Status ResolveDurationExprs(Expr& expr, int64_t step_ms, int64_t range_ms);

}  // namespace kura::query
