#include "query/api.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "query/api_errors.h"
#include "query/api_params.h"
#include "query/json_writer.h"
#include "query/parse_tree_json.h"
#include "query/parser.h"

namespace kura::query {
namespace {

constexpr std::string_view kLabelValuesPrefix = "/api/v1/label/";
constexpr std::string_view kLabelValuesSuffix = "/values";
constexpr std::string_view kTruncatedWarning = "results truncated due to limit";

using MatcherSets = std::vector<std::vector<model::LabelMatcher>>;

// This Abseil's string_view is its own type, not std::string_view.
absl::string_view AsAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::StatusOr<int64_t> LimitParam(const ApiParams& params) {
  absl::StatusOr<int64_t> limit = ParseLimit(params.Get("limit"));
  if (!limit.ok()) return InvalidParam("limit", limit.status());
  return limit;
}

// Prometheus's parseMatchersParam: every set needs a matcher that does not match "".
absl::StatusOr<MatcherSets> MatcherSetsParam(const ApiParams& params) {
  MatcherSets sets;
  for (const std::string& selector : params.GetAll("match[]")) {
    absl::StatusOr<std::vector<model::LabelMatcher>> matchers = ParseMetricSelector(selector);
    if (!matchers.ok()) return InvalidParam("match[]", matchers.status());
    bool has_non_empty =
        std::any_of(matchers->begin(), matchers->end(),
                    [](const model::LabelMatcher& m) { return !m.MatchesEmpty(); });
    if (!has_non_empty) {
      return InvalidParam("match[]", absl::InvalidArgumentError(
                                         "match[] must contain at least one non-empty matcher"));
    }
    sets.push_back(*std::move(matchers));
  }
  return sets;
}

void SortUnique(std::vector<std::string>* values) {
  std::sort(values->begin(), values->end());
  values->erase(std::unique(values->begin(), values->end()), values->end());
}

// Writes `values` (sorted) as a JSON array, truncated to `limit` with a warning when over it.
void WriteStrings(const std::vector<std::string>& values, int64_t limit, JsonWriter* data,
                  std::vector<std::string>* warnings) {
  size_t count = values.size();
  if (limit > 0 && count > static_cast<size_t>(limit)) {
    count = static_cast<size_t>(limit);
    warnings->emplace_back(kTruncatedWarning);
  }
  data->BeginArray();
  for (size_t i = 0; i < count; ++i) data->String(values[i]);
  data->EndArray();
}

// Prometheus's stats.BuiltinStats: timings in seconds, then sample counts. Kura has no query
// queue, so execQueueTime is 0, and evalTotalTime is the whole execution as in Prometheus.
void WriteStats(const QueryStats& stats, JsonWriter* w) {
  w->BeginObject();
  w->Key("timings");
  w->BeginObject();
  const std::pair<std::string_view, double> timings[] = {
      {"evalTotalTime", stats.exec_total_seconds},
      {"resultSortTime", stats.result_sort_seconds},
      {"queryPreparationTime", stats.preparation_seconds},
      {"innerEvalTime", stats.inner_eval_seconds},
      {"execQueueTime", 0},
      {"execTotalTime", stats.exec_total_seconds},
  };
  for (const auto& [key, seconds] : timings) {
    w->Key(key);
    w->GoJsonNumber(seconds);
  }
  w->EndObject();
  w->Key("samples");
  w->BeginObject();
  w->Key("totalQueryableSamples");
  w->Int(stats.total_queryable_samples);
  w->Key("peakSamples");
  w->Int(stats.peak_samples);
  w->EndObject();
  w->EndObject();
}

// {"resultType":"...","result":...} exactly as Prometheus's QueryData marshals, with "stats"
// when the request asked for them.
void WriteQueryResult(const QueryResult& result, bool stats, JsonWriter* w) {
  w->BeginObject();
  w->Key("resultType");
  w->String(ValueTypeName(result.type));
  w->Key("result");
  switch (result.type) {
    case ValueType::kScalar:
    case ValueType::kString:
      // promql.Scalar and promql.String marshal through encoding/json: t/1000 as a float64.
      w->BeginArray();
      w->GoJsonNumber(static_cast<double>(result.scalar.t) / 1000);
      if (result.type == ValueType::kScalar) {
        w->GoFloatString(result.scalar.v);
      } else {
        w->String(result.string_value);
      }
      w->EndArray();
      break;
    case ValueType::kVector:
      w->BeginArray();
      for (const VectorElement& element : result.vector) {
        w->BeginObject();
        w->Key("metric");
        w->Labels(element.labels);
        w->Key("value");
        w->BeginArray();
        w->Timestamp(element.t);
        w->SampleValue(element.v);
        w->EndArray();
        w->EndObject();
      }
      w->EndArray();
      break;
    case ValueType::kMatrix:
      w->BeginArray();
      for (const MatrixSeries& series : result.matrix) {
        w->BeginObject();
        w->Key("metric");
        w->Labels(series.labels);
        if (!series.points.empty()) {
          w->Key("values");
          w->BeginArray();
          for (const FloatPoint& point : series.points) {
            w->BeginArray();
            w->Timestamp(point.t);
            w->SampleValue(point.v);
            w->EndArray();
          }
          w->EndArray();
        }
        w->EndObject();
      }
      w->EndArray();
      break;
    case ValueType::kNone:
      w->Null();
      break;
  }
  if (stats) {
    w->Key("stats");
    WriteStats(result.stats, w);
  }
  w->EndObject();
}

// Prometheus's truncateResults for `limit` on the query endpoints: the first `limit` series of
// a vector or matrix, in the order the engine returned them, with the truncation warning.
void TruncateResult(int64_t limit, QueryResult* result) {
  if (limit <= 0) return;
  const size_t max_series = static_cast<size_t>(limit);
  bool truncated = false;
  if (result->vector.size() > max_series) {
    result->vector.resize(max_series);
    truncated = true;
  }
  if (result->matrix.size() > max_series) {
    result->matrix.resize(max_series);
    truncated = true;
  }
  if (truncated) result->warnings.emplace_back(kTruncatedWarning);
}

// The engine reports parse and type errors as InvalidArgument; Prometheus words them as a bad
// `query` parameter.
absl::Status QueryError(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kInvalidArgument) return InvalidParam("query", status);
  return status;
}

void NotFound(base::HttpResponse* response) {
  response->status = 404;
  response->content_type = "text/plain; charset=utf-8";
  response->body = "404 page not found\n";
}

}  // namespace

Api::Api(model::SeriesReader* reader, Engine* engine, ApiOptions options)
    : reader_(reader), engine_(engine), options_(std::move(options)) {
  if (!options_.now_ms) {
    options_.now_ms = [] { return absl::ToUnixMillis(absl::Now()); };
  }
}

const std::vector<Api::EndpointSpec>& Api::Endpoints() {
  static const std::vector<EndpointSpec> kEndpoints = {
      {"/api/v1/query", false, "/api/v1/query", true, &Api::Query},
      {"/api/v1/query_range", false, "/api/v1/query_range", true, &Api::QueryRange},
      {"/api/v1/series", false, "/api/v1/series", true, &Api::Series},
      {"/api/v1/labels", false, "/api/v1/labels", true, &Api::Labels},
      {"/api/v1/label/", true, "/api/v1/label/:name/values", false, &Api::LabelValues},
      {"/api/v1/status/buildinfo", false, "/api/v1/status/buildinfo", false,
       &Api::BuildInfoEndpoint},
      {"/api/v1/metadata", false, "/api/v1/metadata", false, &Api::Metadata},
      {"/api/v1/query_exemplars", false, "/api/v1/query_exemplars", true, &Api::QueryExemplars},
      {"/api/v1/format_query", false, "/api/v1/format_query", true, &Api::FormatQuery},
      {"/api/v1/parse_query", false, "/api/v1/parse_query", true, &Api::ParseQuery},
  };
  return kEndpoints;
}

std::vector<ApiRoute> Api::Routes() {
  std::vector<ApiRoute> routes;
  for (const EndpointSpec& spec : Endpoints()) {
    const EndpointSpec* spec_ptr = &spec;
    routes.push_back(
        ApiRoute{spec.path, spec.prefix, spec.name,
                 [this, spec_ptr](const base::HttpRequest& request, base::HttpResponse* response) {
                   Serve(*spec_ptr, request, response);
                 }});
  }
  return routes;
}

void Api::Handle(const base::HttpRequest& request, base::HttpResponse* response) {
  for (const EndpointSpec& spec : Endpoints()) {
    if (spec.prefix ? absl::StartsWith(request.path, spec.path) : request.path == spec.path) {
      Serve(spec, request, response);
      return;
    }
  }
  NotFound(response);
}

void Api::Serve(const EndpointSpec& spec, const base::HttpRequest& request,
                base::HttpResponse* response) {
  if (spec.prefix && !absl::EndsWith(request.path, AsAbsl(kLabelValuesSuffix))) {
    NotFound(response);
    return;
  }
  if (request.method != "GET" && !(spec.allow_post && request.method == "POST")) {
    response->status = 405;
    response->content_type = "text/plain; charset=utf-8";
    response->headers.emplace_back("Allow", spec.allow_post ? "GET, POST" : "GET");
    response->body = "Method Not Allowed\n";
    return;
  }
  absl::StatusOr<ApiParams> params = ApiParams::FromRequest(request);
  if (!params.ok()) {
    WriteApiError(absl::InvalidArgumentError(
                      absl::StrCat("error parsing form values: ", params.status().message())),
                  response);
    return;
  }
  std::string body;
  JsonWriter writer(&body);
  writer.BeginObject();
  writer.Key("status");
  writer.String("success");
  writer.Key("data");
  Annotations annotations;
  absl::Status status = (this->*spec.endpoint)(*params, request, &writer, &annotations);
  if (!status.ok()) {
    WriteApiError(status, response);
    return;
  }
  if (!annotations.warnings.empty()) {
    writer.Key("warnings");
    writer.BeginArray();
    for (const std::string& warning : annotations.warnings) writer.String(warning);
    writer.EndArray();
  }
  if (!annotations.infos.empty()) {
    writer.Key("infos");
    writer.BeginArray();
    for (const std::string& info : annotations.infos) writer.String(info);
    writer.EndArray();
  }
  writer.EndObject();
  response->status = 200;
  response->content_type = "application/json";
  response->body = std::move(body);
}

absl::StatusOr<Engine*> Api::EngineFor(const ApiParams& params, const base::HttpRequest& request,
                                       std::unique_ptr<Engine>* local) {
  EngineOptions engine_options = options_.engine;
  bool custom = false;
  if (request.client_gone) {
    engine_options.cancelled = request.client_gone;
    custom = true;
  }
  if (std::string_view timeout = params.Get("timeout"); !timeout.empty()) {
    absl::StatusOr<absl::Duration> d = ParseApiDuration(timeout);
    if (!d.ok()) return InvalidParam("timeout", d.status());
    // A request may shorten the server's timeout, never extend it.
    engine_options.timeout = std::min(*d, engine_options.timeout);
    custom = true;
  }
  if (std::string_view lookback = params.Get("lookback_delta"); !lookback.empty()) {
    absl::StatusOr<absl::Duration> d = ParseApiDuration(lookback);
    if (!d.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("error parsing lookback delta duration: ", d.status().message()));
    }
    if (*d > absl::ZeroDuration()) engine_options.lookback_delta = *d;
    custom = true;
  }
  if (!custom) return engine_;
  *local = std::make_unique<Engine>(reader_, engine_options);
  return local->get();
}

absl::Status Api::Query(const ApiParams& params, const base::HttpRequest& request, JsonWriter* data,
                        Annotations* annotations) {
  ASSIGN_OR_RETURN(int64_t time_ms, TimeParam(params, "time", options_.now_ms()));
  ASSIGN_OR_RETURN(int64_t limit, LimitParam(params));
  std::unique_ptr<Engine> local;
  ASSIGN_OR_RETURN(Engine * engine, EngineFor(params, request, &local));
  absl::StatusOr<QueryResult> result = engine->InstantQuery(params.Get("query"), time_ms);
  if (!result.ok()) return QueryError(result.status());
  TruncateResult(limit, &*result);
  // Prometheus reports stats for any non-empty `stats` value.
  WriteQueryResult(*result, !params.Get("stats").empty(), data);
  annotations->warnings = std::move(result->warnings);
  annotations->infos = std::move(result->infos);
  return absl::OkStatus();
}

absl::Status Api::QueryRange(const ApiParams& params, const base::HttpRequest& request,
                             JsonWriter* data, Annotations* annotations) {
  absl::StatusOr<int64_t> start_ms = ParseTimeMs(params.Get("start"));
  if (!start_ms.ok()) return InvalidParam("start", start_ms.status());
  absl::StatusOr<int64_t> end_ms = ParseTimeMs(params.Get("end"));
  if (!end_ms.ok()) return InvalidParam("end", end_ms.status());
  if (*end_ms < *start_ms) {
    return absl::InvalidArgumentError("end timestamp must not be before start time");
  }
  absl::StatusOr<absl::Duration> step = ParseApiDuration(params.Get("step"));
  if (!step.ok()) return InvalidParam("step", step.status());
  // Timestamps are milliseconds, so a step below 1ms cannot advance.
  int64_t step_ms = absl::ToInt64Milliseconds(*step);
  if (step_ms <= 0) {
    return absl::InvalidArgumentError(
        "zero or negative query resolution step widths are not accepted. Try a positive integer");
  }
  absl::Duration range = absl::Milliseconds(*end_ms) - absl::Milliseconds(*start_ms);
  absl::Duration remainder;
  if (absl::IDivDuration(range, *step, &remainder) > options_.max_points_per_series) {
    return absl::InvalidArgumentError(absl::StrCat(
        "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query "
        "resolution (?step=XX)"));
  }
  ASSIGN_OR_RETURN(int64_t limit, LimitParam(params));
  std::unique_ptr<Engine> local;
  ASSIGN_OR_RETURN(Engine * engine, EngineFor(params, request, &local));
  absl::StatusOr<QueryResult> result =
      engine->RangeQuery(params.Get("query"), *start_ms, *end_ms, step_ms);
  if (!result.ok()) return QueryError(result.status());
  TruncateResult(limit, &*result);
  // Prometheus reports stats for any non-empty `stats` value.
  WriteQueryResult(*result, !params.Get("stats").empty(), data);
  annotations->warnings = std::move(result->warnings);
  annotations->infos = std::move(result->infos);
  return absl::OkStatus();
}

absl::Status Api::Series(const ApiParams& params, const base::HttpRequest& request,
                         JsonWriter* data, Annotations* annotations) {
  if (params.GetAll("match[]").empty()) {
    return absl::InvalidArgumentError("no match[] parameter provided");
  }
  ASSIGN_OR_RETURN(int64_t limit, LimitParam(params));
  ASSIGN_OR_RETURN(int64_t start_ms, TimeParam(params, "start", kMinTimeMs));
  ASSIGN_OR_RETURN(int64_t end_ms, TimeParam(params, "end", kMaxTimeMs));
  ASSIGN_OR_RETURN(MatcherSets sets, MatcherSetsParam(params));
  std::vector<model::Labels> series;
  for (const std::vector<model::LabelMatcher>& matchers : sets) {
    ASSIGN_OR_RETURN(std::unique_ptr<model::SeriesSet> set,
                     reader_->Select(matchers, start_ms, end_ms));
    while (set->Next()) series.push_back(set->At().labels());
    RETURN_IF_ERROR(set->status());
    for (std::string& warning : set->warnings())
      annotations->warnings.push_back(std::move(warning));
  }
  if (sets.size() > 1) {
    std::sort(series.begin(), series.end());
    series.erase(std::unique(series.begin(), series.end()), series.end());
  }
  size_t count = series.size();
  if (limit > 0 && count > static_cast<size_t>(limit)) {
    count = static_cast<size_t>(limit);
    annotations->warnings.emplace_back(kTruncatedWarning);
  }
  data->BeginArray();
  for (size_t i = 0; i < count; ++i) data->Labels(series[i]);
  data->EndArray();
  return absl::OkStatus();
}

absl::Status Api::Labels(const ApiParams& params, const base::HttpRequest& request,
                         JsonWriter* data, Annotations* annotations) {
  ASSIGN_OR_RETURN(int64_t limit, LimitParam(params));
  ASSIGN_OR_RETURN(int64_t start_ms, TimeParam(params, "start", kMinTimeMs));
  ASSIGN_OR_RETURN(int64_t end_ms, TimeParam(params, "end", kMaxTimeMs));
  ASSIGN_OR_RETURN(MatcherSets sets, MatcherSetsParam(params));
  std::vector<std::string> names;
  if (sets.empty()) {
    ASSIGN_OR_RETURN(names, reader_->LabelNames({}, start_ms, end_ms));
  }
  for (const std::vector<model::LabelMatcher>& matchers : sets) {
    ASSIGN_OR_RETURN(std::vector<std::string> set_names,
                     reader_->LabelNames(matchers, start_ms, end_ms));
    names.insert(names.end(), set_names.begin(), set_names.end());
  }
  if (sets.size() > 1) SortUnique(&names);
  WriteStrings(names, limit, data, &annotations->warnings);
  return absl::OkStatus();
}

absl::Status Api::LabelValues(const ApiParams& params, const base::HttpRequest& request,
                              JsonWriter* data, Annotations* annotations) {
  std::string_view name = request.path;
  name.remove_prefix(kLabelValuesPrefix.size());
  name.remove_suffix(kLabelValuesSuffix.size());
  if (name.empty() || name.find('/') != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("invalid label name: \"", AsAbsl(name), "\""));
  }
  ASSIGN_OR_RETURN(int64_t limit, LimitParam(params));
  ASSIGN_OR_RETURN(int64_t start_ms, TimeParam(params, "start", kMinTimeMs));
  ASSIGN_OR_RETURN(int64_t end_ms, TimeParam(params, "end", kMaxTimeMs));
  ASSIGN_OR_RETURN(MatcherSets sets, MatcherSetsParam(params));
  std::vector<std::string> values;
  if (sets.empty()) {
    ASSIGN_OR_RETURN(values, reader_->LabelValues(name, {}, start_ms, end_ms));
  }
  for (const std::vector<model::LabelMatcher>& matchers : sets) {
    ASSIGN_OR_RETURN(std::vector<std::string> set_values,
                     reader_->LabelValues(name, matchers, start_ms, end_ms));
    values.insert(values.end(), set_values.begin(), set_values.end());
  }
  if (sets.size() > 1) SortUnique(&values);
  WriteStrings(values, limit, data, &annotations->warnings);
  return absl::OkStatus();
}

absl::Status Api::BuildInfoEndpoint(const ApiParams& params, const base::HttpRequest& request,
                                    JsonWriter* data, Annotations* annotations) {
  const BuildInfo& info = options_.build_info;
  data->BeginObject();
  data->Key("version");
  data->String(info.version);
  data->Key("revision");
  data->String(info.revision);
  data->Key("branch");
  data->String(info.branch);
  data->Key("buildUser");
  data->String(info.build_user);
  data->Key("buildDate");
  data->String(info.build_date);
  data->Key("goVersion");
  data->String(info.go_version);
  data->EndObject();
  return absl::OkStatus();
}

// Prometheus's metricMetadata, over what remote write delivered instead of what targets expose:
// {"family": [{"type": ..., "help": ..., "unit": ...}, ...], ...}. `limit` caps the families
// and `limit_per_metric` each family's entries (0: no cap); families come in name order.
absl::Status Api::Metadata(const ApiParams& params, const base::HttpRequest& request,
                           JsonWriter* data, Annotations* annotations) {
  ASSIGN_OR_RETURN(const int64_t limit, LimitParam(params));
  absl::StatusOr<int64_t> limit_per_metric = ParseLimit(params.Get("limit_per_metric"));
  if (!limit_per_metric.ok()) return InvalidParam("limit_per_metric", limit_per_metric.status());
  ASSIGN_OR_RETURN(const std::vector<model::MetricMetadata> entries,
                   reader_->Metadata(params.Get("metric")));
  data->BeginObject();
  int64_t families = 0, in_family = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const model::MetricMetadata& entry = entries[i];
    const bool first = i == 0 || entries[i - 1].family != entry.family;
    if (first) {
      if (limit > 0 && families == limit) break;
      if (i > 0) data->EndArray();
      data->Key(entry.family);
      data->BeginArray();
      ++families;
      in_family = 0;
    }
    if (*limit_per_metric > 0 && in_family == *limit_per_metric) continue;
    ++in_family;
    data->BeginObject();
    data->Key("type");
    data->String(entry.type);
    data->Key("help");
    data->String(entry.help);
    data->Key("unit");
    data->String(entry.unit);
    data->EndObject();
  }
  if (families > 0) data->EndArray();
  data->EndObject();
  return absl::OkStatus();
}

absl::Status Api::FormatQuery(const ApiParams& params, const base::HttpRequest& request,
                              JsonWriter* data, Annotations* annotations) {
  absl::StatusOr<ExprPtr> expr = engine_->Parse(params.Get("query"));
  if (!expr.ok()) return InvalidParam("query", expr.status());
  // Prometheus answers with Pretty(0), which equals String() for expressions that fit on one
  // 100-column line; longer ones it breaks over lines, which Kura does not yet.
  data->String((*expr)->String());
  return absl::OkStatus();
}

absl::Status Api::ParseQuery(const ApiParams& params, const base::HttpRequest& request,
                             JsonWriter* data, Annotations* annotations) {
  absl::StatusOr<ExprPtr> expr = engine_->Parse(params.Get("query"));
  if (!expr.ok()) return InvalidParam("query", expr.status());
  WriteParseTree(**expr, data);
  return absl::OkStatus();
}

absl::Status Api::QueryExemplars(const ApiParams& params, const base::HttpRequest& request,
                                 JsonWriter* data, Annotations* annotations) {
  data->BeginArray();
  data->EndArray();
  return absl::OkStatus();
}

}  // namespace kura::query
