#include "storage/node.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/keys.h"

namespace kura::storage {
namespace {

using model::MatchType;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kHourMs = 3600 * 1000;

model::Labels L(std::vector<model::Label> labels) {
  return model::Labels::FromUnsorted(std::move(labels));
}

model::LabelMatcher M(MatchType type, std::string name, std::string value) {
  absl::StatusOr<model::LabelMatcher> m =
      model::LabelMatcher::Create(type, std::move(name), std::move(value));
  EXPECT_TRUE(m.ok()) << m.status();
  return *m;
}

model::WriteBatch Batch(const model::Labels& labels, std::vector<model::Sample> samples) {
  model::WriteBatch batch;
  batch.series.push_back({labels, std::move(samples)});
  return batch;
}

std::vector<model::Sample> Range(int64_t from, int64_t to, int64_t step) {
  std::vector<model::Sample> samples;
  for (int64_t t = from; t <= to; t += step) samples.push_back({t, static_cast<double>(t) / 10});
  return samples;
}

using SeriesSamples = std::pair<std::string, std::vector<std::pair<int64_t, double>>>;

std::vector<SeriesSamples> ReadAll(model::SeriesReader& reader,
                                   std::vector<model::LabelMatcher> matchers, int64_t min_time,
                                   int64_t max_time) {
  absl::StatusOr<std::unique_ptr<model::SeriesSet>> set =
      reader.Select(matchers, min_time, max_time);
  EXPECT_TRUE(set.ok()) << set.status();
  if (!set.ok()) return {};
  std::vector<SeriesSamples> out;
  while ((*set)->Next()) {
    const model::Series& series = (*set)->At();
    SeriesSamples entry{series.labels().ToString(), {}};
    std::unique_ptr<model::SampleIterator> it = series.NewIterator();
    while (it->Next()) entry.second.emplace_back(it->At().timestamp_ms, it->At().value);
    EXPECT_TRUE(it->status().ok()) << it->status();
    out.push_back(std::move(entry));
  }
  EXPECT_TRUE((*set)->status().ok());
  return out;
}

std::vector<std::string> Names(const std::vector<SeriesSamples>& series) {
  std::vector<std::string> names;
  for (const auto& s : series) names.push_back(s.first);
  return names;
}

std::vector<std::pair<int64_t, double>> Pairs(const std::vector<model::Sample>& samples) {
  std::vector<std::pair<int64_t, double>> out;
  for (const auto& s : samples) out.emplace_back(s.timestamp_ms, s.value);
  return out;
}

class NodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<base::TempDir> temp = base::TempDir::Create("node_test");
    ASSERT_TRUE(temp.ok()) << temp.status();
    temp_ = *std::move(temp);
    dir_ = temp_.path();
    options_.data_dir = dir_ + "/data";
  }

  std::unique_ptr<Node> OpenNode() {
    absl::StatusOr<std::unique_ptr<Node>> node = Node::Open(options_);
    EXPECT_TRUE(node.ok()) << node.status();
    return node.ok() ? std::move(*node) : nullptr;
  }

  base::TempDir temp_;  // destroyed after the members below, which use it
  std::string dir_;
  NodeOptions options_;
};

TEST_F(NodeTest, WriteThenSelectRoundTrip) {
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  model::WriteBatch batch;
  batch.series.push_back({L({{"__name__", "up"}, {"job", "b"}}), {{1000, 1}, {2000, 0}}});
  batch.series.push_back({L({{"__name__", "up"}, {"job", "a"}}), {{1000, model::StaleNaN()}}});
  ASSERT_TRUE(node->Write(batch).ok());

  std::vector<SeriesSamples> got =
      ReadAll(*node, {M(MatchType::kEqual, "__name__", "up")}, 0, 10000);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].first, "up{job=\"a\"}");
  ASSERT_EQ(got[0].second.size(), 1u);
  EXPECT_TRUE(model::IsStaleNaN(got[0].second[0].second));
  EXPECT_EQ(got[1].first, "up{job=\"b\"}");
  EXPECT_THAT(got[1].second, ElementsAre(std::pair<int64_t, double>{1000, 1},
                                         std::pair<int64_t, double>{2000, 0}));
  // The range is inclusive on both ends and trims the samples.
  got = ReadAll(*node, {M(MatchType::kEqual, "job", "b")}, 2000, 2000);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].second.size(), 1u);
  EXPECT_TRUE(ReadAll(*node, {M(MatchType::kEqual, "job", "zzz")}, 0, 10000).empty());

  NodeStats stats = node->stats();
  EXPECT_EQ(stats.samples_appended, 3);
  EXPECT_EQ(stats.series_created, 2);
  EXPECT_EQ(stats.active_series, 2);
}

TEST_F(NodeTest, MatchersOfEveryTypeIncludingEmptyMatching) {
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  model::WriteBatch batch;
  batch.series.push_back({L({{"__name__", "m"}, {"job", "a"}}), {{1, 1}}});
  batch.series.push_back({L({{"__name__", "m"}, {"job", "ab"}}), {{1, 1}}});
  batch.series.push_back({L({{"__name__", "m"}, {"job", "b"}, {"env", "x"}}), {{1, 1}}});
  batch.series.push_back({L({{"__name__", "m"}}), {{1, 1}}});
  batch.series.push_back({L({{"__name__", "other"}, {"job", "a"}}), {{1, 1}}});
  ASSERT_TRUE(node->Write(batch).ok());
  const model::LabelMatcher name = M(MatchType::kEqual, "__name__", "m");
  auto select = [&](model::LabelMatcher m) { return Names(ReadAll(*node, {name, m}, 0, 10)); };

  EXPECT_THAT(select(M(MatchType::kEqual, "job", "a")), ElementsAre("m{job=\"a\"}"));
  EXPECT_THAT(select(M(MatchType::kNotEqual, "job", "a")),
              ElementsAre("m", "m{env=\"x\", job=\"b\"}", "m{job=\"ab\"}"));
  EXPECT_THAT(select(M(MatchType::kRegexMatch, "job", "a|b")),
              ElementsAre("m{env=\"x\", job=\"b\"}", "m{job=\"a\"}"));
  EXPECT_THAT(select(M(MatchType::kRegexMatch, "job", "a.*")),
              ElementsAre("m{job=\"a\"}", "m{job=\"ab\"}"));
  EXPECT_THAT(select(M(MatchType::kRegexNoMatch, "job", "a.*")),
              ElementsAre("m", "m{env=\"x\", job=\"b\"}"));
  // Matchers that match "" select series without the label.
  EXPECT_THAT(select(M(MatchType::kEqual, "job", "")), ElementsAre("m"));
  EXPECT_THAT(select(M(MatchType::kRegexMatch, "job", "|a")), ElementsAre("m", "m{job=\"a\"}"));
  EXPECT_THAT(select(M(MatchType::kNotEqual, "env", "x")),
              ElementsAre("m", "m{job=\"a\"}", "m{job=\"ab\"}"));
  EXPECT_THAT(select(M(MatchType::kRegexMatch, "nope", ".*")).size(), 4u);
  EXPECT_TRUE(select(M(MatchType::kRegexMatch, "nope", ".+")).empty());
  EXPECT_THAT(select(M(MatchType::kNotEqual, "job", "")),
              ElementsAre("m{env=\"x\", job=\"b\"}", "m{job=\"a\"}", "m{job=\"ab\"}"));
  // Without the name matcher: one regex alone.
  EXPECT_THAT(Names(ReadAll(*node, {M(MatchType::kRegexMatch, "job", "a")}, 0, 10)),
              ElementsAre("m{job=\"a\"}", "other{job=\"a\"}"));
}

TEST_F(NodeTest, SeriesSpanningManyChunksAndTwoPartitions) {
  options_.max_samples_per_chunk = 7;
  options_.partition_length = absl::Hours(1);
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  const model::Labels labels = L({{"__name__", "cpu"}});
  // 15s steps from 30 minutes before to 30 minutes after a partition boundary, in batches.
  std::vector<model::Sample> all = Range(kHourMs - 1800 * 1000, kHourMs + 1800 * 1000, 15000);
  for (size_t i = 0; i < all.size(); i += 10) {
    std::vector<model::Sample> part(all.begin() + i, all.begin() + std::min(all.size(), i + 10));
    ASSERT_TRUE(node->Write(Batch(labels, part)).ok());
  }
  const model::LabelMatcher m = M(MatchType::kEqual, "__name__", "cpu");
  std::vector<SeriesSamples> got = ReadAll(*node, {m}, INT64_MIN, INT64_MAX);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].second, Pairs(all));
  EXPECT_GT(node->stats().chunks_written, static_cast<int64_t>(all.size() / 7) - 2);

  // A window crossing the boundary, and one inside each partition.
  for (auto [from, to] : {std::pair<int64_t, int64_t>{kHourMs - 100000, kHourMs + 100000},
                          {kHourMs - 1800 * 1000, kHourMs - 1},
                          {kHourMs + 7, kHourMs + 1000000}}) {
    std::vector<std::pair<int64_t, double>> want;
    for (const model::Sample& s : all) {
      if (s.timestamp_ms >= from && s.timestamp_ms <= to)
        want.emplace_back(s.timestamp_ms, s.value);
    }
    got = ReadAll(*node, {m}, from, to);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].second, want) << from << ".." << to;
  }
  // Outside every partition with data: nothing.
  EXPECT_TRUE(ReadAll(*node, {m}, 10 * kHourMs, 11 * kHourMs).empty());

  node.reset();
  node = OpenNode();
  ASSERT_NE(node, nullptr);
  got = ReadAll(*node, {m}, INT64_MIN, INT64_MAX);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].second, Pairs(all));
}

// A read whose window starts inside a series' written chunks skips the chunks that end
// before it; windows starting at, just before and just after every chunk boundary get exactly
// their samples, read sample by sample and in bulk.
TEST_F(NodeTest, WindowsStartingAnywhereAmongWrittenChunksGetExactlyTheirSamples) {
  options_.max_samples_per_chunk = 7;
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  const std::vector<model::Sample> all = Range(kHourMs, kHourMs + 99 * 15000, 15000);
  for (const char* name : {"a", "b"}) {
    for (size_t i = 0; i < all.size(); i += 10) {
      std::vector<model::Sample> part(all.begin() + i,
                                      all.begin() + std::min(all.size(), i + 10));
      ASSERT_TRUE(node->Write(Batch(L({{"__name__", "m"}, {"s", name}}), part)).ok());
    }
  }
  ASSERT_GT(node->stats().chunks_written, 20);
  const model::LabelMatcher m = M(MatchType::kEqual, "__name__", "m");
  for (int64_t from = all.front().timestamp_ms - 5000; from <= all.back().timestamp_ms + 5000;
       from += 5000) {
    for (int64_t to : {from + 60000, INT64_MAX}) {
      std::vector<std::pair<int64_t, double>> want;
      for (const model::Sample& s : all) {
        if (s.timestamp_ms >= from && s.timestamp_ms <= to) {
          want.emplace_back(s.timestamp_ms, s.value);
        }
      }
      std::vector<SeriesSamples> got = ReadAll(*node, {m}, from, to);
      ASSERT_EQ(got.size(), 2u) << from;  // the partition's postings name both
      for (const SeriesSamples& series : got) EXPECT_EQ(series.second, want) << from << ".." << to;

      absl::StatusOr<std::unique_ptr<model::SeriesSet>> set = node->Select({m}, from, to);
      ASSERT_TRUE(set.ok()) << set.status();
      while ((*set)->Next()) {
        std::vector<model::Sample> bulk;
        ASSERT_TRUE((*set)->At().NewIterator()->AppendRemaining(&bulk).ok());
        EXPECT_EQ(Pairs(bulk), want) << from << ".." << to;
      }
    }
  }
}

// The series of one query share RocksDB iterators: series read in turn, interleaved, stopped
// early or read twice must each still see only their own samples, across both partitions.
TEST_F(NodeTest, SeriesOfOneQueryReadInAnyOrderSeeTheirOwnSamples) {
  options_.max_samples_per_chunk = 5;
  options_.partition_length = absl::Hours(1);
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  constexpr int kSeries = 4;
  const std::vector<model::Sample> all = Range(kHourMs - 600 * 1000, kHourMs + 600 * 1000, 15000);
  for (int i = 0; i < kSeries; ++i) {
    std::vector<model::Sample> samples = all;
    for (model::Sample& s : samples) s.value += 1000 * i;
    ASSERT_TRUE(
        node->Write(Batch(L({{"__name__", "m"}, {"i", absl::StrCat(i)}}), samples)).ok());
  }
  ASSERT_GT(node->stats().chunks_written, 4 * kSeries);  // most samples are in written chunks
  absl::StatusOr<std::unique_ptr<model::SeriesSet>> set =
      node->Select({M(MatchType::kEqual, "__name__", "m")}, INT64_MIN, INT64_MAX);
  ASSERT_TRUE(set.ok()) << set.status();
  std::vector<std::unique_ptr<model::SampleIterator>> its;
  while ((*set)->Next()) its.push_back((*set)->At().NewIterator());
  ASSERT_EQ(its.size(), static_cast<size_t>(kSeries));
  // Series 0 stops after 3 samples; the others advance one sample each in turn.
  for (int k = 0; k < 3; ++k) ASSERT_TRUE(its[0]->Next());
  its[0].reset();
  std::vector<std::vector<model::Sample>> got(kSeries);
  for (bool any = true; any;) {
    any = false;
    for (int i = 1; i < kSeries; ++i) {
      if (its[i]->Next()) {
        got[i].push_back(its[i]->At());
        any = true;
      }
    }
  }
  ASSERT_TRUE((*set)->status().ok());
  for (int i = 1; i < kSeries; ++i) {
    ASSERT_TRUE(its[i]->status().ok()) << its[i]->status();
    std::vector<model::Sample> want = all;
    for (model::Sample& s : want) s.value += 1000 * i;
    EXPECT_EQ(Pairs(got[i]), Pairs(want)) << "series " << i;
  }
  // Read whole again after the set's iterators went back to its pool.
  its.clear();
  std::vector<SeriesSamples> again =
      ReadAll(*node, {M(MatchType::kEqual, "__name__", "m")}, INT64_MIN, INT64_MAX);
  ASSERT_EQ(again.size(), static_cast<size_t>(kSeries));
  for (int i = 0; i < kSeries; ++i) {
    std::vector<model::Sample> want = all;
    for (model::Sample& s : want) s.value += 1000 * i;
    EXPECT_EQ(again[i].second, Pairs(want)) << "series " << i;
  }
}

TEST_F(NodeTest, OutOfOrderAndDuplicates) {
  options_.max_samples_per_chunk = 4;
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  const model::Labels a = L({{"__name__", "a"}});
  const model::Labels b = L({{"__name__", "b"}});
  const std::vector<model::Sample> first = Range(10, 100, 10);
  ASSERT_TRUE(node->Write(Batch(a, first)).ok());
  // A retry of the whole batch (some samples in written chunks, some in the head) is accepted.
  ASSERT_TRUE(node->Write(Batch(a, first)).ok());
  EXPECT_EQ(node->stats().samples_appended, 10);

  // Rejected batches leave nothing behind, not even the new series in them.
  model::WriteBatch bad;
  bad.series.push_back({b, {{5, 1}}});
  bad.series.push_back({a, {{30, 99}}});
  absl::Status status = node->Write(bad);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("duplicate sample for timestamp"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("in series a"));

  bad.series[1] = {a, {{95, 1}, {200, 1}}};
  status = node->Write(bad);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("out of order sample"));
  bad.series[1] = {a, {{5, 1}}};
  EXPECT_EQ(node->Write(bad).code(), absl::StatusCode::kInvalidArgument);

  EXPECT_TRUE(ReadAll(*node, {M(MatchType::kEqual, "__name__", "b")}, 0, 1000).empty());
  absl::StatusOr<std::vector<std::string>> names = node->LabelValues("__name__", {}, 0, 1000);
  ASSERT_TRUE(names.ok());
  EXPECT_THAT(*names, ElementsAre("a"));
  std::vector<SeriesSamples> got = ReadAll(*node, {M(MatchType::kEqual, "__name__", "a")}, 0, 1000);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].second, Pairs(first));
  NodeStats stats = node->stats();
  EXPECT_EQ(stats.samples_appended, 10);
  EXPECT_EQ(stats.series_created, 1);
  EXPECT_EQ(stats.out_of_order_samples, 3);

  // The same series twice in one batch is merged; an identical duplicate inside it is dropped.
  model::WriteBatch twice;
  twice.series.push_back({a, {{130, 13}, {110, 11}}});
  twice.series.push_back({a, {{120, 12}, {130, 13}}});
  ASSERT_TRUE(node->Write(twice).ok());
  twice.series[1].samples = {{140, 1}, {140, 2}};
  EXPECT_EQ(node->Write(twice).code(), absl::StatusCode::kInvalidArgument);

  // After a restart the head knows only what is stored; retries still pass, old samples don't.
  node.reset();
  node = OpenNode();
  ASSERT_NE(node, nullptr);
  ASSERT_TRUE(node->Write(Batch(a, first)).ok());
  EXPECT_EQ(node->Write(Batch(a, {{125, 1}})).code(), absl::StatusCode::kInvalidArgument);
  got = ReadAll(*node, {M(MatchType::kEqual, "__name__", "a")}, 0, 1000);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].second.size(), 13u);
  EXPECT_EQ(node->stats().samples_appended, 0);
}

TEST_F(NodeTest, ReopenAfterCloseRecoversEverythingAndEmptiesTheWal) {
  options_.max_samples_per_chunk = 5;
  const model::Labels labels = L({{"__name__", "x"}, {"i", "1"}});
  const std::vector<model::Sample> samples = Range(1000, 13000, 1000);  // 2 chunks + 3 open
  {
    std::unique_ptr<Node> node = OpenNode();
    ASSERT_NE(node, nullptr);
    ASSERT_TRUE(node->Write(Batch(labels, samples)).ok());
  }
  {
    // The clean close checkpointed the open chunk and deleted the WAL: one empty segment is
    // left, the one appends would have gone to next.
    int segments = 0;
    for (const auto& entry :
         std::filesystem::directory_iterator(std::filesystem::path(options_.data_dir) / "wal")) {
      ++segments;
      EXPECT_EQ(entry.file_size(), 0u) << entry.path();
    }
    EXPECT_EQ(segments, 1);
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, {}},
        {std::string(kSeriesFamily), {}},
        {std::string(kPostingsFamily), {}},
        {std::string(kChunksFamily), {}},
        {std::string(kHeadFamily), {}}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    ASSERT_TRUE(rocksdb::DB::OpenForReadOnly({}, options_.data_dir, families, &handles, &raw).ok());
    std::unique_ptr<rocksdb::Iterator> it(raw->NewIterator({}, handles[3]));
    int chunks = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++chunks;
    EXPECT_EQ(chunks, 2);
    it.reset();
    for (auto* h : handles) ASSERT_TRUE(raw->DestroyColumnFamilyHandle(h).ok());
    delete raw;
  }
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->stats().wal_replayed_samples, 0);
  std::vector<SeriesSamples> got = ReadAll(*node, {M(MatchType::kEqual, "i", "1")}, 0, 1 << 30);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].second, Pairs(samples));
  // The restored head continues where it stopped.
  ASSERT_TRUE(node->Write(Batch(labels, {{14000, 1}})).ok());
  EXPECT_EQ(node->Write(Batch(labels, {{13500, 1}})).code(), absl::StatusCode::kInvalidArgument);
  got = ReadAll(*node, {M(MatchType::kEqual, "i", "1")}, 0, 1 << 30);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].second.size(), samples.size() + 1);
}

TEST_F(NodeTest, ReopenAfterKillRecoversAcknowledgedSamples) {
  options_.max_samples_per_chunk = 8;
  const model::Labels a = L({{"__name__", "a"}});
  const model::Labels b = L({{"__name__", "b"}, {"x", "y"}});
  std::vector<model::Sample> samples = Range(0, 290000, 10000);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child writes and dies without closing anything.
    absl::StatusOr<std::unique_ptr<Node>> node = Node::Open(options_);
    if (!node.ok()) _exit(2);
    for (size_t i = 0; i < samples.size(); i += 3) {
      std::vector<model::Sample> part(samples.begin() + i,
                                      samples.begin() + std::min(samples.size(), i + 3));
      model::WriteBatch batch;
      batch.series.push_back({a, part});
      batch.series.push_back({b, part});
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
  EXPECT_GT(node->stats().wal_replayed_samples, 0);
  std::vector<SeriesSamples> got =
      ReadAll(*node, {M(MatchType::kRegexMatch, "__name__", "a|b")}, INT64_MIN, INT64_MAX);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].first, "a");
  EXPECT_EQ(got[0].second, Pairs(samples));
  EXPECT_EQ(got[1].first, "b{x=\"y\"}");
  EXPECT_EQ(got[1].second, Pairs(samples));
  // Recovery is itself recoverable: a second restart reads the same.
  node.reset();
  node = OpenNode();
  ASSERT_NE(node, nullptr);
  got = ReadAll(*node, {M(MatchType::kEqual, "__name__", "b")}, INT64_MIN, INT64_MAX);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].second, Pairs(samples));
}

// The crash test's writer, run in a process of its own: this binary started again with
// KURA_CRASH_WRITER_DIR set. It writes step after step and reports each acknowledged step on
// file descriptor 3 until it is killed. (A forked child of the test would share its RocksDB
// thread pools' state without their threads.)
constexpr int kCrashSeries = 20;

model::Labels CrashSeriesLabels(int i) { return L({{"__name__", "s"}, {"i", std::to_string(i)}}); }

// Step n writes timestamp n*1000 to every series; the value depends on both, so a sample from
// the wrong step or series shows.
double CrashValue(int64_t step, int series) { return static_cast<double>(step) * 1.5 + series; }

NodeOptions CrashOptions(std::string data_dir) {
  NodeOptions options;
  options.data_dir = std::move(data_dir);
  options.max_samples_per_chunk = 8;
  options.checkpoint_wal_bytes = 4096;  // checkpoints all the time, so kills land in them
  return options;
}

TEST(NodeCrashWriterHelper, WritesUntilKilled) {
  const char* dir = std::getenv("KURA_CRASH_WRITER_DIR");
  const char* first = std::getenv("KURA_CRASH_WRITER_FIRST");
  if (dir == nullptr || first == nullptr) GTEST_SKIP() << "run by SurvivesRepeatedKills only";
  absl::StatusOr<std::unique_ptr<Node>> node = Node::Open(CrashOptions(dir));
  ASSERT_TRUE(node.ok()) << node.status();
  for (int64_t step = std::stoll(first); step < std::stoll(first) + 100000; ++step) {
    model::WriteBatch batch;
    for (int i = 0; i < kCrashSeries; ++i) {
      batch.series.push_back({CrashSeriesLabels(i), {{step * 1000, CrashValue(step, i)}}});
    }
    ASSERT_TRUE((*node)->Write(batch).ok());
    ASSERT_EQ(write(3, &step, sizeof(step)), static_cast<ssize_t>(sizeof(step)));
  }
}

// Kills a writer process at random points, again and again: while it recovers, between
// writes, in the middle of a write or a checkpoint. Every write it acknowledged must survive
// every later crash.
TEST_F(NodeTest, SurvivesRepeatedKillsAtRandomPoints) {
  constexpr int kIterations = 60;
  std::mt19937 rng(20261129);
  int64_t acked = -1;  // every step up to this one was acknowledged
  for (int iteration = 0; iteration < kIterations; ++iteration) {
    // Both ends close on exec and sit above 3, so the writer gets exactly the write end as
    // its descriptor 3.
    int raw[2];
    ASSERT_EQ(pipe2(raw, O_CLOEXEC), 0);
    const int fds[2] = {fcntl(raw[0], F_DUPFD_CLOEXEC, 10), fcntl(raw[1], F_DUPFD_CLOEXEC, 10)};
    close(raw[0]);
    close(raw[1]);
    ASSERT_GE(fds[0], 10);
    ASSERT_GE(fds[1], 10);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 3);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);  // its banners
    std::vector<std::string> env_strings = {"KURA_CRASH_WRITER_DIR=" + options_.data_dir,
                                            "KURA_CRASH_WRITER_FIRST=" + std::to_string(acked + 1)};
    std::vector<char*> envp;
    for (std::string& e : env_strings) envp.push_back(e.data());
    for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
    envp.push_back(nullptr);
    std::string exe = "/proc/self/exe";
    std::string filter = "--gtest_filter=NodeCrashWriterHelper.WritesUntilKilled";
    char* argv[] = {exe.data(), filter.data(), nullptr};
    pid_t child = 0;
    ASSERT_EQ(posix_spawn(&child, exe.c_str(), &actions, nullptr, argv, envp.data()), 0);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    // Kill after a random number of acknowledgements; sometimes before the first, while the
    // writer is still recovering.
    const int acks_before_kill = static_cast<int>(rng() % 150);
    int64_t step = 0;
    int acks = 0;
    for (; acks < acks_before_kill && read(fds[0], &step, sizeof(step)) == sizeof(step); ++acks) {
      acked = step;
    }
    if (acks_before_kill == 0) usleep(rng() % 50000);
    kill(child, SIGKILL);
    int wait_status = 0;
    ASSERT_EQ(waitpid(child, &wait_status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(wait_status))
        << "writer exited with " << WEXITSTATUS(wait_status) << " in iteration " << iteration
        << " after " << acks << " of " << acks_before_kill << " acknowledgements";
    // Acknowledgements already in the pipe were given before the kill.
    while (read(fds[0], &step, sizeof(step)) == sizeof(step)) acked = step;
    close(fds[0]);
    // Check now and then; otherwise crash straight into the next recovery.
    if (iteration % 10 != 9) continue;
    absl::StatusOr<std::unique_ptr<Node>> node = Node::Open(CrashOptions(options_.data_dir));
    ASSERT_TRUE(node.ok()) << node.status();
    std::vector<SeriesSamples> got =
        ReadAll(**node, {M(MatchType::kEqual, "__name__", "s")}, INT64_MIN, INT64_MAX);
    ASSERT_EQ(got.size(), static_cast<size_t>(kCrashSeries)) << "iteration " << iteration;
    for (const SeriesSamples& series : got) {
      const int i = std::stoi(series.first.substr(series.first.find('"') + 1));
      // Every acknowledged step, and maybe a few written but not yet acknowledged.
      ASSERT_GE(static_cast<int64_t>(series.second.size()), acked + 1)
          << series.first << " after iteration " << iteration;
      for (size_t k = 0; k < series.second.size(); ++k) {
        ASSERT_EQ(series.second[k].first, static_cast<int64_t>(k) * 1000) << series.first;
        ASSERT_EQ(series.second[k].second, CrashValue(static_cast<int64_t>(k), i)) << series.first;
      }
    }
    // The next writer goes on from what is stored.
    acked = static_cast<int64_t>(got[0].second.size()) - 1;
  }
}

TEST_F(NodeTest, IdleSeriesLeaveTheHeadAndStayReadable) {
  options_.partition_length = absl::Hours(1);
  const model::Labels idle = L({{"__name__", "idle"}});
  const model::Labels busy = L({{"__name__", "busy"}});
  {
    std::unique_ptr<Node> node = OpenNode();
    ASSERT_NE(node, nullptr);
    ASSERT_TRUE(node->Write(Batch(idle, {{10, 1}, {20, 2}})).ok());
    ASSERT_TRUE(node->Write(Batch(busy, {{3 * kHourMs, 1}})).ok());
    EXPECT_EQ(node->stats().active_series, 2);
  }
  std::unique_ptr<Node> node = OpenNode();  // the clean close checkpointed
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->stats().active_series, 1);
  std::vector<SeriesSamples> got =
      ReadAll(*node, {M(MatchType::kEqual, "__name__", "idle")}, 0, kHourMs);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].second.size(), 2u);
  // What was stored still decides what is a retry and what is out of order.
  EXPECT_TRUE(node->Write(Batch(idle, {{20, 2}})).ok());
  EXPECT_EQ(node->Write(Batch(idle, {{15, 2}})).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(node->Write(Batch(idle, {{30, 3}})).ok());
  EXPECT_EQ(node->stats().active_series, 2);
  got = ReadAll(*node, {M(MatchType::kEqual, "__name__", "idle")}, 0, kHourMs);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].second.size(), 3u);
}

TEST_F(NodeTest, LabelNamesAndValues) {
  options_.partition_length = absl::Hours(1);
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  model::WriteBatch batch;
  batch.series.push_back({L({{"__name__", "up"}, {"job", "api"}, {"zone", "a"}}), {{10, 1}}});
  batch.series.push_back({L({{"__name__", "up"}, {"job", "db"}}), {{10, 1}}});
  batch.series.push_back({L({{"__name__", "up"}, {"jobs", "9"}}), {{10, 1}}});
  batch.series.push_back({L({{"__name__", "late"}, {"late", "yes"}}), {{5 * kHourMs, 1}}});
  ASSERT_TRUE(node->Write(batch).ok());

  absl::StatusOr<std::vector<std::string>> names = node->LabelNames({}, 0, kHourMs);
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(*names, ElementsAre("__name__", "job", "jobs", "zone"));
  names = node->LabelNames({}, INT64_MIN, INT64_MAX);
  ASSERT_TRUE(names.ok());
  EXPECT_THAT(*names, ElementsAre("__name__", "job", "jobs", "late", "zone"));
  names = node->LabelNames({M(MatchType::kEqual, "job", "db")}, 0, kHourMs);
  ASSERT_TRUE(names.ok());
  EXPECT_THAT(*names, ElementsAre("__name__", "job"));

  absl::StatusOr<std::vector<std::string>> values = node->LabelValues("job", {}, 0, kHourMs);
  ASSERT_TRUE(values.ok());
  EXPECT_THAT(*values, ElementsAre("api", "db"));
  values = node->LabelValues("__name__", {}, 0, 10 * kHourMs);
  ASSERT_TRUE(values.ok());
  EXPECT_THAT(*values, ElementsAre("late", "up"));
  values = node->LabelValues("__name__", {}, 4 * kHourMs, 10 * kHourMs);
  ASSERT_TRUE(values.ok());
  EXPECT_THAT(*values, ElementsAre("late"));
  values = node->LabelValues("job", {M(MatchType::kEqual, "zone", "a")}, 0, kHourMs);
  ASSERT_TRUE(values.ok());
  EXPECT_THAT(*values, ElementsAre("api"));
  values = node->LabelValues("nope", {}, 0, kHourMs);
  ASSERT_TRUE(values.ok());
  EXPECT_TRUE(values->empty());
}

TEST_F(NodeTest, ReadsWhileWritingSeeEveryAcknowledgedSampleOnce) {
  options_.max_samples_per_chunk = 3;
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  const model::Labels labels = L({{"__name__", "c"}});
  constexpr int64_t kBatches = 300;
  std::atomic<int64_t> acknowledged{0};
  std::atomic<bool> finished{false};
  std::thread writer([&] {
    for (int64_t i = 1; i <= kBatches; ++i) {
      if (!node->Write(Batch(labels, {{i, static_cast<double>(i)}})).ok()) break;
      acknowledged.store(i);
    }
    finished.store(true);
  });
  const model::LabelMatcher m = M(MatchType::kEqual, "__name__", "c");
  bool last_round = false;
  while (!last_round) {
    last_round = finished.load();
    const int64_t before = acknowledged.load();
    std::vector<SeriesSamples> got = ReadAll(*node, {m}, 0, kBatches);
    // Samples 1..n for some n >= what was acknowledged before the read: in order, no gaps.
    const size_t n = got.empty() ? 0 : got[0].second.size();
    EXPECT_GE(static_cast<int64_t>(n), before);
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(got[0].second[i].first, static_cast<int64_t>(i) + 1);
    }
    if (testing::Test::HasFailure()) break;
  }
  writer.join();
  EXPECT_EQ(acknowledged.load(), kBatches);
}

TEST_F(NodeTest, SecondOpenOfOneDirectoryFailsClearly) {
  std::unique_ptr<Node> node = OpenNode();
  ASSERT_NE(node, nullptr);
  absl::StatusOr<std::unique_ptr<Node>> second = Node::Open(options_);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition) << second.status();
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("in use"));

  // Another process is refused the same way.
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    absl::StatusOr<std::unique_ptr<Node>> other = Node::Open(options_);
    _exit(!other.ok() && other.status().code() == absl::StatusCode::kFailedPrecondition ? 0 : 1);
  }
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  EXPECT_TRUE(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0);
}

}  // namespace
}  // namespace kura::storage
