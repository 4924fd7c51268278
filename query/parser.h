#pragma once

// The PromQL parser: text -> AST, with Prometheus's grammar, precedence, type checks and error
// wording ("1:5: parse error: unexpected ..." positions are line:column, 1-based).

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "model/matcher.h"
#include "query/ast.h"

namespace kura::query {

struct ParserOptions {
  bool enable_experimental_functions = true;  // limitk, limit_ratio, sort_by_label, ...
  // The `anchored` and `smoothed` selector modifiers (promql-extended-range-selectors).
  bool enable_extended_range_selectors = false;
  // fill(v), fill_left(v), fill_right(v) after a binary operator (Prometheus's
  // promql-binop-fill-modifiers); off by default, as there.
  bool enable_binop_fill_modifiers = false;
};

// InvalidArgument on any syntax or type error.
absl::StatusOr<ExprPtr> ParseExpr(std::string_view input, const ParserOptions& options = {});

// A series selector as used by match[] (e.g. `up{job="x"}`, `{__name__=~"node_.*"}`).
absl::StatusOr<std::vector<model::LabelMatcher>> ParseMetricSelector(std::string_view input);

// Prometheus duration syntax ("1h30m", "10s53ms", "0") -> milliseconds.
absl::StatusOr<int64_t> ParseDuration(std::string_view input);

}  // namespace kura::query
