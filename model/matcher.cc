#include "model/matcher.h"

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "re2/re2.h"

namespace kura::model {

namespace {

// Most regexes in dashboards are one of a few shapes that need no regex engine: `.*`, `.+`, a
// literal, an alternation of literals (a multi-value template variable), or a literal with
// `.*` before and/or after it. They are matched with string operations, as Prometheus's
// FastRegexMatcher does; everything else goes to RE2.
enum class Shortcut { kNone, kAny, kNonEmpty, kOneOf, kPrefix, kSuffix, kContains };

constexpr std::string_view kMeta = "\\.+*?()|[]{}^$";

// The text `s` matches literally, with `\.`-style escapes of metacharacters resolved; false
// when `s` has any other regex syntax.
bool Unescape(std::string_view s, std::string* out) {
  out->clear();
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\') {
      if (++i == s.size() || kMeta.find(s[i]) == std::string_view::npos) return false;
      c = s[i];
    } else if (kMeta.find(c) != std::string_view::npos) {
      return false;
    }
    out->push_back(c);
  }
  return true;
}

Shortcut FindShortcut(std::string_view pattern, std::vector<std::string>* literals) {
  if (pattern == ".*") return Shortcut::kAny;
  if (pattern == ".+") return Shortcut::kNonEmpty;
  std::string literal;
  const bool leading = pattern.starts_with(".*");
  const bool trailing = pattern.size() > 2 && pattern.ends_with(".*");
  if (leading || trailing) {
    std::string_view middle = pattern.substr(leading ? 2 : 0);
    middle.remove_suffix(trailing ? 2 : 0);
    if (!Unescape(middle, &literal)) return Shortcut::kNone;
    literals->push_back(std::move(literal));
    if (leading && trailing) return Shortcut::kContains;
    return leading ? Shortcut::kSuffix : Shortcut::kPrefix;
  }
  for (absl::string_view alternative :
       absl::StrSplit(absl::string_view(pattern.data(), pattern.size()), '|')) {
    if (!Unescape(std::string_view(alternative.data(), alternative.size()), &literal)) {
      literals->clear();
      return Shortcut::kNone;
    }
    literals->push_back(std::move(literal));
  }
  return Shortcut::kOneOf;
}

}  // namespace

struct LabelMatcher::Regex {
  Regex(const std::string& pattern, const re2::RE2::Options& options)
      : re(absl::StrCat("^(?:", pattern, ")$"), options),
        shortcut(FindShortcut(pattern, &literals)) {}

  re2::RE2 re;
  std::vector<std::string> literals;  // kOneOf: the alternatives; else the one literal
  Shortcut shortcut;
};

LabelMatcher::LabelMatcher(MatchType type, std::string name, std::string value,
                           std::shared_ptr<const Regex> regex)
    : type_(type), name_(std::move(name)), value_(std::move(value)), regex_(std::move(regex)) {}

absl::StatusOr<LabelMatcher> LabelMatcher::Create(MatchType type, std::string name,
                                                  std::string value) {
  std::shared_ptr<const Regex> regex;
  if (type == MatchType::kRegexMatch || type == MatchType::kRegexNoMatch) {
    re2::RE2::Options options;
    options.set_log_errors(false);
    options.set_dot_nl(true);  // Prometheus compiles with (?s)
    regex = std::make_shared<const Regex>(value, options);
    if (!regex->re.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("error parsing regexp: ", regex->re.error(), ": `", value, "`"));
    }
  }
  return LabelMatcher(type, std::move(name), std::move(value), std::move(regex));
}

bool LabelMatcher::Matches(std::string_view value) const {
  switch (type_) {
    case MatchType::kEqual:
      return value == value_;
    case MatchType::kNotEqual:
      return value != value_;
    case MatchType::kRegexMatch:
      return RegexMatches(value);
    case MatchType::kRegexNoMatch:
      return !RegexMatches(value);
  }
  return false;
}

bool LabelMatcher::RegexMatches(std::string_view value) const {
  const std::vector<std::string>& literals = regex_->literals;
  switch (regex_->shortcut) {
    case Shortcut::kAny:
      return true;
    case Shortcut::kNonEmpty:
      return !value.empty();
    case Shortcut::kOneOf:
      return std::find(literals.begin(), literals.end(), value) != literals.end();
    case Shortcut::kPrefix:
      return value.starts_with(literals[0]);
    case Shortcut::kSuffix:
      return value.ends_with(literals[0]);
    case Shortcut::kContains:
      return value.find(literals[0]) != std::string_view::npos;
    case Shortcut::kNone:
      break;
  }
  return re2::RE2::FullMatch(value, regex_->re);
}

std::string LabelMatcher::ToString() const {
  static constexpr const char* kOps[] = {"=", "!=", "=~", "!~"};
  std::string quoted;
  for (char c : value_) {
    if (c == '"' || c == '\\') quoted.push_back('\\');
    if (c == '\n') {
      quoted.append("\\n");
      continue;
    }
    quoted.push_back(c);
  }
  return absl::StrCat(name_, kOps[static_cast<int>(type_)], "\"", quoted, "\"");
}

}  // namespace kura::model
