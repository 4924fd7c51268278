#pragma once

// The PromQL abstract syntax tree: a closed set of plain structs held in Expr's variant. The
// engine dispatches on the variant in one Eval function; the parser builds it; String() prints
// it back in Prometheus's canonical form (used by format_query and error messages).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "model/matcher.h"

namespace kura::query {

enum class ValueType { kNone, kScalar, kVector, kMatrix, kString };

// Go's promql/parser ValueType strings ("vector", "none", ...): result types in the API and the
// syntax tree, and parse errors.
std::string_view ValueTypeName(ValueType t);

// Byte offsets into the query text, [start, end).
struct PositionRange {
  int start = 0;
  int end = 0;
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

// How `@` pins an evaluation time.
enum class AtModifier { kNone, kTimestamp, kStart, kEnd };

// A duration expression (`[26m+4m]`, `[step()*2]`, `offset -min_of(step(), 1s)`): arithmetic
// over literals, step() and range(). Selectors keep the expression for printing and for the
// engine, which resolves it once per query into the selector's plain millisecond fields. A
// lone literal is never held here: the parser stores it in the millisecond field directly.
// Immutable once parsed, hence shared (selectors stay copyable).
struct DurationExpr {
  enum class Op { kNumber, kAdd, kSub, kMul, kDiv, kMod, kPow, kStep, kRange, kMinOf, kMaxOf };
  Op op = Op::kNumber;
  double seconds = 0;             // kNumber
  bool duration_literal = false;  // kNumber written with units (prints as "1m30s")
  bool wrapped = false;           // written in parentheses
  int pos = 0;                    // byte offset of the first character, for errors
  // Binary operators and min_of/max_of use both; unary `-` (and the `+` that wraps a
  // parenthesized literal) has only `rhs`.
  std::shared_ptr<const DurationExpr> lhs;
  std::shared_ptr<const DurationExpr> rhs;

  // As Prometheus prints it, e.g. "26m + 4m", "-(1m)", "min_of(step(), 1s)".
  std::string String() const;
};
using DurationExprPtr = std::shared_ptr<const DurationExpr>;

struct NumberLiteral {
  double value = 0;
};

struct StringLiteral {
  std::string value;
};

// `name{l="v", ...} [offset d] [@ t]`. `matchers` includes the __name__ matcher when a name
// was given.
struct VectorSelector {
  std::string name;
  std::vector<model::LabelMatcher> matchers;
  int64_t offset_ms = 0;  // positive looks back in time; negative forward
  AtModifier at = AtModifier::kNone;
  int64_t at_ms = 0;  // when at == kTimestamp
  DurationExprPtr offset_expr;  // set for `offset <duration expression>`; resolves offset_ms
  // The `anchored` / `smoothed` modifiers (mutually exclusive). On a range selector they live
  // here too, as in Prometheus: anchored takes the last sample at or before the window's start
  // as its left edge; smoothed interpolates values at both edges (and, on an instant selector,
  // at each step).
  bool anchored = false;
  bool smoothed = false;
};

// `selector[range]`. `selector` holds a VectorSelector (which carries offset and @).
struct MatrixSelector {
  ExprPtr selector;
  int64_t range_ms = 0;
  DurationExprPtr range_expr;  // set for `[<duration expression>]`; resolves range_ms
};

// `expr[range:step] [offset d] [@ t]`; step_ms == 0 means the default evaluation interval.
struct SubqueryExpr {
  ExprPtr expr;
  int64_t range_ms = 0;
  int64_t step_ms = 0;
  int64_t offset_ms = 0;
  AtModifier at = AtModifier::kNone;
  int64_t at_ms = 0;
  // Duration expressions that resolve range_ms, step_ms and offset_ms when set.
  DurationExprPtr range_expr;
  DurationExprPtr step_expr;
  DurationExprPtr offset_expr;
};

// A function call; `name` is the PromQL function name (e.g. "rate").
struct Call {
  std::string name;
  std::vector<ExprPtr> args;
};

enum class AggregateOp {
  kSum, kAvg, kMin, kMax, kCount, kGroup, kStddev, kStdvar, kTopk, kBottomk, kQuantile,
  kCountValues, kLimitk, kLimitRatio
};

// `op [by|without (labels)] ([param,] expr)`.
struct AggregateExpr {
  AggregateOp op = AggregateOp::kSum;
  ExprPtr expr;
  ExprPtr param;  // topk/bottomk/quantile/count_values/limitk/limit_ratio only
  std::vector<std::string> grouping;
  bool without = false;
  bool grouping_given = false;  // `by ()` differs from no clause only when printing
};

enum class BinaryOp {
  kAdd, kSub, kMul, kDiv, kMod, kPow, kAtan2,
  kEql, kNeq, kGtr, kLss, kGte, kLte,
  kAnd, kOr, kUnless
};

enum class VectorMatchCardinality { kOneToOne, kManyToOne, kOneToMany, kManyToMany };

struct VectorMatching {
  VectorMatchCardinality card = VectorMatchCardinality::kOneToOne;
  std::vector<std::string> matching_labels;  // the on(...) or ignoring(...) list
  bool on = false;                           // true: on(...); false: ignoring(...)
  std::vector<std::string> include;          // group_left/group_right(...) extra labels
  // fill(v) / fill_left(v) / fill_right(v): the value that stands in for a missing sample on
  // that side. As in Prometheus, they name the sides after group_right's swap of the "one" side
  // to the right, not the written order.
  std::optional<double> fill_lhs;
  std::optional<double> fill_rhs;
};

struct BinaryExpr {
  BinaryOp op = BinaryOp::kAdd;
  ExprPtr lhs;
  ExprPtr rhs;
  bool return_bool = false;
  // Set when both sides are vectors (or a matching clause was written).
  std::optional<VectorMatching> matching;
};

struct UnaryExpr {
  bool negate = false;  // '-' when true, '+' otherwise
  ExprPtr expr;
};

struct ParenExpr {
  ExprPtr expr;
};

struct Expr {
  using Node = std::variant<NumberLiteral, StringLiteral, VectorSelector, MatrixSelector,
                            SubqueryExpr, Call, AggregateExpr, BinaryExpr, UnaryExpr, ParenExpr>;
  Node node;
  PositionRange pos;
  ValueType type = ValueType::kNone;  // set by the parser's type check

  // Canonical PromQL text, as Prometheus's String() prints it.
  std::string String() const;
};

std::string_view AggregateOpName(AggregateOp op);
std::string_view BinaryOpName(BinaryOp op);
bool IsComparisonOp(BinaryOp op);
bool IsSetOp(BinaryOp op);

}  // namespace kura::query
