#include "benchmarks/loadgen/request_encoder.h"

#include <string>
#include <vector>

#include "benchmarks/loadgen/dataset.h"
#include "gtest/gtest.h"
#include "proto/remote.pb.h"
#include "snappy.h"

namespace kura::loadgen {
namespace {

DatasetOptions Options(uint64_t seed) {
  DatasetOptions options;
  options.num_series = 450;
  options.series_per_target = 150;
  options.start_ms = 1'700'000'000'000;
  options.num_steps = 5;
  options.seed = seed;
  return options;
}

// Every body of every step, in send order.
std::vector<std::string> Bodies(uint64_t seed, int samples_per_request) {
  absl::StatusOr<Dataset> dataset = Dataset::Create(Options(seed));
  EXPECT_TRUE(dataset.ok());
  RequestEncoder encoder(dataset->series(), samples_per_request);
  std::vector<std::string> bodies;
  Step step;
  while (dataset->NextStep(&step)) {
    for (EncodedRequest& r : encoder.Encode(step)) bodies.push_back(std::move(r.body));
  }
  return bodies;
}

TEST(RequestEncoderTest, SameSeedSameBytesDifferentSeedDifferentBytes) {
  const std::vector<std::string> a = Bodies(1, 100);
  EXPECT_EQ(a, Bodies(1, 100));
  const std::vector<std::string> c = Bodies(2, 100);
  ASSERT_EQ(a.size(), c.size());
  EXPECT_NE(a, c);
}

TEST(RequestEncoderTest, BodiesDecodeToTheStepsSamples) {
  DatasetOptions options = Options(3);
  options.churn_interval_ms = 30'000;  // Bodies must carry the labels of replaced pods too.
  absl::StatusOr<Dataset> dataset = Dataset::Create(options);
  ASSERT_TRUE(dataset.ok());
  const std::vector<SeriesSpec>& series = dataset->series();
  RequestEncoder encoder(series, 200);
  Step step;
  int steps = 0;
  int relabeled = 0;
  while (dataset->NextStep(&step)) {
    ++steps;
    relabeled += static_cast<int>(step.relabeled_series.size());
    const std::vector<EncodedRequest> requests = encoder.Encode(step);
    ASSERT_EQ(requests.size(), 3u);  // 450 series in requests of at most 200.
    size_t next_series = 0;
    for (const EncodedRequest& r : requests) {
      std::string raw;
      ASSERT_TRUE(snappy::Uncompress(r.body.data(), r.body.size(), &raw));
      prometheus::WriteRequest request;
      ASSERT_TRUE(request.ParseFromString(raw));
      ASSERT_EQ(request.timeseries_size(), r.samples);
      for (const prometheus::TimeSeries& ts : request.timeseries()) {
        ASSERT_LT(next_series, series.size());
        const model::Labels& labels = series[next_series].labels;
        ASSERT_EQ(ts.labels_size(), static_cast<int>(labels.size()));
        for (int l = 0; l < ts.labels_size(); ++l) {
          EXPECT_EQ(ts.labels(l).name(), labels.items()[l].name);
          EXPECT_EQ(ts.labels(l).value(), labels.items()[l].value);
        }
        ASSERT_EQ(ts.samples_size(), 1);
        EXPECT_EQ(ts.samples(0).value(), step.values[next_series]);
        EXPECT_EQ(ts.samples(0).timestamp(), step.timestamps_ms[next_series]);
        ++next_series;
      }
    }
    EXPECT_EQ(next_series, series.size());
  }
  EXPECT_EQ(steps, 5);
  EXPECT_GT(relabeled, 0);
}

}  // namespace
}  // namespace kura::loadgen
