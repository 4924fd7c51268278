#include "query/parser.h"

#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "query/function_signatures.h"
#include "query/lexer.h"

namespace kura::query {
namespace {

// Debian's Abseil has its own string_view type, so std::string_view goes through this.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Bounds both the parser's recursion and the depth of the tree it builds: the printer, the type
// checker, the destructor and the engine all recurse over the tree.
constexpr int kMaxDepth = 1000;

// Largest |seconds| whose nanosecond count fits an int64 (Prometheus's "duration out of range").
constexpr double kMaxDurationSeconds = 9223372036.854775807;

// Binary operator precedence, lowest first; 0 for tokens that are not binary operators.
int Precedence(TokenType t) {
  switch (t) {
    case TokenType::kLor: return 1;
    case TokenType::kLand:
    case TokenType::kLunless: return 2;
    case TokenType::kEqlc:
    case TokenType::kNeq:
    case TokenType::kLte:
    case TokenType::kLss:
    case TokenType::kGte:
    case TokenType::kGtr: return 3;
    case TokenType::kAdd:
    case TokenType::kSub: return 4;
    case TokenType::kMul:
    case TokenType::kDiv:
    case TokenType::kMod:
    case TokenType::kAtan2: return 5;
    case TokenType::kPow: return 6;
    default: return 0;
  }
}
constexpr int kPowPrecedence = 6;

BinaryOp ToBinaryOp(TokenType t) {
  switch (t) {
    case TokenType::kAdd: return BinaryOp::kAdd;
    case TokenType::kSub: return BinaryOp::kSub;
    case TokenType::kMul: return BinaryOp::kMul;
    case TokenType::kDiv: return BinaryOp::kDiv;
    case TokenType::kMod: return BinaryOp::kMod;
    case TokenType::kPow: return BinaryOp::kPow;
    case TokenType::kAtan2: return BinaryOp::kAtan2;
    case TokenType::kEqlc: return BinaryOp::kEql;
    case TokenType::kNeq: return BinaryOp::kNeq;
    case TokenType::kGtr: return BinaryOp::kGtr;
    case TokenType::kLss: return BinaryOp::kLss;
    case TokenType::kGte: return BinaryOp::kGte;
    case TokenType::kLte: return BinaryOp::kLte;
    case TokenType::kLand: return BinaryOp::kAnd;
    case TokenType::kLor: return BinaryOp::kOr;
    default: return BinaryOp::kUnless;
  }
}

AggregateOp ToAggregateOp(TokenType t) {
  switch (t) {
    case TokenType::kSum: return AggregateOp::kSum;
    case TokenType::kAvg: return AggregateOp::kAvg;
    case TokenType::kMin: return AggregateOp::kMin;
    case TokenType::kMax: return AggregateOp::kMax;
    case TokenType::kCount: return AggregateOp::kCount;
    case TokenType::kGroup: return AggregateOp::kGroup;
    case TokenType::kStddev: return AggregateOp::kStddev;
    case TokenType::kStdvar: return AggregateOp::kStdvar;
    case TokenType::kTopk: return AggregateOp::kTopk;
    case TokenType::kBottomk: return AggregateOp::kBottomk;
    case TokenType::kQuantile: return AggregateOp::kQuantile;
    case TokenType::kCountValues: return AggregateOp::kCountValues;
    case TokenType::kLimitk: return AggregateOp::kLimitk;
    default: return AggregateOp::kLimitRatio;
  }
}

bool TakesParam(AggregateOp op) {
  return op == AggregateOp::kTopk || op == AggregateOp::kBottomk ||
         op == AggregateOp::kQuantile || op == AggregateOp::kCountValues ||
         op == AggregateOp::kLimitk || op == AggregateOp::kLimitRatio;
}

// Tokens the grammar accepts as a metric name (Prometheus's metric_identifier).
bool IsMetricIdentifier(TokenType t) {
  switch (t) {
    case TokenType::kIdentifier:
    case TokenType::kMetricIdentifier:
    case TokenType::kBy:
    case TokenType::kWithout:
    case TokenType::kLand:
    case TokenType::kLor:
    case TokenType::kLunless:
    case TokenType::kOffset:
    case TokenType::kStart:
    case TokenType::kEnd:
    case TokenType::kStep:
    case TokenType::kRange:
    case TokenType::kAnchored:
    case TokenType::kSmoothed: return true;
    default: return IsAggregatorToken(t);
  }
}

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

bool StartsDurationExpr(TokenType t) {
  return t == TokenType::kLeftParen || t == TokenType::kStep || t == TokenType::kRange ||
         t == TokenType::kMin || t == TokenType::kMax;
}

bool IsDurationArithmetic(TokenType t) {
  return t == TokenType::kAdd || t == TokenType::kSub || t == TokenType::kMul ||
         t == TokenType::kDiv || t == TokenType::kMod || t == TokenType::kPow;
}

// Seconds -> milliseconds the way Prometheus turns a literal into a time.Duration (rounded to
// nanoseconds) and then into milliseconds (truncated).
int64_t SecondsToMillis(double seconds) {
  const double ns = std::round(seconds * 1e9);
  if (ns >= 9.2233720368547758e18) return std::numeric_limits<int64_t>::max() / 1000000;
  if (ns <= -9.2233720368547758e18) return std::numeric_limits<int64_t>::min() / 1000000;
  return static_cast<int64_t>(ns) / 1000000;
}

// Go's "%f", which spells infinities "+Inf" and "-Inf".
std::string GoFloatF(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return absl::StrFormat("%f", v);
}

// Go's time.Duration-based model.ParseDuration, in nanoseconds.
absl::StatusOr<int64_t> ParseDurationNanos(std::string_view s) {
  if (s == "0") return 0;
  if (s.empty()) return absl::InvalidArgumentError("empty duration string");
  const auto invalid = [s] {
    return absl::InvalidArgumentError(
        absl::StrCat("not a valid duration string: ", GoQuote(s)));
  };
  struct Unit {
    std::string_view name;
    int pos;
    uint64_t mult;
  };
  static constexpr Unit kUnits[] = {
      {"y", 1, 365ULL * 24 * 3600 * 1000000000}, {"w", 2, 7ULL * 24 * 3600 * 1000000000},
      {"d", 3, 24ULL * 3600 * 1000000000},      {"h", 4, 3600ULL * 1000000000},
      {"m", 5, 60ULL * 1000000000},             {"s", 6, 1000000000ULL},
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

struct Parsed {
  ExprPtr expr;
  int depth = 1;
};

class Parser {
 public:
  Parser(std::string_view input, const ParserOptions& options)
      : input_(input), options_(options), lexer_(input) {}

  absl::StatusOr<ExprPtr> ParseQuery();
  absl::StatusOr<std::vector<model::LabelMatcher>> ParseSelectorOnly();

 private:
  // Tokens.
  const Token& Peek(int ahead = 0);
  Token Consume();

  // Errors, worded and positioned as Prometheus does.
  absl::Status ErrorAt(int pos, absl::string_view message) const;
  absl::Status Unexpected(const Token& tok, std::string_view context = {},
                          std::string_view expected = {}) const;

  // Grammar.
  absl::StatusOr<Parsed> ParseBinary(int min_precedence);
  absl::StatusOr<Parsed> ParseUnary();
  absl::StatusOr<Parsed> ParsePrimary();
  absl::StatusOr<Parsed> ParsePostfix(Parsed e);
  absl::StatusOr<Parsed> ParseParen();
  absl::StatusOr<Parsed> ParseCall();
  absl::StatusOr<Parsed> ParseAggregate();
  absl::StatusOr<Parsed> ParseVectorSelector();
  absl::StatusOr<Parsed> ParseRangeOrSubquery(Parsed e);
  absl::Status ParseOffset(Expr& e);
  absl::Status ParseAt(Expr& e);
  absl::Status ParseBinaryModifiers(const Expr& lhs, BinaryExpr* bin);
  absl::StatusOr<std::vector<std::string>> ParseGroupingLabels();
  absl::StatusOr<std::vector<ExprPtr>> ParseArgs(int* depth, int* end);
  absl::Status ParseLabelMatchers(std::vector<model::LabelMatcher>* matchers, int* end);
  absl::StatusOr<double> ParseNumberToken(const Token& tok) const;
  // [sign] number-or-duration inside `[...]` or after `offset`, in seconds; `*pos` gets the
  // literal's start (its sign included).
  // Inside brackets an operator after the literal would start a duration expression; after
  // `offset` it is the next binary operator (`foo offset 1m + 1` adds 1).
  absl::StatusOr<double> ParseDurationLiteral(std::string_view context, std::string_view expected,
                                              bool in_brackets, int* pos);
  absl::Status CheckDepth(int depth) const;

  // Type checks (Prometheus's checkAST), run once the whole query parsed.
  absl::Status Check(Expr& e, bool bypass_empty_matcher_check = false);
  absl::Status CheckBinary(Expr& e, BinaryExpr& bin);
  absl::Status CheckCall(Expr& e, Call& call);
  absl::Status CheckVectorSelector(const Expr& e, const VectorSelector& vs, bool bypass) const;
  absl::Status ExpectType(Expr& e, ValueType want, std::string_view context);

  std::string_view input_;
  ParserOptions options_;
  Lexer lexer_;
  Token lookahead_[2];
  int buffered_ = 0;
  int recursion_ = 0;
  int aggregation_depth_ = 0;  // > 0 while inside an aggregation's arguments
  int last_end_ = 0;           // end of the closing token a helper consumed last
};

ExprPtr MakeExpr(Expr::Node node, PositionRange pos, ValueType type) {
  auto e = std::make_unique<Expr>();
  e->node = std::move(node);
  e->pos = pos;
  e->type = type;
  return e;
}

absl::string_view DocumentedType(ValueType t) {
  switch (t) {
    case ValueType::kNone: return "none";
    case ValueType::kScalar: return "scalar";
    case ValueType::kVector: return "instant vector";
    case ValueType::kMatrix: return "range vector";
    case ValueType::kString: return "string";
  }
  return "none";
}

absl::string_view ValueTypeName(ValueType t) {
  switch (t) {
    case ValueType::kNone: return "none";
    case ValueType::kScalar: return "scalar";
    case ValueType::kVector: return "vector";
    case ValueType::kMatrix: return "matrix";
    case ValueType::kString: return "string";
  }
  return "none";
}

// ---------------------------------------------------------------------------------------------
// Tokens and errors.

const Token& Parser::Peek(int ahead) {
  while (buffered_ <= ahead) {
    Token tok = lexer_.Next();
    while (tok.type == TokenType::kComment) tok = lexer_.Next();
    lookahead_[buffered_++] = tok;
  }
  return lookahead_[ahead];
}

Token Parser::Consume() {
  Peek();
  Token tok = lookahead_[0];
  lookahead_[0] = lookahead_[1];
  --buffered_;
  return tok;
}

absl::Status Parser::ErrorAt(int pos, absl::string_view message) const {
  std::string where;
  if (input_.empty()) {
    where = "unknown position";
  } else if (pos < 0 || pos > static_cast<int>(input_.size())) {
    where = "invalid position";
  } else {
    int line = 1;
    int last_break = -1;
    for (int i = 0; i < pos; ++i) {
      if (input_[i] == '\n') {
        last_break = i;
        ++line;
      }
    }
    where = absl::StrCat(line, ":", pos - last_break);
  }
  return absl::InvalidArgumentError(absl::StrCat(where, ": parse error: ", message));
}

absl::Status Parser::Unexpected(const Token& tok, std::string_view context,
                                std::string_view expected) const {
  if (tok.type == TokenType::kError) return ErrorAt(tok.pos, Sv(tok.val));
  if (context.empty() && expected.empty() && aggregation_depth_ > 0) context = "aggregation";
  std::string message = absl::StrCat("unexpected ", tok.Describe());
  if (!context.empty()) absl::StrAppend(&message, " in ", Sv(context));
  if (!expected.empty()) absl::StrAppend(&message, ", expected ", Sv(expected));
  return ErrorAt(tok.pos, message);
}

absl::Status Parser::CheckDepth(int depth) const {
  if (depth > kMaxDepth) {
    return ErrorAt(0, absl::StrCat("expression nested too deeply (more than ", kMaxDepth,
                                   " levels)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<double> Parser::ParseNumberToken(const Token& tok) const {
  if (tok.type == TokenType::kDuration) {
    absl::StatusOr<int64_t> ns = ParseDurationNanos(tok.val);
    if (!ns.ok()) return ErrorAt(tok.pos, ns.status().message());
    return static_cast<double>(*ns) / 1e9;
  }
  absl::StatusOr<double> v = ParseNumberLiteral(tok.val);
  if (!v.ok()) return ErrorAt(tok.pos, absl::StrCat("error parsing number: ", v.status().message()));
  return *v;
}

// ---------------------------------------------------------------------------------------------
// Entry points.

absl::StatusOr<ExprPtr> Parser::ParseQuery() {
  if (Peek().type == TokenType::kEOF) return ErrorAt(0, "no expression found in input");
  ASSIGN_OR_RETURN(Parsed p, ParseBinary(0));
  if (Peek().type != TokenType::kEOF) return Unexpected(Peek());
  RETURN_IF_ERROR(Check(*p.expr));
  return std::move(p.expr);
}

absl::StatusOr<std::vector<model::LabelMatcher>> Parser::ParseSelectorOnly() {
  const Token& t = Peek();
  if (!IsMetricIdentifier(t.type) && t.type != TokenType::kLeftBrace) return Unexpected(t);
  ASSIGN_OR_RETURN(Parsed p, ParseVectorSelector());
  if (Peek().type != TokenType::kEOF) return Unexpected(Peek());
  return std::move(std::get<VectorSelector>(p.expr->node).matchers);
}

// ---------------------------------------------------------------------------------------------
// Expressions.

absl::StatusOr<Parsed> Parser::ParseBinary(int min_precedence) {
  if (++recursion_ > kMaxDepth) RETURN_IF_ERROR(CheckDepth(recursion_));
  ASSIGN_OR_RETURN(Parsed lhs, ParseUnary());
  for (;;) {
    const int precedence = Precedence(Peek().type);
    if (precedence == 0 || precedence < min_precedence) break;
    const Token op = Consume();
    BinaryExpr bin;
    bin.op = ToBinaryOp(op.type);
    RETURN_IF_ERROR(ParseBinaryModifiers(*lhs.expr, &bin));
    // `^` is right-associative; every other operator is left-associative.
    ASSIGN_OR_RETURN(Parsed rhs, ParseBinary(op.type == TokenType::kPow ? precedence
                                                                          : precedence + 1));
    const PositionRange pos{lhs.expr->pos.start, rhs.expr->pos.end};
    const bool scalar = lhs.expr->type == ValueType::kScalar &&
                        rhs.expr->type == ValueType::kScalar;
    const int depth = std::max(lhs.depth, rhs.depth) + 1;
    RETURN_IF_ERROR(CheckDepth(depth));
    bin.lhs = std::move(lhs.expr);
    bin.rhs = std::move(rhs.expr);
    lhs.expr = MakeExpr(std::move(bin), pos, scalar ? ValueType::kScalar : ValueType::kVector);
    lhs.depth = depth;
  }
  --recursion_;
  return lhs;
}

absl::Status Parser::ParseBinaryModifiers(const Expr& lhs, BinaryExpr* bin) {
  VectorMatching matching;
  if (Peek().type == TokenType::kBool) {
    Consume();
    bin->return_bool = true;
  }
  const TokenType t = Peek().type;
  if (t == TokenType::kOn || t == TokenType::kIgnoring) {
    Consume();
    matching.on = t == TokenType::kOn;
    ASSIGN_OR_RETURN(matching.matching_labels, ParseGroupingLabels());
    const TokenType g = Peek().type;
    if (g == TokenType::kGroupLeft || g == TokenType::kGroupRight) {
      Consume();
      matching.card = g == TokenType::kGroupLeft ? VectorMatchCardinality::kManyToOne
                                                 : VectorMatchCardinality::kOneToMany;
      if (Peek().type == TokenType::kLeftParen) {
        ASSIGN_OR_RETURN(matching.include, ParseGroupingLabels());
      }
    }
  }
  const TokenType f = Peek().type;
  if (f == TokenType::kFill || f == TokenType::kFillLeft || f == TokenType::kFillRight) {
    return ErrorAt(lhs.pos.start, "binop fill modifiers are experimental and not enabled");
  }
  bin->matching = std::move(matching);
  return absl::OkStatus();
}

absl::StatusOr<Parsed> Parser::ParseUnary() {
  const TokenType t = Peek().type;
  if (t != TokenType::kAdd && t != TokenType::kSub) return ParsePrimary();
  const Token op = Consume();
  // A unary operator binds tighter than `*` but looser than `^`: -2 ^ 2 is -(2 ^ 2).
  ASSIGN_OR_RETURN(Parsed operand, ParseBinary(kPowPrecedence));
  if (auto* number = std::get_if<NumberLiteral>(&operand.expr->node)) {
    if (op.type == TokenType::kSub) number->value = -number->value;
    operand.expr->pos.start = op.pos;
    return operand;
  }
  const PositionRange pos{op.pos, operand.expr->pos.end};
  const ValueType type = operand.expr->type;
  UnaryExpr unary{op.type == TokenType::kSub, std::move(operand.expr)};
  RETURN_IF_ERROR(CheckDepth(operand.depth + 1));
  return Parsed{MakeExpr(std::move(unary), pos, type), operand.depth + 1};
}

absl::StatusOr<Parsed> Parser::ParsePrimary() {
  const Token& t = Peek();
  Parsed result;
  switch (t.type) {
    case TokenType::kNumber:
    case TokenType::kDuration: {
      const Token tok = Consume();
      ASSIGN_OR_RETURN(double v, ParseNumberToken(tok));
      result.expr = MakeExpr(NumberLiteral{v}, {tok.pos, tok.end()}, ValueType::kScalar);
      break;
    }
    case TokenType::kString: {
      const Token tok = Consume();
      absl::StatusOr<std::string> s = UnquoteString(tok.val);
      if (!s.ok()) return ErrorAt(tok.pos, s.status().message());
      result.expr =
          MakeExpr(StringLiteral{*std::move(s)}, {tok.pos, tok.end()}, ValueType::kString);
      break;
    }
    case TokenType::kLeftParen: {
      ASSIGN_OR_RETURN(result, ParseParen());
      break;
    }
    case TokenType::kLeftBrace: {
      ASSIGN_OR_RETURN(result, ParseVectorSelector());
      break;
    }
    default: {
      if (!IsMetricIdentifier(t.type)) return Unexpected(t);
      const TokenType next = Peek(1).type;
      const bool call_like = t.type == TokenType::kIdentifier || t.type == TokenType::kStart ||
                             t.type == TokenType::kEnd || t.type == TokenType::kStep ||
                             t.type == TokenType::kRange;
      if (call_like && next == TokenType::kLeftParen) {
        ASSIGN_OR_RETURN(result, ParseCall());
      } else if (IsAggregatorToken(t.type) &&
                 (next == TokenType::kLeftParen || next == TokenType::kBy ||
                  next == TokenType::kWithout)) {
        ASSIGN_OR_RETURN(result, ParseAggregate());
      } else {
        ASSIGN_OR_RETURN(result, ParseVectorSelector());
      }
    }
  }
  return ParsePostfix(std::move(result));
}

absl::StatusOr<Parsed> Parser::ParsePostfix(Parsed e) {
  for (;;) {
    switch (Peek().type) {
      case TokenType::kLeftBracket: {
        ASSIGN_OR_RETURN(e, ParseRangeOrSubquery(std::move(e)));
        break;
      }
      case TokenType::kOffset: RETURN_IF_ERROR(ParseOffset(*e.expr)); break;
      case TokenType::kAt: RETURN_IF_ERROR(ParseAt(*e.expr)); break;
      case TokenType::kAnchored:
      case TokenType::kSmoothed:
        return ErrorAt(e.expr->pos.start,
                       absl::StrCat(absl::AsciiStrToLower(Sv(Peek().val)),
                                    " modifier is experimental and not enabled"));
      default: return e;
    }
  }
}

absl::StatusOr<Parsed> Parser::ParseParen() {
  const Token open = Consume();
  ASSIGN_OR_RETURN(Parsed inner, ParseBinary(0));
  const Token& close = Peek();
  if (close.type != TokenType::kRightParen) return Unexpected(close);
  const PositionRange pos{open.pos, close.pos + 1};
  Consume();
  const ValueType type = inner.expr->type;
  RETURN_IF_ERROR(CheckDepth(inner.depth + 1));
  return Parsed{MakeExpr(ParenExpr{std::move(inner.expr)}, pos, type), inner.depth + 1};
}

absl::StatusOr<std::vector<ExprPtr>> Parser::ParseArgs(int* depth, int* end) {
  Consume();  // (
  std::vector<ExprPtr> args;
  *depth = 1;
  if (Peek().type != TokenType::kRightParen) {
    for (;;) {
      ASSIGN_OR_RETURN(Parsed arg, ParseBinary(0));
      *depth = std::max(*depth, arg.depth + 1);
      args.push_back(std::move(arg.expr));
      const Token& t = Peek();
      if (t.type == TokenType::kRightParen) break;
      if (t.type != TokenType::kComma) return Unexpected(t);
      const Token comma = Consume();
      if (Peek().type == TokenType::kRightParen) {
        return ErrorAt(comma.pos, "trailing commas not allowed in function call args");
      }
    }
  }
  *end = Consume().end();
  RETURN_IF_ERROR(CheckDepth(*depth));
  return args;
}

absl::StatusOr<Parsed> Parser::ParseCall() {
  const Token name_tok = Consume();
  // start(), end(), step() and range() arrive as keyword tokens in any letter case.
  const std::string name = name_tok.type == TokenType::kIdentifier
                               ? std::string(name_tok.val)
                               : absl::AsciiStrToLower(Sv(name_tok.val));
  int depth = 0;
  int end = 0;
  ASSIGN_OR_RETURN(std::vector<ExprPtr> args, ParseArgs(&depth, &end));
  const FunctionSignature* fn = LookupFunction(name);
  if (fn == nullptr) {
    return ErrorAt(name_tok.pos, absl::StrCat("unknown function with name ", GoQuote(name)));
  }
  if (fn->experimental && !options_.enable_experimental_functions) {
    return ErrorAt(name_tok.pos, absl::StrCat("function ", GoQuote(name), " is not enabled"));
  }
  Call call{name, std::move(args)};
  return Parsed{MakeExpr(std::move(call), {name_tok.pos, end}, fn->return_type), depth};
}

absl::StatusOr<Parsed> Parser::ParseAggregate() {
  const Token op_tok = Consume();
  AggregateExpr agg;
  agg.op = ToAggregateOp(op_tok.type);
  const auto parse_modifier = [&]() -> absl::Status {
    const TokenType t = Peek().type;
    if (t != TokenType::kBy && t != TokenType::kWithout) return absl::OkStatus();
    Consume();
    agg.without = t == TokenType::kWithout;
    agg.grouping_given = true;
    ASSIGN_OR_RETURN(agg.grouping, ParseGroupingLabels());
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(parse_modifier());
  const bool modifier_first = agg.grouping_given;
  if (Peek().type != TokenType::kLeftParen) return Unexpected(Peek(), "aggregation");
  ++aggregation_depth_;
  int depth = 0;
  int end = 0;
  ASSIGN_OR_RETURN(std::vector<ExprPtr> args, ParseArgs(&depth, &end));
  --aggregation_depth_;
  if (!modifier_first) {
    RETURN_IF_ERROR(parse_modifier());
    if (agg.grouping_given) end = last_end_;
  }
  const PositionRange pos{op_tok.pos, end};
  if (args.empty()) return ErrorAt(pos.start, "no arguments for aggregate expression provided");
  size_t want = 1;
  if (TakesParam(agg.op)) {
    if (!options_.enable_experimental_functions &&
        (agg.op == AggregateOp::kLimitk || agg.op == AggregateOp::kLimitRatio)) {
      return ErrorAt(pos.start,
                     absl::StrCat(Sv(AggregateOpName(agg.op)),
                                  "() is experimental and must be enabled with "
                                  "--enable-feature=promql-experimental-functions"));
    }
    want = 2;
  }
  if (args.size() != want) {
    return ErrorAt(pos.start,
                   absl::StrCat("wrong number of arguments for aggregate expression provided, "
                                "expected ",
                                want, ", got ", args.size()));
  }
  if (want == 2) agg.param = std::move(args[0]);
  agg.expr = std::move(args[want - 1]);
  return Parsed{MakeExpr(std::move(agg), pos, ValueType::kVector), depth};
}

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

absl::StatusOr<double> Parser::ParseDurationLiteral(std::string_view context,
                                                    std::string_view expected, bool in_brackets,
                                                    int* pos) {
  const Token first = Peek();
  *pos = first.pos;
  bool negate = false;
  if (first.type == TokenType::kAdd || first.type == TokenType::kSub) {
    Consume();
    negate = first.type == TokenType::kSub;
  }
  const Token tok = Peek();
  if (StartsDurationExpr(tok.type)) {
    return ErrorAt(tok.pos, "duration expressions are not supported");
  }
  if (tok.type != TokenType::kNumber && tok.type != TokenType::kDuration) {
    return Unexpected(tok, context, expected);
  }
  Consume();
  ASSIGN_OR_RETURN(double seconds, ParseNumberToken(tok));
  if (negate) seconds = -seconds;
  if (seconds > kMaxDurationSeconds || seconds < -kMaxDurationSeconds) {
    return ErrorAt(*pos, "duration out of range");
  }
  if (in_brackets && IsDurationArithmetic(Peek().type)) {
    return ErrorAt(Peek().pos, "duration expressions are not supported");
  }
  last_end_ = tok.end();
  return seconds;
}

absl::StatusOr<Parsed> Parser::ParseRangeOrSubquery(Parsed e) {
  const Token open = Consume();
  int range_pos = 0;
  ASSIGN_OR_RETURN(double range,
                   ParseDurationLiteral("subquery or range selector",
                                        "number, duration, step(), or range()", true,
                                        &range_pos));
  if (range <= 0) return ErrorAt(range_pos, "duration must be greater than 0");
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
    MatrixSelector ms{std::move(e.expr), SecondsToMillis(range)};
    return Parsed{MakeExpr(std::move(ms), pos, ValueType::kMatrix), e.depth + 1};
  }
  if (t.type != TokenType::kColon) {
    return Unexpected(t, "subquery or range", "\":\" or \"]\"");
  }
  Consume();
  double step = 0;
  if (Peek().type != TokenType::kRightBracket) {
    int step_pos = 0;
    ASSIGN_OR_RETURN(step, ParseDurationLiteral("subquery selector",
                                                "number, duration, step(), range(), or \"]\"",
                                                true, &step_pos));
    if (step <= 0) return ErrorAt(step_pos, "duration must be greater than 0");
    if (Peek().type != TokenType::kRightBracket) {
      return Unexpected(Peek(), "subquery selector", "\"]\"");
    }
  }
  const Token close = Consume();
  RETURN_IF_ERROR(CheckDepth(e.depth + 1));
  const PositionRange pos{e.expr->pos.start, close.pos + 1};
  SubqueryExpr sq;
  sq.expr = std::move(e.expr);
  sq.range_ms = SecondsToMillis(range);
  sq.step_ms = SecondsToMillis(step);
  return Parsed{MakeExpr(std::move(sq), pos, ValueType::kMatrix), e.depth + 1};
}

absl::Status Parser::ParseOffset(Expr& e) {
  Consume();
  int pos = 0;
  ASSIGN_OR_RETURN(double seconds,
                   ParseDurationLiteral("offset", "number, duration, step(), or range()",
                                        false, &pos));
  int64_t* offset = nullptr;
  if (auto* vs = std::get_if<VectorSelector>(&e.node)) {
    offset = &vs->offset_ms;
  } else if (auto* ms = std::get_if<MatrixSelector>(&e.node)) {
    offset = &std::get<VectorSelector>(ms->selector->node).offset_ms;
  } else if (auto* sq = std::get_if<SubqueryExpr>(&e.node)) {
    offset = &sq->offset_ms;
  } else {
    return ErrorAt(e.pos.start,
                   "offset modifier must be preceded by an instant vector selector or range "
                   "vector selector or a subquery");
  }
  if (*offset != 0) return ErrorAt(e.pos.start, "offset may not be set multiple times");
  *offset = SecondsToMillis(seconds);
  e.pos.end = last_end_;
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
    if (!std::isfinite(ts) || ts >= 9.2233720368547758e18 || ts <= -9.2233720368547758e18) {
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
                                               ValueTypeName(sq->expr->type), " instead"));
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
  if (lt != ValueType::kVector || rt != ValueType::kVector) {
    if (!vm.matching_labels.empty()) {
      return ErrorAt(e.pos.start, "vector matching only allowed between instant vectors");
    }
    bin.matching.reset();
  } else if (IsSetOp(bin.op)) {
    if (vm.card == VectorMatchCardinality::kOneToMany ||
        vm.card == VectorMatchCardinality::kManyToOne) {
      return ErrorAt(e.pos.start, absl::StrCat("no grouping allowed for ", op_name, " operation"));
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

}  // namespace

absl::StatusOr<ExprPtr> ParseExpr(std::string_view input, const ParserOptions& options) {
  Parser parser(input, options);
  return parser.ParseQuery();
}

absl::StatusOr<std::vector<model::LabelMatcher>> ParseMetricSelector(std::string_view input) {
  Parser parser(input, ParserOptions{});
  return parser.ParseSelectorOnly();
}

absl::StatusOr<int64_t> ParseDuration(std::string_view input) {
  ASSIGN_OR_RETURN(int64_t ns, ParseDurationNanos(input));
  return ns / 1000000;
}

}  // namespace kura::query
