#pragma once

// Dataset: a deterministic, scrape-shaped stream of samples for the remote-write load generator.
//
// The series mimic what a Prometheus server scrapes from node_exporter, kube-state-metrics and
// an instrumented HTTP service: ~500 series per target (`instance`), counters with irregular
// increments and resets when a target restarts, gauges doing random walks, constant series and
// cumulative histograms. Every value comes from one seeded PRNG, so the same options always
// produce the same samples (and therefore the same request bytes).
//
// Example:
//   ASSIGN_OR_RETURN(Dataset dataset, Dataset::Create(options));
//   while (dataset.NextStep(&step)) { ... step.values[i] belongs to dataset.series()[i] ... }

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/labels.h"

namespace kura::loadgen {

struct DatasetOptions {
  int num_series = 100000;
  // Seeds every random choice; equal seeds give equal data.
  uint64_t seed = 1;
  int64_t start_ms = 0;
  int64_t scrape_interval_ms = 15000;
  // Number of scrapes; each yields one sample per series.
  int num_steps = 720;
  int series_per_target = 500;
  // Chance per scrape that a target restarts, resetting all its counters and histograms.
  double restart_probability = 1.0 / 2000;
  // Series churn: every pod is replaced once per interval (0: never), at a fixed phase per
  // target. The replacement carries a new `pod` label value, so its series are new series
  // whose counters start from zero; the old ones stop receiving samples.
  int64_t churn_interval_ms = 0;
};

enum class SeriesKind {
  kCounter,       // Integer increments; resets to 0 when its target restarts.
  kCounterFloat,  // Float increments (seconds); resets like kCounter.
  kGauge,         // Random walk.
  kConstant,      // The same value at every scrape.
  kBucket,        // A histogram `_bucket` series; `histogram` and `bucket` say which.
  kHistogramSum,
  kHistogramCount,
};

struct SeriesSpec {
  model::Labels labels;
  SeriesKind kind = SeriesKind::kGauge;
  int target = 0;
  // Index into Dataset's histograms for kBucket/kHistogramSum/kHistogramCount, else -1.
  int histogram = -1;
  // Position of this bucket in its histogram's bounds (the last one is +Inf).
  int bucket = -1;
};

// One scrape of every series: values[i] and timestamps_ms[i] belong to series()[i].
struct Step {
  int index = 0;
  std::vector<double> values;
  std::vector<int64_t> timestamps_ms;
  // Targets that restarted at this scrape: only their counters may go down.
  std::vector<int> restarted_targets;
  // Series whose labels changed at this scrape (their pod was replaced).
  std::vector<int> relabeled_series;
};

class Dataset {
 public:
  static absl::StatusOr<Dataset> Create(const DatasetOptions& options);

  const DatasetOptions& options() const { return options_; }
  const std::vector<SeriesSpec>& series() const { return series_; }
  int num_targets() const { return static_cast<int>(target_offset_ms_.size()); }

  // Fills `step` with the next scrape; returns false once options().num_steps were produced.
  bool NextStep(Step* step);

 private:
  // A histogram's state: non-cumulative bucket counts are summed into cumulative ones.
  struct Histogram {
    std::vector<double> bounds;
    std::vector<double> cumulative;
    double sum = 0;
  };

  explicit Dataset(const DatasetOptions& options) : options_(options) {}
  void BuildCatalog();
  void AddTarget(int target);
  void Add(int target, std::vector<model::Label> labels, SeriesKind kind, double rate,
           double initial);
  void AddHistogram(int target, const std::vector<model::Label>& labels, double rate);
  void AdvanceHistogram(Histogram* histogram, bool reset);
  // Replaces the pods of `target` by those of `generation`, listing the relabeled series.
  void ReplacePods(int target, int generation, Step* step);
  uint64_t Next();
  double NextUnit();  // Uniform in [0, 1).

  DatasetOptions options_;
  uint64_t rng_state_ = 0;
  int next_step_ = 0;
  std::vector<SeriesSpec> series_;
  std::vector<double> values_;
  // Per series: mean increment per scrape (counters), step size (gauges).
  std::vector<double> rates_;
  std::vector<Histogram> histograms_;
  // Fixed scrape phase of each target inside the interval, as real scrape offsets are.
  std::vector<int64_t> target_offset_ms_;
  // Per target: its series are [target_first_series_[t], target_first_series_[t + 1]).
  std::vector<int> target_first_series_;
  // Per target: how many times its pods were replaced so far.
  std::vector<int> target_generation_;
  // Per series: the first pod's name, or empty for series without a `pod` label.
  std::vector<std::string> first_pod_;
};

}  // namespace kura::loadgen
