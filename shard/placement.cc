#include "shard/placement.h"

#include <algorithm>
#include <utility>

#include "absl/container/inlined_vector.h"

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
  // (score, index) pairs sorted descending; ties (astronomically rare) break by index, so every
  // process orders alike. An inline buffer: clusters have few nodes.
  absl::InlinedVector<std::pair<uint64_t, int>, 16> scored(node_hashes_.size());
  for (size_t i = 0; i < node_hashes_.size(); ++i) {
    scored[i] = {Score(series_hash, static_cast<int>(i)), static_cast<int>(i)};
  }
  std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  order->resize(scored.size());
  for (size_t i = 0; i < scored.size(); ++i) (*order)[i] = scored[i].second;
}

}  // namespace kura::shard
