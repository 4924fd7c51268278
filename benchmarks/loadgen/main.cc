// kura-loadgen: replays a deterministic, scrape-shaped dataset as Prometheus remote write.
// All bodies are encoded before the clock starts, so the figure measures the receiver.

#include <sys/resource.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "benchmarks/loadgen/dataset.h"
#include "benchmarks/loadgen/request_encoder.h"
#include "benchmarks/loadgen/sender.h"

namespace kura::loadgen {
namespace {

struct Flags {
  int series = 100000;
  uint64_t seed = 1;
  std::string duration = "3h";
  std::string start;
  std::string scrape_interval = "15s";
  std::string churn = "0s";
  int samples_per_request = 2000;
  int connections = 4;
  std::string url = "http://127.0.0.1:9090/api/v1/write";
  bool dry_run = false;
};

absl::StatusOr<absl::Duration> ParsePositiveDuration(const std::string& name,
                                                     const std::string& text) {
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("bad --", name, ": ", text));
  }
  return d;
}

// --start is Unix seconds or RFC 3339; the default ends the data now, on an interval boundary.
absl::StatusOr<int64_t> StartMs(const Flags& flags, absl::Duration duration,
                                absl::Duration interval) {
  int64_t seconds = 0;
  if (flags.start.empty()) {
    const int64_t interval_ms = absl::ToInt64Milliseconds(interval);
    const int64_t start = absl::ToUnixMillis(absl::Now() - duration);
    return start - start % interval_ms;
  }
  if (absl::SimpleAtoi(flags.start, &seconds)) return seconds * 1000;
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, flags.start, &t, &error)) {
    return absl::InvalidArgumentError(absl::StrCat("bad --start: ", flags.start, ": ", error));
  }
  return absl::ToUnixMillis(t);
}

// User plus system CPU time of this process, so the report can show what the client cost.
double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

absl::Status Run(const Flags& flags) {
  ASSIGN_OR_RETURN(absl::Duration duration, ParsePositiveDuration("duration", flags.duration));
  ASSIGN_OR_RETURN(absl::Duration interval,
                   ParsePositiveDuration("scrape-interval", flags.scrape_interval));
  if (flags.samples_per_request <= 0) {
    return absl::InvalidArgumentError("--samples-per-request must be positive");
  }
  DatasetOptions options;
  options.num_series = flags.series;
  options.seed = flags.seed;
  options.scrape_interval_ms = absl::ToInt64Milliseconds(interval);
  options.num_steps = static_cast<int>(duration / interval);
  ASSIGN_OR_RETURN(options.start_ms, StartMs(flags, duration, interval));
  absl::Duration churn;
  if (!absl::ParseDuration(flags.churn, &churn) || churn < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("bad --churn: ", flags.churn));
  }
  options.churn_interval_ms = absl::ToInt64Milliseconds(churn);
  ASSIGN_OR_RETURN(Dataset dataset, Dataset::Create(options));

  const absl::Time encode_start = absl::Now();
  RequestEncoder encoder(dataset.series(), flags.samples_per_request);
  std::vector<std::vector<EncodedRequest>> steps;
  Step step;
  int64_t bytes = 0;
  int64_t samples = 0;
  int64_t requests = 0;
  while (dataset.NextStep(&step)) {
    steps.push_back(encoder.Encode(step));
    for (const EncodedRequest& r : steps.back()) {
      bytes += static_cast<int64_t>(r.body.size());
      samples += r.samples;
      ++requests;
    }
  }
  std::fprintf(
      stderr, "%s",
      absl::StrFormat(
          "encoded series=%d targets=%d steps=%d samples=%d requests=%d bytes=%d in %.1fs\n",
          flags.series, dataset.num_targets(), options.num_steps, samples, requests, bytes,
          absl::ToDoubleSeconds(absl::Now() - encode_start))
          .c_str());
  if (flags.dry_run) {
    std::printf(
        "%s",
        absl::StrFormat(
            "dry-run series=%d samples=%d requests=%d encoded_bytes=%d bytes_per_sample=%.2f\n",
            flags.series, samples, requests, bytes,
            static_cast<double>(bytes) / static_cast<double>(samples))
            .c_str());
    return absl::OkStatus();
  }

  ASSIGN_OR_RETURN(Url url, ParseUrl(flags.url));
  ASSIGN_OR_RETURN(std::unique_ptr<Sender> sender, Sender::Connect(url, flags.connections));
  const absl::Time send_start = absl::Now();
  const double cpu_start = CpuSeconds();
  // Time order, as a Prometheus server sends: a scrape is fully written before the next starts.
  for (const std::vector<EncodedRequest>& requests_of_step : steps) {
    sender->SendAll(requests_of_step);
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - send_start);
  const double client_cpu = CpuSeconds() - cpu_start;
  const SendStats& stats = sender->stats();
  std::string non_2xx;
  for (const auto& [code, n] : stats.non_2xx) {
    absl::StrAppend(&non_2xx, non_2xx.empty() ? "" : ",", code, ":", n);
  }
  std::printf(
      "%s", absl::StrFormat(
                "samples_sent=%d acknowledged=%d seconds=%.2f samples_per_second=%.0f requests=%d "
                "connections=%d non_2xx={%s} transport_errors=%d client_cpu_seconds=%.2f\n",
                stats.samples_sent, stats.samples_acknowledged, seconds,
                static_cast<double>(stats.samples_acknowledged) / seconds, stats.requests,
                flags.connections, non_2xx, stats.transport_errors, client_cpu)
                .c_str());
  if (stats.samples_acknowledged != stats.samples_sent) {
    return absl::DataLossError("some requests were not acknowledged");
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace kura::loadgen

int main(int argc, char** argv) {
  kura::loadgen::Flags flags;
  CLI::App app{"kura-loadgen: Prometheus remote-write load generator."};
  app.add_option("--series", flags.series, "Number of series")->capture_default_str();
  app.add_option("--seed", flags.seed, "PRNG seed; equal seeds give identical bodies")
      ->capture_default_str();
  app.add_option("--duration", flags.duration, "Time span of the data, e.g. 3h")
      ->capture_default_str();
  app.add_option("--start", flags.start,
                 "First scrape, Unix seconds or RFC 3339 (default: now minus duration)");
  app.add_option("--scrape-interval", flags.scrape_interval, "Scrape interval")
      ->capture_default_str();
  app.add_option("--churn", flags.churn,
                 "Replace every pod once per this interval, e.g. 30m (0s: no churn)")
      ->capture_default_str();
  app.add_option("--samples-per-request", flags.samples_per_request, "Samples per request")
      ->capture_default_str();
  app.add_option("--connections", flags.connections, "Concurrent keep-alive connections")
      ->capture_default_str();
  app.add_option("--url", flags.url, "Remote-write endpoint")->capture_default_str();
  app.add_flag("--dry-run", flags.dry_run, "Only generate and report the encoded size");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  const absl::Status status = kura::loadgen::Run(flags);
  if (!status.ok()) {
    std::fprintf(stderr, "kura-loadgen: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
