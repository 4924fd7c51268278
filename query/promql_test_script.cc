#include "query/promql_test_script.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"
#include "model/sample.h"
#include "query/promql_test_script_lexing.h"

namespace kura::query {
namespace {

using script_lexing::IsSpace;
using script_lexing::NextWord;
using script_lexing::ParseSeriesDescriptor;
using script_lexing::ParseValueSequence;
using script_lexing::SkipSpace;
using script_lexing::Std;

absl::Status LineError(int line, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", message));
}

// The lines of a file, trimmed, with comment lines turned into empty ones (§1).
std::vector<absl::string_view> ScriptLines(absl::string_view text) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  for (auto& line : lines) {
    line = absl::StripAsciiWhitespace(line);
    if (absl::StartsWith(line, "#")) line = {};
  }
  return lines;
}

// Adds a series, replacing an earlier one with the same label set.
void AddUnique(std::vector<ScriptSeries>* all, ScriptSeries series) {
  for (auto& existing : *all) {
    if (existing.labels == series.labels) {
      existing = std::move(series);
      return;
    }
  }
  all->push_back(std::move(series));
}

// `['+'|'-'] <digits> <unit>` at the start of *s, consumed (§4.4).
absl::StatusOr<int64_t> TakeSignedDuration(absl::string_view* s) {
  const bool negative = absl::StartsWith(*s, "-");
  if (negative || absl::StartsWith(*s, "+")) s->remove_prefix(1);
  size_t end = 0;
  while (end < s->size() && absl::ascii_isdigit((*s)[end])) ++end;
  // No unit holds an 'x', which starts a repetition.
  while (end < s->size() && absl::ascii_isalpha((*s)[end]) && (*s)[end] != 'x') ++end;
  ASSIGN_OR_RETURN(const int64_t ms, ParseScriptDuration(Std(s->substr(0, end))));
  s->remove_prefix(end);
  return negative ? -ms : ms;
}

// `x<N>` at the start of *s, consumed.
absl::StatusOr<int64_t> TakeRepetition(absl::string_view* s) {
  int64_t n = 0;
  if (!absl::ConsumePrefix(s, "x") || !absl::SimpleAtoi(*s, &n) || n < 0) {
    return absl::InvalidArgumentError(absl::StrCat("invalid repetition: \"", *s, "\""));
  }
  *s = {};
  return n;
}

// The items of an `@st` line (§4.4): each position's offset from its sample's timestamp, or
// nullopt for `_` (no start timestamp).
absl::Status ParseStartOffsets(absl::string_view text,
                               std::vector<std::optional<int64_t>>* offsets) {
  for (absl::string_view item : absl::StrSplit(text, ' ', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    if (absl::ConsumePrefix(&item, "_")) {
      int64_t n = 1;
      if (!item.empty()) {
        ASSIGN_OR_RETURN(n, TakeRepetition(&item));
      }
      offsets->insert(offsets->end(), static_cast<size_t>(n), std::nullopt);
      continue;
    }
    ASSIGN_OR_RETURN(const int64_t first, TakeSignedDuration(&item));
    int64_t step = 0, n = 0;
    if (absl::StartsWith(item, "+") || absl::StartsWith(item, "-")) {
      ASSIGN_OR_RETURN(step, TakeSignedDuration(&item));
      ASSIGN_OR_RETURN(n, TakeRepetition(&item));
    } else if (!item.empty()) {
      ASSIGN_OR_RETURN(n, TakeRepetition(&item));
    }
    for (int64_t k = 0; k <= n; ++k) offsets->push_back(first + k * step);
  }
  return absl::OkStatus();
}

absl::StatusOr<LoadCommand> ParseLoad(const std::vector<absl::string_view>& lines, size_t* i) {
  LoadCommand load;
  load.line = static_cast<int>(*i) + 1;
  absl::string_view rest = lines[*i];
  absl::string_view keyword = NextWord(&rest);
  if (keyword == "load_with_nhcb") {
    load.with_nhcb = true;
  } else if (keyword != "load") {
    return LineError(load.line, absl::StrCat("invalid load command: ", lines[*i]));
  }
  absl::StatusOr<int64_t> interval = ParseScriptDuration(Std(absl::StripAsciiWhitespace(rest)));
  if (!interval.ok()) return LineError(load.line, interval.status().message());
  load.interval_ms = *interval;
  // The `@st` line just read, which the next line's series must match.
  bool st_pending = false;
  model::Labels st_labels;
  std::vector<std::optional<int64_t>> st_offsets;
  for (++*i; *i < lines.size() && !lines[*i].empty(); ++*i) {
    const int line = static_cast<int>(*i) + 1;
    absl::string_view text = lines[*i];
    absl::StatusOr<model::Labels> labels = ParseSeriesDescriptor(&text);
    if (!labels.ok()) return LineError(line, labels.status().message());
    if (absl::ConsumePrefix(&text, "@st")) {
      if (st_pending) return LineError(line, "@st line not followed by its series");
      st_offsets.clear();
      absl::Status status = ParseStartOffsets(text, &st_offsets);
      if (!status.ok()) return LineError(line, status.message());
      st_labels = *std::move(labels);
      st_pending = true;
      continue;
    }
    ScriptSeries series{*std::move(labels), {}, {}};
    absl::Status status = ParseValueSequence(text, &series.values);
    if (!status.ok()) return LineError(line, status.message());
    if (st_pending) {
      if (st_labels != series.labels || st_offsets.size() != series.values.size()) {
        return LineError(line, "series does not match the @st line before it");
      }
      series.start_timestamps_ms.resize(st_offsets.size(), 0);
      for (size_t k = 0; k < st_offsets.size(); ++k) {
        if (st_offsets[k]) {
          series.start_timestamps_ms[k] = static_cast<int64_t>(k) * load.interval_ms + *st_offsets[k];
        }
      }
      st_pending = false;
    }
    AddUnique(&load.series, std::move(series));
  }
  if (st_pending) return LineError(static_cast<int>(*i), "@st line without its series");
  return load;
}

// Parses `<duration>` words of an eval line into *out.
absl::Status NextDuration(absl::string_view* rest, int64_t* out) {
  absl::string_view word = NextWord(rest);
  ASSIGN_OR_RETURN(*out, ParseScriptDuration(Std(word)));
  return absl::OkStatus();
}

absl::Status ExpectWord(absl::string_view* rest, absl::string_view want) {
  absl::string_view word = NextWord(rest);
  if (word != want) {
    return absl::InvalidArgumentError(absl::StrCat("expected \"", want, "\", got \"", word, "\""));
  }
  return absl::OkStatus();
}

// `eval[_suffix] instant at <t> <expr>` or `eval[_suffix] range from <a> to <b> step <s> <expr>`.
absl::Status ParseEvalLine(absl::string_view line, EvalCommand* eval) {
  absl::string_view rest = line;
  absl::string_view keyword = NextWord(&rest);
  if (keyword == "eval_fail") {
    eval->expect_fail = true;
  } else if (keyword == "eval_warn") {
    eval->warn_matchers.push_back({});
  } else if (keyword == "eval_info") {
    eval->info_matchers.push_back({});
  } else if (keyword == "eval_ordered") {
    eval->ordered = true;
  } else if (keyword != "eval") {
    return absl::InvalidArgumentError(absl::StrCat("invalid eval command: ", line));
  }
  absl::string_view kind = NextWord(&rest);
  if (kind == "instant") {
    RETURN_IF_ERROR(ExpectWord(&rest, "at"));
    RETURN_IF_ERROR(NextDuration(&rest, &eval->start_ms));
    eval->end_ms = eval->start_ms;
  } else if (kind == "range" && !eval->ordered) {
    eval->is_range = true;
    RETURN_IF_ERROR(ExpectWord(&rest, "from"));
    RETURN_IF_ERROR(NextDuration(&rest, &eval->start_ms));
    RETURN_IF_ERROR(ExpectWord(&rest, "to"));
    RETURN_IF_ERROR(NextDuration(&rest, &eval->end_ms));
    RETURN_IF_ERROR(ExpectWord(&rest, "step"));
    RETURN_IF_ERROR(NextDuration(&rest, &eval->step_ms));
    if (eval->end_ms < eval->start_ms) {
      return absl::InvalidArgumentError("invalid test definition, end timestamp before start");
    }
    if (eval->step_ms <= 0) return absl::InvalidArgumentError("step must be positive");
  } else {
    return absl::InvalidArgumentError(absl::StrCat("invalid eval command: ", line));
  }
  eval->expr = std::string(absl::StripAsciiWhitespace(rest));
  if (eval->expr.empty()) return absl::InvalidArgumentError("eval without expression");
  return absl::OkStatus();
}

// `<kind> [msg: <text> | regex: <re>]` after `expect`.
absl::Status ParseTextExpectation(absl::string_view rest, EvalCommand* eval) {
  absl::string_view kind = NextWord(&rest);
  rest = absl::StripAsciiWhitespace(rest);
  if (kind == "ordered" || kind == "no_warn" || kind == "no_info") {
    if (!rest.empty())
      return absl::InvalidArgumentError("unexpected text after expect " + std::string(kind));
    if (kind == "ordered") eval->ordered = true;
    if (kind == "no_warn") eval->no_warn = true;
    if (kind == "no_info") eval->no_info = true;
    return absl::OkStatus();
  }
  TextMatcher matcher;
  if (absl::ConsumePrefix(&rest, "msg:")) {
    matcher.kind = TextMatcher::Kind::kExact;
  } else if (absl::ConsumePrefix(&rest, "regex:")) {
    matcher.kind = TextMatcher::Kind::kRegex;
  } else if (!rest.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid expect line: expect ", kind, " ", rest));
  }
  matcher.text = std::string(absl::StripAsciiWhitespace(rest));
  if (kind == "fail") {
    if (eval->expect_fail) return absl::InvalidArgumentError("more than one expect fail line");
    eval->expect_fail = true;
    eval->fail_matchers.push_back(std::move(matcher));
  } else if (kind == "warn") {
    eval->warn_matchers.push_back(std::move(matcher));
  } else if (kind == "info") {
    eval->info_matchers.push_back(std::move(matcher));
  } else {
    return absl::InvalidArgumentError(absl::StrCat("invalid expect kind: ", kind));
  }
  return absl::OkStatus();
}

absl::Status ParseRangeVectorExpectation(absl::string_view rest, EvalCommand* eval) {
  RETURN_IF_ERROR(ExpectWord(&rest, "from"));
  RETURN_IF_ERROR(NextDuration(&rest, &eval->grid_start_ms));
  RETURN_IF_ERROR(ExpectWord(&rest, "to"));
  RETURN_IF_ERROR(NextDuration(&rest, &eval->grid_end_ms));
  RETURN_IF_ERROR(ExpectWord(&rest, "step"));
  RETURN_IF_ERROR(NextDuration(&rest, &eval->grid_step_ms));
  if (!absl::StripAsciiWhitespace(rest).empty() || eval->grid_step_ms <= 0 ||
      eval->grid_end_ms < eval->grid_start_ms) {
    return absl::InvalidArgumentError("invalid expect range vector line");
  }
  eval->expect_range_vector = true;
  eval->start_ms = eval->end_ms = eval->grid_end_ms;
  return absl::OkStatus();
}

// §6.5: Go integer syntax with base prefixes, else Go float syntax.
std::optional<double> ParseScalarLine(absl::string_view line) {
  if (line.empty()) return std::nullopt;
  std::string text(line);
  errno = 0;
  char* end = nullptr;
  const long long i = std::strtoll(text.c_str(), &end, 0);
  if (errno == 0 && end == text.c_str() + text.size()) return static_cast<double>(i);
  double d = 0;
  if (absl::SimpleAtod(line, &d)) return d;
  return std::nullopt;
}

// Classifies one body line (§6). Sets *ends_body for lines after which the body is over.
absl::Status ParseBodyLine(absl::string_view line, EvalCommand* eval, int* series_lines,
                           bool* ends_body) {
  *ends_body = false;
  absl::string_view rest = line;
  if (eval->expect_fail) {
    const bool is_message = absl::ConsumePrefix(&rest, "expected_fail_message ");
    const bool is_regex = !is_message && absl::ConsumePrefix(&rest, "expected_fail_regexp ");
    if (is_message || is_regex) {
      eval->fail_matchers.push_back(
          {is_regex ? TextMatcher::Kind::kRegex : TextMatcher::Kind::kExact,
           std::string(absl::StripAsciiWhitespace(rest))});
      *ends_body = true;
      return absl::OkStatus();
    }
  }
  if (absl::ConsumePrefix(&rest, "expect range vector ")) {
    return ParseRangeVectorExpectation(rest, eval);
  }
  rest = line;
  if (absl::ConsumePrefix(&rest, "expect string ")) {
    absl::string_view literal = absl::StripAsciiWhitespace(rest);
    std::string value;
    size_t pos = 0;
    RETURN_IF_ERROR(script_lexing::ParseQuotedString(literal, &pos, &value));
    if (pos != literal.size()) return absl::InvalidArgumentError("text after expect string");
    eval->string_value = std::move(value);
    return absl::OkStatus();
  }
  rest = line;
  if (NextWord(&rest) == "expect") return ParseTextExpectation(rest, eval);
  if (std::optional<double> scalar = ParseScalarLine(line)) {
    eval->scalar = *scalar;
    *ends_body = true;
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(ScriptSeries series, ParseSeriesLine(Std(line)));
  ++*series_lines;
  AddUnique(&eval->series, std::move(series));
  return absl::OkStatus();
}

absl::Status ValidateEval(const EvalCommand& eval) {
  if (!eval.warn_matchers.empty() && eval.no_warn) {
    return absl::InvalidArgumentError("expect warn and expect no_warn together");
  }
  if (!eval.info_matchers.empty() && eval.no_info) {
    return absl::InvalidArgumentError("expect info and expect no_info together");
  }
  if (!eval.is_range && !eval.expect_range_vector) {
    for (const auto& series : eval.series) {
      if (series.values.size() != 1) {
        return absl::InvalidArgumentError(
            "expecting multiple values in instant evaluation not allowed");
      }
    }
  }
  return absl::OkStatus();
}

EvalCommand ParseEval(const std::vector<absl::string_view>& lines, size_t* i) {
  EvalCommand eval;
  eval.line = static_cast<int>(*i) + 1;
  absl::Status status = ParseEvalLine(lines[*i], &eval);
  int series_lines = 0;
  bool ended = false;
  for (++*i; *i < lines.size() && !lines[*i].empty(); ++*i) {
    if (!status.ok() || ended) continue;  // skip to the block's end
    status = ParseBodyLine(lines[*i], &eval, &series_lines, &ended);
    if (!status.ok()) status = LineError(static_cast<int>(*i) + 1, status.message());
  }
  if (status.ok()) status = ValidateEval(eval);
  if (!status.ok()) eval.script_error = std::string(status.message());
  return eval;
}

}  // namespace

bool EvalCommand::HasHistogramExpectation() const {
  for (const auto& s : series) {
    for (const auto& v : s.values) {
      if (v.kind == ScriptValue::Kind::kHistogram) return true;
    }
  }
  return false;
}

absl::StatusOr<ScriptSeries> ParseSeriesLine(std::string_view line_in) {
  const absl::string_view line(line_in.data(), line_in.size());
  absl::string_view rest = absl::StripAsciiWhitespace(line);
  ScriptSeries series;
  ASSIGN_OR_RETURN(series.labels, ParseSeriesDescriptor(&rest));
  if (!rest.empty() && !IsSpace(rest.front())) {
    return absl::InvalidArgumentError(absl::StrCat("unexpected text after series: ", rest));
  }
  RETURN_IF_ERROR(ParseValueSequence(rest, &series.values));
  return series;
}

absl::StatusOr<int64_t> ParseScriptDuration(std::string_view text_in) {
  const absl::string_view text(text_in.data(), text_in.size());
  if (text == "0") return 0;
  struct Unit {
    absl::string_view name;
    int64_t ms;
  };
  static constexpr Unit kUnits[] = {{"y", 365LL * 86'400'000},
                                    {"w", 7LL * 86'400'000},
                                    {"d", 86'400'000},
                                    {"h", 3'600'000},
                                    {"m", 60'000},
                                    {"s", 1'000},
                                    {"ms", 1}};
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat("invalid duration: \"", text, "\""));
  };
  if (text.empty()) return bad();
  int64_t total = 0;
  size_t next_unit = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t digits_end = pos;
    while (digits_end < text.size() && absl::ascii_isdigit(text[digits_end])) ++digits_end;
    size_t unit_end = digits_end;
    while (unit_end < text.size() && absl::ascii_isalpha(text[unit_end])) ++unit_end;
    int64_t n = 0;
    if (digits_end == pos || !absl::SimpleAtoi(text.substr(pos, digits_end - pos), &n)) {
      return bad();
    }
    absl::string_view unit = text.substr(digits_end, unit_end - digits_end);
    size_t u = next_unit;
    while (u < std::size(kUnits) && kUnits[u].name != unit) ++u;
    if (u == std::size(kUnits)) return bad();
    total += n * kUnits[u].ms;
    next_unit = u + 1;
    pos = unit_end;
  }
  return total;
}

absl::StatusOr<TestScript> ParseTestScript(std::string_view text_in) {
  const absl::string_view text(text_in.data(), text_in.size());
  const std::vector<absl::string_view> lines = ScriptLines(text);
  TestScript script;
  size_t i = 0;
  while (i < lines.size()) {
    absl::string_view line = lines[i];
    if (line.empty()) {
      ++i;
      continue;
    }
    absl::string_view rest = line;
    const std::string command = absl::AsciiStrToLower(NextWord(&rest));
    if (command == "clear") {
      script.commands.emplace_back(ClearCommand{static_cast<int>(i) + 1});
      ++i;
    } else if (absl::StartsWith(command, "load")) {
      ASSIGN_OR_RETURN(LoadCommand load, ParseLoad(lines, &i));
      script.commands.push_back(std::move(load));
    } else if (absl::StartsWith(command, "eval")) {
      script.commands.push_back(ParseEval(lines, &i));
    } else {
      return LineError(static_cast<int>(i) + 1, absl::StrCat("invalid command: ", line));
    }
  }
  return script;
}

}  // namespace kura::query
