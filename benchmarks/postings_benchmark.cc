// Postings intersection over lists of different size ratios, and postings decoding.

#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "storage/postings.h"

namespace kura::storage {
namespace {

// `n` random refs out of [0, universe), sorted and unique.
PostingsList RandomPostings(size_t n, uint64_t universe, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::set<uint64_t> refs;
  while (refs.size() < n) refs.insert(rng() % universe);
  return {refs.begin(), refs.end()};
}

// Args: size of the large list, and how many times smaller the small list is.
static void BM_IntersectPostings(benchmark::State& state) {
  const auto large_size = static_cast<size_t>(state.range(0));
  const auto ratio = static_cast<size_t>(state.range(1));
  const uint64_t universe = large_size * 4;
  const PostingsList large = RandomPostings(large_size, universe, 1);
  const PostingsList small = RandomPostings(large_size / ratio, universe, 2);
  for (auto _ : state) {
    PostingsList out = IntersectPostings({&large, &small});
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(large.size() + small.size()));
}
BENCHMARK(BM_IntersectPostings)
    ->Args({100000, 1})
    ->Args({100000, 10})
    ->Args({100000, 100})
    ->Args({100000, 1000})
    ->Args({1000000, 10000});

static void BM_IntersectThreePostings(benchmark::State& state) {
  const PostingsList a = RandomPostings(1000, 1000000, 3);
  const PostingsList b = RandomPostings(100000, 1000000, 4);
  const PostingsList c = RandomPostings(500000, 1000000, 5);
  for (auto _ : state) {
    PostingsList out = IntersectPostings({&c, &b, &a});
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_IntersectThreePostings);

static void BM_UnionPostings(benchmark::State& state) {
  std::vector<PostingsList> lists;
  std::vector<const PostingsList*> ptrs;
  for (int i = 0; i < state.range(0); ++i) lists.push_back(RandomPostings(10000, 1000000, 10 + i));
  for (const PostingsList& l : lists) ptrs.push_back(&l);
  for (auto _ : state) {
    PostingsList out = UnionPostings(ptrs);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0) * 10000);
}
BENCHMARK(BM_UnionPostings)->Arg(2)->Arg(16);

static void BM_DecodePostings(benchmark::State& state) {
  const PostingsList list = RandomPostings(100000, 400000, 6);
  std::string buf;
  EncodePostings(list, &buf);
  PostingsList out;
  for (auto _ : state) {
    if (!DecodePostings(buf, &out)) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(list.size()));
  state.counters["bytes/ref"] = static_cast<double>(buf.size()) / static_cast<double>(list.size());
}
BENCHMARK(BM_DecodePostings);

}  // namespace
}  // namespace kura::storage

BENCHMARK_MAIN();
