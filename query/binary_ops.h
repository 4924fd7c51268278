#pragma once

// PromQL binary operators: arithmetic, comparison (filtering or `bool`) and set operators
// (and, or, unless) between scalars and vectors, with one-to-one, many-to-one and one-to-many
// vector matching (on/ignoring, group_left/group_right). Errors carry Prometheus's wording.

#include "absl/status/statusor.h"
#include "query/ast.h"
#include "query/eval_value.h"

namespace kura::query {

class Evaluator;

absl::StatusOr<EvalValue> EvalBinary(Evaluator& ev, const BinaryExpr& e);

}  // namespace kura::query
