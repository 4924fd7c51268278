// A node whose files stop growing, as on a full disk: writes are refused with Unavailable
// (503 to remote write) while the disk is full, succeed again once it has room, and nothing
// acknowledged is lost or corrupted.
//
// The fault is the file size limit (RLIMIT_FSIZE): past it write(2) fails with EFBIG, as it
// fails with ENOSPC on a full disk, without needing a filesystem of its own.

#include <sys/resource.h>

#include <csignal>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/temp_dir.h"
#include "gtest/gtest.h"
#include "model/matcher.h"
#include "storage/node.h"

namespace kura::storage {
namespace {

// Caps the size of every file the process writes while in scope.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &saved_);
    // Past the limit the kernel sends SIGXFSZ, which would end the process; ignored, the
    // write fails with EFBIG instead.
    previous_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    ok_ = setrlimit(RLIMIT_FSIZE, &limit) == 0;
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, previous_handler_);
  }
  bool ok() const { return ok_; }

 private:
  rlimit saved_{};
  void (*previous_handler_)(int) = nullptr;
  bool ok_ = false;
};

model::WriteBatch Batch(int64_t first_ms, int samples) {
  model::WriteBatch batch;
  model::TimeSeries ts;
  ts.labels = model::Labels::FromUnsorted({{"__name__", "m"}, {"job", "a"}});
  for (int i = 0; i < samples; ++i) {
    ts.samples.push_back({first_ms + i * 1000, static_cast<double>(first_ms + i)});
  }
  batch.series.push_back(std::move(ts));
  return batch;
}

std::set<int64_t> ReadTimes(Node& node) {
  absl::StatusOr<model::LabelMatcher> m =
      model::LabelMatcher::Create(model::MatchType::kEqual, "__name__", "m");
  EXPECT_TRUE(m.ok());
  std::vector<model::LabelMatcher> matchers = {*m};
  absl::StatusOr<std::unique_ptr<model::SeriesSet>> set =
      node.Select(matchers, INT64_MIN, INT64_MAX);
  EXPECT_TRUE(set.ok()) << set.status();
  std::set<int64_t> times;
  if (!set.ok()) return times;
  while ((*set)->Next()) {
    std::unique_ptr<model::SampleIterator> it = (*set)->At().NewIterator();
    while (it->Next()) times.insert(it->At().timestamp_ms);
    EXPECT_TRUE(it->status().ok()) << it->status();
  }
  EXPECT_TRUE((*set)->status().ok()) << (*set)->status();
  return times;
}

TEST(NodeDiskFaultTest, AFullDiskRefusesWritesUntilItHasRoomAndLosesNothing) {
  absl::StatusOr<base::TempDir> temp = base::TempDir::Create("node_disk_fault_test");
  ASSERT_TRUE(temp.ok()) << temp.status();
  NodeOptions options;
  options.data_dir = temp->path() + "/data";
  options.maintenance_interval = absl::InfiniteDuration();
  constexpr int kSamples = 500;  // a WAL record of about 8 KiB
  std::set<int64_t> acknowledged, attempted;
  int64_t next_ms = 0;
  auto write = [&](Node& node) {
    const model::WriteBatch batch = Batch(next_ms, kSamples);
    for (const model::Sample& s : batch.series[0].samples) attempted.insert(s.timestamp_ms);
    next_ms += kSamples * 1000;
    const absl::Status status = node.Write(batch);
    if (status.ok()) {
      for (const model::Sample& s : batch.series[0].samples) acknowledged.insert(s.timestamp_ms);
    }
    return status;
  };
  {
    absl::StatusOr<std::unique_ptr<Node>> node = Node::Open(options);
    ASSERT_TRUE(node.ok()) << node.status();
    ASSERT_TRUE(write(**node).ok());
    {
      // The WAL segment reaches 1 MiB after about 120 writes; RocksDB's files stay smaller.
      FileSizeLimit full(1 << 20);
      ASSERT_TRUE(full.ok());
      absl::Status status;
      for (int i = 0; i < 400 && status.ok(); ++i) status = write(**node);
      ASSERT_FALSE(status.ok()) << "the limit was never reached";
      EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
      EXPECT_FALSE((*node)->WriteHealth().ok());
      // Still full: refused again, and the node still reads what it acknowledged.
      EXPECT_EQ(write(**node).code(), absl::StatusCode::kUnavailable);
      EXPECT_EQ(ReadTimes(**node), acknowledged);
    }
    // Room again: writes go on where they left off.
    absl::Status status = write(**node);
    EXPECT_TRUE(status.ok()) << status;
    EXPECT_TRUE((*node)->WriteHealth().ok()) << (*node)->WriteHealth();
  }
  absl::StatusOr<std::unique_ptr<Node>> node = Node::Open(options);
  ASSERT_TRUE(node.ok()) << node.status();
  const std::set<int64_t> read = ReadTimes(**node);
  for (int64_t t : acknowledged) ASSERT_TRUE(read.count(t)) << "acknowledged sample " << t << " lost";
  for (int64_t t : read) ASSERT_TRUE(attempted.count(t)) << "sample " << t << " never written";
  // The refused writes left nothing behind.
  EXPECT_EQ(read, acknowledged);
}

}  // namespace
}  // namespace kura::storage
