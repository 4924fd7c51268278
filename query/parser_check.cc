// Parser: type checks (Prometheus's checkAST), run once the whole query parsed.

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "query/function_signatures.h"
#include "query/lexer.h"
#include "query/parser_internal.h"

namespace kura::query::parser_internal {

// ---------------------------------------------------------------------------------------------
// Type checks, in the order Prometheus's checkAST reports them (children first, mostly).

absl::Status Parser::ExpectType(Expr& e, ValueType want, std::string_view context) {
  RETURN_IF_ERROR(Check(e));
  if (e.type != want) {
    return ErrorAt(e.pos.start, absl::StrCat("expected type ", DocumentedType(want), " in ",
                                             Sv(context), ", got ", DocumentedType(e.type)));
  }
  return absl::OkStatus();
}

absl::Status Parser::Check(Expr& e, bool bypass_empty_matcher_check) {
  if (auto* agg = std::get_if<AggregateExpr>(&e.node)) {
    RETURN_IF_ERROR(ExpectType(*agg->expr, ValueType::kVector, "aggregation expression"));
    if (agg->param != nullptr) {
      const ValueType want =
          agg->op == AggregateOp::kCountValues ? ValueType::kString : ValueType::kScalar;
      RETURN_IF_ERROR(ExpectType(*agg->param, want, "aggregation parameter"));
    }
    return absl::OkStatus();
  }
  if (auto* bin = std::get_if<BinaryExpr>(&e.node)) return CheckBinary(e, *bin);
  if (auto* call = std::get_if<Call>(&e.node)) return CheckCall(e, *call);
  if (auto* paren = std::get_if<ParenExpr>(&e.node)) return Check(*paren->expr);
  if (auto* unary = std::get_if<UnaryExpr>(&e.node)) {
    RETURN_IF_ERROR(Check(*unary->expr));
    const ValueType t = unary->expr->type;
    if (t != ValueType::kScalar && t != ValueType::kVector) {
      return ErrorAt(e.pos.start,
                     absl::StrCat("unary expression only allowed on expressions of type scalar "
                                  "or instant vector, got \"",
                                  DocumentedType(t), "\""));
    }
    return absl::OkStatus();
  }
  if (auto* sq = std::get_if<SubqueryExpr>(&e.node)) {
    RETURN_IF_ERROR(Check(*sq->expr));
    if (sq->expr->type != ValueType::kVector) {
      return ErrorAt(e.pos.start, absl::StrCat("subquery is only allowed on instant vector, got ",
                                               Sv(ValueTypeName(sq->expr->type)), " instead"));
    }
    return absl::OkStatus();
  }
  if (auto* ms = std::get_if<MatrixSelector>(&e.node)) return Check(*ms->selector);
  if (auto* vs = std::get_if<VectorSelector>(&e.node)) {
    return CheckVectorSelector(e, *vs, bypass_empty_matcher_check);
  }
  return absl::OkStatus();
}

absl::Status Parser::CheckVectorSelector(const Expr& e, const VectorSelector& vs,
                                         bool bypass) const {
  if (!vs.name.empty()) {
    // The last matcher is the one for the name written outside the braces.
    for (size_t i = 0; i + 1 < vs.matchers.size(); ++i) {
      if (vs.matchers[i].name() == "__name__") {
        return ErrorAt(e.pos.start, absl::StrCat("metric name must not be set twice: ",
                                                 GoQuote(vs.name), " or ",
                                                 GoQuote(vs.matchers[i].value())));
      }
    }
    return absl::OkStatus();
  }
  if (bypass) return absl::OkStatus();
  for (const model::LabelMatcher& m : vs.matchers) {
    if (!m.MatchesEmpty()) return absl::OkStatus();
  }
  return ErrorAt(e.pos.start, "vector selector must contain at least one non-empty matcher");
}

absl::Status Parser::CheckBinary(Expr& e, BinaryExpr& bin) {
  RETURN_IF_ERROR(Check(*bin.lhs));
  RETURN_IF_ERROR(Check(*bin.rhs));
  const ValueType lt = bin.lhs->type;
  const ValueType rt = bin.rhs->type;
  const auto op_pos = [&] {
    int p = bin.lhs->pos.end;
    while (p < static_cast<int>(input_.size()) && absl::ascii_isspace(input_[p])) ++p;
    return p;
  };
  const std::string op_name = GoQuote(BinaryOpName(bin.op));
  if (bin.return_bool && !IsComparisonOp(bin.op)) {
    return ErrorAt(op_pos(), "bool modifier can only be used on comparison operators");
  }
  if (IsComparisonOp(bin.op) && !bin.return_bool && lt == ValueType::kScalar &&
      rt == ValueType::kScalar) {
    return ErrorAt(op_pos(), "comparisons between scalars must use BOOL modifier");
  }
  VectorMatching& vm = *bin.matching;
  if (IsSetOp(bin.op) && vm.card == VectorMatchCardinality::kOneToOne) {
    vm.card = VectorMatchCardinality::kManyToMany;
  }
  if (vm.on) {
    for (const std::string& l1 : vm.matching_labels) {
      for (const std::string& l2 : vm.include) {
        if (l1 == l2) {
          return ErrorAt(op_pos(), absl::StrCat("label ", GoQuote(l1),
                                                " must not occur in ON and GROUP clause at once"));
        }
      }
    }
  }
  if (lt != ValueType::kScalar && lt != ValueType::kVector) {
    return ErrorAt(bin.lhs->pos.start,
                   "binary expression must contain only scalar and instant vector types");
  }
  if (rt != ValueType::kScalar && rt != ValueType::kVector) {
    return ErrorAt(bin.rhs->pos.start,
                   "binary expression must contain only scalar and instant vector types");
  }
  const bool fills = vm.fill_lhs.has_value() || vm.fill_rhs.has_value();
  if (lt != ValueType::kVector || rt != ValueType::kVector) {
    if (!vm.matching_labels.empty()) {
      return ErrorAt(e.pos.start, "vector matching only allowed between instant vectors");
    }
    if (fills) {
      return ErrorAt(e.pos.start, "filling in missing series only allowed between instant vectors");
    }
    bin.matching.reset();
  } else if (IsSetOp(bin.op)) {
    if (vm.card == VectorMatchCardinality::kOneToMany ||
        vm.card == VectorMatchCardinality::kManyToOne) {
      return ErrorAt(e.pos.start, absl::StrCat("no grouping allowed for ", op_name, " operation"));
    }
    if (fills) {
      return ErrorAt(e.pos.start, "filling in missing series not allowed for set operators");
    }
  }
  if ((lt == ValueType::kScalar || rt == ValueType::kScalar) && IsSetOp(bin.op)) {
    return ErrorAt(e.pos.start,
                   absl::StrCat("set operator ", op_name, " not allowed in binary scalar expression"));
  }
  return absl::OkStatus();
}

absl::Status Parser::CheckCall(Expr& e, Call& call) {
  const FunctionSignature& fn = *LookupFunction(call.name);
  const int nargs = static_cast<int>(fn.arg_types.size());
  const int got = static_cast<int>(call.args.size());
  const std::string quoted = GoQuote(call.name);
  if (fn.variadic == 0) {
    if (nargs != got) {
      return ErrorAt(e.pos.start, absl::StrCat("expected ", nargs, " argument(s) in call to ",
                                               quoted, ", got ", got));
    }
  } else {
    const int min = nargs - 1;
    if (min > got) {
      return ErrorAt(e.pos.start, absl::StrCat("expected at least ", min,
                                               " argument(s) in call to ", quoted, ", got ", got));
    }
    if (fn.variadic > 0 && min + fn.variadic < got) {
      return ErrorAt(e.pos.start, absl::StrCat("expected at most ", min + fn.variadic,
                                               " argument(s) in call to ", quoted, ", got ", got));
    }
  }
  bool info_labels = false;
  if (call.name == "info" && got > 1) {
    const Expr& arg = *call.args[1];
    if (arg.type != ValueType::kVector) {
      return ErrorAt(e.pos.start,
                     absl::StrCat("expected type instant vector in call to function ", quoted,
                                  ", got ", DocumentedType(arg.type)));
    }
    const auto* vs = std::get_if<VectorSelector>(&arg.node);
    if (vs == nullptr) return ErrorAt(arg.pos.start, "expected label selectors only");
    if (!vs->name.empty()) {
      return ErrorAt(arg.pos.start, "expected label selectors only, got vector selector instead");
    }
    info_labels = true;
  }
  for (int i = 0; i < got; ++i) {
    int k = i;
    if (k >= nargs) {
      if (fn.variadic == 0) break;
      k = nargs - 1;
    }
    Expr& arg = *call.args[i];
    RETURN_IF_ERROR(Check(arg, info_labels && i == 1));
    if (arg.type != fn.arg_types[k]) {
      return ErrorAt(arg.pos.start,
                     absl::StrCat("expected type ", DocumentedType(fn.arg_types[k]),
                                  " in call to function ", quoted, ", got ",
                                  DocumentedType(arg.type)));
    }
  }
  return absl::OkStatus();
}

}  // namespace kura::query::parser_internal
