// The verdict half of promql_test_script.h: comparing a query's outcome with an eval (§7, §8.1).

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "model/sample.h"
#include "query/promql_test_script.h"
#include "re2/re2.h"

namespace kura::query {
namespace {

absl::Status Mismatch(absl::string_view message) { return absl::FailedPreconditionError(message); }

std::string FormatFloat(double v) {
  if (model::IsStaleNaN(v)) return "stale";
  return absl::StrFormat("%.17g", v);
}

std::string FormatExpected(const ScriptValue& v) {
  switch (v.kind) {
    case ScriptValue::Kind::kOmitted:
      return "_";
    case ScriptValue::Kind::kHistogram:
      return "{{histogram}}";
    case ScriptValue::Kind::kFloat:
      return FormatFloat(v.value);
  }
  return "?";
}

const ScriptSeries* FindExpected(const EvalCommand& eval, const model::Labels& labels,
                                 size_t* index) {
  for (size_t i = 0; i < eval.series.size(); ++i) {
    if (eval.series[i].labels == labels) {
      *index = i;
      return &eval.series[i];
    }
  }
  return nullptr;
}

absl::Status CheckAllSeen(const EvalCommand& eval, const std::vector<bool>& seen) {
  for (size_t i = 0; i < eval.series.size(); ++i) {
    if (!seen[i]) {
      return Mismatch(
          absl::StrCat("expected metric ", eval.series[i].labels.ToString(), " not found"));
    }
  }
  return absl::OkStatus();
}

absl::Status CompareVector(const EvalCommand& eval, const std::vector<VectorElement>& vector) {
  if (eval.scalar) return Mismatch("expected scalar result, but got vector");
  std::vector<bool> seen(eval.series.size(), false);
  for (size_t pos = 0; pos < vector.size(); ++pos) {
    const VectorElement& el = vector[pos];
    size_t index = 0;
    const ScriptSeries* expected = FindExpected(eval, el.labels, &index);
    if (expected == nullptr) {
      return Mismatch(absl::StrCat("unexpected metric ", el.labels.ToString(),
                                   " in result, has value ", FormatFloat(el.v)));
    }
    if (eval.ordered && index != pos) {
      return Mismatch(absl::StrCat("expected metric ", el.labels.ToString(), " at position ",
                                   index + 1, " but was at ", pos + 1));
    }
    const ScriptValue& want = expected->values.at(0);
    if (want.kind != ScriptValue::Kind::kFloat || !ScriptFloatsEqual(want.value, el.v)) {
      return Mismatch(absl::StrCat("expected ", FormatExpected(want), " for ", el.labels.ToString(),
                                   " but got ", FormatFloat(el.v)));
    }
    seen[index] = true;
  }
  return CheckAllSeen(eval, seen);
}

absl::Status CompareMatrixSeries(const MatrixSeries& got, const ScriptSeries& want,
                                 int64_t start_ms, int64_t end_ms, int64_t step_ms) {
  std::vector<FloatPoint> floats;
  size_t histograms = 0;
  for (size_t k = 0; k < want.values.size(); ++k) {
    const int64_t t = start_ms + static_cast<int64_t>(k) * step_ms;
    if (t > end_ms) {
      return Mismatch(absl::StrCat("expected ", want.values.size(), " points for ",
                                   want.labels.ToString(),
                                   ", but query time range cannot return this many points"));
    }
    if (want.values[k].kind == ScriptValue::Kind::kFloat)
      floats.push_back({t, want.values[k].value});
    if (want.values[k].kind == ScriptValue::Kind::kHistogram) ++histograms;
  }
  if (floats.size() != got.points.size() || histograms != 0) {
    std::vector<std::string> points;
    for (const auto& p : got.points) points.push_back(absl::StrCat(FormatFloat(p.v), " @", p.t));
    return Mismatch(absl::StrCat("expected ", floats.size(), " float points and ", histograms,
                                 " histogram points for ", want.labels.ToString(), ", but got ",
                                 got.points.size(), " float points [", absl::StrJoin(points, ", "),
                                 "]"));
  }
  for (size_t i = 0; i < floats.size(); ++i) {
    if (floats[i].t != got.points[i].t) {
      return Mismatch(absl::StrCat("expected float point at ", floats[i].t, " for ",
                                   want.labels.ToString(), " but got one at ", got.points[i].t));
    }
    if (!ScriptFloatsEqual(floats[i].v, got.points[i].v)) {
      return Mismatch(absl::StrCat("expected ", FormatFloat(floats[i].v), " for ",
                                   want.labels.ToString(), " at ", floats[i].t, " but got ",
                                   FormatFloat(got.points[i].v)));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSorted(const std::vector<MatrixSeries>& matrix) {
  for (size_t i = 1; i < matrix.size(); ++i) {
    if (model::Labels::Compare(matrix[i - 1].labels, matrix[i].labels) > 0) {
      return Mismatch(absl::StrCat("matrix results should always be sorted by labels, but ",
                                   matrix[i - 1].labels.ToString(), " comes before ",
                                   matrix[i].labels.ToString()));
    }
  }
  return absl::OkStatus();
}

absl::Status CompareMatrix(const EvalCommand& eval, const std::vector<MatrixSeries>& matrix) {
  if (eval.ordered) return Mismatch("expected ordered result, but query returned a matrix");
  if (eval.scalar) return Mismatch("expected scalar result, but got matrix");
  if (absl::Status s = CheckSorted(matrix); !s.ok()) return s;
  int64_t start = eval.start_ms, end = eval.end_ms, step = eval.is_range ? eval.step_ms : 0;
  if (eval.expect_range_vector) {
    start = eval.grid_start_ms;
    end = eval.grid_end_ms;
    step = eval.grid_step_ms;
  }
  std::vector<bool> seen(eval.series.size(), false);
  for (const MatrixSeries& got : matrix) {
    size_t index = 0;
    const ScriptSeries* want = FindExpected(eval, got.labels, &index);
    if (want == nullptr) {
      return Mismatch(absl::StrCat("unexpected metric ", got.labels.ToString(), " in result, with ",
                                   got.points.size(), " points"));
    }
    seen[index] = true;
    if (absl::Status s = CompareMatrixSeries(got, *want, start, end, step); !s.ok()) return s;
  }
  return CheckAllSeen(eval, seen);
}

// §7.3-§7.5: the value alone, without errors or annotations.
absl::Status CompareValue(const EvalCommand& eval, const QueryResult& result) {
  if (eval.string_value && result.type != ValueType::kString) {
    return Mismatch("expected string result");
  }
  if (eval.expect_range_vector && result.type != ValueType::kMatrix) {
    return Mismatch("expected range vector result");
  }
  switch (result.type) {
    case ValueType::kScalar:
      if (!eval.scalar) {
        return Mismatch(absl::StrCat("expected vector or matrix result, but got scalar ",
                                     FormatFloat(result.scalar.v)));
      }
      if (!ScriptFloatsEqual(*eval.scalar, result.scalar.v)) {
        return Mismatch(absl::StrCat("expected scalar ", FormatFloat(*eval.scalar), " but got ",
                                     FormatFloat(result.scalar.v)));
      }
      return absl::OkStatus();
    case ValueType::kString: {
      const std::string want = eval.string_value.value_or("");
      if (result.string_value != want) {
        return Mismatch(
            absl::StrCat("expected string \"", want, "\" but got \"", result.string_value, "\""));
      }
      return absl::OkStatus();
    }
    case ValueType::kVector:
      return CompareVector(eval, result.vector);
    case ValueType::kMatrix:
      return CompareMatrix(eval, result.matrix);
    case ValueType::kNone:
      break;
  }
  return Mismatch("query returned no value");
}

absl::Status CheckAnnotationKind(absl::string_view kind, const std::vector<TextMatcher>& matchers,
                                 bool none_expected, const std::vector<std::string>& got) {
  if (none_expected && !got.empty()) {
    return Mismatch(absl::StrCat("unexpected ", kind, " annotations: ", absl::StrJoin(got, "; ")));
  }
  if (matchers.empty()) return absl::OkStatus();
  if (got.empty()) return Mismatch(absl::StrCat("expected ", kind, " annotations, got none"));
  for (const TextMatcher& m : matchers) {
    if (std::none_of(got.begin(), got.end(), [&](const std::string& a) { return m.Matches(a); })) {
      return Mismatch(absl::StrCat("expected ", kind, " annotation matching \"", m.text,
                                   "\", got: ", absl::StrJoin(got, "; ")));
    }
  }
  for (const std::string& a : got) {
    if (std::none_of(matchers.begin(), matchers.end(),
                     [&](const TextMatcher& m) { return m.Matches(a); })) {
      return Mismatch(absl::StrCat("unexpected ", kind, " annotation: ", a));
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool TextMatcher::Matches(std::string_view s_in) const {
  switch (kind) {
    case Kind::kAny:
      return true;
    case Kind::kExact:
      return s_in == text;
    case Kind::kRegex: {
      const RE2 re(text, RE2::Quiet);
      return re.ok() && RE2::PartialMatch(re2::StringPiece(s_in.data(), s_in.size()), re);
    }
  }
  return false;
}

bool ScriptFloatsEqual(double expected, double actual) {
  if (model::IsStaleNaN(expected) || model::IsStaleNaN(actual)) {
    return model::IsStaleNaN(expected) && model::IsStaleNaN(actual);
  }
  if (std::isnan(expected) && std::isnan(actual)) return true;
  if (expected == actual) return true;
  constexpr double kEpsilon = 1e-6;
  const double abs_sum = std::fabs(expected) + std::fabs(actual);
  const double diff = std::fabs(expected - actual);
  if (expected == 0 || actual == 0 || abs_sum < DBL_MIN) return diff < kEpsilon * DBL_MIN;
  return diff / std::min(abs_sum, DBL_MAX) < kEpsilon;
}

absl::Status CheckEvalResult(const EvalCommand& eval, const absl::StatusOr<QueryResult>& result) {
  if (!eval.script_error.empty())
    return Mismatch(absl::StrCat("script error: ", eval.script_error));
  if (!result.ok()) {
    const absl::string_view message = result.status().message();
    if (!eval.expect_fail) return Mismatch(absl::StrCat("unexpected error: ", message));
    for (const TextMatcher& m : eval.fail_matchers) {
      if (!m.Matches(std::string_view(message.data(), message.size()))) {
        return Mismatch(
            absl::StrCat("expected error matching \"", m.text, "\", got \"", message, "\""));
      }
    }
    return absl::OkStatus();
  }
  if (eval.expect_fail) return Mismatch("expected an error but got none");
  if (absl::Status s =
          CheckAnnotationKind("warning", eval.warn_matchers, eval.no_warn, result->warnings);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckAnnotationKind("info", eval.info_matchers, eval.no_info, result->infos);
      !s.ok()) {
    return s;
  }
  return CompareValue(eval, *result);
}

bool WantsRangeModeCheck(const EvalCommand& eval) {
  if (eval.is_range || eval.expect_fail || eval.expect_range_vector || eval.string_value) {
    return false;
  }
  for (absl::string_view call : {"start()", "end()", "range()", "step()"}) {
    if (absl::StrContains(eval.expr, call)) return false;
  }
  return true;
}

absl::Status CheckRangeModeResult(const EvalCommand& eval, int64_t t_ms,
                                  const QueryResult& instant_result,
                                  const absl::StatusOr<QueryResult>& range_result) {
  if (!range_result.ok()) {
    return Mismatch(absl::StrCat("error in range mode: ", range_result.status().message()));
  }
  // Range results are always sorted by labels, so an expected order cannot be checked.
  if (eval.ordered) return absl::OkStatus();
  if (range_result->type != ValueType::kMatrix) {
    return Mismatch("range mode did not return a matrix");
  }
  if (absl::Status s = CheckSorted(range_result->matrix); !s.ok()) return s;
  QueryResult at_t;
  at_t.type = ValueType::kVector;
  for (const MatrixSeries& series : range_result->matrix) {
    for (const FloatPoint& p : series.points) {
      if (p.t == t_ms) {
        at_t.vector.push_back({series.labels, p.t, p.v});
        break;
      }
    }
  }
  if (instant_result.type == ValueType::kScalar) {
    if (at_t.vector.empty()) return Mismatch("range mode returned no point for the scalar");
    at_t.type = ValueType::kScalar;
    at_t.scalar = {at_t.vector[0].t, at_t.vector[0].v};
  }
  absl::Status status = CompareValue(eval, at_t);
  if (!status.ok()) return Mismatch(absl::StrCat("in range mode: ", status.message()));
  return absl::OkStatus();
}

}  // namespace kura::query
