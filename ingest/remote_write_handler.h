#pragma once

// RemoteWriteHandler: POST /api/v1/write (Prometheus remote write 1.0). Decodes, validates and
// hands the batch to a SeriesWriter; maps the outcome to the status Prometheus expects:
// 204 once durable, 400 naming the bad series (Prometheus does not retry 4xx), 503 with
// Retry-After when overloaded (Prometheus retries those).

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/http_message.h"
#include "base/metrics.h"
#include "ingest/labels_cache.h"
#include "model/series_writer.h"

namespace kura::ingest {

struct RemoteWriteOptions {
  // Largest accepted request body (snappy-compressed) and its decoded size.
  size_t max_body_bytes = 32 << 20;
  size_t max_decoded_bytes = 256 << 20;
  // Samples further in the future than this are rejected as clock errors.
  absl::Duration max_future_skew = absl::Minutes(10);
  // Memory for label sets already decoded and validated (LabelsCache), ~300 bytes each for
  // typical series. Half of it is one generation, which should hold every active series:
  // 256 MiB does for ~440,000. 0 turns the cache off.
  size_t labels_cache_bytes = size_t{256} << 20;
};

// Thread-safe; `writer` and `metrics` must outlive the handler.
class RemoteWriteHandler {
 public:
  RemoteWriteHandler(model::SeriesWriter* writer, base::Registry* metrics,
                     RemoteWriteOptions options = {});

  void Handle(const base::HttpRequest& request, base::HttpResponse* response);

 private:
  // The HTTP codes this handler answers with, each with its requests_total{code} counter.
  static constexpr std::array<int, 7> kCodes = {204, 400, 405, 413, 415, 500, 503};

  // Decode -> validate -> write. Fills `num_samples` once the body has decoded.
  absl::Status DecodeValidateWrite(const base::HttpRequest& request, size_t* num_samples);
  void Respond(int code, std::string body, base::HttpResponse* response);

  model::SeriesWriter* writer_;
  RemoteWriteOptions options_;
  LabelsCache labels_cache_;
  std::array<base::Counter*, kCodes.size()> requests_by_code_;  // parallel to kCodes
  base::Counter& samples_received_;
  base::Counter& samples_rejected_;
  base::Histogram& latency_seconds_;
  base::Gauge& labels_cache_bytes_;
  base::Gauge& labels_cache_entries_;
};

}  // namespace kura::ingest
