#pragma once

// The script language of Prometheus's PromQL test files ("promqltest"): a parser for the
// `load`, `clear` and `eval` commands with their expectations, and the check of a query's
// outcome against one eval with the upstream runner's verdict rules. Section numbers (§) refer
// to the format description that accompanies the scripts.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/labels.h"
#include "query/value.h"

namespace kura::query {

// One position of an expanded value sequence (§4.2).
struct ScriptValue {
  enum class Kind { kOmitted, kFloat, kHistogram };
  Kind kind = Kind::kOmitted;
  double value = 0;  // kFloat only; the stale marker keeps its bit pattern
};

// A series descriptor with its expanded values: load data or an expected result.
struct ScriptSeries {
  model::Labels labels;
  std::vector<ScriptValue> values;
  // Load data only: empty, or one start timestamp per position from the series' `@st` line
  // (§4.4), 0 where it gave none.
  std::vector<int64_t> start_timestamps_ms;
};

struct ClearCommand {
  int line = 0;  // 1-based
};

struct LoadCommand {
  int line = 0;
  int64_t interval_ms = 0;
  bool with_nhcb = false;
  // Unique label sets; a label set listed twice keeps its last line.
  std::vector<ScriptSeries> series;
};

// An error or annotation expectation: `msg: <text>` (equality), `regex: <re>` (unanchored RE2
// search) or nothing (anything matches).
struct TextMatcher {
  enum class Kind { kAny, kExact, kRegex };
  Kind kind = Kind::kAny;
  std::string text;

  bool Matches(std::string_view s) const;
};

struct EvalCommand {
  int line = 0;
  std::string expr;
  bool is_range = false;
  int64_t start_ms = 0;  // the evaluation time of an instant eval
  int64_t end_ms = 0;
  int64_t step_ms = 0;  // range evals only

  bool expect_fail = false;
  std::vector<TextMatcher> fail_matchers;
  std::vector<TextMatcher> warn_matchers;
  std::vector<TextMatcher> info_matchers;
  bool no_warn = false;
  bool no_info = false;
  bool ordered = false;

  // `expect range vector from .. to .. step ..`: an instant eval (at grid_end_ms) that must
  // return a matrix on this grid.
  bool expect_range_vector = false;
  int64_t grid_start_ms = 0;
  int64_t grid_end_ms = 0;
  int64_t grid_step_ms = 0;

  std::optional<double> scalar;
  std::optional<std::string> string_value;
  std::vector<ScriptSeries> series;  // body order, unique label sets

  // Non-empty when the eval's own lines are malformed: the eval fails, the file goes on.
  std::string script_error;

  bool HasHistogramExpectation() const;
};

using ScriptCommand = std::variant<ClearCommand, LoadCommand, EvalCommand>;

struct TestScript {
  std::vector<ScriptCommand> commands;
};

// Parses a whole script (§1-§6). InvalidArgument ("line N: ...") for errors that upstream
// would reject the file for and that leave no sensible way to go on: unknown commands and
// malformed load blocks. Errors inside an eval body go to that eval's script_error instead.
absl::StatusOr<TestScript> ParseTestScript(std::string_view text);

// `<series-desc> ws <value-seq>` (§4.1, §4.2), e.g. `up{job="a"} 1+2x3 _ stale`.
absl::StatusOr<ScriptSeries> ParseSeriesLine(std::string_view line);

// Prometheus duration syntax (§2): "0" or `<digits><unit>` pairs, units y w d h m s ms.
absl::StatusOr<int64_t> ParseScriptDuration(std::string_view text);

// The float equality of §7.5 (stale markers, NaNs, relative epsilon 1e-6).
bool ScriptFloatsEqual(double expected, double actual);

// The verdict on one eval (§7): OK when it passes, otherwise a status whose message says why.
// `result` is the outcome of the instant query at eval.start_ms (or grid_end_ms) or of the
// range query from start_ms to end_ms.
absl::Status CheckEvalResult(const EvalCommand& eval, const absl::StatusOr<QueryResult>& result);

// Whether the range-mode cross-check of §8.1 applies to an instant eval that passed.
bool WantsRangeModeCheck(const EvalCommand& eval);
inline constexpr int64_t kRangeModeCheckStepMs = 60'000;

// The range-mode cross-check (§8.1) of an instant query evaluated at t_ms (the eval's time or
// that of an `@`-pinned re-run): `range_result` is the range query from t-1m to t+1m with step
// 1m, `instant_result` the instant result that passed.
absl::Status CheckRangeModeResult(const EvalCommand& eval, int64_t t_ms,
                                  const QueryResult& instant_result,
                                  const absl::StatusOr<QueryResult>& range_result);

}  // namespace kura::query
