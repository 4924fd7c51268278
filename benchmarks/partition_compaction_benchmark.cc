// Bytes on disk per sample of a storage node before and after its closed partitions are
// compacted (each series' chunks of a partition merged into one), on a day of node-exporter-like
// gauges and counters at 15 s, and how long the compaction takes.
//
//   ninja -C build partition_compaction_benchmark &&
//   build/benchmarks/partition_compaction_benchmark

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/temp_dir.h"
#include "benchmark/benchmark.h"
#include "storage/node.h"

namespace kura::storage {
namespace {

constexpr int64_t kScrapeIntervalMs = 15000;
constexpr int64_t kDayMs = 24 * 3600 * 1000;
constexpr int kSeries = 400;

int64_t DirectoryBytes(const std::string& dir) {
  int64_t bytes = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) bytes += static_cast<int64_t>(entry.file_size());
  }
  return bytes;
}

// Half the series are gauges with two decimals, half counters with integer increments; every
// scrape has a few ms of jitter. Returns the samples written.
int64_t WriteDay(Node& node) {
  std::mt19937_64 rng(7);
  std::vector<double> values(kSeries);
  for (int i = 0; i < kSeries; ++i) values[i] = i % 2 == 0 ? 50.0 : 1e6 + i;
  int64_t written = 0;
  for (int64_t t = 0; t < kDayMs + kScrapeIntervalMs; t += kScrapeIntervalMs) {
    model::WriteBatch batch;
    for (int i = 0; i < kSeries; ++i) {
      if (i % 2 == 0) {
        values[i] =
            std::round((values[i] + static_cast<double>(rng() % 201) / 100 - 1) * 100) / 100;
      } else {
        values[i] += static_cast<double>(rng() % 501);
      }
      const int64_t jitter = static_cast<int64_t>(rng() % 7) - 3;
      batch.series.push_back(
          {model::Labels::FromUnsorted(
               {{"__name__", i % 2 == 0 ? "gauge" : "counter_total"},
                {"instance", absl::StrCat("10.0.", i / 250, ".", i % 250, ":9100")},
                {"job", "node"}}),
           {{std::max<int64_t>(0, t + jitter), values[i]}}});
    }
    if (!node.Write(batch).ok()) return -1;
    written += kSeries;
  }
  return written;
}

static void BM_CompactClosedPartition(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    absl::StatusOr<base::TempDir> dir = base::TempDir::Create("partition_compaction_benchmark");
    if (!dir.ok()) return state.SkipWithError("no temp dir");
    NodeOptions options;
    options.data_dir = dir->path() + "/data";
    options.compact_closed_partitions = true;
    options.maintenance_interval = absl::InfiniteDuration();
    int64_t samples = 0;
    {
      absl::StatusOr<std::unique_ptr<Node>> node = Node::Open(options);
      if (!node.ok()) return state.SkipWithError("open failed");
      samples = WriteDay(**node);
      if (samples < 0) return state.SkipWithError("write failed");
    }
    const int64_t before = DirectoryBytes(options.data_dir);
    absl::StatusOr<std::unique_ptr<Node>> node = Node::Open(options);
    if (!node.ok()) return state.SkipWithError("reopen failed");
    state.ResumeTiming();
    if (!(*node)->CompactClosedPartitions(absl::FromUnixMillis(2 * kDayMs)).ok()) {
      return state.SkipWithError("compaction failed");
    }
    state.PauseTiming();
    node->reset();
    const int64_t after = DirectoryBytes(options.data_dir);
    if (const char* keep = std::getenv("KURA_BENCHMARK_KEEP_DIR")) {
      std::filesystem::copy(options.data_dir, keep, std::filesystem::copy_options::recursive);
    }
    state.counters["bytes/sample before"] =
        static_cast<double>(before) / static_cast<double>(samples);
    state.counters["bytes/sample after"] =
        static_cast<double>(after) / static_cast<double>(samples);
    state.counters["samples"] = static_cast<double>(samples);
    state.ResumeTiming();
  }
}

BENCHMARK(BM_CompactClosedPartition)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kura::storage

BENCHMARK_MAIN();
