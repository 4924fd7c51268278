#pragma once

// The recursive-descent Parser behind ParseExpr, shared by the parser_*.cc files that implement
// it: parser.cc (tokens, errors, expressions), parser_selectors.cc (selectors, ranges, offset,
// @), parser_durations.cc (duration literals and expressions) and parser_check.cc (type checks).
// Not part of the public API: include query/parser.h instead.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/matcher.h"
#include "query/ast.h"
#include "query/lexer.h"
#include "query/parser.h"

namespace kura::query::parser_internal {

// Debian's Abseil has its own string_view type, so std::string_view goes through this.
inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Bounds both the parser's recursion and the depth of the tree it builds: the printer, the type
// checker, the destructor and the engine all recurse over the tree.
inline constexpr int kMaxDepth = 1000;

// Largest |seconds| whose nanosecond count fits an int64 (Prometheus's "duration out of range").
inline constexpr double kMaxDurationSeconds = 9223372036.854775807;

inline constexpr int kPowPrecedence = 6;

// Binary operator precedence, lowest first; 0 for tokens that are not binary operators.
int Precedence(TokenType t);

// Tokens the grammar accepts as a metric name (Prometheus's metric_identifier).
bool IsMetricIdentifier(TokenType t);

ExprPtr MakeExpr(Expr::Node node, PositionRange pos, ValueType type);

// "instant vector", "range vector", ... as Prometheus's error messages name types.
absl::string_view DocumentedType(ValueType t);

// Seconds -> milliseconds the way Prometheus turns a literal into a time.Duration (rounded to
// nanoseconds) and then into milliseconds (truncated).
int64_t SecondsToMillis(double seconds);

// Go's time.Duration-based model.ParseDuration, in nanoseconds.
absl::StatusOr<int64_t> ParseDurationNanos(std::string_view s);

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
  using DurationNode = std::shared_ptr<DurationExpr>;

  // Tokens.
  const Token& Peek(int ahead = 0);
  Token Consume();

  // Errors, worded and positioned as Prometheus does.
  absl::Status ErrorAt(int pos, absl::string_view message) const;
  absl::Status Unexpected(const Token& tok, std::string_view context = {},
                          std::string_view expected = {}) const;
  absl::Status CheckDepth(int depth) const;

  // Expressions (parser.cc).
  absl::StatusOr<Parsed> ParseBinary(int min_precedence);
  absl::StatusOr<Parsed> ParseUnary();
  absl::StatusOr<Parsed> ParsePrimary();
  absl::StatusOr<Parsed> ParsePostfix(Parsed e);
  absl::StatusOr<Parsed> ParseParen();
  absl::StatusOr<Parsed> ParseCall();
  absl::StatusOr<Parsed> ParseAggregate();
  absl::Status ParseBinaryModifiers(BinaryExpr* bin);
  absl::StatusOr<double> ParseFillValue();  // `(` [+|-] number-or-duration `)`
  absl::StatusOr<std::vector<ExprPtr>> ParseArgs(int* depth, int* end);
  absl::StatusOr<double> ParseNumberToken(const Token& tok) const;

  // Selectors and their modifiers (parser_selectors.cc).
  absl::StatusOr<Parsed> ParseVectorSelector();
  absl::Status ParseLabelMatchers(std::vector<model::LabelMatcher>* matchers, int* end);
  absl::StatusOr<std::vector<std::string>> ParseGroupingLabels();
  absl::StatusOr<Parsed> ParseRangeOrSubquery(Parsed e);
  absl::Status ParseOffset(Expr& e);
  absl::Status ParseAt(Expr& e);
  // `anchored` or `smoothed` after a selector.
  absl::Status ParseExtendedModifier(Expr& e);

  // Durations (parser_durations.cc). A range or subquery step inside `[...]`: the full
  // arithmetic grammar; errors name `context` and `expected`. Stores a lone literal in *ms
  // (which must be positive), anything else in *expr (folded into *ms when constant).
  absl::Status ParseBracketDuration(std::string_view context, std::string_view expected,
                                    int64_t* ms, DurationExprPtr* expr);
  // After `offset`: a signed literal, step(), range(), min_of/max_of(...) or a parenthesized
  // expression, and nothing more, so `foo offset 1m + 1` adds 1 to the selector.
  absl::Status ParseOffsetDuration(int64_t* ms, DurationExprPtr* expr);
  bool StartsDuration(const Token& tok) const;
  absl::StatusOr<DurationNode> ParseDurationBinary(int min_precedence);
  absl::StatusOr<DurationNode> ParseDurationUnary();
  absl::StatusOr<DurationNode> ParseDurationPrimary();
  absl::StatusOr<DurationNode> ParseDurationLiteral();
  absl::StatusOr<DurationNode> ParseDurationCall();
  absl::StatusOr<DurationNode> ParseDurationParen();
  absl::StatusOr<DurationNode> ApplyDurationSign(const Token& sign, DurationNode operand) const;
  absl::Status DurationUnexpected(const Token& tok) const;

  // Type checks, Prometheus's checkAST, run once the whole query parsed (parser_check.cc).
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
  int consumed_end_ = 0;       // end of the last token Consume() returned
  // What a failing duration expression reports ("unexpected X in <context>, expected ...").
  std::string_view duration_context_;
  std::string_view duration_expected_;
};

}  // namespace kura::query::parser_internal
