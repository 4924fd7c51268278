#pragma once

// The experimental info(v [, data-label-selector]) function: enriches each series of `v` with
// the data labels of the info series (target_info, or the metrics the selector's __name__
// matchers pick) that share its identifying labels `instance` and `job`, as Prometheus's
// promql/info.go does.

#include "absl/status/statusor.h"
#include "query/ast.h"
#include "query/eval_evaluator.h"
#include "query/eval_value.h"

namespace kura::query {

// Evaluates `call`, an info() call whose optional second argument is a label-only selector.
absl::StatusOr<EvalValue> EvalInfo(Evaluator& ev, const Call& call);

}  // namespace kura::query
