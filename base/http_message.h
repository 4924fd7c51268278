#pragma once

// Plain HTTP request and response values that handlers of every layer speak. The HTTP server
// library itself stays inside cmd/kura/http_server.cc; handlers see only these structs.

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kura::base {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // decoded path without the query string, e.g. "/api/v1/query"
  std::string query;   // raw query string after '?', not decoded
  // Header names are lower-cased by the server.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // True once the client has closed its connection, so work for it can stop; empty when the
  // server cannot tell. Thread-safe: polled from the handler's thread.
  std::function<bool()> client_gone;

  // Returns the first header named `lower_case_name`, or "" when absent.
  std::string_view Header(std::string_view lower_case_name) const {
    for (const auto& [name, value] : headers) {
      if (name == lower_case_name) return value;
    }
    return {};
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::string body;
};

// Handlers run on worker threads and may block (WAL writes, queries). Thread-safe.
using HttpHandler = std::function<void(const HttpRequest& request, HttpResponse* response)>;

}  // namespace kura::base
