#pragma once

// The PromQL lexer: text -> tokens with byte positions. A state machine that follows
// Prometheus's promql/parser/lex.go token for token, including its error texts ("unclosed left
// parenthesis", "bad number or duration syntax: ...") and the context-sensitive parts: keywords
// are plain identifiers inside braces, and `[...]` holds durations.

#include <cstdint>
#include <string>
#include <string_view>

// Re-exported: the lexer's users quote and unquote with these helpers.
#include "query/go_literals.h"  // IWYU pragma: export

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
  // Preprocessors (`@ start()`, `step()` in durations). Inside `[...]`, min_of and max_of
  // arrive as kIdentifier tokens, as they do everywhere else.
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

}  // namespace kura::query
