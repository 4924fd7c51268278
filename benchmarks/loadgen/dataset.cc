#include "benchmarks/loadgen/dataset.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace kura::loadgen {
namespace {

using model::Label;

// Default buckets of the Prometheus client libraries; +Inf is appended.
const std::vector<double> kLatencyBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                            0.5,   1,    2.5,   5,    10};

// One series (or, with kind == kBucket, one whole histogram) of a target's scrape. `scale` is
// a constant's value, a counter's mean increment per scrape or a gauge's typical level.
struct Draft {
  std::string name;
  std::vector<Label> labels;
  SeriesKind kind;
  double scale;
};

size_t DraftSize(const std::vector<Draft>& family) {
  size_t n = 0;
  for (const Draft& d : family) n += d.kind == SeriesKind::kBucket ? kLatencyBounds.size() + 3 : 1;
  return n;
}

// node_exporter: family k is one CPU, then disks, network devices and filesystems.
std::vector<Draft> NodeFamily(int k) {
  static const char* kModes[] = {"idle",    "iowait", "irq",    "nice",
                                 "softirq", "steal",  "system", "user"};
  std::vector<Draft> out;
  if (k == 0) {
    out.push_back({"node_load1", {}, SeriesKind::kGauge, 2});
    out.push_back({"node_load5", {}, SeriesKind::kGauge, 2});
    out.push_back({"node_memory_MemAvailable_bytes", {}, SeriesKind::kGauge, 8e9});
    out.push_back({"node_memory_Cached_bytes", {}, SeriesKind::kGauge, 4e9});
    out.push_back({"node_memory_MemTotal_bytes", {}, SeriesKind::kConstant, 34359738368});
    out.push_back({"node_boot_time_seconds", {}, SeriesKind::kConstant, 1.7e9});
    return out;
  }
  if (k <= 16) {
    const std::string cpu = absl::StrCat(k - 1);
    for (const char* mode : kModes) {
      out.push_back({"node_cpu_seconds_total",
                     {{"cpu", cpu}, {"mode", mode}},
                     SeriesKind::kCounterFloat,
                     std::string(mode) == "idle" ? 14 : 0.3});
    }
    return out;
  }
  if (k <= 24) {
    const std::string device = absl::StrCat("nvme", k - 17, "n1");
    out.push_back({"node_disk_read_bytes_total", {{"device", device}}, SeriesKind::kCounter, 4e5});
    out.push_back(
        {"node_disk_written_bytes_total", {{"device", device}}, SeriesKind::kCounter, 9e5});
    out.push_back(
        {"node_disk_io_time_seconds_total", {{"device", device}}, SeriesKind::kCounterFloat, 0.4});
    out.push_back({"node_filesystem_avail_bytes", {{"device", device}}, SeriesKind::kGauge, 2e11});
    out.push_back(
        {"node_filesystem_size_bytes", {{"device", device}}, SeriesKind::kConstant, 5e11});
    return out;
  }
  const std::string device = absl::StrCat("eth", k - 25);
  out.push_back(
      {"node_network_receive_bytes_total", {{"device", device}}, SeriesKind::kCounter, 2e6});
  out.push_back(
      {"node_network_transmit_bytes_total", {{"device", device}}, SeriesKind::kCounter, 1e6});
  out.push_back(
      {"node_network_receive_errs_total", {{"device", device}}, SeriesKind::kConstant, 0});
  out.push_back({"node_network_up", {{"device", device}}, SeriesKind::kConstant, 1});
  return out;
}

// kube-state-metrics: family k is one pod.
std::vector<Draft> KubeStateFamily(int target, int k) {
  static const char* kNamespaces[] = {"checkout", "payments", "search", "monitoring", "default"};
  static const char* kPhases[] = {"Pending", "Running", "Succeeded", "Failed", "Unknown"};
  const std::string ns = kNamespaces[k % 5];
  const std::string pod = absl::StrCat(ns, "-", absl::Hex(target * 7919 + k), "-", k % 97);
  std::vector<Draft> out;
  for (const char* phase : kPhases) {
    out.push_back({"kube_pod_status_phase",
                   {{"namespace", ns}, {"phase", phase}, {"pod", pod}},
                   SeriesKind::kConstant,
                   std::string(phase) == "Running" ? 1.0 : 0.0});
  }
  out.push_back({"kube_pod_info", {{"namespace", ns}, {"pod", pod}}, SeriesKind::kConstant, 1});
  out.push_back({"kube_pod_container_status_restarts_total",
                 {{"namespace", ns}, {"pod", pod}},
                 SeriesKind::kCounter,
                 0.002});
  out.push_back({"kube_pod_container_resource_requests",
                 {{"namespace", ns}, {"pod", pod}},
                 SeriesKind::kConstant,
                 0.25});
  return out;
}

// An HTTP service: family 0 is process metrics, family k a handler with both methods.
std::vector<Draft> AppFamily(int k) {
  static const char* kResources[] = {"orders",   "users",    "carts",  "items",
                                     "sessions", "payments", "search", "reviews"};
  static const char* kCodes[] = {"200", "201", "400", "404", "500", "503"};
  std::vector<Draft> out;
  if (k == 0) {
    out.push_back({"process_cpu_seconds_total", {}, SeriesKind::kCounterFloat, 0.8});
    out.push_back({"process_resident_memory_bytes", {}, SeriesKind::kGauge, 3e8});
    out.push_back({"go_goroutines", {}, SeriesKind::kGauge, 200});
    out.push_back({"process_start_time_seconds", {}, SeriesKind::kConstant, 1.7e9});
    return out;
  }
  const std::string handler = absl::StrCat("/api/v", 1 + (k - 1) / 8, "/", kResources[(k - 1) % 8]);
  for (const char* method : {"GET", "POST"}) {
    for (const char* code : kCodes) {
      out.push_back({"http_requests_total",
                     {{"code", code}, {"handler", handler}, {"method", method}},
                     SeriesKind::kCounter,
                     code[0] == '2' ? 40.0 : 0.5});
    }
    out.push_back({"http_request_duration_seconds",
                   {{"handler", handler}, {"method", method}},
                   SeriesKind::kBucket,
                   30});
  }
  return out;
}

std::string FormatBound(double bound) {
  if (std::isinf(bound)) return "+Inf";
  return absl::StrCat(bound);
}

}  // namespace

absl::StatusOr<Dataset> Dataset::Create(const DatasetOptions& options) {
  if (options.num_series <= 0) return absl::InvalidArgumentError("series must be positive");
  if (options.num_steps <= 0) return absl::InvalidArgumentError("duration must cover a scrape");
  if (options.scrape_interval_ms < 100) {
    return absl::InvalidArgumentError("scrape interval must be at least 100ms");
  }
  if (options.series_per_target < 50) {
    return absl::InvalidArgumentError("series per target must be at least 50");
  }
  if (options.churn_interval_ms < 0) {
    return absl::InvalidArgumentError("churn interval must not be negative");
  }
  Dataset dataset(options);
  dataset.rng_state_ = options.seed;
  dataset.BuildCatalog();
  return dataset;
}

uint64_t Dataset::Next() {
  // SplitMix64: tiny, fast and identical on every platform, unlike std:: distributions.
  uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double Dataset::NextUnit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

void Dataset::BuildCatalog() {
  for (int target = 0; static_cast<int>(series_.size()) < options_.num_series; ++target) {
    target_offset_ms_.push_back(static_cast<int64_t>(Next() % options_.scrape_interval_ms));
    target_first_series_.push_back(static_cast<int>(series_.size()));
    AddTarget(target);
  }
  target_first_series_.push_back(static_cast<int>(series_.size()));
  target_generation_.assign(target_offset_ms_.size(), 0);
}

void Dataset::AddTarget(int target) {
  const int job = target % 3;
  const size_t limit =
      std::min<size_t>(series_.size() + options_.series_per_target, options_.num_series);
  const int ip = target / 3;
  for (int k = 0; series_.size() < limit; ++k) {
    std::vector<Draft> family;
    if (job == 0 && k < 33) family = NodeFamily(k);
    if (job == 1) family = KubeStateFamily(target, k);
    if (job == 2 && k < 33) family = AppFamily(k);
    if (family.empty() || DraftSize(family) > limit - series_.size()) {
      // Fill up with constant collector-status series, as exporters expose many of.
      family = {{"scrape_collector_success",
                 {{"collector", absl::StrCat("c", k)}},
                 SeriesKind::kConstant,
                 1}};
    }
    for (Draft& d : family) {
      std::vector<Label> labels = std::move(d.labels);
      labels.push_back({"__name__", d.name});
      labels.push_back({"instance", absl::StrCat("10.", job, ".", ip / 250, ".", ip % 250,
                                                 job == 0 ? ":9100" : ":8080")});
      labels.push_back({"job", job == 0 ? "node" : job == 1 ? "kube-state-metrics" : "api"});
      if (job == 2) {
        labels.push_back({"namespace", "shop"});
        labels.push_back({"pod", absl::StrCat("api-", absl::Hex(ip * 2654435761ULL % 0xfffff))});
      }
      if (d.kind == SeriesKind::kBucket) {
        AddHistogram(target, labels, d.scale);
        continue;
      }
      const double u = NextUnit();
      const double rate = d.kind == SeriesKind::kGauge ? d.scale * 0.01 : d.scale * (0.2 + 1.6 * u);
      double initial = d.scale;
      if (d.kind == SeriesKind::kCounter) initial = std::floor(rate * (Next() % 50000));
      if (d.kind == SeriesKind::kCounterFloat) initial = rate * (Next() % 50000);
      if (d.kind == SeriesKind::kGauge) initial = d.scale * (0.5 + u);
      Add(target, std::move(labels), d.kind, rate, initial);
    }
  }
}

void Dataset::Add(int target, std::vector<Label> labels, SeriesKind kind, double rate,
                  double initial) {
  SeriesSpec spec;
  spec.labels = model::Labels::FromUnsorted(std::move(labels));
  spec.kind = kind;
  spec.target = target;
  first_pod_.emplace_back(spec.labels.Get("pod"));
  series_.push_back(std::move(spec));
  values_.push_back(initial);
  rates_.push_back(rate);
}

void Dataset::AddHistogram(int target, const std::vector<Label>& labels, double rate) {
  Histogram histogram;
  histogram.bounds = kLatencyBounds;
  histogram.bounds.push_back(std::numeric_limits<double>::infinity());
  histogram.cumulative.assign(histogram.bounds.size(), 0);
  const int index = static_cast<int>(histograms_.size());
  const std::string name = std::string(model::Labels::FromUnsorted(labels).Get("__name__"));
  for (size_t b = 0; b < histogram.bounds.size(); ++b) {
    std::vector<Label> l = labels;
    l.push_back({"__name__", name + "_bucket"});
    l.push_back({"le", FormatBound(histogram.bounds[b])});
    Add(target, std::move(l), SeriesKind::kBucket, rate, 0);
    series_.back().histogram = index;
    series_.back().bucket = static_cast<int>(b);
  }
  for (auto [suffix, kind] : {std::pair{"_sum", SeriesKind::kHistogramSum},
                              std::pair{"_count", SeriesKind::kHistogramCount}}) {
    std::vector<Label> l = labels;
    l.push_back({"__name__", name + suffix});
    Add(target, std::move(l), kind, rate, 0);
    series_.back().histogram = index;
  }
  histograms_.push_back(std::move(histogram));
}

void Dataset::AdvanceHistogram(Histogram* histogram, bool reset) {
  if (reset) {
    std::fill(histogram->cumulative.begin(), histogram->cumulative.end(), 0);
    histogram->sum = 0;
  }
  std::vector<double> counts(histogram->bounds.size(), 0);
  const int observations = static_cast<int>(NextUnit() * 60);
  for (int i = 0; i < observations; ++i) {
    // Squaring skews latencies towards the fast buckets, as real services are.
    const double u = NextUnit();
    const size_t b = std::min(counts.size() - 1, static_cast<size_t>(u * u * counts.size()));
    const double lower = b == 0 ? 0 : histogram->bounds[b - 1];
    const double upper = std::isinf(histogram->bounds[b]) ? lower * 2 : histogram->bounds[b];
    counts[b] += 1;
    histogram->sum += lower + (upper - lower) * NextUnit();
  }
  double running = 0;
  for (size_t b = 0; b < counts.size(); ++b) {
    running += counts[b];
    histogram->cumulative[b] += running;
  }
}

void Dataset::ReplacePods(int target, int generation, Step* step) {
  target_generation_[target] = generation;
  for (int i = target_first_series_[target]; i < target_first_series_[target + 1]; ++i) {
    if (first_pod_[i].empty()) continue;
    // A deterministic stand-in for the random suffix Kubernetes gives a new pod.
    const uint64_t suffix = (static_cast<uint64_t>(generation) * 0x9e3779b97f4a7c15ULL +
                             static_cast<uint64_t>(target)) %
                            0xfffff;
    std::vector<Label> labels;
    for (const Label& l : series_[i].labels) {
      labels.push_back(
          l.name == "pod" ? Label{l.name, absl::StrCat(first_pod_[i], "-", absl::Hex(suffix))} : l);
    }
    series_[i].labels = model::Labels::FromUnsorted(std::move(labels));
    step->relabeled_series.push_back(i);
  }
}

bool Dataset::NextStep(Step* step) {
  if (next_step_ >= options_.num_steps) return false;
  step->index = next_step_;
  step->restarted_targets.clear();
  step->relabeled_series.clear();
  std::vector<bool> restarted(target_offset_ms_.size(), false);
  std::vector<int64_t> target_ts(target_offset_ms_.size());
  for (size_t t = 0; t < target_offset_ms_.size(); ++t) {
    // Millisecond jitter around each target's fixed phase, as Prometheus scrapes show.
    const int64_t jitter = static_cast<int64_t>(Next() % 7) - 3;
    target_ts[t] = options_.start_ms + next_step_ * options_.scrape_interval_ms +
                   target_offset_ms_[t] + jitter;
    if (next_step_ > 0 && NextUnit() < options_.restart_probability) restarted[t] = true;
    if (options_.churn_interval_ms > 0) {
      // Each target's pods are replaced at their own phase, so churn is spread out in time.
      const int64_t churn = options_.churn_interval_ms;
      const int64_t phase = static_cast<int64_t>((t * 0x9e3779b97f4a7c15ULL) >> 20) % churn;
      const int generation = static_cast<int>(
          (next_step_ * options_.scrape_interval_ms + target_offset_ms_[t] + phase) / churn);
      if (generation != target_generation_[t] &&
          target_first_series_[t] != target_first_series_[t + 1] &&
          !first_pod_[target_first_series_[t]].empty()) {
        ReplacePods(static_cast<int>(t), generation, step);
        restarted[t] = true;  // A new pod's counters start from zero.
      }
    }
    if (restarted[t]) step->restarted_targets.push_back(static_cast<int>(t));
  }
  // A histogram advances once per scrape, when its first series is reached.
  std::vector<bool> advanced(histograms_.size(), false);
  step->values.resize(series_.size());
  step->timestamps_ms.resize(series_.size());
  for (size_t i = 0; i < series_.size(); ++i) {
    const SeriesSpec& s = series_[i];
    const bool reset = restarted[s.target];
    double& v = values_[i];
    const double rate = rates_[i];
    switch (s.kind) {
      case SeriesKind::kCounter:
        if (reset) v = 0;
        if (next_step_ > 0) v += std::floor(rate * 2 * NextUnit() + NextUnit());
        break;
      case SeriesKind::kCounterFloat:
        if (reset) v = 0;
        if (next_step_ > 0) v += rate * 2 * NextUnit();
        break;
      case SeriesKind::kGauge:
        v = std::max(0.0, v + rate * (NextUnit() - 0.5) * 2);
        break;
      case SeriesKind::kConstant:
        break;
      case SeriesKind::kBucket:
      case SeriesKind::kHistogramSum:
      case SeriesKind::kHistogramCount: {
        Histogram& h = histograms_[s.histogram];
        if (!advanced[s.histogram]) {
          advanced[s.histogram] = true;
          if (next_step_ > 0) AdvanceHistogram(&h, reset);
        }
        if (s.kind == SeriesKind::kBucket) v = h.cumulative[s.bucket];
        if (s.kind == SeriesKind::kHistogramSum) v = h.sum;
        if (s.kind == SeriesKind::kHistogramCount) v = h.cumulative.back();
        break;
      }
    }
    step->values[i] = v;
    step->timestamps_ms[i] = target_ts[s.target];
  }
  ++next_step_;
  return true;
}

}  // namespace kura::loadgen
