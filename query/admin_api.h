#pragma once

// AdminApi: Prometheus's TSDB admin endpoints over the SeriesAdmin seam.
//   POST|PUT /api/v1/admin/tsdb/delete_series    match[] (required), start, end -> 204
//   POST|PUT /api/v1/admin/tsdb/clean_tombstones                                -> 204
//   POST|PUT /api/v1/admin/tsdb/snapshot         skip_head   -> 200 {"name": "<snapshot>"}
//   POST|PUT /api/v1/admin/tsdb/compact (Kura's own: compacts now)             -> 204
// Disabled unless the operator enables it (--web.enable-admin-api); then every request gets
// Prometheus's 503 `{"status":"error","errorType":"unavailable","error":"admin APIs disabled"}`.
//
//   AdminApi admin(&node, AdminApiOptions{.enabled = true});
//   for (ApiRoute& route : admin.Routes()) server.Handle(route.path, std::move(route.handler));

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/http_message.h"
#include "model/series_admin.h"
#include "query/api.h"

namespace kura::query {

class ApiParams;

struct AdminApiOptions {
  bool enabled = false;
};

// Thread-safe: handlers share only the SeriesAdmin, which is.
class AdminApi {
 public:
  // `admin` must outlive the AdminApi.
  AdminApi(model::SeriesAdmin* admin, AdminApiOptions options) : admin_(admin), options_(options) {}

  // The endpoints to register on an HTTP server. Handlers capture `this`.
  std::vector<ApiRoute> Routes();

  // Serves one admin request; 404 for paths that are not admin endpoints.
  void Handle(const base::HttpRequest& request, base::HttpResponse* response);

 private:
  absl::Status DeleteSeries(const ApiParams& params);
  absl::StatusOr<std::string> Snapshot(const ApiParams& params);

  model::SeriesAdmin* admin_;
  AdminApiOptions options_;
};

}  // namespace kura::query
