#include "query/decode_ahead.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/temp_dir.h"
#include "base/thread_pool.h"
#include "gtest/gtest.h"
#include "model/matcher.h"
#include "model/write_batch.h"
#include "storage/node.h"

namespace kura::query {
namespace {

constexpr int kSeries = 3000;

// A real node holding kSeries series of different lengths, some flushed to chunks, some only
// in the head.
class DecodeAheadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<base::TempDir> temp = base::TempDir::Create("decode_ahead_test");
    ASSERT_TRUE(temp.ok()) << temp.status();
    temp_ = *std::move(temp);
    storage::NodeOptions options;
    options.data_dir = temp_.path();
    absl::StatusOr<std::unique_ptr<storage::Node>> node = storage::Node::Open(options);
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = *std::move(node);
    model::WriteBatch batch;
    for (int i = 0; i < kSeries; ++i) {
      model::TimeSeries ts;
      ts.labels = model::Labels::FromUnsorted(
          {{"__name__", "m"}, {"i", std::to_string(i)}, {"job", i % 2 ? "odd" : "even"}});
      for (int j = 0; j < 1 + (i * 37) % 500; ++j) {
        ts.samples.push_back({int64_t{j} * 15'000, static_cast<double>(i * 1000 + j)});
      }
      batch.series.push_back(std::move(ts));
    }
    ASSERT_TRUE(node_->Write(batch).ok());
  }

  std::unique_ptr<model::SeriesSet> Select(int64_t min_time_ms, int64_t max_time_ms) {
    absl::StatusOr<model::LabelMatcher> m =
        model::LabelMatcher::Create(model::MatchType::kEqual, "__name__", "m");
    EXPECT_TRUE(m.ok());
    absl::StatusOr<std::unique_ptr<model::SeriesSet>> set =
        node_->Select({*m}, min_time_ms, max_time_ms);
    EXPECT_TRUE(set.ok()) << set.status();
    return set.ok() ? *std::move(set) : nullptr;
  }

  // Every series' labels and samples, read one at a time without a pool.
  std::vector<std::pair<std::string, std::vector<model::Sample>>> ReadInOrder(int64_t min_time_ms,
                                                                              int64_t max_time_ms) {
    std::vector<std::pair<std::string, std::vector<model::Sample>>> out;
    std::unique_ptr<model::SeriesSet> set = Select(min_time_ms, max_time_ms);
    while (set->Next()) {
      std::vector<model::Sample> samples;
      std::unique_ptr<model::SampleIterator> it = set->At().NewIterator();
      while (it->Next()) samples.push_back(it->At());
      EXPECT_TRUE(it->status().ok());
      out.emplace_back(set->At().labels().ToString(), std::move(samples));
    }
    EXPECT_TRUE(set->status().ok());
    return out;
  }

  base::TempDir temp_;
  std::unique_ptr<storage::Node> node_;
};

bool SameSamples(const std::vector<model::Sample>& a, const std::vector<model::Sample>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].timestamp_ms != b[i].timestamp_ms || a[i].value != b[i].value) return false;
  }
  return true;
}

TEST_F(DecodeAheadTest, YieldsEverySeriesInOrderWithItsSamples) {
  for (int threads : {0, 1, 3}) {
    for (auto [min_t, max_t] : {std::pair<int64_t, int64_t>{0, INT64_MAX},
                                std::pair<int64_t, int64_t>{1'000'000, 3'000'000}}) {
      SCOPED_TRACE(testing::Message() << threads << " threads, range " << min_t << ".." << max_t);
      const auto want = ReadInOrder(min_t, max_t);
      base::ThreadPool pool(threads);
      DecodeAhead series(Select(min_t, max_t), &pool);
      size_t n = 0;
      while (series.Next()) {
        ASSERT_LT(n, want.size());
        EXPECT_EQ(series.labels().ToString(), want[n].first);
        EXPECT_TRUE(SameSamples(series.samples(), want[n].second)) << want[n].first;
        ++n;
      }
      EXPECT_TRUE(series.status().ok()) << series.status();
      EXPECT_EQ(n, want.size());
    }
  }
}

TEST_F(DecodeAheadTest, AReaderThatStopsEarlyLeavesNothingRunning) {
  base::ThreadPool pool(2);
  for (int stop_after : {0, 1, 100, 2000}) {
    DecodeAhead series(Select(0, INT64_MAX), &pool);
    for (int i = 0; i < stop_after && series.Next(); ++i) {
    }
  }  // each destructor waits for its batches; the node and pool outlive them
}

// A set whose second series fails to read, as a corrupt chunk would.
class FailingSet : public model::SeriesSet {
 public:
  bool Next() override { return ++index_ < 3; }
  const model::Series& At() const override { return index_ == 1 ? bad_ : good_; }
  absl::Status status() const override { return absl::OkStatus(); }

 private:
  class Failing : public model::SampleIterator {
   public:
    explicit Failing(bool fail) : fail_(fail) {}
    bool Next() override { return !fail_ && !done_ && (done_ = true); }
    model::Sample At() const override { return {1, 2}; }
    absl::Status status() const override {
      return fail_ ? absl::DataLossError("corrupt chunk") : absl::OkStatus();
    }

   private:
    const bool fail_;
    bool done_ = false;
  };
  class OneSeries : public model::Series {
   public:
    explicit OneSeries(bool fail) : fail_(fail) {}
    const model::Labels& labels() const override { return labels_; }
    std::unique_ptr<model::SampleIterator> NewIterator() const override {
      return std::make_unique<Failing>(fail_);
    }

   private:
    const bool fail_;
    model::Labels labels_;
  };
  int index_ = -1;
  OneSeries good_{false};
  OneSeries bad_{true};
};

TEST(DecodeAheadErrorTest, AFailedSeriesEndsTheReadWithItsError) {
  base::ThreadPool pool(2);
  DecodeAhead series(std::make_unique<FailingSet>(), &pool);
  ASSERT_TRUE(series.Next());
  EXPECT_EQ(series.samples().size(), 1u);
  EXPECT_FALSE(series.Next());
  EXPECT_EQ(series.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(series.Next());
}

}  // namespace
}  // namespace kura::query
