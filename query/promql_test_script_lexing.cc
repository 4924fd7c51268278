#include "query/promql_test_script_lexing.h"

#include <cstdint>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"
#include "model/sample.h"

namespace kura::query::script_lexing {
namespace {

bool IsNameStart(char c) { return absl::ascii_isalpha(c) || c == '_' || c == ':'; }
bool IsNameChar(char c) { return IsNameStart(c) || absl::ascii_isdigit(c); }
bool IsLabelStart(char c) { return absl::ascii_isalpha(c) || c == '_'; }
bool IsLabelChar(char c) { return IsLabelStart(c) || absl::ascii_isdigit(c); }

void AppendUtf8(uint32_t code_point, std::string* out) {
  if (code_point < 0x80) {
    out->push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

// Parses `digits` hex or octal digits at text[*pos] into *value.
bool ParseDigits(absl::string_view text, size_t* pos, int digits, int base, uint32_t* value) {
  *value = 0;
  for (int k = 0; k < digits; ++k, ++*pos) {
    if (*pos >= text.size()) return false;
    const char c = absl::ascii_tolower(text[*pos]);
    int d = -1;
    if (c >= '0' && c <= '9') d = c - '0';
    if (c >= 'a' && c <= 'f') d = 10 + c - 'a';
    if (d < 0 || d >= base) return false;
    *value = *value * base + static_cast<uint32_t>(d);
  }
  return true;
}

// One Go escape sequence after the backslash at text[*pos - 1].
absl::Status ParseEscape(absl::string_view text, size_t* pos, std::string* out) {
  if (*pos >= text.size()) return absl::InvalidArgumentError("unterminated escape");
  const char c = text[(*pos)++];
  uint32_t value = 0;
  switch (c) {
    case 'a':
      out->push_back('\a');
      return absl::OkStatus();
    case 'b':
      out->push_back('\b');
      return absl::OkStatus();
    case 'f':
      out->push_back('\f');
      return absl::OkStatus();
    case 'n':
      out->push_back('\n');
      return absl::OkStatus();
    case 'r':
      out->push_back('\r');
      return absl::OkStatus();
    case 't':
      out->push_back('\t');
      return absl::OkStatus();
    case 'v':
      out->push_back('\v');
      return absl::OkStatus();
    case '\\':
    case '"':
    case '\'':
      out->push_back(c);
      return absl::OkStatus();
    case 'x':
      if (!ParseDigits(text, pos, 2, 16, &value)) break;
      out->push_back(static_cast<char>(value));
      return absl::OkStatus();
    case 'u':
    case 'U':
      if (!ParseDigits(text, pos, c == 'u' ? 4 : 8, 16, &value)) break;
      AppendUtf8(value, out);
      return absl::OkStatus();
    default:
      --*pos;
      if (!ParseDigits(text, pos, 3, 8, &value) || value > 255) break;
      out->push_back(static_cast<char>(value));
      return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("invalid escape in string: ", text));
}

absl::StatusOr<double> ParseNumber(absl::string_view text) {
  if (absl::EqualsIgnoreCase(text, "stale")) return model::StaleNaN();
  double v = 0;
  if (text.empty() || !absl::SimpleAtod(text, &v)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid number: \"", text, "\""));
  }
  return v;
}

absl::StatusOr<int64_t> ParseTimes(absl::string_view digits) {
  int64_t n = 0;
  if (digits.empty() || !absl::ascii_isdigit(digits[0]) || !absl::SimpleAtoi(digits, &n)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid repetition count: \"", digits, "\""));
  }
  return n;
}

// Expands one item of a value sequence.
absl::Status ExpandItem(absl::string_view item, std::vector<ScriptValue>* values) {
  if (absl::StartsWith(item, "{{")) {
    absl::string_view suffix = item.substr(item.rfind("}}") + 2);
    int64_t copies = 1;
    if (absl::ConsumePrefix(&suffix, "x")) {
      ASSIGN_OR_RETURN(copies, ParseTimes(suffix));
      ++copies;
    } else if (!suffix.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("invalid histogram item: ", item));
    }
    values->insert(values->end(), copies, {ScriptValue::Kind::kHistogram, 0});
    return absl::OkStatus();
  }
  if (item == "_") {
    values->push_back({});
    return absl::OkStatus();
  }
  absl::string_view rest = item;
  if (absl::ConsumePrefix(&rest, "_x")) {
    ASSIGN_OR_RETURN(int64_t n, ParseTimes(rest));
    values->insert(values->end(), n, ScriptValue{});
    return absl::OkStatus();
  }
  const size_t x = item.rfind('x');
  if (x == absl::string_view::npos) {
    ASSIGN_OR_RETURN(double v, ParseNumber(item));
    values->push_back({ScriptValue::Kind::kFloat, v});
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(int64_t n, ParseTimes(item.substr(x + 1)));
  absl::string_view head = item.substr(0, x);
  // The operator of `a+dxN` / `a-dxN`: a sign that is neither leading nor an exponent's.
  size_t op = absl::string_view::npos;
  for (size_t i = 1; i < head.size(); ++i) {
    if ((head[i] == '+' || head[i] == '-') && head[i - 1] != 'e' && head[i - 1] != 'E') {
      op = i;
      break;
    }
  }
  double delta = 0;
  if (op != absl::string_view::npos) {
    ASSIGN_OR_RETURN(delta, ParseNumber(head.substr(op + 1)));
    if (head[op] == '-') delta = -delta;
    head = head.substr(0, op);
  }
  ASSIGN_OR_RETURN(double v, ParseNumber(head));
  // Repeated addition, as upstream computes it, so the loaded floats are bit-identical.
  for (int64_t k = 0; k <= n; ++k) {
    values->push_back({ScriptValue::Kind::kFloat, v});
    if (op != absl::string_view::npos) v += delta;
  }
  return absl::OkStatus();
}

}  // namespace

void SkipSpace(absl::string_view* rest) {
  while (!rest->empty() && IsSpace(rest->front())) rest->remove_prefix(1);
}

absl::string_view NextWord(absl::string_view* rest) {
  SkipSpace(rest);
  size_t end = 0;
  while (end < rest->size() && !IsSpace((*rest)[end])) ++end;
  absl::string_view word = rest->substr(0, end);
  rest->remove_prefix(end);
  return word;
}

absl::Status ParseQuotedString(absl::string_view text, size_t* pos, std::string* out) {
  out->clear();
  if (*pos >= text.size()) return absl::InvalidArgumentError("expected a string");
  const char quote = text[*pos];
  if (quote != '"' && quote != '\'' && quote != '`') {
    return absl::InvalidArgumentError(absl::StrCat("expected a string at: ", text.substr(*pos)));
  }
  for (++*pos; *pos < text.size();) {
    const char c = text[(*pos)++];
    if (c == quote) return absl::OkStatus();
    if (c == '\\' && quote != '`') {
      RETURN_IF_ERROR(ParseEscape(text, pos, out));
    } else {
      out->push_back(c);
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("unterminated string: ", text));
}

absl::StatusOr<model::Labels> ParseSeriesDescriptor(absl::string_view* rest) {
  absl::string_view s = *rest;
  size_t pos = 0;
  std::string name;
  while (pos < s.size() && (pos == 0 ? IsNameStart(s[pos]) : IsNameChar(s[pos]))) ++pos;
  name = std::string(s.substr(0, pos));
  std::vector<model::Label> labels;
  const bool braces = pos < s.size() && s[pos] == '{';
  if (braces) ++pos;
  auto skip_space = [&] {
    while (pos < s.size() && IsSpace(s[pos])) ++pos;
  };
  auto error = [&](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(what, " in series \"", s, "\""));
  };
  while (braces) {
    skip_space();
    if (pos >= s.size()) return error("unterminated label set");
    if (s[pos] == '}') {
      ++pos;
      break;
    }
    std::string key;
    if (s[pos] == '"' || s[pos] == '\'' || s[pos] == '`') {
      RETURN_IF_ERROR(ParseQuotedString(s, &pos, &key));
    } else if (IsLabelStart(s[pos])) {
      const size_t start = pos;
      while (pos < s.size() && IsLabelChar(s[pos])) ++pos;
      key = std::string(s.substr(start, pos - start));
    } else {
      return error("invalid label name");
    }
    skip_space();
    if (pos < s.size() && s[pos] == '=') {
      ++pos;
      skip_space();
      std::string value;
      RETURN_IF_ERROR(ParseQuotedString(s, &pos, &value));
      labels.push_back({std::move(key), std::move(value)});
    } else {
      name = std::move(key);  // a lone string is the metric name
    }
    skip_space();
    if (pos < s.size() && s[pos] == ',') {
      ++pos;
    } else if (pos >= s.size() || s[pos] != '}') {
      return error("expected ',' or '}'");
    }
  }
  if (name.empty() && !braces) return error("missing series descriptor");
  if (!name.empty()) labels.push_back({std::string(model::kMetricNameLabel), std::move(name)});
  std::erase_if(labels, [](const model::Label& l) { return l.value.empty(); });
  rest->remove_prefix(pos);
  return model::Labels::FromUnsorted(std::move(labels));
}

absl::Status ParseValueSequence(absl::string_view text, std::vector<ScriptValue>* values) {
  size_t pos = 0;
  while (true) {
    while (pos < text.size() && IsSpace(text[pos])) ++pos;
    if (pos >= text.size()) return absl::OkStatus();
    const size_t start = pos;
    bool in_histogram = false;
    while (pos < text.size()) {
      if (text.compare(pos, 2, "{{") == 0) {
        in_histogram = true;
        pos += 2;
      } else if (in_histogram && text.compare(pos, 2, "}}") == 0) {
        in_histogram = false;
        pos += 2;
      } else if (!in_histogram && IsSpace(text[pos])) {
        break;
      } else {
        ++pos;
      }
    }
    if (in_histogram) return absl::InvalidArgumentError("unterminated histogram literal");
    RETURN_IF_ERROR(ExpandItem(text.substr(start, pos - start), values));
  }
}

}  // namespace kura::query::script_lexing
