#include "query/go_literals.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kura::query {
namespace {

// Debian's Abseil has its own string_view type, so std::string_view goes through this.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

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

}  // namespace

std::string GoRuneWithCode(int32_t r) {
  std::string out = absl::StrFormat("U+%04X", r < 0 ? kRuneError : r);
  if (r >= 0 && IsPrint(r)) {
    out.append(" '");
    AppendUtf8(r, &out);
    out.push_back('\'');
  }
  return out;
}

int HexDigitValue(int32_t r) {
  if (r >= '0' && r <= '9') return r - '0';
  if (r >= 'a' && r <= 'f') return r - 'a' + 10;
  if (r >= 'A' && r <= 'F') return r - 'A' + 10;
  return 16;
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
    const int d = HexDigitValue(static_cast<unsigned char>(c));
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
      const int d = HexDigitValue(static_cast<unsigned char>(s[i]));
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
