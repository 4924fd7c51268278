#include "query/api_errors.h"

#include <string>

#include "query/json_writer.h"

namespace kura::query {

ApiError ApiErrorFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return {"bad_data", 400};
    case absl::StatusCode::kFailedPrecondition:
      return {"execution", 422};
    case absl::StatusCode::kDeadlineExceeded:
      return {"timeout", 503};
    case absl::StatusCode::kCancelled:
      // 499 is nginx's "client closed request", which Prometheus also answers.
      return {"canceled", 499};
    case absl::StatusCode::kUnavailable:
      return {"unavailable", 503};
    case absl::StatusCode::kNotFound:
      return {"not_found", 404};
    default:
      return {"internal", 500};
  }
}

void WriteApiError(const absl::Status& status, base::HttpResponse* response) {
  ApiError error = ApiErrorFor(status);
  response->status = error.http_status;
  response->content_type = "application/json";
  response->body.clear();
  JsonWriter writer(&response->body);
  writer.BeginObject();
  writer.Key("status");
  writer.String("error");
  writer.Key("errorType");
  writer.String(error.error_type);
  writer.Key("error");
  writer.String(std::string_view(status.message().data(), status.message().size()));
  writer.EndObject();
}

}  // namespace kura::query
