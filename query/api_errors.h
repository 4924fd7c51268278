#pragma once

// The one mapping from absl::Status to the Prometheus API's errorType and HTTP status:
//   InvalidArgument    -> bad_data     400
//   FailedPrecondition -> execution    422
//   DeadlineExceeded   -> timeout      503
//   Cancelled          -> canceled     499
//   Unavailable        -> unavailable  503
//   NotFound           -> not_found    404
//   anything else      -> internal     500

#include <string_view>

#include "absl/status/status.h"
#include "base/http_message.h"

namespace kura::query {

struct ApiError {
  std::string_view error_type;  // e.g. "bad_data"
  int http_status = 500;
};

// REQUIRES: !status.ok().
ApiError ApiErrorFor(const absl::Status& status);

// Fills `response` with `{"status":"error","errorType":"...","error":"<message>"}`, the matching
// HTTP status and the JSON content type. REQUIRES: !status.ok().
void WriteApiError(const absl::Status& status, base::HttpResponse* response);

}  // namespace kura::query
