#include "model/matcher.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "re2/re2.h"

namespace kura::model {

LabelMatcher::LabelMatcher(MatchType type, std::string name, std::string value,
                           std::shared_ptr<const re2::RE2> re)
    : type_(type), name_(std::move(name)), value_(std::move(value)), re_(std::move(re)) {}

absl::StatusOr<LabelMatcher> LabelMatcher::Create(MatchType type, std::string name,
                                                  std::string value) {
  std::shared_ptr<const re2::RE2> re;
  if (type == MatchType::kRegexMatch || type == MatchType::kRegexNoMatch) {
    re2::RE2::Options options;
    options.set_log_errors(false);
    options.set_dot_nl(true);  // Prometheus compiles with (?s)
    auto compiled = std::make_shared<re2::RE2>(absl::StrCat("^(?:", value, ")$"), options);
    if (!compiled->ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("error parsing regexp: ", compiled->error(), ": `", value, "`"));
    }
    re = std::move(compiled);
  }
  return LabelMatcher(type, std::move(name), std::move(value), std::move(re));
}

bool LabelMatcher::Matches(std::string_view value) const {
  switch (type_) {
    case MatchType::kEqual: return value == value_;
    case MatchType::kNotEqual: return value != value_;
    case MatchType::kRegexMatch: return re2::RE2::FullMatch(value, *re_);
    case MatchType::kRegexNoMatch: return !re2::RE2::FullMatch(value, *re_);
  }
  return false;
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
