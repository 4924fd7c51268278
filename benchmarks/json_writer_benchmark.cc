// The query API's JSON encoding: sample values, timestamps and whole matrix responses.

#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "model/labels.h"
#include "query/json_writer.h"

namespace kura::query {
namespace {

void BM_AppendSampleValue(benchmark::State& state) {
  const std::vector<double> values = {0, 1, 0.1, 1234.5678, 1e-9, 3.0e21, 42, 0.000123};
  std::string out;
  for (auto _ : state) {
    out.clear();
    for (double v : values) AppendSampleValue(v, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(values.size()));
}
BENCHMARK(BM_AppendSampleValue);

void BM_AppendTimestamp(benchmark::State& state) {
  std::string out;
  int64_t t = 1435781451781;
  for (auto _ : state) {
    out.clear();
    for (int i = 0; i < 8; ++i) AppendTimestamp(t + i * 15000, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * 8);
}
BENCHMARK(BM_AppendTimestamp);

// A range query's matrix: state.range(0) series of 120 points each, as Grafana panels ask.
void BM_WriteMatrix(benchmark::State& state) {
  std::vector<model::Labels> series;
  for (int i = 0; i < state.range(0); ++i) {
    series.push_back(model::Labels::FromUnsorted({{"__name__", "http_requests_total"},
                                                  {"instance", "10.0.0." + std::to_string(i)},
                                                  {"job", "api"},
                                                  {"code", "200"}}));
  }
  std::string out;
  for (auto _ : state) {
    out.clear();
    JsonWriter w(&out);
    w.BeginObject();
    w.Key("status");
    w.String("success");
    w.Key("data");
    w.BeginObject();
    w.Key("resultType");
    w.String("matrix");
    w.Key("result");
    w.BeginArray();
    for (const model::Labels& labels : series) {
      w.BeginObject();
      w.Key("metric");
      w.Labels(labels);
      w.Key("values");
      w.BeginArray();
      for (int p = 0; p < 120; ++p) {
        w.BeginArray();
        w.Timestamp(1435781451781 + p * 15000);
        w.SampleValue(1000.25 * p);
        w.EndArray();
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    w.EndObject();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0) * 120);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size()));
}
BENCHMARK(BM_WriteMatrix)->Arg(10)->Arg(1000);

}  // namespace
}  // namespace kura::query

BENCHMARK_MAIN();
