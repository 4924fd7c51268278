#include "query/lexer.h"

#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace kura::query {
namespace {

// Debian's Abseil has its own string_view type, so std::string_view goes through this.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

bool IsSpace(int32_t r) { return r == ' ' || r == '\t' || r == '\n' || r == '\r'; }
bool IsDigit(int32_t r) { return r >= '0' && r <= '9'; }
bool IsAlpha(int32_t r) { return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'); }
bool IsAlphaNumeric(int32_t r) { return IsAlpha(r) || IsDigit(r); }
bool IsEndOfLine(int32_t r) { return r == '\r' || r == '\n'; }

bool Contains(std::string_view set, int32_t r) {
  return r >= 0 && r < 0x80 && set.find(static_cast<char>(r)) != std::string_view::npos;
}

const absl::flat_hash_map<std::string, TokenType>& Keywords() {
  static const auto* const kMap = new absl::flat_hash_map<std::string, TokenType>{
      {"and", TokenType::kLand},
      {"or", TokenType::kLor},
      {"unless", TokenType::kLunless},
      {"atan2", TokenType::kAtan2},
      {"sum", TokenType::kSum},
      {"avg", TokenType::kAvg},
      {"count", TokenType::kCount},
      {"min", TokenType::kMin},
      {"max", TokenType::kMax},
      {"group", TokenType::kGroup},
      {"stddev", TokenType::kStddev},
      {"stdvar", TokenType::kStdvar},
      {"topk", TokenType::kTopk},
      {"bottomk", TokenType::kBottomk},
      {"count_values", TokenType::kCountValues},
      {"quantile", TokenType::kQuantile},
      {"limitk", TokenType::kLimitk},
      {"limit_ratio", TokenType::kLimitRatio},
      {"offset", TokenType::kOffset},
      {"smoothed", TokenType::kSmoothed},
      {"anchored", TokenType::kAnchored},
      {"by", TokenType::kBy},
      {"without", TokenType::kWithout},
      {"on", TokenType::kOn},
      {"ignoring", TokenType::kIgnoring},
      {"group_left", TokenType::kGroupLeft},
      {"group_right", TokenType::kGroupRight},
      {"fill", TokenType::kFill},
      {"fill_left", TokenType::kFillLeft},
      {"fill_right", TokenType::kFillRight},
      {"bool", TokenType::kBool},
      {"start", TokenType::kStart},
      {"end", TokenType::kEnd},
      {"step", TokenType::kStep},
      {"range", TokenType::kRange},
      {"inf", TokenType::kNumber},
      {"nan", TokenType::kNumber},
  };
  return *kMap;
}

// Go's `%.10q...` for long token texts, `%q` otherwise.
std::string QuoteTruncated(std::string_view val) {
  int runes = 0;
  size_t i = 0;
  while (i < val.size() && runes < 10) {
    int width = 0;
    DecodeRune(val, static_cast<int>(i), &width);
    i += width;
    ++runes;
  }
  if (i < val.size()) return absl::StrCat(GoQuote(val.substr(0, i)), "...");
  return GoQuote(val);
}

// The one-character operators (and the comma) that read the same in statements and in
// duration expressions.
std::optional<TokenType> ArithmeticOperator(int32_t r) {
  switch (r) {
    case '+': return TokenType::kAdd;
    case '-': return TokenType::kSub;
    case '*': return TokenType::kMul;
    case '/': return TokenType::kDiv;
    case '%': return TokenType::kMod;
    case '^': return TokenType::kPow;
    case ',': return TokenType::kComma;
    default: return std::nullopt;
  }
}

}  // namespace

bool IsOperatorToken(TokenType t) { return t >= TokenType::kAdd && t <= TokenType::kAtan2; }
bool IsAggregatorToken(TokenType t) {
  return t >= TokenType::kSum && t <= TokenType::kLimitRatio;
}
bool IsKeywordToken(TokenType t) { return t >= TokenType::kBool && t <= TokenType::kFillRight; }

std::string Token::Describe() const {
  switch (type) {
    case TokenType::kEOF: return "end of input";
    case TokenType::kError: return std::string(val);
    case TokenType::kIdentifier: return absl::StrCat("identifier ", GoQuote(val));
    case TokenType::kMetricIdentifier: return absl::StrCat("metric identifier ", GoQuote(val));
    case TokenType::kNumber: return absl::StrCat("number ", QuoteTruncated(val));
    case TokenType::kDuration: return absl::StrCat("duration ", QuoteTruncated(val));
    case TokenType::kString: return absl::StrCat("string ", QuoteTruncated(val));
    case TokenType::kComment: return absl::StrCat("comment ", QuoteTruncated(val));
    default: break;
  }
  if (IsKeywordToken(type)) return absl::StrCat("<", Sv(val), ">");
  if (IsOperatorToken(type)) return absl::StrCat("<op:", Sv(val), ">");
  if (IsAggregatorToken(type)) return absl::StrCat("<aggr:", Sv(val), ">");
  return QuoteTruncated(val);
}

// ---------------------------------------------------------------------------------------------
// Lexer.

int32_t Lexer::NextRune() {
  const int32_t r = DecodeRune(input_, pos_, &width_);
  pos_ += width_;
  return r;
}

int32_t Lexer::PeekRune() {
  const int32_t r = NextRune();
  Backup();
  return r;
}

bool Lexer::Accept(std::string_view valid) {
  if (Contains(valid, NextRune())) return true;
  Backup();
  return false;
}

Token Lexer::Emit(TokenType type) {
  Token tok{type, start_, input_.substr(start_, pos_ - start_)};
  start_ = pos_;
  return tok;
}

Token Lexer::Errorf(std::string message) {
  error_ = std::move(message);
  done_ = true;
  return Token{TokenType::kError, start_, error_};
}

void Lexer::SkipSpaces() {
  while (IsSpace(PeekRune())) NextRune();
  start_ = pos_;
}

Token Lexer::Next() {
  if (done_) return Token{TokenType::kEOF, static_cast<int>(input_.size()), {}};
  Token tok;
  for (;;) {
    bool produced = false;
    switch (state_) {
      case State::kStatements: produced = LexStatements(&tok); break;
      case State::kInsideBraces: produced = LexInsideBraces(&tok); break;
      case State::kDurationExpr: produced = LexDurationExpr(&tok); break;
    }
    if (!produced) continue;
    if (tok.type == TokenType::kEOF || tok.type == TokenType::kError) done_ = true;
    return tok;
  }
}

bool Lexer::LexStatements(Token* tok) {
  if (brace_open_) {
    state_ = State::kInsideBraces;
    return false;
  }
  if (input_.substr(pos_).starts_with('#')) {
    *tok = LexComment();
    return true;
  }
  const int32_t r = NextRune();
  if (const std::optional<TokenType> op = ArithmeticOperator(r)) {
    *tok = Emit(*op);
    return true;
  }
  switch (r) {
    case kEofRune:
      if (paren_depth_ != 0) {
        *tok = Errorf("unclosed left parenthesis");
      } else if (bracket_open_) {
        *tok = Errorf("unclosed left bracket");
      } else {
        *tok = Emit(TokenType::kEOF);
      }
      return true;
    case '@': *tok = Emit(TokenType::kAt); return true;
    case '=': {
      const int32_t t = PeekRune();
      if (t == '=') {
        NextRune();
        *tok = Emit(TokenType::kEqlc);
      } else if (t == '~') {
        *tok = Errorf(absl::StrCat("unexpected character after '=': ", GoQuoteRune(t)));
      } else {
        *tok = Emit(TokenType::kAssign);
      }
      return true;
    }
    case '!': {
      const int32_t t = NextRune();
      *tok = t == '='
                 ? Emit(TokenType::kNeq)
                 : Errorf(absl::StrCat("unexpected character after '!': ", GoQuoteRune(t)));
      return true;
    }
    case '<':
    case '>': {
      const bool eq = PeekRune() == '=';
      if (eq) NextRune();
      if (r == '<') {
        *tok = Emit(eq ? TokenType::kLte : TokenType::kLss);
      } else {
        *tok = Emit(eq ? TokenType::kGte : TokenType::kGtr);
      }
      return true;
    }
    case '"':
    case '\'': *tok = LexString(r); return true;
    case '`': *tok = LexRawString(); return true;
    case '(':
      *tok = Emit(TokenType::kLeftParen);
      ++paren_depth_;
      return true;
    case ')':
      *tok = Emit(TokenType::kRightParen);
      if (--paren_depth_ < 0) *tok = Errorf("unexpected right parenthesis ')'");
      return true;
    case '{':
      *tok = Emit(TokenType::kLeftBrace);
      brace_open_ = true;
      state_ = State::kInsideBraces;
      return true;
    case '[':
      if (bracket_open_) {
        *tok = Errorf("unexpected left bracket '['");
        return true;
      }
      got_colon_ = false;
      *tok = Emit(TokenType::kLeftBracket);
      if (IsSpace(PeekRune())) SkipSpaces();
      bracket_open_ = true;
      state_ = State::kDurationExpr;
      return true;
    case ']':
      if (!bracket_open_) {
        *tok = Errorf("unexpected right bracket ']'");
        return true;
      }
      *tok = Emit(TokenType::kRightBracket);
      bracket_open_ = false;
      return true;
    default: break;
  }
  if (IsSpace(r)) {
    SkipSpaces();
    return false;
  }
  if (IsDigit(r) || (r == '.' && IsDigit(PeekRune()))) {
    Backup();
    *tok = LexNumberOrDuration();
    return true;
  }
  if (IsAlpha(r) || r == ':') {
    if (!bracket_open_) {
      Backup();
      *tok = LexKeywordOrIdentifier();
      return true;
    }
    if (r == ':') {
      if (got_colon_) {
        *tok = Errorf("unexpected colon ':'");
        return true;
      }
      if (PeekRune() == ':') {
        NextRune();
        *tok = Emit(TokenType::kDoubleColon);
      } else {
        *tok = Emit(TokenType::kColon);
      }
      got_colon_ = true;
      return true;
    }
    if (Contains("sSmMrR", r) && ScanDurationKeyword(tok)) return true;
    *tok = Errorf(absl::StrCat("unexpected character: ", GoQuoteRune(r), ", expected ':'"));
    return true;
  }
  *tok = Errorf(absl::StrCat("unexpected character: ", GoQuoteRune(r)));
  return true;
}

bool Lexer::LexInsideBraces(Token* tok) {
  if (input_.substr(pos_).starts_with('#')) {
    *tok = LexComment();
    return true;
  }
  const int32_t r = NextRune();
  if (r == kEofRune) {
    *tok = Errorf("unexpected end of input inside braces");
    return true;
  }
  if (IsSpace(r)) {
    SkipSpaces();
    return false;
  }
  if (IsAlpha(r)) {
    Backup();
    *tok = LexIdentifier();
    return true;
  }
  switch (r) {
    case ',': *tok = Emit(TokenType::kComma); return true;
    case '"':
    case '\'': *tok = LexString(r); return true;
    case '`': *tok = LexRawString(); return true;
    case '=':
      if (NextRune() == '~') {
        *tok = Emit(TokenType::kEqlRegex);
      } else {
        Backup();
        *tok = Emit(TokenType::kAssign);
      }
      return true;
    case '!': {
      const int32_t nr = NextRune();
      if (nr == '~') {
        *tok = Emit(TokenType::kNeqRegex);
      } else if (nr == '=') {
        *tok = Emit(TokenType::kNeq);
      } else {
        *tok = Errorf(
            absl::StrCat("unexpected character after '!' inside braces: ", GoQuoteRune(nr)));
      }
      return true;
    }
    case '{': *tok = Errorf("unexpected left brace '{'"); return true;
    case '}':
      *tok = Emit(TokenType::kRightBrace);
      brace_open_ = false;
      state_ = State::kStatements;
      return true;
    default:
      *tok = Errorf(absl::StrCat("unexpected character inside braces: ", GoQuoteRune(r)));
      return true;
  }
}

bool Lexer::LexDurationExpr(Token* tok) {
  const int32_t r = NextRune();
  if (const std::optional<TokenType> op = ArithmeticOperator(r)) {
    *tok = Emit(*op);
    return true;
  }
  switch (r) {
    case kEofRune: *tok = Errorf("unexpected end of input in duration expression"); return true;
    case ']':
      *tok = Emit(TokenType::kRightBracket);
      bracket_open_ = false;
      got_colon_ = false;
      state_ = State::kStatements;
      return true;
    case ':':
      *tok = Emit(TokenType::kColon);
      if (!got_duration_) {
        *tok = Errorf("unexpected colon before duration in duration expression");
      } else if (got_colon_) {
        *tok = Errorf("unexpected repeated colon in duration expression");
      }
      got_colon_ = true;
      return true;
    case '(':
      *tok = Emit(TokenType::kLeftParen);
      ++paren_depth_;
      return true;
    case ')':
      *tok = Emit(TokenType::kRightParen);
      if (--paren_depth_ < 0) *tok = Errorf("unexpected right parenthesis ')'");
      return true;
    default: break;
  }
  if (IsSpace(r)) {
    SkipSpaces();
    return false;
  }
  if (Contains("sSmMrR", r)) {
    if (ScanDurationKeyword(tok)) return true;
  } else if (IsDigit(r) || (r == '.' && IsDigit(PeekRune()))) {
    Backup();
    got_duration_ = true;
    state_ = State::kStatements;
    *tok = LexNumberOrDuration();
    return true;
  }
  *tok = Errorf(absl::StrCat("unexpected character in duration expression: ", GoQuoteRune(r)));
  return true;
}

bool Lexer::ScanDurationKeyword(Token* tok) {
  while (IsAlpha(NextRune())) {
  }
  Backup();
  const std::string word = absl::AsciiStrToLower(Sv(input_.substr(start_, pos_ - start_)));
  if (word == "step") {
    *tok = Emit(TokenType::kStep);
  } else if (word == "range") {
    *tok = Emit(TokenType::kRange);
  } else if (word == "min") {
    *tok = Emit(TokenType::kMin);
  } else if (word == "max") {
    *tok = Emit(TokenType::kMax);
  } else if (word == "min_of" || word == "max_of") {
    *tok = Emit(TokenType::kIdentifier);
  } else {
    return false;
  }
  return true;
}

Token Lexer::LexComment() {
  pos_ += 1;
  int32_t r = NextRune();
  while (!IsEndOfLine(r) && r != kEofRune) r = NextRune();
  Backup();
  return Emit(TokenType::kComment);
}

Token Lexer::LexString(int32_t quote) {
  for (;;) {
    const int32_t r = NextRune();
    if (r == '\\') {
      Token error;
      if (!LexEscape(quote, &error)) return error;
      continue;
    }
    if (r == kRuneError) return Errorf("invalid UTF-8 rune");
    if (r == kEofRune || r == '\n') return Errorf("unterminated quoted string");
    if (r == quote) break;
  }
  return Emit(TokenType::kString);
}

bool Lexer::LexEscape(int32_t quote, Token* error) {
  int32_t ch = NextRune();
  int n = 0;
  uint64_t base = 0;
  uint64_t max = 0;
  switch (ch) {
    case 'a': case 'b': case 'f': case 'n': case 'r': case 't': case 'v': case '\\':
      return true;
    case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
      n = 3, base = 8, max = 255;
      break;
    case 'x':
      ch = NextRune();
      n = 2, base = 16, max = 255;
      break;
    case 'u':
      ch = NextRune();
      n = 4, base = 16, max = kMaxRune;
      break;
    case 'U':
      ch = NextRune();
      n = 8, base = 16, max = kMaxRune;
      break;
    case kEofRune:
      *error = Errorf("escape sequence not terminated");
      return false;
    default:
      if (ch == quote) return true;
      *error = Errorf(absl::StrCat("unknown escape sequence ", GoRuneWithCode(ch)));
      return false;
  }
  uint64_t x = 0;
  while (n > 0) {
    const auto d = static_cast<uint64_t>(HexDigitValue(ch));
    if (d >= base) {
      *error = ch == kEofRune ? Errorf("escape sequence not terminated")
                              : Errorf(absl::StrCat("illegal character ", GoRuneWithCode(ch),
                                                    " in escape sequence"));
      return false;
    }
    x = x * base + d;
    if (--n > 0) ch = NextRune();
  }
  if (x > max || (x >= 0xD800 && x < 0xE000)) {
    *error = Errorf("escape sequence is an invalid Unicode code point");
    return false;
  }
  return true;
}

Token Lexer::LexRawString() {
  for (;;) {
    const int32_t r = NextRune();
    if (r == kRuneError) return Errorf("invalid UTF-8 rune");
    if (r == kEofRune) return Errorf("unterminated raw string");
    if (r == '`') break;
  }
  return Emit(TokenType::kString);
}

Token Lexer::LexNumberOrDuration() {
  if (ScanNumber()) return Emit(TokenType::kNumber);
  if (AcceptRemainingDuration()) {
    Backup();
    return Emit(TokenType::kDuration);
  }
  return Errorf(absl::StrCat("bad number or duration syntax: ",
                             GoQuote(input_.substr(start_, pos_ - start_))));
}

bool Lexer::AcceptRemainingDuration() {
  if (!Accept("smhdwy")) return false;
  Accept("s");
  while (Accept("0123456789")) {
    while (Accept("0123456789")) {
    }
    if (!Accept("smhdw")) return false;
    Accept("s");
  }
  return !IsAlphaNumeric(NextRune());
}

bool Lexer::ScanNumber() {
  const int initial = pos_;
  std::string_view digits = "0123456789";
  bool hex = false;
  if (Accept("0") && Accept("xX")) {
    Accept("_");
    digits = "0123456789abcdefABCDEF";
    hex = true;
  }
  const std::string loop_set = absl::StrCat(Sv(digits), "._eE");
  Accept(".");
  Accept(digits);
  bool dot_consumed = false;
  bool exponent_consumed = false;
  while (Contains(loop_set, PeekRune())) {
    const int32_t r = PeekRune();
    if (r == '.' && dot_consumed) {
      Accept(".");
      return false;
    }
    if ((r == 'e' || r == 'E') && exponent_consumed) {
      Accept("eE");
      return false;
    }
    if (Accept(".")) {
      dot_consumed = true;
      if (Accept("_.")) return false;
      if (hex) return false;
      continue;
    }
    if (Accept("eE")) {
      exponent_consumed = true;
      Accept("+-");
      if (Accept("._eE") || PeekRune() == kEofRune) return false;
      continue;
    }
    if (Accept("_")) {
      if (Accept("._eE") || PeekRune() == kEofRune) return false;
      continue;
    }
    while (Accept(digits)) {
    }
  }
  if (pos_ == initial) return false;
  return !IsAlphaNumeric(PeekRune());
}

Token Lexer::LexIdentifier() {
  while (IsAlphaNumeric(NextRune())) {
  }
  Backup();
  return Emit(TokenType::kIdentifier);
}

bool Lexer::FollowedByLeftParen() const {
  for (int p = pos_; p < static_cast<int>(input_.size()); ++p) {
    if (!IsSpace(static_cast<unsigned char>(input_[p]))) return input_[p] == '(';
  }
  return false;
}

Token Lexer::LexKeywordOrIdentifier() {
  for (;;) {
    const int32_t r = NextRune();
    if (!IsAlphaNumeric(r) && r != ':') break;
  }
  Backup();
  const std::string_view word = input_.substr(start_, pos_ - start_);
  const auto& keywords = Keywords();
  auto it = keywords.find(absl::AsciiStrToLower(Sv(word)));
  if (it != keywords.end()) {
    const TokenType kw = it->second;
    const bool is_fill =
        kw == TokenType::kFill || kw == TokenType::kFillLeft || kw == TokenType::kFillRight;
    return Emit(is_fill && !FollowedByLeftParen() ? TokenType::kIdentifier : kw);
  }
  return Emit(word.find(':') == std::string_view::npos ? TokenType::kIdentifier
                                                       : TokenType::kMetricIdentifier);
}

}  // namespace kura::query
