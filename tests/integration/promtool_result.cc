#include "tests/integration/promtool_result.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/integration/json.h"

namespace kura::integration {
namespace {

// "1700000000.123" -> 1700000000123 without rounding through a double.
absl::StatusOr<int64_t> ParseTimestampMs(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, '.');
  int64_t seconds = 0;
  int64_t millis = 0;
  bool ok = parts.size() <= 2 && absl::SimpleAtoi(parts[0], &seconds);
  if (ok && parts.size() == 2) {
    ok = !parts[1].empty() && parts[1].size() <= 3;
    parts[1].resize(3, '0');
    ok = ok && absl::SimpleAtoi(parts[1], &millis);
  }
  if (!ok) return absl::InvalidArgumentError(absl::StrCat("bad timestamp '", text, "'"));
  return seconds * 1000 + millis;
}

absl::StatusOr<ResultPoint> ParsePoint(const Json& pair) {
  if (!pair.is_array() || pair.array.size() != 2 || !pair.array[1].is_string()) {
    return absl::InvalidArgumentError("a point is not [timestamp, \"value\"]");
  }
  absl::StatusOr<int64_t> ms = ParseTimestampMs(pair.array[0].text);
  if (!ms.ok()) return ms.status();
  ResultPoint point;
  point.timestamp_ms = *ms;
  point.text = pair.array[1].text;
  // SimpleAtod takes "NaN", "+Inf" and "-Inf" as Prometheus prints them.
  if (!absl::SimpleAtod(point.text, &point.value)) {
    return absl::InvalidArgumentError(absl::StrCat("bad value '", point.text, "'"));
  }
  return point;
}

std::string CanonicalLabels(const Json& metric) {
  std::vector<std::string> pairs;
  for (const auto& [name, value] : metric.object) {
    pairs.push_back(absl::StrCat(name, "=\"", value.text, "\""));
  }
  return absl::StrCat("{", absl::StrJoin(pairs, ", "), "}");
}

bool ValuesMatch(double expected, double actual, double relative_tolerance) {
  if (std::isnan(expected) || std::isnan(actual)) return std::isnan(expected) && std::isnan(actual);
  if (expected == actual) return true;
  if (relative_tolerance <= 0) return false;
  return std::fabs(expected - actual) <=
         relative_tolerance * std::max(std::fabs(expected), std::fabs(actual));
}

}  // namespace

absl::StatusOr<std::vector<ResultSeries>> ParsePromtoolJson(absl::string_view output) {
  absl::StatusOr<Json> json = ParseJson(absl::StripAsciiWhitespace(output));
  if (!json.ok()) return json.status();
  std::vector<ResultSeries> results;
  if (json->type == Json::Type::kNull) return results;
  if (!json->is_array()) return absl::InvalidArgumentError("promtool output is not an array");
  // A scalar or string prints as one bare [timestamp, "value"] pair.
  if (json->array.size() == 2 && !json->array[0].is_object()) {
    absl::StatusOr<ResultPoint> point = ParsePoint(*json);
    if (!point.ok()) return point.status();
    results.push_back({"scalar", {*point}});
    return results;
  }
  for (const Json& entry : json->array) {
    ResultSeries series;
    series.labels = CanonicalLabels(entry["metric"]);
    const Json& value = entry["value"];
    const std::vector<Json>& values =
        value.is_array() ? std::vector<Json>{value} : entry["values"].array;
    for (const Json& pair : values) {
      absl::StatusOr<ResultPoint> point = ParsePoint(pair);
      if (!point.ok()) return point.status();
      series.points.push_back(*point);
    }
    results.push_back(std::move(series));
  }
  std::sort(results.begin(), results.end(),
            [](const ResultSeries& a, const ResultSeries& b) { return a.labels < b.labels; });
  return results;
}

std::string DiffResults(const std::vector<ResultSeries>& expected,
                        const std::vector<ResultSeries>& actual, double relative_tolerance) {
  for (size_t i = 0; i < std::max(expected.size(), actual.size()); ++i) {
    if (i >= expected.size()) return absl::StrCat("unexpected series ", actual[i].labels);
    if (i >= actual.size()) return absl::StrCat("missing series ", expected[i].labels);
    const ResultSeries& want = expected[i];
    const ResultSeries& got = actual[i];
    if (want.labels != got.labels) {
      return absl::StrCat("series ", i, ": want ", want.labels, ", got ", got.labels);
    }
    for (size_t j = 0; j < std::max(want.points.size(), got.points.size()); ++j) {
      if (j >= want.points.size()) {
        return absl::StrCat(want.labels, ": unexpected point at ", got.points[j].timestamp_ms);
      }
      if (j >= got.points.size()) {
        return absl::StrCat(want.labels, ": missing point at ", want.points[j].timestamp_ms);
      }
      const ResultPoint& p = want.points[j];
      const ResultPoint& q = got.points[j];
      if (p.timestamp_ms != q.timestamp_ms || !ValuesMatch(p.value, q.value, relative_tolerance)) {
        return absl::StrCat(want.labels, " point ", j, ": want [", p.timestamp_ms, ", ", p.text,
                            "], got [", q.timestamp_ms, ", ", q.text, "]");
      }
    }
  }
  return "";
}

std::string FormatResults(const std::vector<ResultSeries>& results, size_t max_series) {
  std::string out;
  for (size_t i = 0; i < results.size() && i < max_series; ++i) {
    absl::StrAppend(&out, "  ", results[i].labels, " =>");
    for (const ResultPoint& point : results[i].points) {
      absl::StrAppend(&out, " ", point.text, "@", point.timestamp_ms);
    }
    absl::StrAppend(&out, "\n");
  }
  if (results.size() > max_series) {
    absl::StrAppend(&out, "  ... ", results.size() - max_series, " more\n");
  }
  return out;
}

}  // namespace kura::integration
