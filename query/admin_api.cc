#include "query/admin_api.h"

#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "query/api_errors.h"
#include "query/api_params.h"
#include "query/go_literals.h"
#include "query/json_writer.h"
#include "query/parser.h"

namespace kura::query {
namespace {

constexpr std::string_view kDeleteSeriesPath = "/api/v1/admin/tsdb/delete_series";
constexpr std::string_view kCleanTombstonesPath = "/api/v1/admin/tsdb/clean_tombstones";
constexpr std::string_view kSnapshotPath = "/api/v1/admin/tsdb/snapshot";
// Kura's own, like VictoriaMetrics's /internal/force_merge; Prometheus has no such endpoint.
constexpr std::string_view kCompactPath = "/api/v1/admin/tsdb/compact";

// What Go's strconv.ParseBool accepts.
bool IsGoBool(std::string_view s) {
  for (std::string_view b : {"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE",
                             "false", "False"}) {
    if (s == b) return true;
  }
  return false;
}

}  // namespace

std::vector<ApiRoute> AdminApi::Routes() {
  std::vector<ApiRoute> routes;
  for (std::string_view path :
       {kDeleteSeriesPath, kCleanTombstonesPath, kSnapshotPath, kCompactPath}) {
    routes.push_back(
        ApiRoute{.path = std::string(path),
                 .prefix = false,
                 .name = std::string(path),
                 .handler = [this](const base::HttpRequest& request, base::HttpResponse* response) {
                   Handle(request, response);
                 }});
  }
  return routes;
}

void AdminApi::Handle(const base::HttpRequest& request, base::HttpResponse* response) {
  const bool delete_series = request.path == kDeleteSeriesPath;
  const bool compact = request.path == kCompactPath;
  const bool snapshot = request.path == kSnapshotPath;
  if (!delete_series && !compact && !snapshot && request.path != kCleanTombstonesPath) {
    WriteApiError(absl::NotFoundError("not found"), response);
    return;
  }
  // Prometheus registers both verbs for each admin endpoint.
  if (request.method != "POST" && request.method != "PUT") {
    response->status = 405;
    response->content_type = "text/plain; charset=utf-8";
    response->headers.emplace_back("Allow", "POST, PUT");
    response->body = "Method Not Allowed\n";
    return;
  }
  if (!options_.enabled) {
    WriteApiError(absl::UnavailableError("admin APIs disabled"), response);
    return;
  }
  absl::StatusOr<ApiParams> params;
  if (delete_series || snapshot) {
    params = ApiParams::FromRequest(request);
    if (!params.ok()) {
      WriteApiError(absl::InvalidArgumentError(absl::StrCat("error parsing form values: ",
                                                            params.status().message())),
                    response);
      return;
    }
  }
  if (snapshot) {
    absl::StatusOr<std::string> name = Snapshot(*params);
    if (!name.ok()) {
      WriteApiError(name.status(), response);
      return;
    }
    std::string body;
    JsonWriter writer(&body);
    writer.BeginObject();
    writer.Key("status");
    writer.String("success");
    writer.Key("data");
    writer.BeginObject();
    writer.Key("name");
    writer.String(*name);
    writer.EndObject();
    writer.EndObject();
    response->status = 200;
    response->content_type = "application/json";
    response->body = std::move(body);
    return;
  }
  absl::Status status;
  if (delete_series) {
    status = DeleteSeries(*params);
  } else if (compact) {
    status = admin_->Compact();
  } else {
    status = admin_->CleanTombstones();
  }
  if (!status.ok()) {
    WriteApiError(status, response);
    return;
  }
  response->status = 204;
  response->body.clear();
}

absl::StatusOr<std::string> AdminApi::Snapshot(const ApiParams& params) {
  // Accepted as Prometheus accepts it. The snapshot holds the head either way: what the head
  // holds is acknowledged data, and leaving it out would not make the copy faster here.
  if (const std::string_view skip_head = params.Get("skip_head");
      !skip_head.empty() && !IsGoBool(skip_head)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unable to parse boolean 'skip_head' argument: strconv.ParseBool: parsing ",
                     GoQuote(skip_head), ": invalid syntax"));
  }
  absl::StatusOr<std::string> name = admin_->Snapshot();
  if (!name.ok()) {
    return absl::InternalError(absl::StrCat("create snapshot: ", name.status().message()));
  }
  return name;
}

absl::Status AdminApi::DeleteSeries(const ApiParams& params) {
  const std::vector<std::string> selectors = params.GetAll("match[]");
  if (selectors.empty()) return absl::InvalidArgumentError("no match[] parameter provided");
  ASSIGN_OR_RETURN(int64_t start_ms, TimeParam(params, "start", kMinTimeMs));
  ASSIGN_OR_RETURN(int64_t end_ms, TimeParam(params, "end", kMaxTimeMs));
  // Every selector parses before anything is deleted.
  std::vector<std::vector<model::LabelMatcher>> sets;
  for (const std::string& selector : selectors) {
    absl::StatusOr<std::vector<model::LabelMatcher>> matchers = ParseMetricSelector(selector);
    if (!matchers.ok()) return InvalidParam("match[]", matchers.status());
    sets.push_back(*std::move(matchers));
  }
  for (const std::vector<model::LabelMatcher>& matchers : sets) {
    RETURN_IF_ERROR(admin_->DeleteSeries(matchers, start_ms, end_ms));
  }
  return absl::OkStatus();
}

}  // namespace kura::query
