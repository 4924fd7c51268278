// Chunk encode and decode speed, and bytes per sample, for Prometheus-sized chunks.

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "model/sample.h"
#include "storage/chunk_decoder.h"
#include "storage/chunk_encoder.h"

namespace kura::storage {
namespace {

// 15 s scrapes with a few ms of jitter, as Prometheus's scrape loop produces.
constexpr int64_t kScrapeIntervalMs = 15000;
constexpr int64_t kStartMs = 1'700'000'000'000;

int64_t NextTimestamp(std::mt19937_64& rng, int64_t t) {
  return t + kScrapeIntervalMs + static_cast<int64_t>(rng() % 7) - 3;
}

// A gauge such as CPU usage or a temperature: a random walk with 2 decimal places.
std::vector<model::Sample> GaugeSamples(int n) {
  std::mt19937_64 rng(42);
  std::vector<model::Sample> out;
  int64_t t = kStartMs;
  int64_t hundredths = 5000;
  for (int i = 0; i < n; ++i) {
    out.push_back({t, static_cast<double>(hundredths) / 100});
    t = NextTimestamp(rng, t);
    hundredths += static_cast<int64_t>(rng() % 201) - 100;
  }
  return out;
}

// A request counter: integer increments of 0 to 500 per scrape.
std::vector<model::Sample> CounterSamples(int n) {
  std::mt19937_64 rng(43);
  std::vector<model::Sample> out;
  int64_t t = kStartMs;
  double v = 123456;
  for (int i = 0; i < n; ++i) {
    out.push_back({t, v});
    t = NextTimestamp(rng, t);
    v += static_cast<double>(rng() % 501);
  }
  return out;
}

std::string Encode(const std::vector<model::Sample>& samples) {
  ChunkEncoder enc;
  for (const model::Sample& s : samples) enc.Append(s.timestamp_ms, s.value);
  return std::string(enc.bytes());
}

void RunEncode(benchmark::State& state, const std::vector<model::Sample>& samples) {
  size_t bytes = 0;
  for (auto _ : state) {
    ChunkEncoder enc;
    for (const model::Sample& s : samples) enc.Append(s.timestamp_ms, s.value);
    bytes = enc.size_bytes();
    benchmark::DoNotOptimize(enc.bytes().data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(samples.size()));
  state.counters["bytes/sample"] = static_cast<double>(bytes) / static_cast<double>(samples.size());
}

void RunDecode(benchmark::State& state, const std::vector<model::Sample>& samples) {
  const std::string chunk = Encode(samples);
  for (auto _ : state) {
    auto it = NewChunkIterator(chunk);
    double sum = 0;
    while (it->Next()) sum += it->At().value;
    if (!it->status().ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(samples.size()));
  state.counters["bytes/sample"] =
      static_cast<double>(chunk.size()) / static_cast<double>(samples.size());
}

// The way queries read: the whole chunk in one AppendRemaining call.
void RunDecodeWhole(benchmark::State& state, const std::vector<model::Sample>& samples) {
  const std::string chunk = Encode(samples);
  std::vector<model::Sample> out;
  for (auto _ : state) {
    out.clear();
    if (!NewChunkIterator(chunk)->AppendRemaining(&out).ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(samples.size()));
}

static void BM_EncodeGaugeSamples(benchmark::State& state) {
  RunEncode(state, GaugeSamples(static_cast<int>(state.range(0))));
}
static void BM_EncodeCounterSamples(benchmark::State& state) {
  RunEncode(state, CounterSamples(static_cast<int>(state.range(0))));
}
static void BM_DecodeGaugeSamples(benchmark::State& state) {
  RunDecode(state, GaugeSamples(static_cast<int>(state.range(0))));
}
static void BM_DecodeCounterSamples(benchmark::State& state) {
  RunDecode(state, CounterSamples(static_cast<int>(state.range(0))));
}

// 120: Prometheus's DefaultSamplesPerChunk, so bytes/sample compare 1:1. 5760: a day at 15 s,
// one chunk per series once a closed partition is compacted.
BENCHMARK(BM_EncodeGaugeSamples)->Arg(120)->Arg(5760);
BENCHMARK(BM_EncodeCounterSamples)->Arg(120)->Arg(5760);
BENCHMARK(BM_DecodeGaugeSamples)->Arg(120)->Arg(5760);
BENCHMARK(BM_DecodeCounterSamples)->Arg(120)->Arg(5760);
static void BM_DecodeWholeGaugeChunk(benchmark::State& state) {
  RunDecodeWhole(state, GaugeSamples(static_cast<int>(state.range(0))));
}
static void BM_DecodeWholeCounterChunk(benchmark::State& state) {
  RunDecodeWhole(state, CounterSamples(static_cast<int>(state.range(0))));
}
BENCHMARK(BM_DecodeWholeGaugeChunk)->Arg(120);
BENCHMARK(BM_DecodeWholeCounterChunk)->Arg(120);

// A counter with start timestamps (version 3): OpenTelemetry's cumulative counters keep one
// start, its delta counters start each sample where the previous one ended.
std::string EncodeWithStarts(const std::vector<model::Sample>& samples, bool delta) {
  ChunkEncoder enc;
  int64_t prev = samples.front().timestamp_ms - kScrapeIntervalMs;
  for (const model::Sample& s : samples) {
    enc.Append(s.timestamp_ms, s.value, delta ? prev : kStartMs - 3'600'000);
    prev = s.timestamp_ms;
  }
  return std::string(enc.bytes());
}

void RunDecodeWithStarts(benchmark::State& state, bool delta) {
  const std::vector<model::Sample> samples = CounterSamples(static_cast<int>(state.range(0)));
  const std::string chunk = EncodeWithStarts(samples, delta);
  std::vector<model::Sample> out;
  std::vector<int64_t> starts;
  for (auto _ : state) {
    out.clear();
    starts.clear();
    if (!NewChunkIterator(chunk)->AppendRemainingWithStarts(&out, &starts).ok()) {
      state.SkipWithError("decode failed");
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::DoNotOptimize(starts.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(samples.size()));
  state.counters["bytes/sample"] =
      static_cast<double>(chunk.size()) / static_cast<double>(samples.size());
}
static void BM_DecodeWholeCumulativeChunkWithStarts(benchmark::State& state) {
  RunDecodeWithStarts(state, /*delta=*/false);
}
static void BM_DecodeWholeDeltaChunkWithStarts(benchmark::State& state) {
  RunDecodeWithStarts(state, /*delta=*/true);
}
BENCHMARK(BM_DecodeWholeCumulativeChunkWithStarts)->Arg(120);
BENCHMARK(BM_DecodeWholeDeltaChunkWithStarts)->Arg(120);

}  // namespace
}  // namespace kura::storage

BENCHMARK_MAIN();
