// Parser: vector selectors and label matchers, grouping labels, and the postfix modifiers of
// selectors and subqueries: `[range]`, `[range:step]`, `offset` and `@`.

#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "query/lexer.h"
#include "query/parser_internal.h"

namespace kura::query::parser_internal {
namespace {

// Tokens the grammar accepts as a label name in grouping lists (Prometheus's maybe_label).
bool IsMaybeLabel(TokenType t) {
  switch (t) {
    case TokenType::kWithout: return false;
    case TokenType::kBool:
    case TokenType::kGroupLeft:
    case TokenType::kGroupRight:
    case TokenType::kIgnoring:
    case TokenType::kOn:
    case TokenType::kAtan2: return true;
    default: return IsMetricIdentifier(t);
  }
}

bool IsMatchOp(TokenType t) {
  return t == TokenType::kAssign || t == TokenType::kNeq || t == TokenType::kEqlRegex ||
         t == TokenType::kNeqRegex;
}

model::MatchType ToMatchType(TokenType t) {
  switch (t) {
    case TokenType::kAssign: return model::MatchType::kEqual;
    case TokenType::kNeq: return model::MatchType::kNotEqual;
    case TokenType::kEqlRegex: return model::MatchType::kRegexMatch;
    default: return model::MatchType::kRegexNoMatch;
  }
}

// Go's "%f", which spells infinities "+Inf" and "-Inf".
std::string GoFloatF(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return absl::StrFormat("%f", v);
}

}  // namespace

absl::StatusOr<std::vector<std::string>> Parser::ParseGroupingLabels() {
  if (Peek().type != TokenType::kLeftParen) {
    return Unexpected(Peek(), "grouping opts", "\"(\"");
  }
  Consume();
  std::vector<std::string> labels;
  if (Peek().type == TokenType::kRightParen) {
    last_end_ = Consume().end();
    return labels;
  }
  for (;;) {
    const Token t = Peek();
    if (IsMaybeLabel(t.type)) {
      Consume();
      labels.emplace_back(t.val);
    } else if (t.type == TokenType::kString) {
      Consume();
      absl::StatusOr<std::string> name = UnquoteString(t.val);
      if (!name.ok()) return ErrorAt(t.pos, name.status().message());
      if (name->empty()) {
        return ErrorAt(t.pos, absl::StrCat("invalid label name for grouping: ", GoQuote(*name)));
      }
      labels.push_back(*std::move(name));
    } else {
      return Unexpected(t, "grouping opts", "label");
    }
    const Token& sep = Peek();
    if (sep.type == TokenType::kRightParen) break;
    if (sep.type != TokenType::kComma) return Unexpected(sep, "grouping opts", "\",\" or \")\"");
    Consume();
    if (Peek().type == TokenType::kRightParen) break;
  }
  last_end_ = Consume().end();
  return labels;
}

absl::StatusOr<Parsed> Parser::ParseVectorSelector() {
  VectorSelector vs;
  PositionRange pos;
  pos.start = Peek().pos;
  if (Peek().type != TokenType::kLeftBrace) {
    const Token name = Consume();
    vs.name = std::string(name.val);
    pos.end = name.end();
  }
  if (Peek().type == TokenType::kLeftBrace) RETURN_IF_ERROR(ParseLabelMatchers(&vs.matchers, &pos.end));
  if (!vs.name.empty()) {
    absl::StatusOr<model::LabelMatcher> m =
        model::LabelMatcher::Create(model::MatchType::kEqual, "__name__", vs.name);
    if (!m.ok()) return ErrorAt(pos.start, m.status().message());
    vs.matchers.push_back(*std::move(m));
  }
  return Parsed{MakeExpr(std::move(vs), pos, ValueType::kVector), 1};
}

absl::Status Parser::ParseLabelMatchers(std::vector<model::LabelMatcher>* matchers, int* end) {
  Consume();  // {
  if (Peek().type == TokenType::kRightBrace) {
    *end = Consume().end();
    return absl::OkStatus();
  }
  for (;;) {
    const Token label = Peek();
    std::string name;
    if (label.type == TokenType::kIdentifier) {
      name = std::string(label.val);
    } else if (label.type == TokenType::kString) {
      absl::StatusOr<std::string> unquoted = UnquoteString(label.val);
      if (!unquoted.ok()) return ErrorAt(label.pos, unquoted.status().message());
      name = *std::move(unquoted);
    } else {
      return Unexpected(label, "label matching", "identifier or \"}\"");
    }
    Consume();
    const Token op = Peek();
    if (IsMatchOp(op.type)) {
      Consume();
      const Token value = Peek();
      if (value.type != TokenType::kString) {
        return Unexpected(value, "label matching", "string");
      }
      Consume();
      absl::StatusOr<std::string> v = UnquoteString(value.val);
      if (!v.ok()) return ErrorAt(value.pos, v.status().message());
      absl::StatusOr<model::LabelMatcher> m =
          model::LabelMatcher::Create(ToMatchType(op.type), std::move(name), *std::move(v));
      if (!m.ok()) return ErrorAt(label.pos, m.status().message());
      matchers->push_back(*std::move(m));
    } else if (label.type == TokenType::kString) {
      // A lone quoted string names the metric: {"my.metric"}.
      absl::StatusOr<model::LabelMatcher> m =
          model::LabelMatcher::Create(model::MatchType::kEqual, "__name__", std::move(name));
      if (!m.ok()) return ErrorAt(label.pos, m.status().message());
      matchers->push_back(*std::move(m));
    } else {
      return Unexpected(op, "label matching", "label matching operator");
    }
    const Token& sep = Peek();
    if (sep.type == TokenType::kRightBrace) break;
    if (sep.type != TokenType::kComma) return Unexpected(sep, "label matching", "\",\" or \"}\"");
    Consume();
    if (Peek().type == TokenType::kRightBrace) break;
  }
  *end = Consume().end();
  return absl::OkStatus();
}

absl::StatusOr<Parsed> Parser::ParseRangeOrSubquery(Parsed e) {
  const Token open = Consume();
  int64_t range_ms = 0;
  DurationExprPtr range_expr;
  RETURN_IF_ERROR(ParseBracketDuration("subquery or range selector",
                                       "number, duration, step(), or range()", &range_ms,
                                       &range_expr));
  const Token t = Peek();
  if (t.type == TokenType::kRightBracket) {
    Consume();
    std::string_view error;
    const auto* vs = std::get_if<VectorSelector>(&e.expr->node);
    if (vs == nullptr) {
      error = "ranges only allowed for vector selectors";
    } else if (vs->offset_ms != 0) {
      error = "no offset modifiers allowed before range";
    } else if (vs->at != AtModifier::kNone) {
      error = "no @ modifiers allowed before range";
    }
    if (!error.empty()) return ErrorAt(open.pos, Sv(error));
    const PositionRange pos{e.expr->pos.start, t.end()};
    MatrixSelector ms{std::move(e.expr), range_ms, std::move(range_expr)};
    return Parsed{MakeExpr(std::move(ms), pos, ValueType::kMatrix), e.depth + 1};
  }
  if (t.type != TokenType::kColon) {
    return Unexpected(t, "subquery or range", "\":\" or \"]\"");
  }
  Consume();
  SubqueryExpr sq;
  sq.range_ms = range_ms;
  sq.range_expr = std::move(range_expr);
  if (Peek().type != TokenType::kRightBracket) {
    RETURN_IF_ERROR(ParseBracketDuration("subquery selector",
                                         "number, duration, step(), range(), or \"]\"",
                                         &sq.step_ms, &sq.step_expr));
    if (Peek().type != TokenType::kRightBracket) {
      return Unexpected(Peek(), "subquery selector", "\"]\"");
    }
  }
  const Token close = Consume();
  RETURN_IF_ERROR(CheckDepth(e.depth + 1));
  const PositionRange pos{e.expr->pos.start, close.pos + 1};
  sq.expr = std::move(e.expr);
  return Parsed{MakeExpr(std::move(sq), pos, ValueType::kMatrix), e.depth + 1};
}

absl::Status Parser::ParseOffset(Expr& e) {
  Consume();
  int64_t offset_ms = 0;
  DurationExprPtr offset_expr;
  RETURN_IF_ERROR(ParseOffsetDuration(&offset_ms, &offset_expr));
  int64_t* offset = nullptr;
  DurationExprPtr* expr = nullptr;
  if (auto* vs = std::get_if<VectorSelector>(&e.node)) {
    offset = &vs->offset_ms, expr = &vs->offset_expr;
  } else if (auto* ms = std::get_if<MatrixSelector>(&e.node)) {
    auto& inner = std::get<VectorSelector>(ms->selector->node);
    offset = &inner.offset_ms, expr = &inner.offset_expr;
  } else if (auto* sq = std::get_if<SubqueryExpr>(&e.node)) {
    offset = &sq->offset_ms, expr = &sq->offset_expr;
  } else {
    return ErrorAt(e.pos.start,
                   "offset modifier must be preceded by an instant vector selector or range "
                   "vector selector or a subquery");
  }
  if (*offset != 0 || *expr != nullptr) {
    return ErrorAt(e.pos.start, "offset may not be set multiple times");
  }
  *offset = offset_ms;
  *expr = std::move(offset_expr);
  e.pos.end = consumed_end_;
  return absl::OkStatus();
}

absl::Status Parser::ParseAt(Expr& e) {
  Consume();
  AtModifier at = AtModifier::kTimestamp;
  double ts = 0;
  const Token t = Peek();
  if (t.type == TokenType::kStart || t.type == TokenType::kEnd) {
    Consume();
    if (Peek().type != TokenType::kLeftParen) return Unexpected(Peek(), "@", "timestamp");
    Consume();
    if (Peek().type != TokenType::kRightParen) return Unexpected(Peek(), "@", "timestamp");
    last_end_ = Consume().end();
    at = t.type == TokenType::kStart ? AtModifier::kStart : AtModifier::kEnd;
  } else {
    bool negate = false;
    if (t.type == TokenType::kAdd || t.type == TokenType::kSub) {
      Consume();
      negate = t.type == TokenType::kSub;
    }
    const Token num = Peek();
    if (num.type != TokenType::kNumber && num.type != TokenType::kDuration) {
      return Unexpected(num, "@", "timestamp");
    }
    Consume();
    ASSIGN_OR_RETURN(ts, ParseNumberToken(num));
    if (negate) ts = -ts;
    last_end_ = num.end();
    // Prometheus bounds the seconds by the int64 range and then lets the milliseconds
    // overflow; here the milliseconds must fit, so `@ 1e17` is an error instead.
    if (!(std::abs(ts) * 1000 < 9.2233720368547758e18)) {
      return ErrorAt(e.pos.start,
                     absl::StrCat("timestamp out of bounds for @ modifier: ", GoFloatF(ts)));
    }
  }
  AtModifier* at_field = nullptr;
  int64_t* at_ms = nullptr;
  if (auto* vs = std::get_if<VectorSelector>(&e.node)) {
    at_field = &vs->at, at_ms = &vs->at_ms;
  } else if (auto* ms = std::get_if<MatrixSelector>(&e.node)) {
    auto& inner = std::get<VectorSelector>(ms->selector->node);
    at_field = &inner.at, at_ms = &inner.at_ms;
  } else if (auto* sq = std::get_if<SubqueryExpr>(&e.node)) {
    at_field = &sq->at, at_ms = &sq->at_ms;
  } else {
    return ErrorAt(e.pos.start,
                   "@ modifier must be preceded by an instant vector selector or range vector "
                   "selector or a subquery");
  }
  if (*at_field != AtModifier::kNone) {
    return ErrorAt(e.pos.start, "@ <timestamp> may not be set multiple times");
  }
  *at_field = at;
  if (at == AtModifier::kTimestamp) *at_ms = static_cast<int64_t>(std::round(ts * 1000));
  e.pos.end = last_end_;
  return absl::OkStatus();
}

absl::Status Parser::ParseExtendedModifier(Expr& e) {
  const bool anchored = Consume().type == TokenType::kAnchored;
  const absl::string_view name = anchored ? "anchored" : "smoothed";
  if (!options_.enable_extended_range_selectors) {
    return ErrorAt(e.pos.start, absl::StrCat(name, " modifier is experimental and not enabled"));
  }
  VectorSelector* vs = std::get_if<VectorSelector>(&e.node);
  if (auto* ms = std::get_if<MatrixSelector>(&e.node)) {
    vs = std::get_if<VectorSelector>(&ms->selector->node);
  }
  if (vs == nullptr) {
    if (std::holds_alternative<SubqueryExpr>(e.node)) {
      return ErrorAt(e.pos.start, absl::StrCat(name, " modifier is not supported for subqueries"));
    }
    return ErrorAt(e.pos.start, absl::StrCat(name, " modifier not implemented"));
  }
  if (anchored ? vs->smoothed : vs->anchored) {
    return ErrorAt(e.pos.start, "anchored and smoothed modifiers cannot be used together");
  }
  // Prometheus leaves the expression's position range where it was.
  (anchored ? vs->anchored : vs->smoothed) = true;
  return absl::OkStatus();
}

}  // namespace kura::query::parser_internal
