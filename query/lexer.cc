#include "query/lexer.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kura::query {
namespace {

// Debian's Abseil has its own string_view type, so std::string_view goes through this.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

constexpr int32_t kRuneError = 0xFFFD;
constexpr int32_t kMaxRune = 0x10FFFF;

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

void AppendUtf8(int32_t r, std::string* out) {
  if (r < 0 || r > kMaxRune || (r >= 0xD800 && r < 0xE000)) r = kRuneError;
  if (r < 0x80) {
    out->push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (r >> 6)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else if (r < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (r >> 12)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (r >> 18)));
    out->push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  }
}

// An approximation of Go's unicode.IsPrint that is exact for ASCII and Latin-1 and treats the
// usual invisible format characters as unprintable.
bool IsPrint(int32_t r) {
  if (r < 0x20 || r == 0x7F) return false;
  if (r < 0x7F) return true;
  if (r < 0xA0 || r == 0xAD) return false;
  if (r > kMaxRune || (r >= 0xD800 && r < 0xE000)) return false;
  if ((r >= 0x200B && r <= 0x200F) || (r >= 0x2028 && r <= 0x202E) ||
      (r >= 0x2060 && r <= 0x206F) || r == 0xFEFF || r == 0xFFFE || r == 0xFFFF) {
    return false;
  }
  if ((r >= 0xE000 && r <= 0xF8FF) || r >= 0xF0000 || (r >= 0xE0000 && r < 0xE1000)) return false;
  return true;
}

void AppendEscapedRune(int32_t r, char quote, std::string* out) {
  if (r == quote || r == '\\') {
    out->push_back('\\');
    out->push_back(static_cast<char>(r));
    return;
  }
  if (IsPrint(r)) {
    AppendUtf8(r, out);
    return;
  }
  switch (r) {
    case '\a': out->append("\\a"); return;
    case '\b': out->append("\\b"); return;
    case '\f': out->append("\\f"); return;
    case '\n': out->append("\\n"); return;
    case '\r': out->append("\\r"); return;
    case '\t': out->append("\\t"); return;
    case '\v': out->append("\\v"); return;
    default: break;
  }
  if (r < ' ' || r == 0x7F) {
    absl::StrAppendFormat(out, "\\x%02x", r);
  } else if (r < 0x10000) {
    absl::StrAppendFormat(out, "\\u%04x", r);
  } else {
    absl::StrAppendFormat(out, "\\U%08x", r);
  }
}

// `%#U` as Go's fmt prints it: `U+0071 'q'`.
std::string RuneWithCode(int32_t r) {
  std::string out = absl::StrFormat("U+%04X", r < 0 ? kRuneError : r);
  if (r >= 0 && IsPrint(r)) {
    out.append(" '");
    AppendUtf8(r, &out);
    out.push_back('\'');
  }
  return out;
}

int DigitVal(int32_t r) {
  if (r >= '0' && r <= '9') return r - '0';
  if (r >= 'a' && r <= 'f') return r - 'a' + 10;
  if (r >= 'A' && r <= 'F') return r - 'A' + 10;
  return 16;
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

int32_t DecodeRune(std::string_view s, int pos, int* width) {
  const int n = static_cast<int>(s.size());
  if (pos >= n) {
    *width = 0;
    return -1;
  }
  const auto b0 = static_cast<unsigned char>(s[pos]);
  *width = 1;
  if (b0 < 0x80) return b0;
  int len = 0;
  int32_t r = 0;
  int32_t min = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2, r = b0 & 0x1F, min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3, r = b0 & 0x0F, min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4, r = b0 & 0x07, min = 0x10000;
  } else {
    return kRuneError;
  }
  if (pos + len > n) return kRuneError;
  for (int i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[pos + i]);
    if ((b & 0xC0) != 0x80) return kRuneError;
    r = (r << 6) | (b & 0x3F);
  }
  if (r < min || r > kMaxRune || (r >= 0xD800 && r < 0xE000)) return kRuneError;
  *width = len;
  return r;
}

std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  int i = 0;
  const int n = static_cast<int>(s.size());
  while (i < n) {
    int width = 0;
    const int32_t r = DecodeRune(s, i, &width);
    if (r == kRuneError && width == 1) {
      absl::StrAppendFormat(&out, "\\x%02x", static_cast<unsigned char>(s[i]));
    } else {
      AppendEscapedRune(r, '"', &out);
    }
    i += width;
  }
  out.push_back('"');
  return out;
}

std::string GoQuoteRune(int32_t rune) {
  if (rune < 0 || rune > kMaxRune || (rune >= 0xD800 && rune < 0xE000)) rune = kRuneError;
  std::string out = "'";
  AppendEscapedRune(rune, '\'', &out);
  out.push_back('\'');
  return out;
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
    case ',': *tok = Emit(TokenType::kComma); return true;
    case '*': *tok = Emit(TokenType::kMul); return true;
    case '/': *tok = Emit(TokenType::kDiv); return true;
    case '%': *tok = Emit(TokenType::kMod); return true;
    case '+': *tok = Emit(TokenType::kAdd); return true;
    case '-': *tok = Emit(TokenType::kSub); return true;
    case '^': *tok = Emit(TokenType::kPow); return true;
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
    if (Contains("sSmM", r) && ScanDurationKeyword(tok)) return true;
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
    case '+': *tok = Emit(TokenType::kAdd); return true;
    case '-': *tok = Emit(TokenType::kSub); return true;
    case '*': *tok = Emit(TokenType::kMul); return true;
    case '/': *tok = Emit(TokenType::kDiv); return true;
    case '%': *tok = Emit(TokenType::kMod); return true;
    case '^': *tok = Emit(TokenType::kPow); return true;
    case ',': *tok = Emit(TokenType::kComma); return true;
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
      *error = Errorf(absl::StrCat("unknown escape sequence ", RuneWithCode(ch)));
      return false;
  }
  uint64_t x = 0;
  while (n > 0) {
    const auto d = static_cast<uint64_t>(DigitVal(ch));
    if (d >= base) {
      *error = ch == kEofRune ? Errorf("escape sequence not terminated")
                              : Errorf(absl::StrCat("illegal character ", RuneWithCode(ch),
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

// ---------------------------------------------------------------------------------------------
// Literals.

namespace {

// Go's strconv underscoreOK: underscores only between digits (a base prefix counts as one).
bool UnderscoreOk(std::string_view s) {
  char saw = '^';
  size_t i = 0;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0') {
    const char c = absl::ascii_tolower(s[1]);
    if (c == 'b' || c == 'o' || c == 'x') {
      i = 2;
      saw = '0';
      hex = c == 'x';
    }
  }
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if ((c >= '0' && c <= '9') || (hex && absl::ascii_isxdigit(c))) {
      saw = '0';
      continue;
    }
    if (c == '_') {
      if (saw != '0') return false;
      saw = '_';
      continue;
    }
    if (saw == '_') return false;
    saw = '!';
  }
  return saw != '_';
}

// Go's strconv.ParseInt(s, 0, 64) for an unsigned literal; nullopt on any error.
std::optional<int64_t> ParseGoInt(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int base = 10;
  std::string_view body = s;
  if (s[0] == '0') {
    const char c = s.size() >= 3 ? absl::ascii_tolower(s[1]) : '\0';
    if (c == 'b') {
      base = 2, body = s.substr(2);
    } else if (c == 'o') {
      base = 8, body = s.substr(2);
    } else if (c == 'x') {
      base = 16, body = s.substr(2);
    } else {
      base = 8, body = s.substr(1);
    }
  }
  bool underscores = false;
  uint64_t value = 0;
  for (char c : body) {
    if (c == '_') {
      underscores = true;
      continue;
    }
    const int d = DigitVal(static_cast<unsigned char>(c));
    if (d >= base) return std::nullopt;
    if (value > (std::numeric_limits<uint64_t>::max() - d) / base) return std::nullopt;
    value = value * base + d;
  }
  if (underscores && !UnderscoreOk(s)) return std::nullopt;
  if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return static_cast<int64_t>(value);
}

absl::Status FloatError(std::string_view s, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("strconv.ParseFloat: parsing ", GoQuote(s), ": ", Sv(what)));
}

}  // namespace

absl::StatusOr<double> ParseNumberLiteral(std::string_view s) {
  if (std::optional<int64_t> i = ParseGoInt(s)) return static_cast<double>(*i);
  std::string lower = absl::AsciiStrToLower(Sv(s));
  std::string_view unsigned_part = lower;
  const bool negative = !lower.empty() && lower[0] == '-';
  if (!lower.empty() && (lower[0] == '-' || lower[0] == '+')) unsigned_part.remove_prefix(1);
  if (unsigned_part == "inf" || unsigned_part == "infinity") {
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  if (unsigned_part == "nan") return std::numeric_limits<double>::quiet_NaN();
  // Only Go's decimal float syntax reaches here from the lexer; hexadecimal floats need a 'p'
  // exponent, which the lexer never produces.
  if (unsigned_part.empty() || unsigned_part.find_first_not_of("0123456789._e+-") !=
                                   std::string_view::npos) {
    return FloatError(s, "invalid syntax");
  }
  if (lower.find('_') != std::string::npos && !UnderscoreOk(lower)) {
    return FloatError(s, "invalid syntax");
  }
  std::string digits;
  for (char c : lower) {
    if (c != '_') digits.push_back(c);
  }
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(digits.c_str(), &end);
  if (end != digits.c_str() + digits.size()) return FloatError(s, "invalid syntax");
  if (errno == ERANGE && std::isinf(v)) return FloatError(s, "value out of range");
  return v;
}

absl::StatusOr<std::string> UnquoteString(std::string_view quoted) {
  const absl::Status syntax =
      absl::InvalidArgumentError(absl::StrCat("invalid syntax: ", GoQuote(quoted)));
  if (quoted.size() < 2 || quoted.front() != quoted.back()) return syntax;
  const char quote = quoted.front();
  std::string_view s = quoted.substr(1, quoted.size() - 2);
  if (quote == '`') {
    if (s.find('`') != std::string_view::npos) return syntax;
    return std::string(s);
  }
  if (quote != '"' && quote != '\'') return syntax;
  if (s.find('\n') != std::string_view::npos) return syntax;
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    const char c = s[0];
    if (c == quote) return syntax;
    if (c != '\\') {
      out.push_back(c);
      s.remove_prefix(1);
      continue;
    }
    if (s.size() < 2) return syntax;
    const char e = s[1];
    s.remove_prefix(2);
    switch (e) {
      case 'a': out.push_back('\a'); continue;
      case 'b': out.push_back('\b'); continue;
      case 'f': out.push_back('\f'); continue;
      case 'n': out.push_back('\n'); continue;
      case 'r': out.push_back('\r'); continue;
      case 't': out.push_back('\t'); continue;
      case 'v': out.push_back('\v'); continue;
      case '\\': out.push_back('\\'); continue;
      case '\'':
      case '"':
        if (e != quote) return syntax;
        out.push_back(e);
        continue;
      default: break;
    }
    size_t n = 0;
    int base = 16;
    if (e == 'x') {
      n = 2;
    } else if (e == 'u') {
      n = 4;
    } else if (e == 'U') {
      n = 8;
    } else if (e >= '0' && e <= '7') {
      n = 2;
      base = 8;
    } else {
      return syntax;
    }
    if (s.size() < n) return syntax;
    uint32_t v = base == 8 ? static_cast<uint32_t>(e - '0') : 0;
    for (size_t i = 0; i < n; ++i) {
      const int d = DigitVal(static_cast<unsigned char>(s[i]));
      if (d >= base) return syntax;
      v = v * base + d;
    }
    s.remove_prefix(n);
    if (e == 'x' || base == 8) {
      if (v > 255) return syntax;
      out.push_back(static_cast<char>(v));
    } else {
      if (v > static_cast<uint32_t>(kMaxRune) || (v >= 0xD800 && v < 0xE000)) return syntax;
      AppendUtf8(static_cast<int32_t>(v), &out);
    }
  }
  return out;
}

}  // namespace kura::query
