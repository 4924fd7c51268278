// Retention and deletion on a real node: what reads see at once, what survives a restart, and
// what is left on disk afterwards.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/chunk_decoder.h"
#include "storage/keys.h"
#include "storage/node.h"
#include "storage/packed_chunk.h"

namespace kura::storage {
namespace {

using model::MatchType;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr int64_t kHourMs = 3600 * 1000;
constexpr int64_t kMinMs = 60 * 1000;

model::Labels L(std::vector<model::Label> labels) {
  return model::Labels::FromUnsorted(std::move(labels));
}

model::LabelMatcher M(MatchType type, std::string name, std::string value) {
  absl::StatusOr<model::LabelMatcher> m =
      model::LabelMatcher::Create(type, std::move(name), std::move(value));
  EXPECT_TRUE(m.ok()) << m.status();
  return *m;
}

std::vector<model::Sample> Range(int64_t from, int64_t to, int64_t step) {
  std::vector<model::Sample> samples;
  for (int64_t t = from; t <= to; t += step) samples.push_back({t, static_cast<double>(t)});
  return samples;
}

// Timestamps of each selected series, by its labels' text.
std::vector<std::pair<std::string, std::vector<int64_t>>> Read(Node& node, int64_t min_time,
                                                               int64_t max_time) {
  std::vector<model::LabelMatcher> matchers = {M(MatchType::kEqual, "__name__", "m")};
  absl::StatusOr<std::unique_ptr<model::SeriesSet>> set = node.Select(matchers, min_time, max_time);
  EXPECT_TRUE(set.ok()) << set.status();
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  if (!set.ok()) return out;
  while ((*set)->Next()) {
    std::vector<int64_t> times;
    std::unique_ptr<model::SampleIterator> it = (*set)->At().NewIterator();
    while (it->Next()) times.push_back(it->At().timestamp_ms);
    EXPECT_TRUE(it->status().ok()) << it->status();
    out.emplace_back((*set)->At().labels().ToString(), std::move(times));
  }
  EXPECT_TRUE((*set)->status().ok()) << (*set)->status();
  return out;
}

std::vector<int64_t> Times(int64_t from, int64_t to, int64_t step) {
  std::vector<int64_t> times;
  for (int64_t t = from; t <= to; t += step) times.push_back(t);
  return times;
}

// What RocksDB holds once the node is closed: chunk keys (partition, ref -> sample times),
// posting keys' partitions and tombstone keys.
struct DiskContents {
  std::vector<std::pair<int64_t, uint64_t>> chunk_series;  // one entry per chunk
  std::vector<int64_t> chunk_times;                        // every sample, every chunk
  std::vector<int64_t> posting_partitions;                 // one entry per posting key
  int tombstones = 0;
  // Shared timestamp columns: (partition, id) -> timestamps.
  std::map<std::pair<int64_t, uint64_t>, TimestampColumn> columns;
  // Packed chunks that name a column.
  int chunks_with_shared_timestamps = 0;
};

DiskContents ReadDisk(const std::string& dir) {
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (std::string name :
       {std::string(rocksdb::kDefaultColumnFamilyName), std::string(kSeriesFamily),
        std::string(kPostingsFamily), std::string(kChunksFamily), std::string(kHeadFamily),
        std::string(kTombstonesFamily)}) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  DiskContents contents;
  rocksdb::Status s =
      rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir, descriptors, &handles, &raw);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return contents;
  std::unique_ptr<rocksdb::DB> db(raw);
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[3]));
    // Columns sort after their partition's chunks: read them first.
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      int64_t partition = 0, unused = 0;
      uint64_t ref = 0;
      EXPECT_TRUE(ParseChunkKey(it->key().ToStringView(), &partition, &ref, &unused));
      if (ref != kTimestampColumnRef) continue;
      absl::StatusOr<TimestampColumn> column = DecodeTimestampColumn(it->value().ToStringView());
      EXPECT_TRUE(column.ok()) << column.status();
      const uint64_t id = DecodeUint64BE(it->key().ToStringView().substr(16));
      if (column.ok()) contents.columns[{partition, id}] = *column;
    }
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      int64_t partition = 0, min_time = 0;
      uint64_t ref = 0;
      EXPECT_TRUE(ParseChunkKey(it->key().ToStringView(), &partition, &ref, &min_time));
      if (ref == kTimestampColumnRef) continue;
      contents.chunk_series.emplace_back(partition, ref);
      const std::string_view bytes = it->value().ToStringView();
      const TimestampColumn* column = nullptr;
      if (std::optional<uint64_t> id = PackedChunkTimestampColumn(bytes)) {
        ++contents.chunks_with_shared_timestamps;
        auto found = contents.columns.find({partition, *id});
        EXPECT_NE(found, contents.columns.end()) << "a chunk names a missing column";
        if (found != contents.columns.end()) column = &found->second;
      }
      std::unique_ptr<model::SampleIterator> samples =
          column != nullptr ? NewPackedChunkIterator(bytes, INT64_MIN, INT64_MAX, column)
                            : NewChunkIterator(bytes);
      while (samples->Next()) contents.chunk_times.push_back(samples->At().timestamp_ms);
      EXPECT_TRUE(samples->status().ok()) << samples->status();
    }
    std::unique_ptr<rocksdb::Iterator> postings(
        db->NewIterator(rocksdb::ReadOptions(), handles[2]));
    for (postings->SeekToFirst(); postings->Valid(); postings->Next()) {
      contents.posting_partitions.push_back(DecodeInt64BE(postings->key().ToStringView()));
    }
    std::unique_ptr<rocksdb::Iterator> tombstones(
        db->NewIterator(rocksdb::ReadOptions(), handles[5]));
    for (tombstones->SeekToFirst(); tombstones->Valid(); tombstones->Next()) {
      ++contents.tombstones;
    }
  }
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    EXPECT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
  }
  return contents;
}

class NodeAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<base::TempDir> temp = base::TempDir::Create("node_admin_test");
    ASSERT_TRUE(temp.ok()) << temp.status();
    temp_ = *std::move(temp);
    options_.data_dir = temp_.path() + "/data";
    options_.max_samples_per_chunk = 4;
    options_.partition_length = absl::Hours(1);
    options_.maintenance_interval = absl::InfiniteDuration();
    options_.clock = [this] { return now_; };
  }

  std::unique_ptr<Node> OpenNode() {
    absl::StatusOr<std::unique_ptr<Node>> node = Node::Open(options_);
    EXPECT_TRUE(node.ok()) << node.status();
    return node.ok() ? std::move(*node) : nullptr;
  }

  void Write(Node& node, const model::Labels& labels, std::vector<model::Sample> samples) {
    model::WriteBatch batch;
    batch.series.push_back({labels, std::move(samples)});
    absl::Status status = node.Write(batch);
    ASSERT_TRUE(status.ok()) << status;
  }

  base::TempDir temp_;
  NodeOptions options_;
  absl::Time now_ = absl::UnixEpoch();
};

TEST_F(NodeAdminTest, ASnapshotIsADataDirectoryWithEverythingAcknowledged) {
  const model::Labels a = L({{"__name__", "m"}, {"job", "a"}});
  const model::Labels b = L({{"__name__", "m"}, {"job", "b"}});
  std::string name;
  {
    std::unique_ptr<Node> node = OpenNode();
    ASSERT_NE(node, nullptr);
    // Closed chunks, an open chunk of a few samples, and a deletion.
    Write(*node, a, Range(0, 2 * kHourMs, 10 * kMinMs));
    Write(*node, b, Range(0, 30 * kMinMs, 10 * kMinMs));
    ASSERT_TRUE(node->DeleteSeries({M(MatchType::kEqual, "job", "b")}, 0, 10 * kMinMs).ok());
    absl::StatusOr<std::string> snapshot = node->Snapshot();
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    name = *snapshot;
    EXPECT_THAT(name, ::testing::MatchesRegex("[0-9]{8}T[0-9]{6}Z-[0-9a-f]+"));
    // Later writes are not in it, and the node goes on as before.
    Write(*node, a, Range(3 * kHourMs, 3 * kHourMs, 1));
    EXPECT_EQ(Read(*node, 0, 4 * kHourMs)[0].second.size(), 14u);
  }
  options_.data_dir = absl::StrCat(options_.data_dir, "/snapshots/", name);
  std::unique_ptr<Node> copy = OpenNode();
  ASSERT_NE(copy, nullptr);
  auto read = Read(*copy, 0, 4 * kHourMs);
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].second, Times(0, 2 * kHourMs, 10 * kMinMs));
  EXPECT_EQ(read[1].second, Times(20 * kMinMs, 30 * kMinMs, 10 * kMinMs));
  // It takes writes like any data directory.
  Write(*copy, a, Range(4 * kHourMs, 4 * kHourMs, 1));
  EXPECT_EQ(Read(*copy, 0, 5 * kHourMs)[0].second.size(), 14u);
}

TEST_F(NodeAdminTest, RetentionDropsWholePartitionsAndTheirPostings) {
  options_.retention = absl::Hours(3);
  const model::Labels a = L({{"__name__", "m"}, {"job", "a"}});
  const model::Labels b = L({{"__name__", "m"}, {"job", "b"}});
  {
    std::unique_ptr<Node> node = OpenNode();
    ASSERT_NE(node, nullptr);
    Write(*node, a, Range(0, 6 * kHourMs - 1, 10 * kMinMs));
    Write(*node, b, Range(0, 2 * kHourMs - 1, 10 * kMinMs));
    // Now is 6h: partitions 0, 1 and 2 end at or before 3h, the cutoff.
    now_ = absl::FromUnixMillis(6 * kHourMs);
    ASSERT_TRUE(node->ApplyRetention(now_).ok());
    EXPECT_EQ(node->stats().partitions_dropped, 3);
    auto read = Read(*node, 0, 6 * kHourMs);
    ASSERT_EQ(read.size(), 1u);
    EXPECT_EQ(read[0].first, a.ToString());
    EXPECT_EQ(read[0].second, Times(3 * kHourMs, 6 * kHourMs - 1, 10 * kMinMs));
    absl::StatusOr<std::vector<std::string>> jobs = node->LabelValues("job", {}, 0, 6 * kHourMs);
    ASSERT_TRUE(jobs.ok()) << jobs.status();
    EXPECT_THAT(*jobs, ElementsAre("a"));
    // A second pass finds nothing left to drop.
    ASSERT_TRUE(node->ApplyRetention(now_).ok());
    EXPECT_EQ(node->stats().partitions_dropped, 3);
  }
  const DiskContents disk = ReadDisk(options_.data_dir);
  for (const auto& [partition, ref] : disk.chunk_series) EXPECT_GE(partition, 3);
  for (int64_t partition : disk.posting_partitions) EXPECT_GE(partition, 3);
  EXPECT_FALSE(disk.posting_partitions.empty());
  // A restart an hour later applies retention at once.
  now_ = absl::FromUnixMillis(7 * kHourMs);
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  auto read = Read(*node, 0, 7 * kHourMs);
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].second, Times(4 * kHourMs, 6 * kHourMs - 1, 10 * kMinMs));
}

TEST_F(NodeAdminTest, WithoutRetentionNothingIsDropped) {
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  const model::Labels a = L({{"__name__", "m"}, {"job", "a"}});
  Write(*node, a, Range(0, 2 * kHourMs, 10 * kMinMs));
  ASSERT_TRUE(node->ApplyRetention(absl::FromUnixMillis(1000 * kHourMs)).ok());
  auto read = Read(*node, 0, 2 * kHourMs);
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].second, Times(0, 2 * kHourMs, 10 * kMinMs));
  EXPECT_EQ(node->stats().partitions_dropped, 0);
}

TEST_F(NodeAdminTest, DeletedSamplesVanishFromReadsAtOnceAndAfterRestart) {
  const model::Labels a = L({{"__name__", "m"}, {"job", "a"}});
  const model::Labels b = L({{"__name__", "m"}, {"job", "b"}, {"only_b", "x"}});
  const std::vector<model::LabelMatcher> job_a = {M(MatchType::kEqual, "job", "a")};
  const std::vector<model::LabelMatcher> job_b = {M(MatchType::kEqual, "job", "b")};
  {
    std::unique_ptr<Node> node = OpenNode();
    ASSERT_NE(node, nullptr);
    Write(*node, a, Range(0, 190, 10));
    Write(*node, b, Range(0, 190, 10));
    ASSERT_TRUE(node->DeleteSeries(job_a, 30, 60).ok());
    ASSERT_TRUE(node->DeleteSeries(job_b, INT64_MIN, INT64_MAX).ok());
    EXPECT_EQ(node->stats().active_tombstoned_series, 2);

    std::vector<int64_t> expected_a = Times(0, 20, 10);
    for (int64_t t : Times(70, 190, 10)) expected_a.push_back(t);
    auto read = Read(*node, 0, 1000);
    ASSERT_EQ(read.size(), 1u);
    EXPECT_EQ(read[0].first, a.ToString());
    EXPECT_EQ(read[0].second, expected_a);
    // A range wholly inside a deletion selects nothing.
    EXPECT_THAT(Read(*node, 30, 60), IsEmpty());

    absl::StatusOr<std::vector<std::string>> jobs = node->LabelValues("job", {}, 0, 1000);
    ASSERT_TRUE(jobs.ok()) << jobs.status();
    EXPECT_THAT(*jobs, ElementsAre("a"));
    absl::StatusOr<std::vector<std::string>> names = node->LabelNames({}, 0, 1000);
    ASSERT_TRUE(names.ok()) << names.status();
    EXPECT_THAT(*names, ElementsAre("__name__", "job"));

    // The deletion ended at b's newest sample: later samples are not deleted.
    Write(*node, b, {{500, 5}});
    read = Read(*node, 0, 1000);
    ASSERT_EQ(read.size(), 2u);
    EXPECT_EQ(read[1].first, b.ToString());
    EXPECT_THAT(read[1].second, ElementsAre(500));
  }
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->stats().active_tombstoned_series, 2);
  auto read = Read(*node, 0, 1000);
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].second.size(), 16u);
  EXPECT_THAT(read[1].second, ElementsAre(500));
}

TEST_F(NodeAdminTest, CleanTombstonesRewritesChunksAndDropsEmptyPostings) {
  const model::Labels a = L({{"__name__", "m"}, {"job", "a"}});
  const model::Labels b = L({{"__name__", "m"}, {"job", "b"}});
  {
    std::unique_ptr<Node> node = OpenNode();
    ASSERT_NE(node, nullptr);
    // Chunks of 4: a's [30, 60] lies in written chunks, the open chunk holds [160, 190].
    Write(*node, a, Range(0, 190, 10));
    // b's first partition is all written; its open chunk is in the next partition.
    std::vector<model::Sample> b_samples = Range(0, 70, 10);
    b_samples.push_back({kHourMs, 1});
    Write(*node, b, b_samples);
    ASSERT_TRUE(node->DeleteSeries({M(MatchType::kEqual, "job", "a")}, 30, 60).ok());
    ASSERT_TRUE(node->DeleteSeries({M(MatchType::kEqual, "job", "b")}, 0, kHourMs - 1).ok());
    ASSERT_TRUE(node->CleanTombstones().ok());
    EXPECT_EQ(node->stats().active_tombstoned_series, 0);

    std::vector<int64_t> expected_a = Times(0, 20, 10);
    for (int64_t t : Times(70, 190, 10)) expected_a.push_back(t);
    auto read = Read(*node, 0, 2 * kHourMs);
    ASSERT_EQ(read.size(), 2u);
    EXPECT_EQ(read[0].second, expected_a);
    EXPECT_THAT(read[1].second, ElementsAre(kHourMs));
    // Without tombstones the postings answer alone: b left partition 0's.
    absl::StatusOr<std::vector<std::string>> jobs = node->LabelValues("job", {}, 0, kHourMs - 1);
    ASSERT_TRUE(jobs.ok()) << jobs.status();
    EXPECT_THAT(*jobs, ElementsAre("a"));
    // Writing on after the rewrite keeps working.
    Write(*node, a, {{200, 1}});
  }
  const DiskContents disk = ReadDisk(options_.data_dir);
  EXPECT_EQ(disk.tombstones, 0);
  for (int64_t t : disk.chunk_times) EXPECT_FALSE(t >= 30 && t <= 60) << t;
  // Refs count from 1 in order of first write: b is 2, and none of its chunks is left in 0.
  for (const auto& [partition, ref] : disk.chunk_series) EXPECT_FALSE(partition == 0 && ref == 2);
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  auto read = Read(*node, 0, 2 * kHourMs);
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].second.size(), 17u);
  EXPECT_THAT(read[1].second, ElementsAre(kHourMs));
}

TEST_F(NodeAdminTest, ClosedPartitionsGetOneChunkPerSeries) {
  const model::Labels a = L({{"__name__", "m"}, {"job", "a"}});
  const model::Labels b = L({{"__name__", "m"}, {"job", "b"}});
  std::vector<std::pair<std::string, std::vector<int64_t>>> before;
  {
    std::unique_ptr<Node> node = OpenNode();
    ASSERT_NE(node, nullptr);
    // Four hours at one minute, chunks of 4: 15 chunks per series and partition.
    Write(*node, a, Range(0, 4 * kHourMs - 1, kMinMs));
    Write(*node, b, Range(0, 4 * kHourMs - 1, kMinMs));
    before = Read(*node, 0, 4 * kHourMs);
    // At 3h30m partitions 0, 1 and 2 have ended; 3 is still written to.
    ASSERT_TRUE(
        node->CompactClosedPartitions(absl::FromUnixMillis(3 * kHourMs + 30 * kMinMs)).ok());
    EXPECT_EQ(node->stats().partitions_compacted, 3);
    EXPECT_EQ(Read(*node, 0, 4 * kHourMs), before);
    EXPECT_EQ(Read(*node, kHourMs + 7 * kMinMs, kHourMs + 9 * kMinMs)[0].second,
              Times(kHourMs + 7 * kMinMs, kHourMs + 9 * kMinMs, kMinMs));
    // Each partition is compacted once.
    ASSERT_TRUE(
        node->CompactClosedPartitions(absl::FromUnixMillis(3 * kHourMs + 40 * kMinMs)).ok());
    EXPECT_EQ(node->stats().partitions_compacted, 3);
  }
  const DiskContents disk = ReadDisk(options_.data_dir);
  std::map<std::pair<int64_t, uint64_t>, int> chunks;
  for (const auto& entry : disk.chunk_series) ++chunks[entry];
  for (int64_t partition = 0; partition < 3; ++partition) {
    EXPECT_EQ((chunks[{partition, 1}]), 1) << partition;
    EXPECT_EQ((chunks[{partition, 2}]), 1) << partition;
  }
  EXPECT_GT((chunks[{3, 1}]), 1);
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(Read(*node, 0, 4 * kHourMs), before);
  // Out-of-order samples still merge into a compacted partition.
  options_.out_of_order_window = absl::Hours(24);
  node.reset();
  node = OpenNode();
  ASSERT_NE(node, nullptr);
  Write(*node, a, {{30 * kMinMs + 1, 1}});
  node.reset();
  node = OpenNode();
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(Read(*node, 0, 4 * kHourMs)[0].second.size(), before[0].second.size() + 1);
}

TEST_F(NodeAdminTest, AnIdleSeriesOpenChunkIsMergedIntoItsClosedPartition) {
  const model::Labels idle = L({{"__name__", "m"}, {"job", "idle"}});
  const model::Labels active = L({{"__name__", "m"}, {"job", "active"}});
  {
    std::unique_ptr<Node> node = OpenNode();
    ASSERT_NE(node, nullptr);
    // Ten samples in partition 0: two closed chunks of 4, two samples still open in the head.
    Write(*node, idle, Range(0, 9 * kMinMs, kMinMs));
    Write(*node, active, Range(2 * kHourMs, 2 * kHourMs + 3 * kMinMs, kMinMs));
    ASSERT_TRUE(node->CompactClosedPartitions(absl::FromUnixMillis(2 * kHourMs + 30 * kMinMs))
                    .ok());
    // The close's checkpoint lets the idle series go: nothing of it may be written unmerged.
  }
  const DiskContents disk = ReadDisk(options_.data_dir);
  std::map<std::pair<int64_t, uint64_t>, int> chunks;
  for (const auto& entry : disk.chunk_series) ++chunks[entry];
  EXPECT_EQ((chunks[{0, 1}]), 1);
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  auto read = Read(*node, 0, 3 * kHourMs);
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[1].second, Times(0, 9 * kMinMs, kMinMs));
}

TEST_F(NodeAdminTest, CompactPacksASeriesSingleChunk) {
  // Prometheus-sized chunks: the open partition's 100 samples are one chunk per series.
  options_.max_samples_per_chunk = 120;
  std::vector<model::Sample> samples;
  for (int64_t i = 0; i < 100; ++i) samples.push_back({i * 15000 + (i * 7) % 5, i * 0.25});
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  Write(*node, L({{"__name__", "m"}, {"job", "a"}}), samples);
  Write(*node, L({{"__name__", "m"}, {"job", "b"}}), samples);
  const auto before = Read(*node, 0, kHourMs);
  ASSERT_TRUE(node->Compact().ok());
  EXPECT_EQ(Read(*node, 0, kHourMs), before);
  node.reset();
  const DiskContents disk = ReadDisk(options_.data_dir);
  EXPECT_EQ(disk.chunk_series.size(), 2u);
  EXPECT_EQ(disk.chunks_with_shared_timestamps, 2);
}

TEST_F(NodeAdminTest, CompactMergesTheOpenPartitionTooAndWritingGoesOn) {
  const model::Labels a = L({{"__name__", "m"}, {"job", "a"}});
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  Write(*node, a, Range(0, 30 * kMinMs, kMinMs));
  ASSERT_TRUE(node->Compact().ok());
  // Now is the epoch: partition 0 is open, so it is merged but not marked compacted.
  EXPECT_EQ(node->stats().partitions_compacted, 0);
  Write(*node, a, Range(31 * kMinMs, 50 * kMinMs, kMinMs));
  ASSERT_TRUE(node->Compact().ok());
  auto read = Read(*node, 0, kHourMs);
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].second, Times(0, 50 * kMinMs, kMinMs));
  node.reset();
  const DiskContents disk = ReadDisk(options_.data_dir);
  // One merged chunk, and the open chunk written at the close.
  EXPECT_LE(disk.chunk_series.size(), 2u);
}

TEST_F(NodeAdminTest, SeriesScrapedTogetherShareTimestampColumnsAfterCompaction) {
  // Three series of one scrape (the same jittered timestamps), one of another scrape.
  std::vector<model::Sample> scrape;
  std::vector<model::Sample> other;
  for (int64_t i = 0; i < 3 * 60; ++i) {
    scrape.push_back({i * kMinMs + (i * 7) % 5, static_cast<double>(i) * 0.1});
    other.push_back({i * kMinMs + 20000 + (i * 3) % 4, static_cast<double>(i * i)});
  }
  const model::Labels a = L({{"__name__", "m"}, {"job", "a"}});
  const model::Labels b = L({{"__name__", "m"}, {"job", "b"}});
  const model::Labels c = L({{"__name__", "m"}, {"job", "c"}});
  const model::Labels d = L({{"__name__", "m"}, {"job", "d"}});
  std::vector<std::pair<std::string, std::vector<int64_t>>> before;
  {
    std::unique_ptr<Node> node = OpenNode();
    ASSERT_NE(node, nullptr);
    for (const model::Labels* labels : {&a, &b, &c}) Write(*node, *labels, scrape);
    Write(*node, d, other);
    before = Read(*node, 0, 4 * kHourMs);
    now_ = absl::FromUnixMillis(3 * kHourMs + 30 * kMinMs);
    ASSERT_TRUE(node->Compact().ok());
    EXPECT_EQ(Read(*node, 0, 4 * kHourMs), before);
    // A narrow range inside a shared chunk, and one sample.
    std::vector<int64_t> narrow;
    for (const model::Sample& sample : scrape) {
      const int64_t t = sample.timestamp_ms;
      if (t >= kHourMs + 5 * kMinMs && t <= kHourMs + 7 * kMinMs) narrow.push_back(t);
    }
    EXPECT_EQ(Read(*node, kHourMs + 5 * kMinMs, kHourMs + 7 * kMinMs)[1].second, narrow);
  }
  {
    const DiskContents disk = ReadDisk(options_.data_dir);
    // Per partition: one column for the three series, one for the fourth.
    EXPECT_EQ(disk.columns.size(), 6u);
    EXPECT_EQ(disk.chunks_with_shared_timestamps, 12);
  }
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(Read(*node, 0, 4 * kHourMs), before);
  // A second compaction of the same data reuses the stored columns.
  ASSERT_TRUE(node->Compact().ok());
  EXPECT_EQ(Read(*node, 0, 4 * kHourMs), before);
  // Deleting rewrites a shared chunk on its own; the others keep reading the column.
  ASSERT_TRUE(node->DeleteSeries({M(MatchType::kEqual, "job", "b")}, kHourMs, 2 * kHourMs - 1)
                  .ok());
  ASSERT_TRUE(node->CleanTombstones().ok());
  auto read = Read(*node, 0, 4 * kHourMs);
  ASSERT_EQ(read.size(), 4u);
  EXPECT_EQ(read[0].second, before[0].second);
  EXPECT_EQ(read[1].second.size(), before[1].second.size() - 60);
  EXPECT_EQ(read[2].second, before[2].second);
  node.reset();
  const DiskContents disk = ReadDisk(options_.data_dir);
  EXPECT_EQ(disk.chunks_with_shared_timestamps, 11);
  // Retention drops the columns with their partitions.
  options_.retention = absl::Hours(1);
  now_ = absl::FromUnixMillis(5 * kHourMs);
  node = OpenNode();
  ASSERT_NE(node, nullptr);
  ASSERT_TRUE(node->ApplyRetention(now_).ok());
  node.reset();
  EXPECT_THAT(ReadDisk(options_.data_dir).columns, IsEmpty());
}

}  // namespace
}  // namespace kura::storage
