#pragma once

// Functions that need a whole step's vector at once: sort*, label_replace, label_join,
// histogram_quantile, absent, vector. Called per step through Evaluator::RangeEval().

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "query/ast.h"
#include "query/eval_evaluator.h"
#include "query/eval_value.h"

namespace kura::query {

struct VectorCall {
  absl::Span<const StepArg> args;
  int64_t ts = 0;
  const Call* call = nullptr;
  Evaluator* ev = nullptr;
  Vector* out = nullptr;
};

using VectorFunction = absl::Status (*)(const VectorCall& c);

// The step-wise function named `name`, or nullptr.
VectorFunction FindVectorFunction(std::string_view name);

// Labels absent() and absent_over_time() give their result: the `=` matchers of a selector.
model::Labels AbsentLabels(const Expr& arg);

}  // namespace kura::query
