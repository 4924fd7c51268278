#include "shard/placement.h"

#include <algorithm>
#include <numeric>

#include "xxhash.h"

namespace kura::shard {
namespace {

// SplitMix64's finalizer: every input bit affects every output bit, so the scores of one
// series over different nodes are independent even when node hashes are close.
uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

Placement::Placement(const std::vector<std::string>& node_ids) {
  node_hashes_.reserve(node_ids.size());
  for (const std::string& id : node_ids) {
    node_hashes_.push_back(XXH3_64bits(id.data(), id.size()));
  }
}

uint64_t Placement::Score(uint64_t series_hash, int index) const {
  return Mix(series_hash ^ Mix(node_hashes_[static_cast<size_t>(index)]));
}

void Placement::PreferenceList(uint64_t series_hash, std::vector<int>* order) const {
  order->resize(node_hashes_.size());
  std::iota(order->begin(), order->end(), 0);
  std::vector<uint64_t> scores(node_hashes_.size());
  for (size_t i = 0; i < node_hashes_.size(); ++i)
    scores[i] = Score(series_hash, static_cast<int>(i));
  // Ties (astronomically rare) break by index, so every process orders alike.
  std::sort(order->begin(), order->end(), [&scores](int a, int b) {
    const uint64_t sa = scores[static_cast<size_t>(a)], sb = scores[static_cast<size_t>(b)];
    return sa != sb ? sa > sb : a < b;
  });
}

}  // namespace kura::shard
