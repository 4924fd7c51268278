#pragma once

// A minimal blocking HTTP/1.1 client for 127.0.0.1: one request per connection
// (`Connection: close`), every socket operation bounded by a timeout. Enough to drive a server
// under test; not a general-purpose client.

#include <string>
#include <utility>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kura::integration {

struct HttpResult {
  int status = 0;
  // Header names lower-cased.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // de-chunked

  absl::string_view Header(absl::string_view lower_case_name) const;
};

struct HttpCall {
  std::string method = "GET";
  std::string target = "/";  // path and query string
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  absl::Duration timeout = absl::Seconds(10);
};

// Sends `call` to 127.0.0.1:`port`. An error status means no complete response arrived
// (connection refused, reset, timeout, malformed response); any HTTP status is a success here.
absl::StatusOr<HttpResult> SendHttp(int port, const HttpCall& call);

absl::StatusOr<HttpResult> HttpGet(int port, std::string target,
                                   absl::Duration timeout = absl::Seconds(10));

// Percent-encodes everything outside RFC 3986's unreserved set, for query-string values.
std::string UrlEncode(absl::string_view text);

}  // namespace kura::integration
