#pragma once

// Api: Prometheus's HTTP query API (/api/v1/query, query_range, series, labels,
// label/<name>/values, metadata, query_exemplars, status/buildinfo, format_query, parse_query)
// over the SeriesReader seam and the Engine. Responses are byte-compatible with Prometheus's
// JSON; errors carry its errorType and wording (see query/api_errors.h).
//
//   Api api(&node, &engine, ApiOptions{});
//   for (ApiRoute& route : api.Routes()) server.Add(route.path, route.prefix, route.handler);

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/http_message.h"
#include "model/series_reader.h"
#include "query/engine.h"

namespace kura::query {

class ApiParams;
class JsonWriter;

// /api/v1/status/buildinfo. Kura is not written in Go; go_version names the C++ toolchain.
struct BuildInfo {
  std::string version;
  std::string revision;
  std::string branch;
  std::string build_user;
  std::string build_date;
  std::string go_version;
};

struct ApiOptions {
  // The engine's options; a request's `timeout` or `lookback_delta` evaluates with a copy.
  EngineOptions engine;
  BuildInfo build_info;
  // Prometheus's limit on points per series of a range query.
  int64_t max_points_per_series = 11'000;
  // The time of an instant query without `time`, in Unix ms. Defaults to the system clock.
  std::function<int64_t()> now_ms;
};

// One endpoint: `path` is exact, or a prefix when `prefix` is set (label values). `name` is its
// label value in request metrics, e.g. "/api/v1/label/:name/values".
struct ApiRoute {
  std::string path;
  bool prefix = false;
  std::string name;
  base::HttpHandler handler;
};

// Thread-safe: handlers share only the reader and engine, both thread-safe.
class Api {
 public:
  // `reader` and `engine` must outlive the Api; `engine` should read from `reader`.
  Api(model::SeriesReader* reader, Engine* engine, ApiOptions options = {});

  // The endpoints to register on an HTTP server. Handlers capture `this`.
  std::vector<ApiRoute> Routes();

  // Serves any /api/v1/ request through the same table as Routes(); 404 for unknown paths.
  void Handle(const base::HttpRequest& request, base::HttpResponse* response);

 private:
  struct Annotations {
    std::vector<std::string> warnings;
    std::vector<std::string> infos;
  };
  // Writes the value of "data" into `data`; returns the error to send instead, if any.
  using Endpoint = absl::Status (Api::*)(const ApiParams& params, const base::HttpRequest& request,
                                         JsonWriter* data, Annotations* annotations);
  struct EndpointSpec {
    const char* path;
    bool prefix;
    const char* name;
    bool allow_post;
    Endpoint endpoint;
  };
  static const std::vector<EndpointSpec>& Endpoints();

  void Serve(const EndpointSpec& spec, const base::HttpRequest& request,
             base::HttpResponse* response);

  absl::Status Query(const ApiParams& params, const base::HttpRequest& request, JsonWriter* data,
                     Annotations* annotations);
  absl::Status QueryRange(const ApiParams& params, const base::HttpRequest& request,
                          JsonWriter* data, Annotations* annotations);
  absl::Status Series(const ApiParams& params, const base::HttpRequest& request,
                      JsonWriter* data, Annotations* annotations);
  absl::Status Labels(const ApiParams& params, const base::HttpRequest& request,
                      JsonWriter* data, Annotations* annotations);
  absl::Status LabelValues(const ApiParams& params, const base::HttpRequest& request,
                           JsonWriter* data, Annotations* annotations);
  absl::Status BuildInfoEndpoint(const ApiParams& params, const base::HttpRequest& request,
                                 JsonWriter* data, Annotations* annotations);
  absl::Status Metadata(const ApiParams& params, const base::HttpRequest& request,
                        JsonWriter* data, Annotations* annotations);
  absl::Status QueryExemplars(const ApiParams& params, const base::HttpRequest& request,
                              JsonWriter* data, Annotations* annotations);
  absl::Status FormatQuery(const ApiParams& params, const base::HttpRequest& request,
                           JsonWriter* data, Annotations* annotations);
  absl::Status ParseQuery(const ApiParams& params, const base::HttpRequest& request,
                          JsonWriter* data, Annotations* annotations);

  // The engine for a request: engine_, or one with the request's timeout and lookback_delta
  // when given, that stops when the client goes away (kept in `local`).
  absl::StatusOr<Engine*> EngineFor(const ApiParams& params, const base::HttpRequest& request,
                                    std::unique_ptr<Engine>* local);

  model::SeriesReader* reader_;
  Engine* engine_;
  ApiOptions options_;
};

}  // namespace kura::query
