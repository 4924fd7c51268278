// Start timestamps through a real node: written with samples, read back by Select sample by
// sample (StartAt) and in bulk (AppendRemainingWithStarts), across restarts, WAL replay,
// out-of-order inserts, compaction and tombstone cleaning.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "base/temp_dir.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/chunk_format.h"
#include "storage/keys.h"
#include "storage/node.h"
#include "storage/packed_chunk.h"

namespace kura::storage {
namespace {

using model::MatchType;

constexpr int64_t kStartMs = 1'700'000'000'000;
constexpr int64_t kStepMs = 15'000;

// A sample with its start; value bits compared exactly.
struct Point {
  int64_t timestamp_ms = 0;
  double value = 0;
  int64_t start_ms = 0;
  bool operator==(const Point& o) const {
    return timestamp_ms == o.timestamp_ms && start_ms == o.start_ms &&
           std::bit_cast<uint64_t>(value) == std::bit_cast<uint64_t>(o.value);
  }
};
std::ostream& operator<<(std::ostream& os, const Point& p) {
  return os << "(" << p.timestamp_ms << ", " << p.value << ", start " << p.start_ms << ")";
}

// By the series' labels' text.
using Contents = std::map<std::string, std::vector<Point>>;

model::Labels Name(const std::string& name) {
  return model::Labels::FromUnsorted({{"__name__", name}});
}

// The four kinds of series: a cumulative counter that restarts once, a delta series, one whose
// starts are sometimes unknown (its first sample's too), and one without starts.
Point Make(const std::string& kind, int64_t i) {
  const int64_t t = kStartMs + i * kStepMs + (i * 7) % 5;
  if (kind == "cumulative") {
    return {t, static_cast<double>(i * 3 % 150), i < 150 ? kStartMs - 3'600'000 : t - 7};
  }
  if (kind == "delta") {
    const int64_t prev = i == 0 ? t - kStepMs : kStartMs + (i - 1) * kStepMs + ((i - 1) * 7) % 5;
    return {t, static_cast<double>(i % 4), prev};
  }
  if (kind == "mixed") return {t, 1.5, i % 10 < 3 ? 0 : kStartMs - 1000 - i / 50};
  return {t, i * 0.25, 0};
}
const char* const kKinds[] = {"cumulative", "delta", "mixed", "plain"};

// Appends samples [from, to) of every kind to `batch`, each series split in two entries in
// reverse order (the node sorts them), the starts left out of an entry whose starts are all 0.
void AddRange(int64_t from, int64_t to, model::WriteBatch* batch, Contents* want) {
  for (const char* kind : kKinds) {
    const int64_t mid = from + (to - from) / 2;
    for (auto [begin, end] : {std::pair{mid, to}, std::pair{from, mid}}) {
      model::TimeSeries series{Name(kind), {}, {}};
      bool any_start = false;
      for (int64_t i = begin; i < end; ++i) {
        const Point p = Make(kind, i);
        series.samples.push_back({p.timestamp_ms, p.value});
        series.start_timestamps_ms.push_back(p.start_ms);
        any_start = any_start || p.start_ms != 0;
      }
      if (!any_start) series.start_timestamps_ms.clear();
      if (!series.samples.empty()) batch->series.push_back(std::move(series));
    }
    for (int64_t i = from; i < to; ++i) (*want)[Name(kind).ToString()].push_back(Make(kind, i));
  }
}

// Writes samples [from, to) of every kind, a few per write.
void WriteRange(Node& node, int64_t from, int64_t to, Contents* want) {
  for (int64_t i = from; i < to; i += 7) {
    model::WriteBatch batch;
    AddRange(i, std::min(to, i + 7), &batch, want);
    const absl::Status status = node.Write(batch);
    ASSERT_TRUE(status.ok()) << status;
  }
}

// Everything a Select returns, read sample by sample; checks that the bulk read agrees.
Contents Read(Node& node, int64_t min_time_ms = INT64_MIN, int64_t max_time_ms = INT64_MAX) {
  absl::StatusOr<model::LabelMatcher> all =
      model::LabelMatcher::Create(MatchType::kRegexMatch, "__name__", ".+");
  EXPECT_TRUE(all.ok());
  absl::StatusOr<std::unique_ptr<model::SeriesSet>> set =
      node.Select({*all}, min_time_ms, max_time_ms);
  EXPECT_TRUE(set.ok()) << set.status();
  Contents out;
  if (!set.ok()) return out;
  while ((*set)->Next()) {
    const model::Series& series = (*set)->At();
    std::vector<Point>& points = out[series.labels().ToString()];
    std::unique_ptr<model::SampleIterator> it = series.NewIterator();
    while (it->Next()) points.push_back({it->At().timestamp_ms, it->At().value, it->StartAt()});
    EXPECT_TRUE(it->status().ok()) << it->status();
    std::vector<model::Sample> bulk;
    std::vector<int64_t> starts;
    EXPECT_TRUE(series.NewIterator()->AppendRemainingWithStarts(&bulk, &starts).ok());
    EXPECT_LE(starts.size(), bulk.size());
    std::vector<Point> bulk_points;
    for (size_t i = 0; i < bulk.size(); ++i) {
      bulk_points.push_back(
          {bulk[i].timestamp_ms, bulk[i].value, i < starts.size() ? starts[i] : 0});
    }
    EXPECT_EQ(bulk_points, points) << series.labels().ToString();
  }
  EXPECT_TRUE((*set)->status().ok());
  return out;
}

// Opens a node in a child process, writes samples [from, to) of every kind and dies without
// closing anything: what the parent opens next comes from the WAL.
void WriteRangeAndDie(const NodeOptions& options, int64_t from, int64_t to, Contents* want) {
  Contents unused;
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    absl::StatusOr<std::unique_ptr<Node>> node = Node::Open(options);
    if (!node.ok()) _exit(2);
    for (int64_t i = from; i < to; i += 7) {
      model::WriteBatch batch;
      AddRange(i, std::min(to, i + 7), &batch, &unused);
      if (!(*node)->Write(batch).ok()) _exit(3);
    }
    kill(getpid(), SIGKILL);
    _exit(4);
  }
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wait_status)) << "child exit " << WEXITSTATUS(wait_status);
  model::WriteBatch batch;
  for (int64_t i = from; i < to; i += 7) AddRange(i, std::min(to, i + 7), &batch, want);
}

// The first byte of every chunk on disk, by series ref, once the node is closed.
std::map<uint64_t, std::vector<uint8_t>> ChunkVersions(const std::string& dir) {
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (std::string name :
       {std::string(rocksdb::kDefaultColumnFamilyName), std::string(kSeriesFamily),
        std::string(kPostingsFamily), std::string(kChunksFamily), std::string(kHeadFamily),
        std::string(kTombstonesFamily)}) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  std::map<uint64_t, std::vector<uint8_t>> out;
  rocksdb::Status s =
      rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir, descriptors, &handles, &raw);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return out;
  std::unique_ptr<rocksdb::DB> db(raw);
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[3]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    int64_t partition = 0, min_time = 0;
    uint64_t ref = 0;
    EXPECT_TRUE(ParseChunkKey(it->key().ToStringView(), &partition, &ref, &min_time));
    if (ref == kTimestampColumnRef) continue;
    out[ref].push_back(static_cast<uint8_t>(it->value().ToStringView()[0]));
  }
  it.reset();
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    db->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  }
  return out;
}

class NodeStartTimestampsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<base::TempDir> temp = base::TempDir::Create("node_start_timestamps_test");
    ASSERT_TRUE(temp.ok()) << temp.status();
    temp_ = *std::move(temp);
    options_.data_dir = temp_.path() + "/data";
    options_.max_samples_per_chunk = 50;
    options_.maintenance_interval = absl::InfiniteDuration();
  }

  std::unique_ptr<Node> OpenNode() {
    absl::StatusOr<std::unique_ptr<Node>> node = Node::Open(options_);
    EXPECT_TRUE(node.ok()) << node.status();
    return node.ok() ? std::move(*node) : nullptr;
  }

  base::TempDir temp_;
  NodeOptions options_;
};

TEST_F(NodeStartTimestampsTest, ReadBackAsWrittenAcrossRestartsAndWalReplay) {
  Contents want;
  {
    std::unique_ptr<Node> node = OpenNode();
    ASSERT_NE(node, nullptr);
    // Written chunks, pending and open ones, in every series.
    WriteRange(*node, 0, 200, &want);
    ASSERT_EQ(Read(*node), want);
    // A range read starts mid-chunk.
    const Contents part = Read(*node, kStartMs + 60 * kStepMs, kStartMs + 130 * kStepMs);
    for (const auto& [labels, points] : part) {
      ASSERT_EQ(points.size(), 71u) << labels;
      EXPECT_EQ(points.front(), want[labels][60]) << labels;
      EXPECT_EQ(points.back(), want[labels][130]) << labels;
    }
  }
  // A clean close checkpointed the open chunks: a restart resumes them from their bytes.
  {
    std::unique_ptr<Node> node = OpenNode();
    ASSERT_NE(node, nullptr);
    ASSERT_EQ(Read(*node), want);
    WriteRange(*node, 200, 230, &want);
    ASSERT_EQ(Read(*node), want);
  }
  // The rest is only in the WAL when the next node opens.
  WriteRangeAndDie(options_, 230, 300, &want);
  {
    std::unique_ptr<Node> node = OpenNode();
    ASSERT_NE(node, nullptr);
    EXPECT_GT(node->stats().wal_replayed_samples, 0);
    ASSERT_EQ(Read(*node), want);
  }
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(Read(*node), want);
}

TEST_F(NodeStartTimestampsTest, StartCountMustMatchTheSamples) {
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  model::WriteBatch batch;
  batch.series.push_back({Name("ok"), {{1000, 1}}, {}});
  batch.series.push_back({Name("bad"), {{1000, 1}, {2000, 2}}, {500}});
  const absl::Status status = node->Write(batch);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("bad"), std::string_view::npos) << status;
  EXPECT_TRUE(Read(*node).empty());  // the batch is applied whole or not at all
}

TEST_F(NodeStartTimestampsTest, OutOfOrderSamplesKeepTheirStarts) {
  options_.out_of_order_window = absl::Hours(1);
  options_.max_samples_per_chunk = 10;
  Contents want;
  auto write = [&](Node& node, const std::string& name, std::vector<Point> points) {
    model::TimeSeries series{Name(name), {}, {}};
    for (const Point& p : points) {
      series.samples.push_back({p.timestamp_ms, p.value});
      series.start_timestamps_ms.push_back(p.start_ms);
      want[Name(name).ToString()].push_back(p);
    }
    model::WriteBatch batch;
    batch.series.push_back(std::move(series));
    const absl::Status status = node.Write(batch);
    ASSERT_TRUE(status.ok()) << status;
  };
  auto point = [](int64_t i, int64_t start_ms) {
    return Point{kStartMs + i * kStepMs, static_cast<double>(i), start_ms};
  };
  {
    std::unique_ptr<Node> node = OpenNode();
    ASSERT_NE(node, nullptr);
    // Even steps in order: with starts, and without (a series of version-1 chunks).
    for (int64_t i = 0; i < 40; i += 2) {
      write(*node, "with", {point(i, kStartMs - 1)});
      write(*node, "without", {point(i, 0)});
    }
    // Odd steps late: into the open chunk (re-encoded; the version-1 one becomes version 3),
    // and before it (the head's out-of-order buffer).
    for (int64_t i : {37, 35, 5, 3, 21}) {
      write(*node, "with", {point(i, i % 3 == 0 ? 0 : kStartMs + i)});
      write(*node, "without", {point(i, i == 37 ? kStartMs : 0)});
    }
    for (auto& [labels, points] : want) {
      std::sort(points.begin(), points.end(),
                [](const Point& a, const Point& b) { return a.timestamp_ms < b.timestamp_ms; });
    }
    ASSERT_EQ(Read(*node), want);
  }
  // The close merged the buffered samples into the written chunks.
  {
    std::unique_ptr<Node> node = OpenNode();
    ASSERT_NE(node, nullptr);
    ASSERT_EQ(Read(*node), want);
  }
  // Out-of-order samples replayed from the WAL.
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    absl::StatusOr<std::unique_ptr<Node>> node = Node::Open(options_);
    if (!node.ok()) _exit(2);
    model::WriteBatch batch;
    batch.series.push_back({Name("with"), {{kStartMs + 9 * kStepMs, 9}}, {kStartMs + 9}});
    if (!(*node)->Write(batch).ok()) _exit(3);
    kill(getpid(), SIGKILL);
    _exit(4);
  }
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wait_status));
  std::vector<Point>& with = want[Name("with").ToString()];
  with.insert(with.begin() + 7, point(9, kStartMs + 9));
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(Read(*node), want);
}

TEST_F(NodeStartTimestampsTest, CompactionMergesSeriesWithStartsWithoutPackingThem) {
  Contents want;
  {
    std::unique_ptr<Node> node = OpenNode();
    ASSERT_NE(node, nullptr);
    WriteRange(*node, 0, 300, &want);
    ASSERT_TRUE(node->Compact().ok());
    ASSERT_EQ(Read(*node), want);
    // Compacting again leaves it as it is.
    ASSERT_TRUE(node->Compact().ok());
    ASSERT_EQ(Read(*node), want);
  }
  // Refs are handed out in the order series first appear: cumulative, delta, mixed, plain.
  const std::map<uint64_t, std::vector<uint8_t>> versions = ChunkVersions(options_.data_dir);
  ASSERT_EQ(versions.size(), 4u);
  auto it = versions.begin();
  for (int kind = 0; kind < 3; ++kind, ++it) {
    EXPECT_EQ(it->second, std::vector<uint8_t>{chunk_format::kVersionWithStarts}) << kind;
  }
  EXPECT_EQ(it->second, std::vector<uint8_t>{kPackedChunkVersion});
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(Read(*node), want);
}

TEST_F(NodeStartTimestampsTest, CleaningTombstonesKeepsTheStartsOfTheRest) {
  Contents want;
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  WriteRange(*node, 0, 120, &want);
  const int64_t min_deleted = kStartMs + 20 * kStepMs;
  const int64_t max_deleted = kStartMs + 70 * kStepMs;
  absl::StatusOr<model::LabelMatcher> all =
      model::LabelMatcher::Create(MatchType::kRegexMatch, "__name__", ".+");
  ASSERT_TRUE(all.ok());
  ASSERT_TRUE(node->DeleteSeries({*all}, min_deleted, max_deleted).ok());
  for (auto& [labels, points] : want) {
    std::erase_if(points, [&](const Point& p) {
      return p.timestamp_ms >= min_deleted && p.timestamp_ms <= max_deleted;
    });
  }
  ASSERT_EQ(Read(*node), want);
  ASSERT_TRUE(node->CleanTombstones().ok());
  ASSERT_EQ(Read(*node), want);
  node.reset();
  node = OpenNode();
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(Read(*node), want);
}

}  // namespace
}  // namespace kura::storage
