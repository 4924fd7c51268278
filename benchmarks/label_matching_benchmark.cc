// Label matchers over the label values of an index: what every selector pays per value before
// postings are read. Regexes are RE2 and fully anchored, as in Prometheus.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "model/matcher.h"

namespace kura::model {
namespace {

// `instance` values as a large cluster has them: 20,000 "10.a.b.c:port" strings.
const std::vector<std::string>& InstanceValues() {
  static const auto* values = [] {
    auto* v = new std::vector<std::string>;
    for (int i = 0; i < 20000; ++i) {
      v->push_back(absl::StrCat("10.", i % 3, ".", i / 250 % 250, ".", i % 250,
                                i % 3 == 0 ? ":9100" : ":8080"));
    }
    return v;
  }();
  return *values;
}

void RunMatcher(benchmark::State& state, MatchType type, const std::string& value) {
  const LabelMatcher matcher = *LabelMatcher::Create(type, "instance", value);
  const std::vector<std::string>& values = InstanceValues();
  int64_t matched = 0;
  for (auto _ : state) {
    for (const std::string& v : values) matched += matcher.Matches(v) ? 1 : 0;
  }
  benchmark::DoNotOptimize(matched);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(values.size()));
  state.counters["matched"] =
      static_cast<double>(matched) / static_cast<double>(state.iterations());
}

void BM_MatchEqual(benchmark::State& state) {
  RunMatcher(state, MatchType::kEqual, "10.0.7.23:9100");
}
void BM_MatchRegexPrefix(benchmark::State& state) {
  RunMatcher(state, MatchType::kRegexMatch, "10\\.0\\.1\\..*");
}
void BM_MatchRegexAlternation(benchmark::State& state) {
  // What Grafana sends for a multi-value template variable: values joined by |, escaped.
  RunMatcher(state, MatchType::kRegexMatch,
             "10\\.0\\.0\\.3:9100|10\\.0\\.0\\.6:9100|10\\.1\\.0\\.4:8080|"
             "10\\.2\\.3\\.5:8080|10\\.0\\.9\\.9:9100");
}
void BM_MatchRegexGeneral(benchmark::State& state) {
  // No shortcut: RE2 does the work.
  RunMatcher(state, MatchType::kRegexMatch, "10\\.[01]\\.[0-9]+\\.1[0-9]:(9100|8080)");
}
void BM_MatchRegexContains(benchmark::State& state) {
  RunMatcher(state, MatchType::kRegexMatch, ".*:8080");
}
void BM_MatchNegativeRegex(benchmark::State& state) {
  RunMatcher(state, MatchType::kRegexNoMatch, "10\\.2\\..*");
}
void BM_MatchAnyNonEmpty(benchmark::State& state) {
  RunMatcher(state, MatchType::kRegexMatch, ".+");
}
BENCHMARK(BM_MatchEqual);
BENCHMARK(BM_MatchRegexPrefix);
BENCHMARK(BM_MatchRegexAlternation);
BENCHMARK(BM_MatchRegexGeneral);
BENCHMARK(BM_MatchRegexContains);
BENCHMARK(BM_MatchNegativeRegex);
BENCHMARK(BM_MatchAnyNonEmpty);

}  // namespace
}  // namespace kura::model

BENCHMARK_MAIN();
