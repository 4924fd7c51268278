#pragma once

// Engine: evaluates PromQL over a SeriesReader, as instant or range queries.

#include <cstdint>
#include <functional>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "model/series_reader.h"
#include "query/ast.h"
#include "query/value.h"

namespace kura::base {
class ThreadPool;
}  // namespace kura::base

namespace kura::query {

struct EngineOptions {
  // Prometheus's default; the window is left-open: (t - lookback, t].
  absl::Duration lookback_delta = absl::Minutes(5);
  absl::Duration timeout = absl::Minutes(2);
  // Samples held in memory at once by one query (Prometheus's --query.max-samples).
  int64_t max_samples = 50'000'000;
  // Step of subqueries written without one (`[10m:]`).
  absl::Duration default_subquery_step = absl::Minutes(1);
  // Feature switches as Prometheus names them (--enable-feature=...).
  bool enable_experimental_functions = false;
  bool enable_delayed_name_removal = false;
  bool enable_binop_fill_modifiers = false;  // fill(), fill_left(), fill_right()
  bool enable_extended_range_selectors = false;  // `anchored` / `smoothed`
  // rate(), increase(), irate() and resets() read the samples' start timestamps: a start after
  // the previous sample is a counter reset, and a start inside the range replaces extrapolation
  // to its left edge (Prometheus's use-start-timestamps).
  bool use_start_timestamps = false;
  // Decodes the series of a selector on more cores than the query's (query/decode_ahead.h);
  // null: the query's thread decodes alone. Not owned: one pool serves every engine.
  base::ThreadPool* decode_pool = nullptr;
  // Polled as often as the deadline; once it returns true the query stops with Cancelled.
  // Set per request, e.g. to stop work for a client that has gone away.
  std::function<bool()> cancelled;
};

// Error codes of every method, as query/api_errors.h maps them:
//   InvalidArgument    -> bad_data 400 (parse errors, "1:5: parse error: ...", bad parameters)
//   FailedPrecondition -> execution 422 (e.g. "vector cannot contain metrics with the same
//                         labelset", too many samples)
//   DeadlineExceeded   -> timeout 503;  Cancelled -> canceled 499;  others -> internal 500.
// Messages carry Prometheus's own wording, without the errorType prefix.
//
// Thread-safe: concurrent queries share nothing but the reader.
class Engine {
 public:
  // `reader` must outlive the engine.
  Engine(model::SeriesReader* reader, EngineOptions options);

  // Parses `query` with the engine's feature switches (as queries are parsed), e.g. for
  // /api/v1/format_query.
  absl::StatusOr<ExprPtr> Parse(std::string_view query) const;

  absl::StatusOr<QueryResult> InstantQuery(std::string_view query, int64_t time_ms);
  // REQUIRES: step_ms > 0, end_ms >= start_ms. Results of type kMatrix (or kString error).
  absl::StatusOr<QueryResult> RangeQuery(std::string_view query, int64_t start_ms,
                                         int64_t end_ms, int64_t step_ms);

 private:
  model::SeriesReader* reader_;
  EngineOptions options_;
};

}  // namespace kura::query
