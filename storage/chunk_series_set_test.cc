#include "storage/chunk_series_set.h"

#include <map>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "storage/chunk_decoder.h"
#include "storage/chunk_encoder.h"

namespace kura::storage {
namespace {

class VectorIterator : public model::SampleIterator {
 public:
  explicit VectorIterator(std::vector<model::Sample> samples, absl::Status end = absl::OkStatus())
      : samples_(std::move(samples)), end_(std::move(end)) {}
  bool Next() override { return ++i_ < samples_.size(); }
  model::Sample At() const override { return samples_[i_]; }
  absl::Status status() const override { return i_ >= samples_.size() ? end_ : absl::OkStatus(); }

 private:
  std::vector<model::Sample> samples_;
  absl::Status end_;
  size_t i_ = static_cast<size_t>(-1);
};

std::vector<std::pair<int64_t, double>> Drain(model::SampleIterator& it) {
  std::vector<std::pair<int64_t, double>> out;
  while (it.Next()) out.emplace_back(it.At().timestamp_ms, it.At().value);
  return out;
}

// The same through AppendRemaining, after `skip` samples read with Next().
std::vector<std::pair<int64_t, double>> DrainInBulk(model::SampleIterator& it, int skip = 0) {
  std::vector<std::pair<int64_t, double>> out;
  for (int i = 0; i < skip && it.Next(); ++i) out.emplace_back(it.At().timestamp_ms, it.At().value);
  std::vector<model::Sample> rest;
  EXPECT_TRUE(it.AppendRemaining(&rest).ok());
  for (const model::Sample& s : rest) out.emplace_back(s.timestamp_ms, s.value);
  EXPECT_FALSE(it.Next());
  return out;
}

TEST(MergingIteratorTest, OrdersAndDropsDuplicatesKeepingTheFirstSource) {
  std::vector<std::unique_ptr<model::SampleIterator>> sources;
  sources.push_back(
      std::make_unique<VectorIterator>(std::vector<model::Sample>{{1, 1}, {3, 3}, {5, 5}}));
  sources.push_back(
      std::make_unique<VectorIterator>(std::vector<model::Sample>{{2, 2}, {3, 30}, {6, 6}}));
  sources.push_back(std::make_unique<VectorIterator>(std::vector<model::Sample>{}));
  std::unique_ptr<model::SampleIterator> it = NewMergingIterator(std::move(sources));
  const std::vector<std::pair<int64_t, double>> want = {{1, 1}, {2, 2}, {3, 3}, {5, 5}, {6, 6}};
  EXPECT_EQ(Drain(*it), want);
  EXPECT_TRUE(it->status().ok());
}

TEST(MergingIteratorTest, MatchesAReferenceMergeOnRandomOverlaps) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 300; ++round) {
    const int num_sources = 1 + static_cast<int>(rng() % 4);
    std::vector<std::unique_ptr<model::SampleIterator>> sources;
    // Reference: of each timestamp, the first source's value.
    std::map<int64_t, double> want;
    std::vector<std::vector<model::Sample>> runs;
    for (int s = 0; s < num_sources; ++s) {
      std::vector<model::Sample> samples;
      // Runs of consecutive timestamps with gaps, so sources interleave in long and short runs.
      int64_t t = static_cast<int64_t>(rng() % 50);
      const int n = static_cast<int>(rng() % 40);
      for (int i = 0; i < n; ++i) {
        t += rng() % 4 == 0 ? 1 + static_cast<int64_t>(rng() % 20) : 1;
        samples.push_back({t, static_cast<double>(s * 1000 + i)});
        want.emplace(t, samples.back().value);
      }
      runs.push_back(samples);
      sources.push_back(std::make_unique<VectorIterator>(std::move(samples)));
    }
    std::unique_ptr<model::SampleIterator> it = NewMergingIterator(std::move(sources));
    const std::vector<std::pair<int64_t, double>> expected(want.begin(), want.end());
    EXPECT_EQ(Drain(*it), expected) << round;
    EXPECT_TRUE(it->status().ok());
    EXPECT_FALSE(it->Next());
    // In bulk, from the start and after a few samples.
    for (int skip : {0, 3}) {
      std::vector<std::unique_ptr<model::SampleIterator>> again;
      for (const auto& run : runs) again.push_back(std::make_unique<VectorIterator>(run));
      it = NewMergingIterator(std::move(again));
      EXPECT_EQ(DrainInBulk(*it, skip), expected) << round << " skip " << skip;
    }
  }
}

TEST(MergingIteratorTest, ReportsASourceError) {
  std::vector<std::unique_ptr<model::SampleIterator>> sources;
  sources.push_back(std::make_unique<VectorIterator>(std::vector<model::Sample>{{1, 1}},
                                                     absl::DataLossError("corrupt")));
  std::unique_ptr<model::SampleIterator> it = NewMergingIterator(std::move(sources));
  while (it->Next()) {
  }
  EXPECT_EQ(it->status().code(), absl::StatusCode::kDataLoss);

  std::vector<std::unique_ptr<model::SampleIterator>> two;
  two.push_back(std::make_unique<VectorIterator>(std::vector<model::Sample>{{2, 2}}));
  two.push_back(std::make_unique<VectorIterator>(std::vector<model::Sample>{{1, 1}},
                                                 absl::DataLossError("corrupt")));
  it = NewMergingIterator(std::move(two));
  std::vector<model::Sample> out;
  EXPECT_EQ(it->AppendRemaining(&out).code(), absl::StatusCode::kDataLoss);
}

TEST(TombstoneFilterTest, SkipsSamplesInOverlappingAndNestedIntervals) {
  std::vector<model::Sample> samples;
  for (int64_t t = 0; t <= 10; ++t) samples.push_back({t, static_cast<double>(t)});
  // Sorted by min time; [1, 8] contains [2, 3], and [9, 9] touches the end.
  std::vector<TimeInterval> deleted = {{1, 8}, {2, 3}, {9, 9}};
  std::unique_ptr<model::SampleIterator> it =
      NewTombstoneFilter(std::make_unique<VectorIterator>(samples), deleted);
  const std::vector<std::pair<int64_t, double>> want = {{0, 0}, {10, 10}};
  EXPECT_EQ(Drain(*it), want);
  EXPECT_TRUE(it->status().ok());

  deleted = {{-5, 0}, {4, 4}, {6, 7}};
  it = NewTombstoneFilter(std::make_unique<VectorIterator>(samples), deleted);
  const std::vector<std::pair<int64_t, double>> want2 = {{1, 1}, {2, 2}, {3, 3},  {5, 5},
                                                         {8, 8}, {9, 9}, {10, 10}};
  EXPECT_EQ(Drain(*it), want2);
  it = NewTombstoneFilter(std::make_unique<VectorIterator>(samples), deleted);
  EXPECT_EQ(DrainInBulk(*it), want2);
  it = NewTombstoneFilter(std::make_unique<VectorIterator>(samples), deleted);
  EXPECT_EQ(DrainInBulk(*it, 4), want2);
}

// (timestamp, value, start) read sample by sample, or in bulk after `skip` such samples.
using WithStart = std::tuple<int64_t, double, int64_t>;
std::vector<WithStart> DrainWithStarts(model::SampleIterator& it, int skip = -1) {
  std::vector<WithStart> out;
  for (int i = 0; (skip < 0 || i < skip) && it.Next(); ++i) {
    out.emplace_back(it.At().timestamp_ms, it.At().value, it.StartAt());
  }
  if (skip < 0) return out;
  std::vector<model::Sample> rest = {{-1, -1}};  // what was there before stays as it was
  std::vector<int64_t> starts;
  EXPECT_TRUE(it.AppendRemainingWithStarts(&rest, &starts).ok());
  EXPECT_LE(starts.size(), rest.size());
  if (!starts.empty()) {
    EXPECT_EQ(starts[0], 0);
  }
  for (size_t i = 1; i < rest.size(); ++i) {
    out.emplace_back(rest[i].timestamp_ms, rest[i].value, i < starts.size() ? starts[i] : 0);
  }
  return out;
}

std::string EncodeWithStarts(const std::vector<WithStart>& samples) {
  ChunkEncoder enc;
  for (const auto& [t, v, start] : samples) enc.Append(t, v, start);
  return std::string(enc.bytes());
}

TEST(MergingIteratorTest, ForwardsStartTimestampsOnRandomOverlaps) {
  std::mt19937_64 rng(12);
  for (int round = 0; round < 300; ++round) {
    SCOPED_TRACE(round);
    const int num_sources = 1 + static_cast<int>(rng() % 4);
    std::map<int64_t, WithStart> want;  // of each timestamp, the first source's sample
    std::vector<std::string> chunks;
    for (int s = 0; s < num_sources; ++s) {
      std::vector<WithStart> samples;
      int64_t t = static_cast<int64_t>(rng() % 50);
      // Some sources without starts (version-1 chunks), some with.
      const bool with_starts = rng() % 3 != 0;
      const int n = static_cast<int>(rng() % 40);
      for (int i = 0; i < n; ++i) {
        t += rng() % 4 == 0 ? 1 + static_cast<int64_t>(rng() % 20) : 1;
        int64_t start = 0;
        if (with_starts && (i == 0 || rng() % 3 != 0)) start = 1 + static_cast<int64_t>(rng() % 5);
        samples.emplace_back(t, static_cast<double>(s * 1000 + i), start);
        want.emplace(t, samples.back());
      }
      chunks.push_back(EncodeWithStarts(samples));
    }
    std::vector<WithStart> expected;
    for (const auto& [t, sample] : want) expected.push_back(sample);
    for (int skip : {-1, 0, 3}) {
      std::vector<std::unique_ptr<model::SampleIterator>> sources;
      for (const std::string& chunk : chunks) sources.push_back(NewOwningChunkIterator(chunk));
      std::unique_ptr<model::SampleIterator> it = NewMergingIterator(std::move(sources));
      EXPECT_EQ(DrainWithStarts(*it, skip), expected) << "skip " << skip;
      EXPECT_TRUE(it->status().ok());
    }
  }
}

TEST(TombstoneFilterTest, KeepsTheStartsOfTheSamplesLeft) {
  std::vector<WithStart> samples;
  for (int64_t t = 1; t <= 10; ++t) samples.emplace_back(t, t, t % 4 == 0 ? 0 : t + 100);
  const std::string chunk = EncodeWithStarts(samples);
  const std::vector<TimeInterval> deleted = {{2, 3}, {7, 8}};
  std::vector<WithStart> want;
  for (const WithStart& s : samples) {
    const int64_t t = std::get<0>(s);
    if (!(t >= 2 && t <= 3) && !(t >= 7 && t <= 8)) want.push_back(s);
  }
  for (int skip : {-1, 0, 1, 4}) {
    std::unique_ptr<model::SampleIterator> it =
        NewTombstoneFilter(NewOwningChunkIterator(chunk), deleted);
    EXPECT_EQ(DrainWithStarts(*it, skip), want) << "skip " << skip;
  }
}

}  // namespace
}  // namespace kura::storage
