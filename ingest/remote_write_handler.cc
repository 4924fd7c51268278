#include "ingest/remote_write_handler.h"

#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "ingest/remote_write_decoder.h"
#include "ingest/validation.h"

namespace kura::ingest {
namespace {

// Seconds a sender should wait before retrying a 503. Prometheus backs off on its own
// as well (min_backoff 30ms .. max_backoff 5s); one second lets a full queue drain.
constexpr std::string_view kRetryAfterSeconds = "1";

// The only place where a Status becomes an HTTP code. Prometheus retries every 5xx but a 429
// only when its queue_config sets retry_on_http_429 (off by default), and drops a request
// answered with any other 4xx. Overload (ResourceExhausted) is therefore a 503 too: with a
// default sender configuration a 429 would lose the samples.
int HttpCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return 204;
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return 503;
    default:
      return 500;
  }
}

}  // namespace

RemoteWriteHandler::RemoteWriteHandler(model::SeriesWriter* writer, base::Registry* metrics,
                                       RemoteWriteOptions options)
    : writer_(writer),
      options_(std::move(options)),
      labels_cache_(options_.labels_cache_bytes),
      samples_received_(
          metrics->AddCounter("kura_remote_write_samples_received_total",
                              "Samples in remote write requests whose body decoded.")),
      samples_rejected_(metrics->AddCounter(
          "kura_remote_write_samples_rejected_total",
          "Samples in remote write requests answered with 400, which senders drop.")),
      latency_seconds_(metrics->AddHistogram("kura_remote_write_request_duration_seconds",
                                             "Time to handle a remote write request.",
                                             base::DefaultLatencyBuckets())),
      labels_cache_bytes_(metrics->AddGauge(
          "kura_remote_write_labels_cache_bytes",
          "Estimated memory of the label sets remote write remembers as decoded and valid.")),
      labels_cache_entries_(
          metrics->AddGauge("kura_remote_write_labels_cache_entries",
                            "Label sets remote write remembers as decoded and valid.")) {
  for (size_t i = 0; i < kCodes.size(); ++i) {
    requests_by_code_[i] = &metrics->AddCounter("kura_remote_write_requests_total",
                                                "Remote write requests by HTTP status code.",
                                                {{"code", absl::StrCat(kCodes[i])}});
  }
}

void RemoteWriteHandler::Handle(const base::HttpRequest& request, base::HttpResponse* response) {
  const absl::Time start = absl::Now();
  absl::Cleanup observe_latency = [&] {
    latency_seconds_.Observe(absl::ToDoubleSeconds(absl::Now() - start));
  };

  if (request.method != "POST") {
    response->headers.emplace_back("Allow", "POST");
    Respond(405, absl::StrCat("method ", request.method, " not allowed: remote write uses POST"),
            response);
    return;
  }
  if (request.body.size() > options_.max_body_bytes) {
    Respond(413,
            absl::StrCat("request body of ", request.body.size(), " bytes exceeds the limit of ",
                         options_.max_body_bytes, " bytes"),
            response);
    return;
  }
  if (absl::Status status = CheckContentType(request.Header("content-type")); !status.ok()) {
    Respond(415, std::string(status.message()), response);
    return;
  }

  size_t num_samples = 0;
  absl::Status status = DecodeValidateWrite(request, &num_samples);
  int code = HttpCodeFor(status);
  if (code == 400) samples_rejected_.Inc(static_cast<double>(num_samples));
  if (code == 503) {
    response->headers.emplace_back("Retry-After", std::string(kRetryAfterSeconds));
  }
  Respond(code, std::string(status.message()), response);
}

absl::Status RemoteWriteHandler::DecodeValidateWrite(const base::HttpRequest& request,
                                                     size_t* num_samples) {
  DecodedWrite decoded;
  const absl::Status decode_status =
      DecodeRemoteWrite(request.Header("content-encoding"), request.body,
                        options_.max_decoded_bytes, &labels_cache_, &decoded);
  labels_cache_bytes_.Set(static_cast<double>(labels_cache_.bytes()));
  labels_cache_entries_.Set(static_cast<double>(labels_cache_.size()));
  RETURN_IF_ERROR(decode_status);
  const model::WriteBatch& batch = decoded.batch;
  *num_samples = batch.NumSamples();
  samples_received_.Inc(static_cast<double>(*num_samples));
  // The whole request is checked before any of it is written: a 400 means nothing was stored.
  RETURN_IF_ERROR(ValidateWriteBatch(batch, absl::Now(), options_.max_future_skew,
                                     &decoded.labels_valid));
  if (batch.series.empty() && batch.metadata.empty()) return absl::OkStatus();
  return writer_->Write(batch);
}

void RemoteWriteHandler::Respond(int code, std::string body, base::HttpResponse* response) {
  response->status = code;
  response->body = std::move(body);
  if (!response->body.empty()) response->body.push_back('\n');
  for (size_t i = 0; i < kCodes.size(); ++i) {
    if (kCodes[i] == code) requests_by_code_[i]->Inc();
  }
}

}  // namespace kura::ingest
