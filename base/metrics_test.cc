#include "base/metrics.h"

#include <string>

#include "gtest/gtest.h"

namespace kura::base {
namespace {

TEST(RegistryTest, ExpositionGroupsFamiliesAndFormatsValues) {
  Registry registry;
  registry.AddCounter("kura_requests_total", "Requests.", {{"code", "204"}}).Inc(3);
  registry.AddCounter("kura_requests_total", "Requests.", {{"code", "400"}}).Inc();
  registry.AddGaugeFunc("kura_active_series", "Active series.", [] { return 42.5; });
  registry.AddCounterFunc("kura_samples_total", "Samples.", [] { return 600000.0; });
  std::string text = registry.Exposition();
  EXPECT_NE(text.find("# HELP kura_active_series Active series.\n"
                      "# TYPE kura_active_series gauge\nkura_active_series 42.5\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nkura_samples_total 600000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE kura_requests_total counter\n"
                      "kura_requests_total{code=\"204\"} 3\n"
                      "kura_requests_total{code=\"400\"} 1\n"),
            std::string::npos)
      << text;
}

TEST(RegistryTest, SameNameAndLabelsReturnSameCounter) {
  Registry registry;
  Counter& a = registry.AddCounter("x_total", "X.");
  Counter& b = registry.AddCounter("x_total", "X.");
  EXPECT_EQ(&a, &b);
}

TEST(HistogramTest, CumulativeBucketsSumAndCount) {
  Registry registry;
  Histogram& h = registry.AddHistogram("lat_seconds", "Latency.", {0.1, 1});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(0.5);
  h.Observe(7);
  Histogram::Snapshot s = h.snapshot();
  EXPECT_EQ(s.cumulative_counts, (std::vector<uint64_t>{1, 3, 4}));
  EXPECT_EQ(s.count, 4u);
  EXPECT_DOUBLE_EQ(s.sum, 8.05);
  std::string text = registry.Exposition();
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"0.1\"} 1\nlat_seconds_bucket{le=\"1\"} 3\n"
                      "lat_seconds_bucket{le=\"+Inf\"} 4\nlat_seconds_sum 8.05\n"
                      "lat_seconds_count 4\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace kura::base
