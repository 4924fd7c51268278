#pragma once

// Kura's own metrics, exposed on /metrics in the Prometheus text format (version 0.0.4).
// Components receive a Registry* and keep references to the metrics they own.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace kura::base {

// label name -> value, e.g. {{"code", "400"}}.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// Monotonic. Thread-safe.
class Counter {
 public:
  void Inc(double delta = 1);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Thread-safe.
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double delta);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Cumulative buckets with upper bounds; +Inf is implicit. Thread-safe.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double v);

  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<uint64_t> cumulative_counts;  // one per bound, then +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  const std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, non-cumulative, +Inf last
  std::atomic<double> sum_{0};
};

// Owns metrics; families are grouped by name in the exposition. Thread-safe.
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The returned references stay valid for the registry's lifetime. Registering the same name
  // and labels twice returns the same metric.
  Counter& AddCounter(const std::string& name, const std::string& help,
                      const MetricLabels& labels = {});
  Gauge& AddGauge(const std::string& name, const std::string& help,
                  const MetricLabels& labels = {});
  // A gauge read at scrape time (e.g. a storage node's active series).
  void AddGaugeFunc(const std::string& name, const std::string& help,
                    std::function<double()> read, const MetricLabels& labels = {});
  // A counter read at scrape time.
  void AddCounterFunc(const std::string& name, const std::string& help,
                      std::function<double()> read, const MetricLabels& labels = {});
  Histogram& AddHistogram(const std::string& name, const std::string& help,
                          std::vector<double> upper_bounds, const MetricLabels& labels = {});

  // The text exposition format, families sorted by name.
  std::string Exposition() const;

 private:
  enum class Kind { kCounter, kGauge, kHistogram };
  struct Entry;  // defined in metrics.cc
  // The entry of `name` and `labels` of this kind, created when absent; a `read` function
  // always makes a new entry.
  Entry* FindOrAdd(Kind kind, const std::string& name, const std::string& help,
                   const MetricLabels& labels, std::function<double()> read)
      ABSL_LOCKS_EXCLUDED(mu_);
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
};

// Latency buckets in seconds, shared by request-duration histograms.
std::vector<double> DefaultLatencyBuckets();

}  // namespace kura::base
