#include "ingest/validation.h"

#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "model/sample.h"

namespace kura::ingest {
namespace {

const absl::Time kNow = absl::FromUnixMillis(1'700'000'000'000);
constexpr absl::Duration kSkew = absl::Minutes(10);
constexpr int64_t kNowMs = 1'700'000'000'000;

model::TimeSeries Series(std::vector<model::Label> labels,
                         std::vector<model::Sample> samples = {{kNowMs, 1}}) {
  return {model::Labels::FromSorted(std::move(labels)), std::move(samples)};
}

std::string Error(const model::TimeSeries& series) {
  absl::Status status = ValidateSeries(series, kNow, kSkew);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  return std::string(status.message());
}

TEST(ValidationTest, AcceptsAValidSeries) {
  auto series = Series({{"__name__", "node_cpu_seconds_total"},
                        {"cpu", "0"},
                        {"instance", "10.0.0.1:9100"},
                        {"job", "node"},
                        {"mode", "idle"}},
                       {{kNowMs - 30'000, 1.5}, {kNowMs - 15'000, 2.5}, {kNowMs, 3.5}});
  EXPECT_TRUE(ValidateSeries(series, kNow, kSkew).ok());
}

TEST(ValidationTest, AcceptsAnyFloatValue) {
  auto series = Series({{"__name__", "x"}}, {{1, std::nan("")},
                                             {2, model::StaleNaN()},
                                             {3, std::numeric_limits<double>::infinity()},
                                             {4, -std::numeric_limits<double>::infinity()},
                                             {5, -0.0}});
  EXPECT_TRUE(ValidateSeries(series, kNow, kSkew).ok());
}

TEST(ValidationTest, AcceptsColonsInMetricNamesAndUtf8Values) {
  EXPECT_TRUE(
      ValidateSeries(Series({{"__name__", "job:rate5m:sum"}, {"city", "東京"}}), kNow, kSkew).ok());
  // Uppercase sorts before '_' bytewise.
  EXPECT_TRUE(ValidateSeries(Series({{"Zone", "a"}, {"__name__", "x"}}), kNow, kSkew).ok());
}

TEST(ValidationTest, RejectsNoLabels) {
  EXPECT_EQ(Error(Series({})), "invalid series {}: a series needs at least one label");
}

TEST(ValidationTest, RejectsMissingMetricName) {
  EXPECT_EQ(Error(Series({{"instance", "a"}, {"job", "b"}})),
            "invalid series {instance=\"a\", job=\"b\"}: missing metric name (label __name__)");
}

TEST(ValidationTest, RejectsInvalidMetricName) {
  EXPECT_EQ(Error(Series({{"__name__", "1up"}, {"job", "b"}})),
            "invalid series 1up{job=\"b\"}: invalid metric name \"1up\": must match "
            "[a-zA-Z_:][a-zA-Z0-9_:]*");
  EXPECT_EQ(Error(Series({{"__name__", "http.requests"}})),
            "invalid series http.requests: invalid metric name \"http.requests\": must match "
            "[a-zA-Z_:][a-zA-Z0-9_:]*");
}

TEST(ValidationTest, RejectsInvalidLabelName) {
  EXPECT_EQ(Error(Series({{"__name__", "up"}, {"pod-name", "x"}})),
            "invalid series up{pod-name=\"x\"}: invalid label name \"pod-name\": must match "
            "[a-zA-Z_][a-zA-Z0-9_]*");
  EXPECT_EQ(Error(Series({{"0day", "x"}, {"__name__", "up"}})),
            "invalid series up{0day=\"x\"}: invalid label name \"0day\": must match "
            "[a-zA-Z_][a-zA-Z0-9_]*");
  // A colon is fine in metric names only.
  EXPECT_EQ(Error(Series({{"__name__", "up"}, {"a:b", "x"}})),
            "invalid series up{a:b=\"x\"}: invalid label name \"a:b\": must match "
            "[a-zA-Z_][a-zA-Z0-9_]*");
}

TEST(ValidationTest, RejectsDuplicateLabelName) {
  EXPECT_EQ(Error(Series({{"__name__", "up"}, {"job", "a"}, {"job", "b"}})),
            "invalid series up{job=\"a\", job=\"b\"}: duplicate label name \"job\"");
}

TEST(ValidationTest, RejectsUnsortedLabelNames) {
  EXPECT_EQ(Error(Series({{"__name__", "up"}, {"job", "a"}, {"instance", "b"}})),
            "invalid series up{job=\"a\", instance=\"b\"}: label names not sorted ascending: "
            "\"instance\" comes after \"job\"");
}

TEST(ValidationTest, RejectsEmptyLabelValue) {
  EXPECT_EQ(Error(Series({{"__name__", "up"}, {"job", ""}})),
            "invalid series up{job=\"\"}: label \"job\" has an empty value (an empty value "
            "means the label is absent: leave the label out)");
}

TEST(ValidationTest, RejectsInvalidUtf8ValueAndKeepsTheMessageValidUtf8) {
  EXPECT_EQ(Error(Series({{"__name__", "up"}, {"job", "a\xc3\x28z"}})),
            "invalid series up{job=\"a\\xc3(z\"}: label \"job\" value is not valid UTF-8");
  // Overlong encoding of '/', a UTF-16 surrogate, and a code point above U+10FFFF.
  for (std::string bad : {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"}) {
    EXPECT_EQ(ValidateSeries(Series({{"__name__", "up"}, {"v", bad}}), kNow, kSkew).code(),
              absl::StatusCode::kInvalidArgument)
        << absl::CHexEscape(bad);
  }
}

TEST(ValidationTest, RejectsTimestampsNotStrictlyAscending) {
  EXPECT_EQ(Error(Series({{"__name__", "up"}}, {{1000, 1}, {2000, 1}, {2000, 2}})),
            "invalid series up: sample timestamps not strictly ascending: 2000 follows 2000");
  EXPECT_EQ(Error(Series({{"__name__", "up"}}, {{3000, 1}, {1000, 1}})),
            "invalid series up: sample timestamps not strictly ascending: 1000 follows 3000");
}

TEST(ValidationTest, RejectsSamplesTooFarInTheFuture) {
  const int64_t limit_ms = kNowMs + absl::ToInt64Milliseconds(kSkew);
  EXPECT_TRUE(ValidateSeries(Series({{"__name__", "up"}}, {{limit_ms, 1}}), kNow, kSkew).ok());
  EXPECT_EQ(Error(Series({{"__name__", "up"}, {"job", "a"}}, {{limit_ms + 1, 1}})),
            "invalid series up{job=\"a\"}: sample timestamp 1700000600001 is more than 10m "
            "ahead of the receiver's clock (now 1700000000000)");
}

TEST(ValidationTest, BatchReportsTheFirstInvalidSeries) {
  model::WriteBatch batch;
  batch.series.push_back(Series({{"__name__", "ok"}}));
  batch.series.push_back(Series({{"__name__", "bad"}, {"x", ""}}));
  batch.series.push_back(Series({{"__name__", "also_bad"}, {"y", ""}}));
  absl::Status status = ValidateWriteBatch(batch, kNow, kSkew);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message().substr(0, 27), "invalid series bad{x=\"\"}: l");
  batch.series.resize(1);
  EXPECT_TRUE(ValidateWriteBatch(batch, kNow, kSkew).ok());
}

TEST(ValidationTest, RejectsMetadataWithoutAFamilyOrWithInvalidUtf8) {
  EXPECT_TRUE(ValidateMetadata({"up", "gauge", "Whether the target answered.", ""}).ok());
  EXPECT_TRUE(ValidateMetadata({"up", "unknown", "", ""}).ok());
  absl::Status empty = ValidateMetadata({"", "gauge", "", ""});
  EXPECT_EQ(empty.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(empty.message(), "invalid metadata: empty metric family name");
  absl::Status help = ValidateMetadata({"up", "gauge", "bad \xff", ""});
  EXPECT_EQ(help.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(help.message(), "invalid metadata of \"up\": help is not valid UTF-8");
  model::WriteBatch batch;
  batch.metadata.push_back({"up", "gauge", "", "\xfe"});
  EXPECT_EQ(ValidateWriteBatch(batch, absl::Now(), absl::Minutes(10)).message(),
            "invalid metadata of \"up\": unit is not valid UTF-8");
}

TEST(ValidationTest, DescribeSeriesEscapesInvalidUtf8) {
  EXPECT_EQ(DescribeSeries(model::Labels::FromSorted({{"__name__", "up"}, {"a", "\xff"}})),
            "up{a=\"\\xff\"}");
  EXPECT_EQ(DescribeSeries(model::Labels::FromSorted({{"__name__", "up"}, {"a", "é"}})),
            "up{a=\"é\"}");
}

}  // namespace
}  // namespace kura::ingest
