// Remote write decode: snappy + protobuf -> WriteBatch, the receiver's per-request CPU cost.
// A request is 100 series x 20 samples (Prometheus's default max_samples_per_send is 2,000),
// labelled like a node_exporter / HTTP service scrape.

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "ingest/remote_write_decoder.h"
#include "ingest/validation.h"
#include "proto/remote.pb.h"
#include "snappy.h"

namespace kura::ingest {
namespace {

constexpr int64_t kStartMs = 1'700'000'000'000;
constexpr int64_t kScrapeIntervalMs = 15'000;

void AddLabel(prometheus::TimeSeries* ts, const std::string& name, const std::string& value) {
  prometheus::Label* l = ts->add_labels();
  l->set_name(name);
  l->set_value(value);
}

// Labels sorted by name, as Prometheus sends them.
std::string BuildBody(int num_series, int samples_per_series) {
  static const char* kHandlers[] = {"/api/v1/orders", "/api/v1/users", "/healthz", "/metrics"};
  static const char* kMethods[] = {"GET", "POST"};
  static const char* kCodes[] = {"200", "201", "404", "500", "503"};
  prometheus::WriteRequest request;
  for (int s = 0; s < num_series; ++s) {
    prometheus::TimeSeries* ts = request.add_timeseries();
    AddLabel(ts, "__name__", "http_server_requests_seconds_count");
    AddLabel(ts, "code", kCodes[s % 5]);
    AddLabel(ts, "handler", kHandlers[(s / 5) % 4]);
    AddLabel(ts, "instance", absl::StrCat("10.42.", s % 7, ".", 10 + s % 13, ":8080"));
    AddLabel(ts, "job", "kubernetes-pods");
    AddLabel(ts, "method", kMethods[(s / 20) % 2]);
    AddLabel(ts, "namespace", "checkout");
    AddLabel(ts, "pod", absl::StrCat("checkout-api-7d9f8b6c5d-", s % 7, "x", s % 11));
    double value = 1000.0 * s;
    for (int i = 0; i < samples_per_series; ++i) {
      prometheus::Sample* sample = ts->add_samples();
      sample->set_timestamp(kStartMs + i * kScrapeIntervalMs + s);
      value += 17 + (i * 31 + s) % 50;
      sample->set_value(value);
    }
  }
  std::string raw = request.SerializeAsString();
  std::string body;
  snappy::Compress(raw.data(), raw.size(), &body);
  return body;
}

void BM_DecodeRemoteWrite(benchmark::State& state) {
  const int num_series = static_cast<int>(state.range(0));
  const int samples_per_series = static_cast<int>(state.range(1));
  const std::string body = BuildBody(num_series, samples_per_series);
  for (auto _ : state) {
    absl::StatusOr<model::WriteBatch> batch = DecodeRemoteWrite("snappy", body, 64 << 20);
    if (!batch.ok()) state.SkipWithError(std::string(batch.status().message()).c_str());
    benchmark::DoNotOptimize(batch);
  }
  const int64_t samples = int64_t{num_series} * samples_per_series;
  state.counters["samples/s"] = benchmark::Counter(
      static_cast<double>(samples * state.iterations()), benchmark::Counter::kIsRate);
  state.counters["body_bytes"] = static_cast<double>(body.size());
}
BENCHMARK(BM_DecodeRemoteWrite)->Args({100, 20});

void BM_DecodeAndValidateRemoteWrite(benchmark::State& state) {
  const int num_series = static_cast<int>(state.range(0));
  const int samples_per_series = static_cast<int>(state.range(1));
  const std::string body = BuildBody(num_series, samples_per_series);
  const absl::Time now = absl::FromUnixMillis(kStartMs) + absl::Hours(1);
  for (auto _ : state) {
    absl::StatusOr<model::WriteBatch> batch = DecodeRemoteWrite("snappy", body, 64 << 20);
    absl::Status status =
        batch.ok() ? ValidateWriteBatch(*batch, now, absl::Minutes(10)) : batch.status();
    if (!status.ok()) state.SkipWithError(std::string(status.message()).c_str());
    benchmark::DoNotOptimize(batch);
  }
  const int64_t samples = int64_t{num_series} * samples_per_series;
  state.counters["samples/s"] = benchmark::Counter(
      static_cast<double>(samples * state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DecodeAndValidateRemoteWrite)->Args({100, 20});

}  // namespace
}  // namespace kura::ingest

BENCHMARK_MAIN();
