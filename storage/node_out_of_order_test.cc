// Out-of-order samples within the window: accepted, durable, read in order and merged with
// in-order data, through a kill and a clean restart; and the 400 for older ones.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "base/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/node.h"

namespace kura::storage {
namespace {

using ::testing::HasSubstr;

model::Labels Labels() { return model::Labels::FromUnsorted({{"__name__", "m"}, {"job", "a"}}); }

model::WriteBatch Batch(std::vector<model::Sample> samples) {
  model::WriteBatch batch;
  batch.series.push_back({Labels(), std::move(samples)});
  return batch;
}

std::vector<std::pair<int64_t, double>> ReadAll(Node& node) {
  absl::StatusOr<model::LabelMatcher> m =
      model::LabelMatcher::Create(model::MatchType::kEqual, "__name__", "m");
  EXPECT_TRUE(m.ok());
  std::vector<model::LabelMatcher> matchers = {*m};
  absl::StatusOr<std::unique_ptr<model::SeriesSet>> set =
      node.Select(matchers, INT64_MIN, INT64_MAX);
  EXPECT_TRUE(set.ok()) << set.status();
  std::vector<std::pair<int64_t, double>> out;
  if (!set.ok()) return out;
  while ((*set)->Next()) {
    std::unique_ptr<model::SampleIterator> it = (*set)->At().NewIterator();
    while (it->Next()) out.emplace_back(it->At().timestamp_ms, it->At().value);
    EXPECT_TRUE(it->status().ok()) << it->status();
  }
  return out;
}

// In-order 0, 10, ..., 100 (chunks of 4: two written, [80, 100] open), then out-of-order
// samples inside the open chunk's span, between written chunks, inside a written chunk, and
// before everything, some in a partition the series had no samples in.
std::vector<model::WriteBatch> Writes() {
  std::vector<model::Sample> in_order;
  for (int64_t t = 0; t <= 100; t += 10) in_order.push_back({t, static_cast<double>(t)});
  return {Batch(in_order), Batch({{85, 85.5}}), Batch({{35, 35.5}, {5, 5.5}}),
          Batch({{-2 * 3600 * 1000, -1}, {-20, -20.5}})};
}

std::vector<std::pair<int64_t, double>> Expected() {
  std::vector<std::pair<int64_t, double>> want = {{-2 * 3600 * 1000, -1}, {-20, -20.5}};
  for (int64_t t = 0; t <= 100; t += 10) {
    want.emplace_back(t, static_cast<double>(t));
    if (t == 0) want.emplace_back(5, 5.5);
    if (t == 30) want.emplace_back(35, 35.5);
    if (t == 80) want.emplace_back(85, 85.5);
  }
  return want;
}

class NodeOutOfOrderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<base::TempDir> temp = base::TempDir::Create("node_ooo_test");
    ASSERT_TRUE(temp.ok()) << temp.status();
    temp_ = *std::move(temp);
    options_.data_dir = temp_.path() + "/data";
    options_.max_samples_per_chunk = 4;
    options_.partition_length = absl::Hours(1);
    options_.out_of_order_window = absl::Hours(3);
  }

  std::unique_ptr<Node> OpenNode() {
    absl::StatusOr<std::unique_ptr<Node>> node = Node::Open(options_);
    EXPECT_TRUE(node.ok()) << node.status();
    return node.ok() ? std::move(*node) : nullptr;
  }

  base::TempDir temp_;
  NodeOptions options_;
};

// First in the file: the child forks before this process has RocksDB threads of its own.
TEST_F(NodeOutOfOrderTest, AcknowledgedOutOfOrderSamplesSurviveAKill) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    absl::StatusOr<std::unique_ptr<Node>> node = Node::Open(options_);
    if (!node.ok()) _exit(2);
    for (const model::WriteBatch& batch : Writes()) {
      if (!(*node)->Write(batch).ok()) _exit(3);
    }
    kill(getpid(), SIGKILL);
    _exit(4);
  }
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wait_status)) << "child exit " << WEXITSTATUS(wait_status);
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(ReadAll(*node), Expected());
  // The replayed samples are merged into the written chunks at the next checkpoint (the close).
  node.reset();
  node = OpenNode();
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(ReadAll(*node), Expected());
}

TEST_F(NodeOutOfOrderTest, AcceptedWithinTheWindowAndReadInOrder) {
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  for (const model::WriteBatch& batch : Writes()) ASSERT_TRUE(node->Write(batch).ok());
  EXPECT_EQ(ReadAll(*node), Expected());
  EXPECT_EQ(node->stats().out_of_order_accepted, 5);

  // A retry of an accepted sample is dropped; a different value at its timestamp is not.
  EXPECT_TRUE(node->Write(Batch({{35, 35.5}})).ok());
  absl::Status status = node->Write(Batch({{35, 1}}));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("duplicate sample for timestamp 35"));
  // Older than the newest by more than the window: a 400 naming the series and the window.
  status = node->Write(Batch({{100 - 3 * 3600 * 1000 - 1, 1}}));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("out-of-order window of 3h"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("m{job=\"a\"}"));
  EXPECT_EQ(ReadAll(*node), Expected());

  // In-order writes go on after out-of-order ones, and a clean restart keeps everything.
  ASSERT_TRUE(node->Write(Batch({{110, 110}})).ok());
  std::vector<std::pair<int64_t, double>> want = Expected();
  want.emplace_back(110, 110);
  EXPECT_EQ(ReadAll(*node), want);
  node.reset();
  node = OpenNode();
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(ReadAll(*node), want);
  EXPECT_EQ(node->stats().wal_replayed_samples, 0);
  // Out of order again, now into chunks written by the merge at the close.
  ASSERT_TRUE(node->Write(Batch({{36, 36.5}})).ok());
  want.insert(want.begin() + 8, {36, 36.5});
  EXPECT_EQ(ReadAll(*node), want);
}

TEST_F(NodeOutOfOrderTest, WithoutAWindowOlderSamplesGetAClearError) {
  options_.out_of_order_window = absl::ZeroDuration();
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  ASSERT_TRUE(node->Write(Batch({{100, 1}})).ok());
  absl::Status status = node->Write(Batch({{50, 1}}));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("out of order sample at 50: older than the series' newest 100 (no "
                        "out-of-order window is configured) in series m{job=\"a\"}"));
  EXPECT_EQ(node->stats().out_of_order_samples, 1);
}

TEST_F(NodeOutOfOrderTest, ManyOutOfOrderSamplesReadInOrderAndMergeAtClose) {
  options_.max_samples_per_chunk = 8;
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  // Even timestamps in order, then the odd ones backwards, one per write: every one is out of
  // order, most land among written chunks.
  std::vector<std::pair<int64_t, double>> want;
  std::vector<model::Sample> even;
  for (int64_t t = 0; t < 2000; t += 2) even.push_back({t, static_cast<double>(t)});
  ASSERT_TRUE(node->Write(Batch(even)).ok());
  for (int64_t t = 1999; t > 0; t -= 2) {
    ASSERT_TRUE(node->Write(Batch({{t, static_cast<double>(t)}})).ok()) << t;
  }
  for (int64_t t = 0; t < 2000; ++t) want.emplace_back(t, static_cast<double>(t));
  EXPECT_EQ(ReadAll(*node), want);
  node.reset();
  node = OpenNode();
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(ReadAll(*node), want);
}

}  // namespace
}  // namespace kura::storage
