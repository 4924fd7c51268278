#include "benchmarks/loadgen/dataset.h"

#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "gtest/gtest.h"

namespace kura::loadgen {
namespace {

constexpr int64_t kStartMs = 1'700'000'000'000;

DatasetOptions SmallOptions() {
  DatasetOptions options;
  options.num_series = 600;
  options.series_per_target = 200;
  options.start_ms = kStartMs;
  options.num_steps = 40;
  options.seed = 7;
  return options;
}

std::vector<Step> AllSteps(Dataset* dataset) {
  std::vector<Step> steps;
  Step step;
  while (dataset->NextStep(&step)) steps.push_back(step);
  return steps;
}

bool IsCounterLike(SeriesKind kind) {
  return kind == SeriesKind::kCounter || kind == SeriesKind::kCounterFloat ||
         kind == SeriesKind::kBucket || kind == SeriesKind::kHistogramSum ||
         kind == SeriesKind::kHistogramCount;
}

TEST(DatasetTest, RejectsBadOptions) {
  DatasetOptions options = SmallOptions();
  options.num_series = 0;
  EXPECT_FALSE(Dataset::Create(options).ok());
  options = SmallOptions();
  options.scrape_interval_ms = 10;
  EXPECT_FALSE(Dataset::Create(options).ok());
}

TEST(DatasetTest, SeriesCountAndLabelShapes) {
  absl::StatusOr<Dataset> dataset = Dataset::Create(SmallOptions());
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  const std::vector<SeriesSpec>& series = dataset->series();
  ASSERT_EQ(series.size(), 600u);
  EXPECT_EQ(dataset->num_targets(), 3);

  std::set<std::string> identities;
  std::set<std::string> jobs;
  absl::flat_hash_map<std::string, int> per_instance;
  std::set<std::string> label_names;
  for (const SeriesSpec& s : series) {
    EXPECT_TRUE(identities.insert(s.labels.CanonicalBytes()).second) << s.labels.ToString();
    EXPECT_FALSE(s.labels.Get("__name__").empty());
    EXPECT_FALSE(s.labels.Get("job").empty());
    EXPECT_FALSE(s.labels.Get("instance").empty());
    jobs.insert(std::string(s.labels.Get("job")));
    per_instance[std::string(s.labels.Get("instance"))]++;
    for (const model::Label& l : s.labels) label_names.insert(l.name);
    if (s.labels.Get("__name__") == "node_cpu_seconds_total") {
      EXPECT_TRUE(s.labels.Has("cpu") && s.labels.Has("mode")) << s.labels.ToString();
    }
    EXPECT_EQ(s.kind == SeriesKind::kBucket, s.labels.Has("le")) << s.labels.ToString();
  }
  EXPECT_EQ(jobs, (std::set<std::string>{"node", "kube-state-metrics", "api"}));
  EXPECT_EQ(per_instance.size(), 3u);
  for (const auto& [instance, n] : per_instance) EXPECT_EQ(n, 200) << instance;
  for (const char* name :
       {"cpu", "mode", "device", "le", "code", "method", "handler", "pod", "namespace"}) {
    EXPECT_TRUE(label_names.count(name)) << name;
  }
}

TEST(DatasetTest, SameSeedSameValuesDifferentSeedDifferentValues) {
  DatasetOptions options = SmallOptions();
  absl::StatusOr<Dataset> a = Dataset::Create(options);
  absl::StatusOr<Dataset> b = Dataset::Create(options);
  options.seed = 8;
  absl::StatusOr<Dataset> c = Dataset::Create(options);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  const std::vector<Step> sa = AllSteps(&*a);
  const std::vector<Step> sb = AllSteps(&*b);
  const std::vector<Step> sc = AllSteps(&*c);
  ASSERT_EQ(sa.size(), 40u);
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_EQ(sa[i].values, sb[i].values);
    EXPECT_EQ(sa[i].timestamps_ms, sb[i].timestamps_ms);
  }
  EXPECT_NE(sa.back().values, sc.back().values);
}

TEST(DatasetTest, CountersOnlyDecreaseWhenTheirTargetRestarts) {
  DatasetOptions options = SmallOptions();
  options.restart_probability = 0.05;
  absl::StatusOr<Dataset> dataset = Dataset::Create(options);
  ASSERT_TRUE(dataset.ok());
  const std::vector<Step> steps = AllSteps(&*dataset);
  const std::vector<SeriesSpec>& series = dataset->series();
  int decreases = 0;
  int increases = 0;
  for (size_t t = 1; t < steps.size(); ++t) {
    const std::set<int> restarted(steps[t].restarted_targets.begin(),
                                  steps[t].restarted_targets.end());
    for (size_t i = 0; i < series.size(); ++i) {
      if (!IsCounterLike(series[i].kind)) continue;
      const double prev = steps[t - 1].values[i];
      const double cur = steps[t].values[i];
      if (cur < prev) {
        ++decreases;
        EXPECT_TRUE(restarted.count(series[i].target)) << series[i].labels.ToString();
      }
      if (cur > prev) ++increases;
      if (series[i].kind == SeriesKind::kCounter) {
        EXPECT_EQ(cur, static_cast<double>(static_cast<int64_t>(cur)));
      }
    }
  }
  EXPECT_GT(decreases, 0);  // Resets happened, so the check above was exercised.
  EXPECT_GT(increases, decreases);
}

TEST(DatasetTest, GaugesMoveAndConstantsDoNot) {
  absl::StatusOr<Dataset> dataset = Dataset::Create(SmallOptions());
  ASSERT_TRUE(dataset.ok());
  const std::vector<Step> steps = AllSteps(&*dataset);
  int gauges_moved = 0;
  for (size_t i = 0; i < dataset->series().size(); ++i) {
    const SeriesKind kind = dataset->series()[i].kind;
    if (kind == SeriesKind::kConstant) {
      EXPECT_EQ(steps.front().values[i], steps.back().values[i]);
    }
    if (kind == SeriesKind::kGauge && steps.front().values[i] != steps.back().values[i]) {
      ++gauges_moved;
    }
  }
  EXPECT_GT(gauges_moved, 5);
}

TEST(DatasetTest, HistogramBucketsAreCumulativeAndInfEqualsCount) {
  absl::StatusOr<Dataset> dataset = Dataset::Create(SmallOptions());
  ASSERT_TRUE(dataset.ok());
  const std::vector<SeriesSpec>& series = dataset->series();
  Step step;
  int histograms_checked = 0;
  while (dataset->NextStep(&step)) {
    // Buckets of one histogram are adjacent, in bound order, followed by _sum and _count.
    double previous_bucket = -1;
    double inf_bucket = -1;
    for (size_t i = 0; i < series.size(); ++i) {
      const SeriesSpec& s = series[i];
      if (s.kind == SeriesKind::kBucket) {
        if (s.bucket == 0) previous_bucket = 0;
        EXPECT_GE(step.values[i], previous_bucket) << s.labels.ToString();
        previous_bucket = step.values[i];
        if (s.labels.Get("le") == "+Inf") inf_bucket = step.values[i];
      }
      if (s.kind == SeriesKind::kHistogramCount) {
        EXPECT_EQ(step.values[i], inf_bucket) << s.labels.ToString();
        ++histograms_checked;
      }
    }
  }
  EXPECT_GT(histograms_checked, 40);
}

TEST(DatasetTest, TimestampsStrictlyIncreasePerSeries) {
  absl::StatusOr<Dataset> dataset = Dataset::Create(SmallOptions());
  ASSERT_TRUE(dataset.ok());
  const std::vector<Step> steps = AllSteps(&*dataset);
  for (size_t t = 0; t < steps.size(); ++t) {
    for (size_t i = 0; i < steps[t].timestamps_ms.size(); ++i) {
      const int64_t ts = steps[t].timestamps_ms[i];
      // Within a few ms of the target's phase in this interval.
      EXPECT_GE(ts, kStartMs + static_cast<int64_t>(t) * 15000 - 3);
      EXPECT_LT(ts, kStartMs + static_cast<int64_t>(t + 1) * 15000 + 3);
      if (t > 0) {
        EXPECT_GT(ts, steps[t - 1].timestamps_ms[i]);
      }
    }
  }
}

TEST(DatasetTest, ChurnReplacesPodsAndRestartsTheirCounters) {
  DatasetOptions options = SmallOptions();
  options.restart_probability = 0;
  options.churn_interval_ms = 120'000;  // 40 scrapes of 15 s: every pod replaced 4-5 times.
  absl::StatusOr<Dataset> dataset = Dataset::Create(options);
  ASSERT_TRUE(dataset.ok());
  std::set<std::string> distinct;
  std::vector<std::string> previous;
  for (const SeriesSpec& s : dataset->series()) previous.push_back(s.labels.ToString());
  int replacements = 0;
  Step step;
  while (dataset->NextStep(&step)) {
    const std::set<int> relabeled(step.relabeled_series.begin(), step.relabeled_series.end());
    const std::set<int> restarted(step.restarted_targets.begin(), step.restarted_targets.end());
    for (size_t i = 0; i < dataset->series().size(); ++i) {
      const SeriesSpec& s = dataset->series()[i];
      const std::string labels = s.labels.ToString();
      distinct.insert(labels);
      const bool has_pod = !s.labels.Get("pod").empty();
      // Only pods churn, and a series' labels change exactly when it is listed as relabeled.
      EXPECT_EQ(labels != previous[i], relabeled.count(static_cast<int>(i)) == 1) << labels;
      if (!has_pod) {
        EXPECT_EQ(labels, previous[i]);
      }
      if (relabeled.count(static_cast<int>(i))) {
        ++replacements;
        EXPECT_TRUE(restarted.count(s.target)) << labels;
      }
      previous[i] = labels;
    }
  }
  EXPECT_GT(replacements, 0);
  // Node targets keep their 200 series; the two pod-bearing targets add a new set per churn.
  EXPECT_GE(distinct.size(), 600u + 2 * 200 * 4);
  EXPECT_LE(distinct.size(), 600u + 2 * 200 * 6);
}

}  // namespace
}  // namespace kura::loadgen
