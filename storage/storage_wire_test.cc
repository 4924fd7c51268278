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

TEST(StorageWireTest, WriteRequestRoundTripsStartTimestamps) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  model::WriteBatch batch;
  batch.series.push_back({L({{"__name__", "cumulative"}}), {{1000, 1}, {2000, 2}, {3000, 3}}});
  batch.series[0].start_timestamps_ms = {500, 500, 0};
  batch.series.push_back({L({{"__name__", "extremes"}}), {{kMin, 1}, {0, 2}, {kMax, 3}}});
  batch.series[1].start_timestamps_ms = {kMax, kMin, -1};
  batch.series.push_back({L({{"__name__", "zeros"}}), {{1, 1}}});
  batch.series[2].start_timestamps_ms = {0};  // the same as none
  batch.series.push_back({L({{"__name__", "none"}}), {{1, 1}}});
  v1::WriteRequest request;
  EncodeWriteRequest(batch, &request);
  EXPECT_EQ(request.series(0).start_deltas_ms_size(), 3);
  EXPECT_EQ(request.series(2).start_deltas_ms_size(), 0);
  absl::StatusOr<model::WriteBatch> decoded = DecodeWriteRequest(request);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_EQ(decoded->series.size(), 4u);
  EXPECT_EQ(decoded->series[0].start_timestamps_ms, batch.series[0].start_timestamps_ms);
  EXPECT_EQ(decoded->series[1].start_timestamps_ms, batch.series[1].start_timestamps_ms);
  EXPECT_TRUE(decoded->series[2].start_timestamps_ms.empty());
  EXPECT_TRUE(decoded->series[3].start_timestamps_ms.empty());

  // Starts and samples must agree in count.
  request.mutable_series(0)->add_start_deltas_ms(5);
  absl::StatusOr<model::WriteBatch> bad = DecodeWriteRequest(request);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("cumulative"), std::string_view::npos) << bad.status();
}

class VectorIterator : public model::SampleIterator {
 public:
  explicit VectorIterator(std::vector<model::Sample> samples, std::vector<int64_t> starts = {})
      : samples_(std::move(samples)), starts_(std::move(starts)) {}
  bool Next() override { return ++i_ < samples_.size(); }
  model::Sample At() const override { return samples_[i_]; }
  int64_t StartAt() const override { return i_ < starts_.size() ? starts_[i_] : 0; }
  absl::Status status() const override { return absl::OkStatus(); }

 private:
  std::vector<model::Sample> samples_;
  std::vector<int64_t> starts_;
  size_t i_ = static_cast<size_t>(-1);
};

TEST(StorageWireTest, EncodeChunksKeepsStartTimestamps) {
  std::vector<model::Sample> samples;
  std::vector<int64_t> starts;
  for (int i = 0; i < 300; ++i) {
    samples.push_back({i * 1000, static_cast<double>(i)});
    // No starts at first, then a delta series, then some unknown among cumulative ones.
    starts.push_back(i < 50 ? 0 : i < 200 ? (i - 1) * 1000 : (i % 7 == 0 ? 0 : 123));
  }
  VectorIterator it(samples, starts);
  std::vector<std::string> chunks;
  ASSERT_TRUE(EncodeChunks(&it, 120, &chunks).ok());
  std::vector<model::Sample> got;
  std::vector<int64_t> got_starts;
  for (const std::string& chunk : chunks) {
    std::unique_ptr<model::SampleIterator> decoded = NewChunkIterator(chunk);
    ASSERT_TRUE(decoded->AppendRemainingWithStarts(&got, &got_starts).ok());
  }
  ASSERT_EQ(got.size(), samples.size());
  got_starts.resize(got.size(), 0);
  EXPECT_EQ(got_starts, starts);
  // The first 50 samples, without starts, stay one version-1 chunk.
  EXPECT_EQ(chunks[0][0], 1);
  ChunkMeta meta;
  ASSERT_TRUE(ReadChunkMeta(chunks[0], &meta).ok());
  EXPECT_EQ(meta.num_samples, 50);
  EXPECT_EQ(chunks.size(), 4u);  // 50 | 120 | 120 | 10
}

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
