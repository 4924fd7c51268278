// Duration literals and Prometheus 3.x duration expressions: `[26m+4m]`, `[5m:step()*2]`,
// `offset -min_of(step(), 1s)`. Inside brackets the full arithmetic grammar applies; after
// `offset` only a single (signed) term does, so later operators belong to the query.

#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "query/lexer.h"
#include "query/parser_duration_eval.h"
#include "query/parser_internal.h"

namespace kura::query::parser_internal {

// Seconds -> milliseconds the way Prometheus turns a literal into a time.Duration (rounded to
// nanoseconds) and then into milliseconds (truncated).
int64_t SecondsToMillis(double seconds) {
  const double ns = std::round(seconds * 1e9);
  if (ns >= 9.2233720368547758e18) return std::numeric_limits<int64_t>::max() / 1000000;
  if (ns <= -9.2233720368547758e18) return std::numeric_limits<int64_t>::min() / 1000000;
  return static_cast<int64_t>(ns) / 1000000;
}

// Go's time.Duration-based model.ParseDuration, in nanoseconds.
absl::StatusOr<int64_t> ParseDurationNanos(std::string_view s) {
  if (s == "0") return 0;
  if (s.empty()) return absl::InvalidArgumentError("empty duration string");
  const auto invalid = [s] {
    return absl::InvalidArgumentError(absl::StrCat("not a valid duration string: ", GoQuote(s)));
  };
  struct Unit {
    std::string_view name;
    int pos;
    uint64_t mult;
  };
  static constexpr Unit kUnits[] = {
      {"y", 1, 365ULL * 24 * 3600 * 1000000000},
      {"w", 2, 7ULL * 24 * 3600 * 1000000000},
      {"d", 3, 24ULL * 3600 * 1000000000},
      {"h", 4, 3600ULL * 1000000000},
      {"m", 5, 60ULL * 1000000000},
      {"s", 6, 1000000000ULL},
      {"ms", 7, 1000000ULL},
  };
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  std::string_view rest = s;
  uint64_t total = 0;
  int last_pos = 0;
  while (!rest.empty()) {
    if (!absl::ascii_isdigit(rest[0])) return invalid();
    size_t i = 0;
    uint64_t v = 0;
    for (; i < rest.size() && absl::ascii_isdigit(rest[i]); ++i) {
      if (v > (std::numeric_limits<uint64_t>::max() - 9) / 10) return invalid();
      v = v * 10 + (rest[i] - '0');
    }
    rest.remove_prefix(i);
    for (i = 0; i < rest.size() && !absl::ascii_isdigit(rest[i]); ++i) {
    }
    if (i == 0) return invalid();
    const std::string_view unit_name = rest.substr(0, i);
    rest.remove_prefix(i);
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (u.name == unit_name) unit = &u;
    }
    if (unit == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown unit ", GoQuote(unit_name), " in duration ", GoQuote(s)));
    }
    if (unit->pos <= last_pos) return invalid();
    last_pos = unit->pos;
    if (v > (kMax + 1) / unit->mult) return absl::InvalidArgumentError("duration out of range");
    total += v * unit->mult;
    if (total > kMax) return absl::InvalidArgumentError("duration out of range");
  }
  return static_cast<int64_t>(total);
}

namespace {

bool IsDurationArithmetic(TokenType t) {
  return t == TokenType::kAdd || t == TokenType::kSub || t == TokenType::kMul ||
         t == TokenType::kDiv || t == TokenType::kMod || t == TokenType::kPow;
}

DurationExpr::Op ToDurationOp(TokenType t) {
  switch (t) {
    case TokenType::kAdd:
      return DurationExpr::Op::kAdd;
    case TokenType::kSub:
      return DurationExpr::Op::kSub;
    case TokenType::kMul:
      return DurationExpr::Op::kMul;
    case TokenType::kDiv:
      return DurationExpr::Op::kDiv;
    case TokenType::kMod:
      return DurationExpr::Op::kMod;
    default:
      return DurationExpr::Op::kPow;
  }
}

// min_of/max_of (and the older min/max spelling) followed by `(`.
bool IsMinMax(const Token& tok) {
  if (tok.type == TokenType::kMin || tok.type == TokenType::kMax) return true;
  if (tok.type != TokenType::kIdentifier) return false;
  const std::string word = absl::AsciiStrToLower(Sv(tok.val));
  return word == "min_of" || word == "max_of";
}

bool IsMinOf(const Token& tok) {
  return tok.type == TokenType::kMin || absl::AsciiStrToLower(Sv(tok.val)) == "min_of";
}

bool IsZeroLiteral(const DurationExpr& d) {
  return d.op == DurationExpr::Op::kNumber && d.seconds == 0;
}

// Stores a finished duration: a lone literal as milliseconds, anything else as an expression,
// folded into milliseconds already when it needs neither step() nor range() and is valid.
void StoreDuration(std::shared_ptr<DurationExpr> node, bool allow_negative, int64_t* ms,
                   DurationExprPtr* expr) {
  if (node->op == DurationExpr::Op::kNumber) {
    *ms = SecondsToMillis(node->seconds);
    return;
  }
  if (!DependsOnQueryTiming(*node)) {
    absl::StatusOr<int64_t> folded = ResolveDurationMs(*node, 0, 0, allow_negative);
    if (folded.ok()) *ms = *folded;
  }
  *expr = std::move(node);
}

}  // namespace

bool Parser::StartsDuration(const Token& tok) const {
  switch (tok.type) {
    case TokenType::kNumber:
    case TokenType::kDuration:
    case TokenType::kAdd:
    case TokenType::kSub:
    case TokenType::kLeftParen:
    case TokenType::kStep:
    case TokenType::kRange:
      return true;
    default:
      return IsMinMax(tok);
  }
}

absl::Status Parser::DurationUnexpected(const Token& tok) const {
  return Unexpected(tok, duration_context_, duration_expected_);
}

absl::Status Parser::ParseBracketDuration(std::string_view context, std::string_view expected,
                                          int64_t* ms, DurationExprPtr* expr) {
  duration_context_ = context;
  duration_expected_ = expected;
  if (!StartsDuration(Peek())) return DurationUnexpected(Peek());
  ASSIGN_OR_RETURN(DurationNode node, ParseDurationBinary(0));
  if (node->op == DurationExpr::Op::kNumber && node->seconds <= 0) {
    return ErrorAt(node->pos, "duration must be greater than 0");
  }
  StoreDuration(std::move(node), /*allow_negative=*/false, ms, expr);
  last_end_ = consumed_end_;
  return absl::OkStatus();
}

absl::Status Parser::ParseOffsetDuration(int64_t* ms, DurationExprPtr* expr) {
  duration_context_ = "offset";
  duration_expected_ = "number, duration, step(), or range()";
  Token sign;
  const TokenType first = Peek().type;
  if (first == TokenType::kAdd || first == TokenType::kSub) sign = Consume();
  const Token& t = Peek();
  DurationNode node;
  if (t.type == TokenType::kNumber || t.type == TokenType::kDuration) {
    ASSIGN_OR_RETURN(node, ParseDurationLiteral());
  } else if (t.type == TokenType::kStep || t.type == TokenType::kRange || IsMinMax(t)) {
    ASSIGN_OR_RETURN(node, ParseDurationCall());
  } else if (t.type == TokenType::kLeftParen) {
    ASSIGN_OR_RETURN(node, ParseDurationParen());
  } else {
    return DurationUnexpected(t);
  }
  if (sign.type == TokenType::kAdd || sign.type == TokenType::kSub) {
    ASSIGN_OR_RETURN(node, ApplyDurationSign(sign, std::move(node)));
  }
  StoreDuration(std::move(node), /*allow_negative=*/true, ms, expr);
  return absl::OkStatus();
}

absl::StatusOr<Parser::DurationNode> Parser::ParseDurationBinary(int min_precedence) {
  if (++recursion_ > kMaxDepth) RETURN_IF_ERROR(CheckDepth(recursion_));
  ASSIGN_OR_RETURN(DurationNode lhs, ParseDurationUnary());
  for (;;) {
    const Token& next = Peek();
    if (!IsDurationArithmetic(next.type)) break;
    const int precedence = Precedence(next.type);
    if (precedence < min_precedence) break;
    const Token op = Consume();
    // `^` is right-associative; every other operator is left-associative.
    ASSIGN_OR_RETURN(DurationNode rhs,
                     ParseDurationBinary(op.type == TokenType::kPow ? precedence : precedence + 1));
    if (op.type == TokenType::kDiv && IsZeroLiteral(*rhs)) {
      return ErrorAt(op.pos, "division by zero");
    }
    if (op.type == TokenType::kMod && IsZeroLiteral(*rhs)) {
      return ErrorAt(op.pos, "modulo by zero");
    }
    auto bin = std::make_shared<DurationExpr>();
    bin->op = ToDurationOp(op.type);
    bin->pos = lhs->pos;
    bin->lhs = std::move(lhs);
    bin->rhs = std::move(rhs);
    lhs = std::move(bin);
  }
  --recursion_;
  return lhs;
}

absl::StatusOr<Parser::DurationNode> Parser::ParseDurationUnary() {
  const TokenType t = Peek().type;
  if (t != TokenType::kAdd && t != TokenType::kSub) return ParseDurationPrimary();
  const Token sign = Consume();
  // As in queries, a sign binds tighter than `*` and looser than `^`.
  ASSIGN_OR_RETURN(DurationNode operand, ParseDurationBinary(kPowPrecedence));
  return ApplyDurationSign(sign, std::move(operand));
}

absl::StatusOr<Parser::DurationNode> Parser::ApplyDurationSign(const Token& sign,
                                                               DurationNode operand) const {
  const bool negate = sign.type == TokenType::kSub;
  if (operand->op == DurationExpr::Op::kNumber) {
    if (negate) operand->seconds = -operand->seconds;
    if (std::abs(operand->seconds) > kMaxDurationSeconds) {
      return ErrorAt(sign.pos, "duration out of range");
    }
    operand->pos = sign.pos;
    return operand;
  }
  if (!negate) return operand;
  auto neg = std::make_shared<DurationExpr>();
  neg->op = DurationExpr::Op::kSub;
  neg->pos = sign.pos;
  neg->rhs = std::move(operand);
  return neg;
}

absl::StatusOr<Parser::DurationNode> Parser::ParseDurationPrimary() {
  const Token& t = Peek();
  if (t.type == TokenType::kNumber || t.type == TokenType::kDuration) {
    return ParseDurationLiteral();
  }
  if (t.type == TokenType::kStep || t.type == TokenType::kRange || IsMinMax(t)) {
    return ParseDurationCall();
  }
  if (t.type == TokenType::kLeftParen) return ParseDurationParen();
  return DurationUnexpected(t);
}

absl::StatusOr<Parser::DurationNode> Parser::ParseDurationLiteral() {
  const Token tok = Consume();
  ASSIGN_OR_RETURN(double seconds, ParseNumberToken(tok));
  // Written so NaN fails too: Go would turn it into an arbitrary duration, C++ into UB.
  if (!(std::abs(seconds) <= kMaxDurationSeconds)) {
    return ErrorAt(tok.pos, "duration out of range");
  }
  auto node = std::make_shared<DurationExpr>();
  node->seconds = seconds;
  node->duration_literal = tok.type == TokenType::kDuration;
  node->pos = tok.pos;
  return node;
}

absl::StatusOr<Parser::DurationNode> Parser::ParseDurationCall() {
  const Token name = Consume();
  auto node = std::make_shared<DurationExpr>();
  node->pos = name.pos;
  if (Peek().type != TokenType::kLeftParen) return DurationUnexpected(Peek());
  Consume();
  if (name.type == TokenType::kStep || name.type == TokenType::kRange) {
    node->op = name.type == TokenType::kStep ? DurationExpr::Op::kStep : DurationExpr::Op::kRange;
  } else {
    node->op = IsMinOf(name) ? DurationExpr::Op::kMinOf : DurationExpr::Op::kMaxOf;
    ASSIGN_OR_RETURN(node->lhs, ParseDurationBinary(0));
    if (Peek().type != TokenType::kComma) return DurationUnexpected(Peek());
    Consume();
    ASSIGN_OR_RETURN(node->rhs, ParseDurationBinary(0));
  }
  if (Peek().type != TokenType::kRightParen) return DurationUnexpected(Peek());
  Consume();
  return node;
}

absl::StatusOr<Parser::DurationNode> Parser::ParseDurationParen() {
  const Token open = Consume();
  ASSIGN_OR_RETURN(DurationNode inner, ParseDurationBinary(0));
  if (Peek().type != TokenType::kRightParen) return DurationUnexpected(Peek());
  Consume();
  if (inner->op != DurationExpr::Op::kNumber) {
    inner->wrapped = true;
    return inner;
  }
  // A literal has no parentheses of its own: a unary `+` carries them, so that the query
  // prints back as written.
  auto wrapper = std::make_shared<DurationExpr>();
  wrapper->op = DurationExpr::Op::kAdd;
  wrapper->wrapped = true;
  wrapper->pos = open.pos;
  wrapper->rhs = std::move(inner);
  return wrapper;
}

}  // namespace kura::query::parser_internal

namespace kura::query {

absl::StatusOr<int64_t> ParseDuration(std::string_view input) {
  ASSIGN_OR_RETURN(int64_t ns, parser_internal::ParseDurationNanos(input));
  return ns / 1000000;
}

}  // namespace kura::query
