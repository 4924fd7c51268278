// Bytes per sample of each chunk codec on the system benchmark's own dataset
// (benchmarks/loadgen), by series kind, and what the timestamp and value columns each cost.
// Where the bytes of a settled node go, without running one. BM_Decode* time how fast queries
// read those chunks back (items_per_second: samples).
//
//   ninja -C build dataset_codec_benchmark && build/benchmarks/dataset_codec_benchmark
//
// The dataset is 10,000 series x 3 h at 15 s by default (the system benchmark's mix, a tenth of
// its series); KURA_DATASET_SERIES overrides the count.

#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "benchmark/benchmark.h"
#include "benchmarks/loadgen/dataset.h"
#include "model/sample.h"
#include "storage/chunk_decoder.h"
#include "storage/chunk_encoder.h"
#include "storage/packed_chunk.h"

namespace kura::storage {
namespace {

using loadgen::SeriesKind;

struct SeriesSamples {
  SeriesKind kind;
  std::vector<model::Sample> samples;
};

const std::vector<SeriesSamples>& DatasetSeries() {
  static const std::vector<SeriesSamples>* series = [] {
    loadgen::DatasetOptions options;
    options.num_series = 10000;
    if (const char* n = std::getenv("KURA_DATASET_SERIES")) options.num_series = std::atoi(n);
    options.start_ms = 1'700'000'000'000;
    auto dataset = loadgen::Dataset::Create(options);
    if (!dataset.ok()) std::abort();
    auto* out = new std::vector<SeriesSamples>();
    for (const loadgen::SeriesSpec& spec : dataset->series()) out->push_back({spec.kind, {}});
    loadgen::Step step;
    while (dataset->NextStep(&step)) {
      for (size_t i = 0; i < out->size(); ++i) {
        (*out)[i].samples.push_back({step.timestamps_ms[i], step.values[i]});
      }
    }
    return out;
  }();
  return *series;
}

const char* KindName(SeriesKind kind) {
  switch (kind) {
    case SeriesKind::kCounter: return "counter";
    case SeriesKind::kCounterFloat: return "counter_float";
    case SeriesKind::kGauge: return "gauge";
    case SeriesKind::kConstant: return "constant";
    case SeriesKind::kBucket: return "bucket";
    case SeriesKind::kHistogramSum: return "histogram_sum";
    case SeriesKind::kHistogramCount: return "histogram_count";
  }
  return "?";
}

// Version 1 in 120-sample chunks, as the head writes them.
std::vector<std::string> HeadChunks(const std::vector<model::Sample>& samples) {
  std::vector<std::string> chunks;
  for (size_t begin = 0; begin < samples.size(); begin += 120) {
    ChunkEncoder encoder;
    for (size_t i = begin; i < samples.size() && i < begin + 120; ++i) {
      encoder.Append(samples[i].timestamp_ms, samples[i].value);
    }
    chunks.emplace_back(encoder.bytes());
  }
  return chunks;
}

size_t HeadChunkBytes(const std::vector<model::Sample>& samples) {
  size_t bytes = 0;
  for (const std::string& chunk : HeadChunks(samples)) bytes += chunk.size();
  return bytes;
}

// A codec's bytes for the whole series, and for its timestamps alone (values all zero).
using Codec = size_t (*)(const std::vector<model::Sample>&);

size_t PackedBytes(const std::vector<model::Sample>& samples) {
  return EncodePackedChunk(samples).size();
}

void ReportSizes(benchmark::State& state, Codec codec) {
  const std::vector<SeriesSamples>& series = DatasetSeries();
  std::map<std::string, std::pair<size_t, size_t>> by_kind;  // bytes, samples
  size_t total_bytes = 0;
  size_t total_samples = 0;
  size_t timestamp_bytes = 0;
  for (auto _ : state) {
    by_kind.clear();
    total_bytes = total_samples = timestamp_bytes = 0;
    for (const SeriesSamples& s : series) {
      const size_t bytes = codec(s.samples);
      auto& [kind_bytes, kind_samples] = by_kind[KindName(s.kind)];
      kind_bytes += bytes;
      kind_samples += s.samples.size();
      total_bytes += bytes;
      total_samples += s.samples.size();
      std::vector<model::Sample> times = s.samples;
      for (model::Sample& t : times) t.value = 0;
      timestamp_bytes += codec(times);
    }
  }
  state.counters["bytes_per_sample"] = static_cast<double>(total_bytes) / total_samples;
  state.counters["timestamps_only"] = static_cast<double>(timestamp_bytes) / total_samples;
  for (const auto& [kind, figures] : by_kind) {
    state.counters[kind] = static_cast<double>(figures.first) / figures.second;
    state.counters[kind + "_share"] = static_cast<double>(figures.first) / total_bytes;
  }
}

TimestampColumn TimestampsOf(const std::vector<model::Sample>& samples) {
  TimestampColumn timestamps;
  for (const model::Sample& sample : samples) timestamps.push_back(sample.timestamp_ms);
  return timestamps;
}

// Packed chunks naming a shared timestamp column, as compaction stores a partition.
size_t SharedPackedBytes(const std::vector<model::Sample>& samples) {
  return EncodePackedChunk(samples, TimestampColumnId(TimestampsOf(samples))).size();
}

void BM_PackedChunkSharedTimestamps(benchmark::State& state) {
  ReportSizes(state, SharedPackedBytes);
  // Each distinct column is stored once.
  absl::flat_hash_set<uint64_t> columns;
  size_t column_bytes = 0;
  size_t samples = 0;
  for (const SeriesSamples& s : DatasetSeries()) {
    const TimestampColumn timestamps = TimestampsOf(s.samples);
    if (columns.insert(TimestampColumnId(timestamps)).second) {
      column_bytes += EncodeTimestampColumn(timestamps).size();
    }
    samples += s.samples.size();
  }
  state.counters["columns"] = static_cast<double>(columns.size());
  state.counters["column_bytes_per_sample"] = static_cast<double>(column_bytes) / samples;
}

void BM_HeadChunks(benchmark::State& state) { ReportSizes(state, HeadChunkBytes); }
void BM_PackedChunk(benchmark::State& state) { ReportSizes(state, PackedBytes); }

// Every chunk of the dataset read whole, as a range query reads the series it selects.
void RunDecode(benchmark::State& state, const std::vector<std::string>& chunks, size_t samples) {
  std::vector<model::Sample> out;
  for (auto _ : state) {
    for (const std::string& chunk : chunks) {
      out.clear();
      if (!NewChunkIterator(chunk)->AppendRemaining(&out).ok()) state.SkipWithError("corrupt");
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(samples));
}

size_t DatasetSamples() {
  size_t samples = 0;
  for (const SeriesSamples& s : DatasetSeries()) samples += s.samples.size();
  return samples;
}

void BM_DecodeHeadChunks(benchmark::State& state) {
  std::vector<std::string> chunks;
  for (const SeriesSamples& s : DatasetSeries()) {
    for (std::string& chunk : HeadChunks(s.samples)) chunks.push_back(std::move(chunk));
  }
  RunDecode(state, chunks, DatasetSamples());
}

void BM_DecodePackedChunks(benchmark::State& state) {
  std::vector<std::string> chunks;
  for (const SeriesSamples& s : DatasetSeries()) chunks.push_back(EncodePackedChunk(s.samples));
  RunDecode(state, chunks, DatasetSamples());
}

BENCHMARK(BM_HeadChunks)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecodeHeadChunks)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecodePackedChunks)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PackedChunk)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PackedChunkSharedTimestamps)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kura::storage

BENCHMARK_MAIN();
