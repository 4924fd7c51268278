#pragma once

// Parameters of the Prometheus HTTP API, parsed as Prometheus parses them: times as RFC 3339
// or Unix float seconds, durations as Prometheus durations ("1h30m") or float seconds, and
// form values from the URL query and from form-encoded POST bodies.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/http_message.h"

namespace kura::query {

// Prometheus's MinTime and MaxTime (web/api/v1), used for an absent start or end, in ms.
inline constexpr int64_t kMinTimeMs = -9223309901257974000;
inline constexpr int64_t kMaxTimeMs = 9223309901257974999;
// The same instants as RFC 3339 text, which clients such as Grafana send back.
inline constexpr std::string_view kMinTimeFormatted = "-292273086-05-16T16:47:06Z";
inline constexpr std::string_view kMaxTimeFormatted = "292277025-08-18T07:12:54.999999999Z";

// Prometheus's parseTime: Unix seconds as a float (rounded to ms) or RFC 3339 with optional
// fraction and offset. InvalidArgument `cannot parse "<s>" to a valid timestamp`.
absl::StatusOr<int64_t> ParseTimeMs(std::string_view s);

// Prometheus's parseDuration: float seconds, or model.ParseDuration ("1h30m", "5m", "0").
// InvalidArgument `cannot parse "<s>" to a valid duration`.
absl::StatusOr<absl::Duration> ParseApiDuration(std::string_view s);

// Prometheus's parseLimitParam: "" -> 0 (no limit); a non-negative integer otherwise.
absl::StatusOr<int64_t> ParseLimit(std::string_view s);

// Decodes %XX escapes and, when `plus_is_space`, '+' (Go's url.QueryUnescape).
// InvalidArgument `invalid URL escape "%zz"`.
absl::StatusOr<std::string> PercentDecode(std::string_view s, bool plus_is_space = true);

// Splits "a=1&b=2" into decoded pairs in order, skipping empty keys (Go's url.ParseQuery).
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseUrlEncoded(
    std::string_view s);

// The form values of one request: a form-encoded POST body's values first, then the URL
// query's, as Go's Request.Form orders them. Thread-compatible.
class ApiParams {
 public:
  // InvalidArgument on malformed escapes (the message is Go's url error).
  static absl::StatusOr<ApiParams> FromRequest(const base::HttpRequest& request);

  // The first value of `name`, or "" when absent (Go's FormValue).
  std::string_view Get(std::string_view name) const;
  // Every value of `name`, in order (e.g. repeated match[]).
  std::vector<std::string> GetAll(std::string_view name) const;

 private:
  std::vector<std::pair<std::string, std::string>> values_;
};

// Prometheus's invalidParamError: InvalidArgument `invalid parameter "<name>": <message>`.
absl::Status InvalidParam(std::string_view name, const absl::Status& status);

// Prometheus's parseTimeParam: the time in `name`, `default_ms` when absent, else InvalidParam
// with `Invalid time value for '<name>': ...`.
absl::StatusOr<int64_t> TimeParam(const ApiParams& params, std::string_view name,
                                  int64_t default_ms);

}  // namespace kura::query
