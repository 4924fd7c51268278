#include "storage/storage_wire.h"

#include <cmath>
#include <limits>
#include <memory>

#include "gtest/gtest.h"
#include "storage/chunk_decoder.h"
#include "storage/grpc_status.h"

namespace kura::storage {
namespace {

model::Labels L(std::vector<model::Label> labels) {
  return model::Labels::FromUnsorted(std::move(labels));
}

TEST(StorageWireTest, WriteRequestRoundTripsEveryTimestampAndBitPattern) {
  model::WriteBatch batch;
  batch.series.push_back({L({{"__name__", "up"}, {"job", "a"}}),
                          {{std::numeric_limits<int64_t>::min(), 1.5},
                           {-5, model::StaleNaN()},
                           {std::numeric_limits<int64_t>::max(), -0.0}}});
  batch.series.push_back({L({{"__name__", "empty"}}), {}});
  v1::WriteRequest request;
  EncodeWriteRequest(batch, &request);
  absl::StatusOr<model::WriteBatch> decoded = DecodeWriteRequest(request);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_EQ(decoded->series.size(), 2u);
  EXPECT_EQ(decoded->series[0].labels, batch.series[0].labels);
  ASSERT_EQ(decoded->series[0].samples.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(decoded->series[0].samples[i].timestamp_ms, batch.series[0].samples[i].timestamp_ms);
    EXPECT_EQ(std::bit_cast<uint64_t>(decoded->series[0].samples[i].value),
              std::bit_cast<uint64_t>(batch.series[0].samples[i].value));
  }
  EXPECT_TRUE(decoded->series[1].samples.empty());
}

TEST(StorageWireTest, MalformedWriteRequestsAreInvalidArgument) {
  v1::WriteRequest request;
  request.add_series()->set_labels("no separators");
  EXPECT_EQ(DecodeWriteRequest(request).status().code(), absl::StatusCode::kInvalidArgument);
  request.Clear();
  v1::WriteSeries* series = request.add_series();
  series->set_labels(L({{"a", "b"}}).CanonicalBytes());
  series->add_timestamp_deltas_ms(1);
  EXPECT_EQ(DecodeWriteRequest(request).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(StorageWireTest, MatchersRoundTripAndBadRegexIsInvalidArgument) {
  v1::SelectRequest request;
  EncodeMatcher(*model::LabelMatcher::Create(model::MatchType::kRegexNoMatch, "job", "a|b"),
                request.add_matchers());
  absl::StatusOr<std::vector<model::LabelMatcher>> matchers = DecodeMatchers(request.matchers());
  ASSERT_TRUE(matchers.ok());
  ASSERT_EQ(matchers->size(), 1u);
  EXPECT_EQ((*matchers)[0].ToString(), "job!~\"a|b\"");
  request.mutable_matchers(0)->set_value("(");
  EXPECT_EQ(DecodeMatchers(request.matchers()).status().code(), absl::StatusCode::kInvalidArgument);
}

class VectorIterator : public model::SampleIterator {
 public:
  explicit VectorIterator(std::vector<model::Sample> samples) : samples_(std::move(samples)) {}
  bool Next() override { return ++i_ < samples_.size(); }
  model::Sample At() const override { return samples_[i_]; }
  absl::Status status() const override { return absl::OkStatus(); }

 private:
  std::vector<model::Sample> samples_;
  size_t i_ = static_cast<size_t>(-1);
};

TEST(StorageWireTest, EncodeChunksCutsAtTheSampleLimit) {
  std::vector<model::Sample> samples;
  for (int i = 0; i < 250; ++i) samples.push_back({i * 1000, static_cast<double>(i)});
  VectorIterator it(samples);
  std::vector<std::string> chunks;
  ASSERT_TRUE(EncodeChunks(&it, 120, &chunks).ok());
  ASSERT_EQ(chunks.size(), 3u);
  int n = 0;
  for (const std::string& chunk : chunks) {
    std::unique_ptr<model::SampleIterator> decoded = NewChunkIterator(chunk);
    while (decoded->Next()) {
      EXPECT_EQ(decoded->At().timestamp_ms, samples[static_cast<size_t>(n)].timestamp_ms);
      ++n;
    }
  }
  EXPECT_EQ(n, 250);
}

TEST(GrpcStatusTest, CodesAndMessagesCrossUnchanged) {
  absl::Status status = absl::ResourceExhaustedError("full");
  grpc::Status g = ToGrpcStatus(status);
  EXPECT_EQ(g.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(FromGrpcStatus(g), status);
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
  EXPECT_EQ(FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "x")).code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace kura::storage
