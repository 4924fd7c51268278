#include "query/admin_api.h"

#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "query/api_errors.h"
#include "query/api_params.h"
#include "query/parser.h"

namespace kura::query {
namespace {

constexpr std::string_view kDeleteSeriesPath = "/api/v1/admin/tsdb/delete_series";
constexpr std::string_view kCleanTombstonesPath = "/api/v1/admin/tsdb/clean_tombstones";
// Kura's own, like VictoriaMetrics's /internal/force_merge; Prometheus has no such endpoint.
constexpr std::string_view kCompactPath = "/api/v1/admin/tsdb/compact";

}  // namespace

std::vector<ApiRoute> AdminApi::Routes() {
  std::vector<ApiRoute> routes;
  for (std::string_view path : {kDeleteSeriesPath, kCleanTombstonesPath, kCompactPath}) {
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
  if (!delete_series && !compact && request.path != kCleanTombstonesPath) {
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
  absl::Status status;
  if (delete_series) {
    absl::StatusOr<ApiParams> params = ApiParams::FromRequest(request);
    status = params.ok() ? DeleteSeries(*params)
                         : absl::InvalidArgumentError(absl::StrCat("error parsing form values: ",
                                                                   params.status().message()));
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
