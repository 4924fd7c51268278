#pragma once

// The PromQL lexer: text -> tokens with byte positions. A state machine that follows
// Prometheus's promql/parser/lex.go token for token, including its error texts ("unclosed left
// parenthesis", "bad number or duration syntax: ...") and the context-sensitive parts: keywords
// are plain identifiers inside braces, and `[...]` holds durations.
//
// Also home of the Go-compatible literal helpers the parser needs (number and string literals).

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace kura::query {

enum class TokenType {
  kEOF,
  kError,  // `val` holds the message
  kComment,
  kIdentifier,
  kMetricIdentifier,  // an identifier with a colon
  kNumber,
  kDuration,
  kString,  // `val` holds the quoted text
  kLeftParen,
  kRightParen,
  kLeftBrace,
  kRightBrace,
  kLeftBracket,
  kRightBracket,
  kComma,
  kAssign,  // `=`
  kColon,
  kDoubleColon,
  // Operators.
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kEqlc,
  kNeq,
  kLte,
  kLss,
  kGte,
  kGtr,
  kEqlRegex,
  kNeqRegex,
  kAt,
  kLand,
  kLor,
  kLunless,
  kAtan2,
  // Aggregators.
  kSum,
  kAvg,
  kCount,
  kMin,
  kMax,
  kGroup,
  kStddev,
  kStdvar,
  kTopk,
  kBottomk,
  kCountValues,
  kQuantile,
  kLimitk,
  kLimitRatio,
  // Keywords.
  kBool,
  kBy,
  kGroupLeft,
  kGroupRight,
  kIgnoring,
  kOffset,
  kOn,
  kWithout,
  kSmoothed,
  kAnchored,
  kFill,
  kFillLeft,
  kFillRight,
  // Preprocessors (`@ start()`, `step()` in durations).
  kStart,
  kEnd,
  kStep,
  kRange,
};

bool IsOperatorToken(TokenType t);
bool IsAggregatorToken(TokenType t);
bool IsKeywordToken(TokenType t);

struct Token {
  TokenType type = TokenType::kEOF;
  int pos = 0;           // byte offset of the first character
  std::string_view val;  // the token's text (for kError: the message, owned by the lexer)

  int end() const { return pos + static_cast<int>(val.size()); }
  // How Prometheus names the token in "unexpected ..." errors, e.g. `<op:*>`, `identifier "x"`,
  // `end of input`.
  std::string Describe() const;
};

// Produces tokens on demand. Not thread-safe; `input` must outlive the lexer. After a kError or
// kEOF token every further call returns kEOF.
class Lexer {
 public:
  explicit Lexer(std::string_view input) : input_(input) {}
  Lexer(const Lexer&) = delete;
  Lexer& operator=(const Lexer&) = delete;

  // Comments are returned as kComment tokens; the parser skips them.
  Token Next();

 private:
  enum class State { kStatements, kInsideBraces, kDurationExpr };

  static constexpr int32_t kEofRune = -1;

  int32_t NextRune();
  int32_t PeekRune();
  void Backup() { pos_ -= width_; }
  bool Accept(std::string_view valid);
  Token Emit(TokenType type);
  Token Errorf(std::string message);

  // Each returns true and sets *tok when it produced a token; false when it only skipped input.
  bool LexStatements(Token* tok);
  bool LexInsideBraces(Token* tok);
  bool LexDurationExpr(Token* tok);
  Token LexString(int32_t quote);
  Token LexRawString();
  bool LexEscape(int32_t quote, Token* error);
  Token LexComment();
  Token LexNumberOrDuration();
  Token LexKeywordOrIdentifier();
  Token LexIdentifier();
  bool ScanNumber();
  bool AcceptRemainingDuration();
  bool ScanDurationKeyword(Token* tok);
  bool FollowedByLeftParen() const;
  void SkipSpaces();

  std::string_view input_;
  int pos_ = 0;
  int start_ = 0;
  int width_ = 0;
  State state_ = State::kStatements;
  bool done_ = false;
  int paren_depth_ = 0;
  bool brace_open_ = false;
  bool bracket_open_ = false;
  bool got_colon_ = false;
  bool got_duration_ = false;
  std::string error_;  // backs the val of the last kError token
};

// Go's strconv.ParseInt(s, 0, 64) falling back to strconv.ParseFloat(s, 64), as Prometheus
// reads number literals (so "0755" is octal, "0x1f" hex, "1_000" has a digit separator, "Inf"
// and "NaN" in any case). The error text is Go's, e.g.
// `strconv.ParseFloat: parsing "1e999": value out of range`.
absl::StatusOr<double> ParseNumberLiteral(std::string_view s);

// Unquotes a "...", '...' or `...` literal with Go's escape rules.
absl::StatusOr<std::string> UnquoteString(std::string_view quoted);

// Go's strconv.Quote: double-quoted with Go escapes (printing strings and label values).
std::string GoQuote(std::string_view s);

// Go's strconv.QuoteRune (`'x'`), and the `%#U` form (`U+0078 'x'`).
std::string GoQuoteRune(int32_t rune);

// Decodes one UTF-8 sequence at `s[pos]` as Go does: an invalid byte decodes as U+FFFD with
// width 1. Returns the rune; `*width` gets its length (0 at the end of `s`).
int32_t DecodeRune(std::string_view s, int pos, int* width);

}  // namespace kura::query
