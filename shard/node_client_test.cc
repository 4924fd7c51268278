#include "shard/node_client.h"

#include <bit>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shard/test_storage_nodes.h"
#include "storage/chunk_decoder.h"

namespace kura::shard {
namespace {

using ::testing::ElementsAre;

model::Labels L(std::vector<model::Label> labels) {
  return model::Labels::FromUnsorted(std::move(labels));
}

// The whole stream, or its error.
absl::StatusOr<std::vector<EncodedSeries>> ReadAll(std::unique_ptr<SelectStream> stream) {
  std::vector<EncodedSeries> out;
  while (stream->Next()) out.push_back(std::move(stream->At()));
  if (!stream->status().ok()) return stream->status();
  return out;
}

model::LabelMatcher M(model::MatchType type, std::string name, std::string value) {
  return *model::LabelMatcher::Create(type, std::move(name), std::move(value));
}

TEST(NodeClientTest, WriteSelectAndLabelsRoundTripThroughTheService) {
  TestStorageNodes nodes(1);
  NodeClient client(nodes.address(0));
  ASSERT_TRUE(client.Check().ok());
  std::vector<model::TimeSeries> series;
  series.push_back({L({{"__name__", "up"}, {"job", "a"}}), {}});
  series.push_back({L({{"__name__", "up"}, {"job", "b"}}), {{5, 1}}});
  for (int i = 0; i < 300; ++i) series[0].samples.push_back({i * 10, static_cast<double>(i)});
  const std::string c0 = series[0].labels.CanonicalBytes();
  const std::string c1 = series[1].labels.CanonicalBytes();
  ASSERT_TRUE(client.Write({{&series[0], &c0}, {&series[1], &c1}}).ok());
  // An exact resend is accepted; a different value at a stored timestamp is the batch's fault.
  ASSERT_TRUE(client.Write({{&series[1], &c1}}).ok());
  model::TimeSeries conflicting{series[1].labels, {{5, 2}}};
  EXPECT_EQ(client.Write({{&conflicting, &c1}}).code(), absl::StatusCode::kInvalidArgument);

  absl::StatusOr<std::vector<EncodedSeries>> got =
      ReadAll(client.OpenSelect({M(model::MatchType::kEqual, "__name__", "up")}, 0, 10'000));
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].labels, series[0].labels);
  EXPECT_EQ((*got)[0].chunks.size(), 3u) << "300 samples in chunks of 120";
  int n = 0;
  for (const std::string& chunk : (*got)[0].chunks) {
    std::unique_ptr<model::SampleIterator> it = storage::NewChunkIterator(chunk);
    while (it->Next()) EXPECT_EQ(it->At().timestamp_ms, 10 * n++);
  }
  EXPECT_EQ(n, 300);

  absl::StatusOr<std::vector<std::string>> names = client.LabelNames({}, 0, 10'000);
  ASSERT_TRUE(names.ok());
  EXPECT_THAT(*names, ElementsAre("__name__", "job"));
  absl::StatusOr<std::vector<std::string>> values = client.LabelValues("job", {}, 0, 10'000);
  ASSERT_TRUE(values.ok());
  EXPECT_THAT(*values, ElementsAre("a", "b"));
}

TEST(NodeClientTest, LargeSelectsAreSplitIntoBoundedMessages) {
  TestStorageNodes nodes(1);
  NodeClient client(nodes.address(0));
  model::TimeSeries big{L({{"__name__", "big"}}), {}};
  // Random-looking values compress badly: about 2 MB of chunks, over the 1 MiB message bound.
  uint64_t x = 1;
  for (int i = 0; i < 200'000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    big.samples.push_back({i, std::bit_cast<double>(x >> 2)});
  }
  const std::string canonical = big.labels.CanonicalBytes();
  ASSERT_TRUE(client.Write({{&big, &canonical}}).ok());
  absl::StatusOr<std::vector<EncodedSeries>> got =
      ReadAll(client.OpenSelect({M(model::MatchType::kEqual, "__name__", "big")}, 0, 1'000'000));
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_GE(got->size(), 2u) << "one series continued over several messages";
  size_t samples = 0;
  for (const EncodedSeries& s : *got) {
    EXPECT_EQ(s.labels, big.labels);
    for (const std::string& chunk : s.chunks) {
      storage::ChunkMeta meta;
      ASSERT_TRUE(storage::ReadChunkMeta(chunk, &meta).ok());
      samples += static_cast<size_t>(meta.num_samples);
    }
  }
  EXPECT_EQ(samples, big.samples.size());
}

TEST(NodeClientTest, StoppedNodeFailsFastWithUnavailable) {
  TestStorageNodes nodes(1);
  NodeClient client(nodes.address(0), {.timeout = absl::Seconds(5)});
  ASSERT_TRUE(client.Check().ok());
  nodes.Stop(0);
  const absl::Time start = absl::Now();
  model::TimeSeries s{L({{"__name__", "x"}}), {{1, 1}}};
  const std::string canonical = s.labels.CanonicalBytes();
  EXPECT_EQ(client.Write({{&s, &canonical}}).code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_FALSE(client.Check().ok());
  nodes.Restart(0);
  // Reconnects within the client's 1 s reconnect backoff.
  bool ok = false;
  for (int i = 0; i < 40 && !ok; ++i) {
    ok = client.Check().ok();
    if (!ok) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace kura::shard
