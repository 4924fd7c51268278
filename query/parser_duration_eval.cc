#include "query/parser_duration_eval.h"

#include <algorithm>
#include <cmath>
#include <variant>

#include "base/status_macros.h"

namespace kura::query {
namespace {

// Largest |seconds| whose nanosecond count fits an int64.
constexpr double kMaxDurationSeconds = 9223372036.854775807;

absl::StatusOr<double> EvalSeconds(const DurationExpr& d, double step_s, double range_s) {
  using Op = DurationExpr::Op;
  switch (d.op) {
    case Op::kNumber:
      return d.seconds;
    case Op::kStep:
      return step_s;
    case Op::kRange:
      return range_s;
    default:
      break;
  }
  ASSIGN_OR_RETURN(const double rhs, EvalSeconds(*d.rhs, step_s, range_s));
  if (d.lhs == nullptr) return d.op == Op::kSub ? -rhs : rhs;
  ASSIGN_OR_RETURN(const double lhs, EvalSeconds(*d.lhs, step_s, range_s));
  switch (d.op) {
    case Op::kAdd:
      return lhs + rhs;
    case Op::kSub:
      return lhs - rhs;
    case Op::kMul:
      return lhs * rhs;
    case Op::kDiv:
      if (rhs == 0) return absl::InvalidArgumentError("division by zero");
      return lhs / rhs;
    case Op::kMod:
      if (rhs == 0) return absl::InvalidArgumentError("modulo by zero");
      return std::fmod(lhs, rhs);
    case Op::kPow:
      return std::pow(lhs, rhs);
    case Op::kMinOf:
      return std::min(lhs, rhs);
    case Op::kMaxOf:
      return std::max(lhs, rhs);
    default:
      break;
  }
  return absl::InternalError("unexpected duration expression operator");
}

absl::Status Resolve(const DurationExprPtr& expr, int64_t step_ms, int64_t range_ms,
                     bool allow_negative, int64_t* out) {
  if (expr == nullptr) return absl::OkStatus();
  ASSIGN_OR_RETURN(*out, ResolveDurationMs(*expr, step_ms, range_ms, allow_negative));
  return absl::OkStatus();
}

}  // namespace

bool DependsOnQueryTiming(const DurationExpr& expr) {
  if (expr.op == DurationExpr::Op::kStep || expr.op == DurationExpr::Op::kRange) return true;
  return (expr.lhs != nullptr && DependsOnQueryTiming(*expr.lhs)) ||
         (expr.rhs != nullptr && DependsOnQueryTiming(*expr.rhs));
}

absl::StatusOr<int64_t> ResolveDurationMs(const DurationExpr& expr, int64_t step_ms,
                                          int64_t range_ms, bool allow_negative) {
  ASSIGN_OR_RETURN(const double seconds, EvalSeconds(expr, static_cast<double>(step_ms) / 1000.0,
                                                     static_cast<double>(range_ms) / 1000.0));
  if (seconds <= 0 && !allow_negative) {
    return absl::InvalidArgumentError("duration must be greater than 0");
  }
  if (!(std::abs(seconds) <= kMaxDurationSeconds)) {
    return absl::InvalidArgumentError("duration is out of range");
  }
  // Go's time.Duration(seconds*1000) truncates toward zero.
  return static_cast<int64_t>(seconds * 1000);
}

absl::Status ResolveDurationExprs(Expr& expr, int64_t step_ms, int64_t range_ms) {
  Expr::Node& node = expr.node;
  if (auto* vs = std::get_if<VectorSelector>(&node)) {
    return Resolve(vs->offset_expr, step_ms, range_ms, true, &vs->offset_ms);
  }
  if (auto* ms = std::get_if<MatrixSelector>(&node)) {
    RETURN_IF_ERROR(ResolveDurationExprs(*ms->selector, step_ms, range_ms));
    return Resolve(ms->range_expr, step_ms, range_ms, false, &ms->range_ms);
  }
  if (auto* sq = std::get_if<SubqueryExpr>(&node)) {
    RETURN_IF_ERROR(Resolve(sq->offset_expr, step_ms, range_ms, true, &sq->offset_ms));
    RETURN_IF_ERROR(Resolve(sq->step_expr, step_ms, range_ms, false, &sq->step_ms));
    RETURN_IF_ERROR(Resolve(sq->range_expr, step_ms, range_ms, false, &sq->range_ms));
    return ResolveDurationExprs(*sq->expr, step_ms, range_ms);
  }
  if (auto* call = std::get_if<Call>(&node)) {
    for (ExprPtr& arg : call->args) RETURN_IF_ERROR(ResolveDurationExprs(*arg, step_ms, range_ms));
    return absl::OkStatus();
  }
  if (auto* agg = std::get_if<AggregateExpr>(&node)) {
    if (agg->param != nullptr)
      RETURN_IF_ERROR(ResolveDurationExprs(*agg->param, step_ms, range_ms));
    return ResolveDurationExprs(*agg->expr, step_ms, range_ms);
  }
  if (auto* bin = std::get_if<BinaryExpr>(&node)) {
    RETURN_IF_ERROR(ResolveDurationExprs(*bin->lhs, step_ms, range_ms));
    return ResolveDurationExprs(*bin->rhs, step_ms, range_ms);
  }
  if (auto* unary = std::get_if<UnaryExpr>(&node)) {
    return ResolveDurationExprs(*unary->expr, step_ms, range_ms);
  }
  if (auto* paren = std::get_if<ParenExpr>(&node)) {
    return ResolveDurationExprs(*paren->expr, step_ms, range_ms);
  }
  return absl::OkStatus();
}

}  // namespace kura::query
