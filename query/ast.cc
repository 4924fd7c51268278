#include "query/ast.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "query/lexer.h"

namespace kura::query {
namespace {

// Debian's Abseil has its own string_view type, so std::string_view goes through this.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Go's strconv.FormatFloat(v, 'f', -1, 64): the shortest decimal that reads back as `v`.
std::string FormatNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[400];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  if (ec != std::errc()) return absl::StrFormat("%f", v);
  return std::string(buf, end);
}

// Prometheus's model.Duration.String(): "1h30m", "90d" (years and weeks only when exact), "0s".
std::string FormatDuration(int64_t ms) {
  if (ms == 0) return "0s";
  std::string out;
  const auto unit = [&](std::string_view name, int64_t mult, bool exact) {
    if (exact && ms % mult != 0) return;
    if (const int64_t v = ms / mult; v > 0) {
      absl::StrAppend(&out, v, Sv(name));
      ms -= v * mult;
    }
  };
  constexpr int64_t kDay = 24LL * 60 * 60 * 1000;
  unit("y", 365 * kDay, true);
  unit("w", 7 * kDay, true);
  unit("d", kDay, false);
  unit("h", 60LL * 60 * 1000, false);
  unit("m", 60LL * 1000, false);
  unit("s", 1000, false);
  unit("ms", 1, false);
  return out;
}

std::string FormatOffset(int64_t offset_ms, const DurationExprPtr& expr) {
  if (expr != nullptr) return absl::StrCat(" offset ", expr->String());
  if (offset_ms > 0) return absl::StrCat(" offset ", FormatDuration(offset_ms));
  if (offset_ms < 0) return absl::StrCat(" offset -", FormatDuration(-offset_ms));
  return "";
}

// A range as written: the expression when there is one, else the resolved duration.
std::string FormatRange(int64_t range_ms, const DurationExprPtr& expr) {
  return expr != nullptr ? expr->String() : FormatDuration(range_ms);
}

std::string FormatAt(AtModifier at, int64_t at_ms) {
  switch (at) {
    case AtModifier::kNone: return "";
    case AtModifier::kTimestamp:
      return absl::StrFormat(" @ %.3f", static_cast<double>(at_ms) / 1000.0);
    case AtModifier::kStart: return " @ start()";
    case AtModifier::kEnd: return " @ end()";
  }
  return "";
}

bool IsLegacyName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string FormatLabels(const std::vector<std::string>& labels) {
  return absl::StrJoin(labels, ", ", [](std::string* out, const std::string& l) {
    out->append(IsLegacyName(l) ? l : GoQuote(l));
  });
}

std::string FormatMatcher(const model::LabelMatcher& m) {
  static constexpr std::string_view kOps[] = {"=", "!=", "=~", "!~"};
  return absl::StrCat(IsLegacyName(m.name()) ? m.name() : GoQuote(m.name()),
                      Sv(kOps[static_cast<int>(m.type())]), GoQuote(m.value()));
}

// The selector without its @ and offset (a matrix selector prints those after the range).
std::string FormatSelectorBody(const VectorSelector& vs) {
  std::vector<std::string> matchers;
  for (const model::LabelMatcher& m : vs.matchers) {
    if (m.name() == "__name__" && m.type() == model::MatchType::kEqual && m.value() == vs.name &&
        !m.value().empty()) {
      continue;
    }
    matchers.push_back(FormatMatcher(m));
  }
  // `{}` is only valid as info()'s label selector; it must print as itself to parse back.
  if (matchers.empty()) return vs.name.empty() ? "{}" : vs.name;
  std::sort(matchers.begin(), matchers.end());
  return absl::StrCat(vs.name, "{", absl::StrJoin(matchers, ","), "}");
}

std::string FormatMatching(const std::optional<VectorMatching>& matching) {
  if (!matching.has_value()) return "";
  const VectorMatching& vm = *matching;
  const bool grouped = vm.card == VectorMatchCardinality::kManyToOne ||
                       vm.card == VectorMatchCardinality::kOneToMany;
  std::string out;
  if (!vm.matching_labels.empty() || vm.on || grouped) {
    absl::StrAppend(&out, vm.on ? " on (" : " ignoring (", FormatLabels(vm.matching_labels), ")");
  }
  if (grouped) {
    absl::StrAppend(&out,
                    vm.card == VectorMatchCardinality::kManyToOne ? " group_left (" : " group_right (",
                    FormatLabels(vm.include), ")");
  }
  // Equal values print as one fill(); as in Prometheus, NaN never equals itself here.
  if (vm.fill_lhs.has_value() && vm.fill_rhs.has_value() && *vm.fill_lhs == *vm.fill_rhs) {
    absl::StrAppend(&out, " fill (", FormatNumber(*vm.fill_lhs), ")");
  } else {
    if (vm.fill_lhs.has_value()) {
      absl::StrAppend(&out, " fill_left (", FormatNumber(*vm.fill_lhs), ")");
    }
    if (vm.fill_rhs.has_value()) {
      absl::StrAppend(&out, " fill_right (", FormatNumber(*vm.fill_rhs), ")");
    }
  }
  return out;
}

// " anchored" / " smoothed" as Prometheus prints them: after @ on an instant selector, right
// after the range on a range selector.
const char* FormatExtended(const VectorSelector& vs) {
  if (vs.anchored) return " anchored";
  if (vs.smoothed) return " smoothed";
  return "";
}

struct Printer {
  std::string operator()(const NumberLiteral& n) const { return FormatNumber(n.value); }
  std::string operator()(const StringLiteral& s) const { return GoQuote(s.value); }
  std::string operator()(const VectorSelector& vs) const {
    return absl::StrCat(FormatSelectorBody(vs), FormatAt(vs.at, vs.at_ms), FormatExtended(vs),
                        FormatOffset(vs.offset_ms, vs.offset_expr));
  }
  std::string operator()(const MatrixSelector& ms) const {
    const auto& vs = std::get<VectorSelector>(ms.selector->node);
    return absl::StrCat(FormatSelectorBody(vs), "[", FormatRange(ms.range_ms, ms.range_expr), "]",
                        FormatExtended(vs), FormatAt(vs.at, vs.at_ms),
                        FormatOffset(vs.offset_ms, vs.offset_expr));
  }
  std::string operator()(const SubqueryExpr& sq) const {
    std::string step;
    if (sq.step_expr != nullptr) {
      step = sq.step_expr->String();
    } else if (sq.step_ms != 0) {
      step = FormatDuration(sq.step_ms);
    }
    return absl::StrCat(sq.expr->String(), "[", FormatRange(sq.range_ms, sq.range_expr), ":",
                        step, "]", FormatAt(sq.at, sq.at_ms),
                        FormatOffset(sq.offset_ms, sq.offset_expr));
  }
  std::string operator()(const Call& call) const {
    return absl::StrCat(call.name, "(",
                        absl::StrJoin(call.args, ", ",
                                      [](std::string* out, const ExprPtr& arg) {
                                        out->append(arg->String());
                                      }),
                        ")");
  }
  std::string operator()(const AggregateExpr& agg) const {
    std::string out(AggregateOpName(agg.op));
    if (agg.without) {
      absl::StrAppend(&out, " without (", FormatLabels(agg.grouping), ") ");
    } else if (!agg.grouping.empty()) {
      absl::StrAppend(&out, " by (", FormatLabels(agg.grouping), ") ");
    }
    out.push_back('(');
    if (agg.param != nullptr) absl::StrAppend(&out, agg.param->String(), ", ");
    absl::StrAppend(&out, agg.expr->String(), ")");
    return out;
  }
  std::string operator()(const BinaryExpr& bin) const {
    // Prometheus prints `inf ^ v` as "+Inf ^ v", which parses back as +(Inf ^ v) and prints
    // as "++Inf ^ v": `^` binds tighter than a sign, so the sign-less spelling is the one that
    // round-trips.
    const auto* lhs_number = std::get_if<NumberLiteral>(&bin.lhs->node);
    if (bin.op == BinaryOp::kPow && lhs_number != nullptr && std::isinf(lhs_number->value) &&
        lhs_number->value > 0) {
      return absl::StrCat("Inf ^", bin.return_bool ? " bool" : "", FormatMatching(bin.matching),
                          " ", bin.rhs->String());
    }
    return absl::StrCat(bin.lhs->String(), " ", Sv(BinaryOpName(bin.op)),
                        bin.return_bool ? " bool" : "", FormatMatching(bin.matching), " ",
                        bin.rhs->String());
  }
  std::string operator()(const UnaryExpr& u) const {
    return absl::StrCat(u.negate ? "-" : "+", u.expr->String());
  }
  std::string operator()(const ParenExpr& p) const {
    return absl::StrCat("(", p.expr->String(), ")");
  }
};

std::string_view DurationOpName(DurationExpr::Op op) {
  switch (op) {
    case DurationExpr::Op::kAdd: return "+";
    case DurationExpr::Op::kSub: return "-";
    case DurationExpr::Op::kMul: return "*";
    case DurationExpr::Op::kDiv: return "/";
    case DurationExpr::Op::kMod: return "%";
    case DurationExpr::Op::kPow: return "^";
    default: return "";
  }
}

// The expression without its own parentheses.
std::string FormatDurationExprBody(const DurationExpr& d) {
  using Op = DurationExpr::Op;
  switch (d.op) {
    case Op::kNumber: {
      if (!d.duration_literal) return FormatNumber(d.seconds);
      // Whole milliseconds, as model.Duration prints them.
      const auto ms = static_cast<int64_t>(std::abs(d.seconds) * 1000);
      return absl::StrCat(d.seconds < 0 ? "-" : "", FormatDuration(ms));
    }
    case Op::kStep: return "step()";
    case Op::kRange: return "range()";
    case Op::kMinOf:
    case Op::kMaxOf:
      return absl::StrCat(d.op == Op::kMinOf ? "min_of(" : "max_of(", d.lhs->String(), ", ",
                          d.rhs->String(), ")");
    default: break;
  }
  if (d.lhs == nullptr) {
    // Unary: `-x`, or the `+` that only carries the parentheses of a literal.
    return d.op == Op::kSub ? absl::StrCat("-", d.rhs->String()) : d.rhs->String();
  }
  return absl::StrCat(d.lhs->String(), " ", Sv(DurationOpName(d.op)), " ", d.rhs->String());
}

}  // namespace

std::string_view ValueTypeName(ValueType t) {
  switch (t) {
    case ValueType::kNone: return "none";
    case ValueType::kScalar: return "scalar";
    case ValueType::kVector: return "vector";
    case ValueType::kMatrix: return "matrix";
    case ValueType::kString: return "string";
  }
  return "none";
}

std::string DurationExpr::String() const {
  std::string body = FormatDurationExprBody(*this);
  return wrapped ? absl::StrCat("(", body, ")") : body;
}

std::string Expr::String() const { return std::visit(Printer{}, node); }

std::string_view AggregateOpName(AggregateOp op) {
  switch (op) {
    case AggregateOp::kSum: return "sum";
    case AggregateOp::kAvg: return "avg";
    case AggregateOp::kMin: return "min";
    case AggregateOp::kMax: return "max";
    case AggregateOp::kCount: return "count";
    case AggregateOp::kGroup: return "group";
    case AggregateOp::kStddev: return "stddev";
    case AggregateOp::kStdvar: return "stdvar";
    case AggregateOp::kTopk: return "topk";
    case AggregateOp::kBottomk: return "bottomk";
    case AggregateOp::kQuantile: return "quantile";
    case AggregateOp::kCountValues: return "count_values";
    case AggregateOp::kLimitk: return "limitk";
    case AggregateOp::kLimitRatio: return "limit_ratio";
  }
  return "";
}

std::string_view BinaryOpName(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd: return "+";
    case BinaryOp::kSub: return "-";
    case BinaryOp::kMul: return "*";
    case BinaryOp::kDiv: return "/";
    case BinaryOp::kMod: return "%";
    case BinaryOp::kPow: return "^";
    case BinaryOp::kAtan2: return "atan2";
    case BinaryOp::kEql: return "==";
    case BinaryOp::kNeq: return "!=";
    case BinaryOp::kGtr: return ">";
    case BinaryOp::kLss: return "<";
    case BinaryOp::kGte: return ">=";
    case BinaryOp::kLte: return "<=";
    case BinaryOp::kAnd: return "and";
    case BinaryOp::kOr: return "or";
    case BinaryOp::kUnless: return "unless";
  }
  return "";
}

bool IsComparisonOp(BinaryOp op) {
  return op == BinaryOp::kEql || op == BinaryOp::kNeq || op == BinaryOp::kGtr ||
         op == BinaryOp::kLss || op == BinaryOp::kGte || op == BinaryOp::kLte;
}

bool IsSetOp(BinaryOp op) {
  return op == BinaryOp::kAnd || op == BinaryOp::kOr || op == BinaryOp::kUnless;
}

}  // namespace kura::query
