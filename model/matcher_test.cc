#include "model/matcher.h"

#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "re2/re2.h"

namespace kura::model {
namespace {

bool Matches(MatchType type, const std::string& pattern, const std::string& value) {
  absl::StatusOr<LabelMatcher> m = LabelMatcher::Create(type, "l", pattern);
  EXPECT_TRUE(m.ok()) << m.status();
  return m->Matches(value);
}

TEST(LabelMatcherTest, EqualityAndRegexesAreAnchored) {
  EXPECT_TRUE(Matches(MatchType::kEqual, "a", "a"));
  EXPECT_FALSE(Matches(MatchType::kNotEqual, "a", "a"));
  EXPECT_TRUE(Matches(MatchType::kRegexMatch, "a.c", "abc"));
  EXPECT_FALSE(Matches(MatchType::kRegexMatch, "b", "abc"));  // anchored, not a search
  EXPECT_TRUE(Matches(MatchType::kRegexNoMatch, "b", "abc"));
  EXPECT_TRUE(Matches(MatchType::kRegexMatch, "a.c", "a\nc"));  // (?s), as in Prometheus
  EXPECT_TRUE(Matches(MatchType::kRegexMatch, ".*", "a\nb"));
  EXPECT_FALSE(Matches(MatchType::kRegexMatch, ".+", ""));
  EXPECT_TRUE(Matches(MatchType::kRegexMatch, "a|", ""));
  EXPECT_TRUE(Matches(MatchType::kRegexMatch, "10\\.0\\..*", "10.0.3.1:9100"));
  EXPECT_FALSE(Matches(MatchType::kRegexMatch, "10\\.0\\..*", "10x0.3.1:9100"));
  EXPECT_TRUE(
      absl::StartsWith(LabelMatcher::Create(MatchType::kRegexMatch, "l", "a(").status().message(),
                       "error parsing regexp: "));
}

// The string shortcuts must agree with RE2 on every pattern and value: random patterns built
// from the shapes that have shortcuts, near misses that must not take one, and values made of
// the same pieces.
TEST(LabelMatcherTest, ShortcutsAgreeWithRE2) {
  const std::vector<std::string> pieces = {"a",  "b", "ab", ".", "\\.", "x",  "",
                                           "\n", "é", "|",  "*", "(",   "\\", "+"};
  const std::vector<std::string> shapes = {"{}",     ".*{}", "{}.*", ".*{}.*", "{}|{}",  "{}|{}|{}",
                                           ".+",     ".*",   "{}.+", ".+{}",   "({}).*", "{}\\|{}",
                                           "(?i){}", "{}*",  "[{}]", "{}.?"};
  std::mt19937 rng(7);
  auto piece = [&] {
    std::string out;
    for (int n = static_cast<int>(rng() % 3); n >= 0; --n) out += pieces[rng() % pieces.size()];
    return out;
  };
  re2::RE2::Options options;
  options.set_log_errors(false);
  options.set_dot_nl(true);
  int compared = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string pattern;
    const std::string& shape = shapes[rng() % shapes.size()];
    for (size_t k = 0; k < shape.size(); ++k) {
      if (shape.compare(k, 2, "{}") == 0) {
        pattern += piece();
        ++k;
      } else {
        pattern += shape[k];
      }
    }
    re2::RE2 reference(absl::StrCat("^(?:", pattern, ")$"), options);
    absl::StatusOr<LabelMatcher> matcher =
        LabelMatcher::Create(MatchType::kRegexMatch, "l", pattern);
    ASSERT_EQ(matcher.ok(), reference.ok()) << pattern;
    if (!reference.ok()) continue;
    for (int v = 0; v < 8; ++v) {
      const std::string value = piece() + piece();
      ASSERT_EQ(matcher->Matches(value), re2::RE2::FullMatch(value, reference))
          << "pattern `" << pattern << "` value `" << value << "`";
      ++compared;
    }
  }
  EXPECT_GT(compared, 50000);
}

}  // namespace
}  // namespace kura::model
