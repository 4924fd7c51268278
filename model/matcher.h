#pragma once

// LabelMatcher: =, !=, =~, !~ with Prometheus's semantics (RE2, fully anchored).

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace kura::model {

enum class MatchType { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

// Immutable after creation; copies share the compiled regex. Thread-safe.
class LabelMatcher {
 public:
  // InvalidArgument when a regex does not compile (message as Prometheus words it).
  static absl::StatusOr<LabelMatcher> Create(MatchType type, std::string name, std::string value);

  MatchType type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }

  // A missing label has the value "".
  bool Matches(std::string_view value) const;
  bool MatchesEmpty() const { return Matches(""); }

  // `name="value"` with the operator, value quoted like Prometheus.
  std::string ToString() const;

 private:
  struct Regex;  // the compiled regex and its shortcut, if it has one

  LabelMatcher(MatchType type, std::string name, std::string value,
               std::shared_ptr<const Regex> regex);
  bool RegexMatches(std::string_view value) const;

  MatchType type_;
  std::string name_;
  std::string value_;
  std::shared_ptr<const Regex> regex_;  // set for regex types only
};

}  // namespace kura::model
