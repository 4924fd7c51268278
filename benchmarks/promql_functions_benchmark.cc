// PromQL evaluation hot paths over a real storage node: rate() over many series, its
// aggregation, and a vector-matching binary operator.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "benchmark/benchmark.h"
#include "model/write_batch.h"
#include "query/engine.h"
#include "storage/node.h"

namespace kura {
namespace {

constexpr int64_t kScrapeMs = 15'000;
// 3h of 15s scrapes: enough for a day-view range query's first hours and long windows.
constexpr int kSamplesPerSeries = 720;

// One node per series count, filled once and shared by every benchmark of this binary.
class Dataset {
 public:
  static Dataset& Get(int series) {
    static auto* sets = new std::map<int, std::unique_ptr<Dataset>>();
    auto& slot = (*sets)[series];
    if (slot == nullptr) slot.reset(new Dataset(series));
    return *slot;
  }
  ~Dataset() {
    node_.reset();
    std::filesystem::remove_all(dir_);
  }
  model::SeriesReader* reader() { return node_.get(); }
  bool ok() const { return node_ != nullptr; }

 private:
  explicit Dataset(int series) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr ? tmp : "/tmp") + "/promql_bench.XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) return;
    dir_ = pattern;
    storage::NodeOptions options;
    options.data_dir = dir_;
    auto node = storage::Node::Open(options);
    if (!node.ok()) return;
    node_ = *std::move(node);
    for (int i = 0; i < series; ++i) {
      model::WriteBatch batch;
      model::TimeSeries ts;
      ts.labels = model::Labels::FromUnsorted({{"__name__", "http_requests_total"},
                                               {"job", "job" + std::to_string(i % 10)},
                                               {"instance", "host" + std::to_string(i)}});
      double v = 0;
      for (int k = 0; k < kSamplesPerSeries; ++k) {
        v += static_cast<double>((k * 7 + i) % 13);
        ts.samples.push_back({k * kScrapeMs, v});
      }
      batch.series.push_back(std::move(ts));
      if (!node_->Write(batch).ok()) {
        node_.reset();
        return;
      }
    }
  }

  std::string dir_;
  std::unique_ptr<storage::Node> node_;
};

void RunRange(benchmark::State& state, const char* query) {
  Dataset& data = Dataset::Get(static_cast<int>(state.range(0)));
  if (!data.ok()) {
    state.SkipWithError("could not build the dataset");
    return;
  }
  query::Engine engine(data.reader(), query::EngineOptions{});
  const int64_t end = (kSamplesPerSeries - 1) * kScrapeMs;
  const int64_t start = end - 60 * 60'000;  // the last hour, at a 1m step: 61 steps
  for (auto _ : state) {
    auto result = engine.RangeQuery(query, start, end, 60'000);
    if (!result.ok()) {
      state.SkipWithError(std::string(result.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(result->matrix.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_RateRange(benchmark::State& state) { RunRange(state, "rate(http_requests_total[5m])"); }
void BM_SumByRateRange(benchmark::State& state) {
  RunRange(state, "sum by (job) (rate(http_requests_total[5m]))");
}
void BM_VectorMatchingRange(benchmark::State& state) {
  RunRange(state, "http_requests_total / on(instance, job) http_requests_total");
}

void BM_RateInstant(benchmark::State& state) {
  Dataset& data = Dataset::Get(static_cast<int>(state.range(0)));
  if (!data.ok()) {
    state.SkipWithError("could not build the dataset");
    return;
  }
  query::Engine engine(data.reader(), query::EngineOptions{});
  const int64_t t = (kSamplesPerSeries - 1) * kScrapeMs;
  for (auto _ : state) {
    auto result = engine.InstantQuery("rate(http_requests_total[5m])", t);
    if (!result.ok()) {
      state.SkipWithError(std::string(result.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(result->vector.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

BENCHMARK(BM_RateInstant)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RateRange)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SumByRateRange)->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_VectorMatchingRange)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kura

BENCHMARK_MAIN();
