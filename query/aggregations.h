#pragma once

// PromQL aggregation operators (sum, avg, min, max, count, group, stddev, stdvar, topk,
// bottomk, quantile, count_values, limitk, limit_ratio) with by/without, evaluated
// series-at-a-time: each input series is assigned its group once, then every step folds the
// series present at that step into their groups. Output order and label sets follow
// Prometheus.

#include "absl/status/statusor.h"
#include "query/ast.h"
#include "query/eval_value.h"

namespace kura::query {

class Evaluator;

absl::StatusOr<EvalValue> EvalAggregate(Evaluator& ev, const AggregateExpr& agg);

}  // namespace kura::query
