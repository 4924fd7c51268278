#include "base/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"

namespace kura::base {
namespace {

void AtomicAdd(std::atomic<double>* target, double delta) {
  double current = target->load(std::memory_order_relaxed);
  while (!target->compare_exchange_weak(current, current + delta, std::memory_order_relaxed)) {
  }
}

// The exposition format's float text: shortest round-trip digits, integers without exponent.
std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Counts print as integers ("600000", not to_chars' shorter "6e+05").
  if (v == std::trunc(v) && std::fabs(v) < 1e15) {
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(v));
    return std::string(buf, end);
  }
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, end);
}

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '"') {
      out.append("\\\"");
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// `{a="b",c="d"}` plus an optional extra pair (the histogram's `le`); "" when empty.
std::string FormatLabels(const MetricLabels& labels, std::string_view extra_name = {},
                         std::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out.push_back(',');
    first = false;
    absl::StrAppend(&out, name, "=\"", EscapeLabelValue(value), "\"");
  }
  if (!extra_name.empty()) {
    if (!first) out.push_back(',');
    out.append(extra_name).append("=\"").append(extra_value).append("\"");
  }
  out.push_back('}');
  return out;
}

}  // namespace

void Counter::Inc(double delta) { AtomicAdd(&value_, delta); }

void Gauge::Add(double delta) { AtomicAdd(&value_, delta); }

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      counts_(new std::atomic<uint64_t>[upper_bounds_.size() + 1]) {
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::Observe(double v) {
  size_t i = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), v) -
             upper_bounds_.begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(&sum_, v);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.upper_bounds = upper_bounds_;
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    s.cumulative_counts.push_back(cumulative);
  }
  s.count = cumulative;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

struct Registry::Entry {
  using Kind = Registry::Kind;
  Kind kind;
  std::string name;
  std::string help;
  MetricLabels labels;
  std::unique_ptr<Counter> counter;
  std::unique_ptr<Gauge> gauge;
  std::unique_ptr<Histogram> histogram;
  std::function<double()> read;  // for *Func metrics

  double Value() const {
    if (read) return read();
    return counter ? counter->value() : gauge->value();
  }
};

Registry::Registry() = default;
Registry::~Registry() = default;


Registry::Entry* Registry::FindOrAdd(Kind kind, const std::string& name,
                                     const std::string& help, const MetricLabels& labels,
                                     std::function<double()> read) {
  absl::MutexLock lock(&mu_);
  if (!read) {
    for (auto& e : entries_) {
      if (e->kind == kind && !e->read && e->name == name && e->labels == labels) return e.get();
    }
  }
  auto e = std::make_unique<Entry>();
  e->kind = kind;
  e->name = name;
  e->help = help;
  e->labels = labels;
  e->read = std::move(read);
  entries_.push_back(std::move(e));
  return entries_.back().get();
}

Counter& Registry::AddCounter(const std::string& name, const std::string& help,
                              const MetricLabels& labels) {
  Entry* e = FindOrAdd(Kind::kCounter, name, help, labels, nullptr);
  absl::MutexLock lock(&mu_);
  if (!e->counter) e->counter = std::make_unique<Counter>();
  return *e->counter;
}

Gauge& Registry::AddGauge(const std::string& name, const std::string& help,
                          const MetricLabels& labels) {
  Entry* e = FindOrAdd(Kind::kGauge, name, help, labels, nullptr);
  absl::MutexLock lock(&mu_);
  if (!e->gauge) e->gauge = std::make_unique<Gauge>();
  return *e->gauge;
}

void Registry::AddGaugeFunc(const std::string& name, const std::string& help,
                            std::function<double()> read, const MetricLabels& labels) {
  FindOrAdd(Kind::kGauge, name, help, labels, std::move(read));
}

void Registry::AddCounterFunc(const std::string& name, const std::string& help,
                              std::function<double()> read, const MetricLabels& labels) {
  FindOrAdd(Kind::kCounter, name, help, labels, std::move(read));
}

Histogram& Registry::AddHistogram(const std::string& name, const std::string& help,
                                  std::vector<double> upper_bounds, const MetricLabels& labels) {
  Entry* e = FindOrAdd(Kind::kHistogram, name, help, labels, nullptr);
  absl::MutexLock lock(&mu_);
  if (!e->histogram) e->histogram = std::make_unique<Histogram>(std::move(upper_bounds));
  return *e->histogram;
}

std::string Registry::Exposition() const {
  absl::MutexLock lock(&mu_);
  std::map<std::string, std::vector<const Entry*>> families;
  for (const auto& e : entries_) families[e->name].push_back(e.get());
  std::string out;
  for (const auto& [name, entries] : families) {
    const Entry& first = *entries.front();
    static constexpr const char* kTypes[] = {"counter", "gauge", "histogram"};
    absl::StrAppend(&out, "# HELP ", name, " ", first.help, "\n# TYPE ", name, " ",
                    kTypes[static_cast<int>(first.kind)], "\n");
    for (const Entry* e : entries) {
      if (e->kind != Kind::kHistogram) {
        absl::StrAppend(&out, name, FormatLabels(e->labels), " ", FormatValue(e->Value()), "\n");
        continue;
      }
      Histogram::Snapshot s = e->histogram->snapshot();
      for (size_t i = 0; i < s.cumulative_counts.size(); ++i) {
        std::string le = i < s.upper_bounds.size() ? FormatValue(s.upper_bounds[i]) : "+Inf";
        absl::StrAppend(&out, name, "_bucket", FormatLabels(e->labels, "le", le), " ",
                        s.cumulative_counts[i], "\n");
      }
      absl::StrAppend(&out, name, "_sum", FormatLabels(e->labels), " ", FormatValue(s.sum), "\n",
                      name, "_count", FormatLabels(e->labels), " ", s.count, "\n");
    }
  }
  return out;
}

std::vector<double> DefaultLatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

}  // namespace kura::base
