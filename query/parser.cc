// Parser: tokens, errors, entry points and expressions (operators, calls, aggregations).

#include "query/parser.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "query/function_signatures.h"
#include "query/lexer.h"
#include "query/parser_internal.h"

namespace kura::query::parser_internal {
namespace {

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

}  // namespace

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
  consumed_end_ = tok.end();
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
    RETURN_IF_ERROR(ParseBinaryModifiers(&bin));
    // `^` is right-associative; every other operator is left-associative.
    ASSIGN_OR_RETURN(Parsed rhs, ParseBinary(op.type == TokenType::kPow ? precedence
                                                                          : precedence + 1));
    // Checked once the right operand parsed, where Prometheus builds the binary expression.
    if (!options_.enable_binop_fill_modifiers &&
        (bin.matching->fill_lhs.has_value() || bin.matching->fill_rhs.has_value())) {
      return ErrorAt(lhs.expr->pos.start, "binop fill modifiers are experimental and not enabled");
    }
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

absl::Status Parser::ParseBinaryModifiers(BinaryExpr* bin) {
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
  // fill(v) | fill_left(v) [fill_right(v)] | fill_right(v) [fill_left(v)]. The lexer only makes
  // these keywords when a "(" follows, so `foo + fill` still names a metric.
  const TokenType f = Peek().type;
  if (f == TokenType::kFill) {
    Consume();
    ASSIGN_OR_RETURN(double v, ParseFillValue());
    matching.fill_lhs = v;
    matching.fill_rhs = v;
  } else if (f == TokenType::kFillLeft || f == TokenType::kFillRight) {
    Consume();
    ASSIGN_OR_RETURN(double v, ParseFillValue());
    (f == TokenType::kFillLeft ? matching.fill_lhs : matching.fill_rhs) = v;
    const TokenType other = f == TokenType::kFillLeft ? TokenType::kFillRight
                                                      : TokenType::kFillLeft;
    if (Peek().type == other) {
      Consume();
      ASSIGN_OR_RETURN(double w, ParseFillValue());
      (other == TokenType::kFillLeft ? matching.fill_lhs : matching.fill_rhs) = w;
    }
  }
  bin->matching = std::move(matching);
  return absl::OkStatus();
}

absl::StatusOr<double> Parser::ParseFillValue() {
  if (Peek().type != TokenType::kLeftParen) return Unexpected(Peek());
  Consume();
  bool negate = false;
  if (Peek().type == TokenType::kAdd || Peek().type == TokenType::kSub) {
    negate = Consume().type == TokenType::kSub;
  }
  const Token& t = Peek();
  if (t.type != TokenType::kNumber && t.type != TokenType::kDuration) return Unexpected(t);
  const Token num = Consume();
  ASSIGN_OR_RETURN(double v, ParseNumberToken(num));
  if (Peek().type != TokenType::kRightParen) return Unexpected(Peek());
  Consume();
  return negate ? -v : v;
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
      case TokenType::kSmoothed: RETURN_IF_ERROR(ParseExtendedModifier(*e.expr)); break;
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

}  // namespace kura::query::parser_internal

namespace kura::query {

absl::StatusOr<ExprPtr> ParseExpr(std::string_view input, const ParserOptions& options) {
  parser_internal::Parser parser(input, options);
  return parser.ParseQuery();
}

absl::StatusOr<std::vector<model::LabelMatcher>> ParseMetricSelector(std::string_view input) {
  parser_internal::Parser parser(input, ParserOptions{});
  return parser.ParseSelectorOnly();
}

}  // namespace kura::query
