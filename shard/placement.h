#pragma once

// Placement: rendezvous (highest-random-weight) hashing of a series hash over storage node ids.
// Every node gets a score per series; the preference list is all nodes by descending score,
// and a series' replicas are the first replication-factor healthy ones. Adding a node moves
// only the series for which the new node scores highest; nothing else changes place.
//
//   Placement placement({"10.0.0.1:9301", "10.0.0.2:9301", "10.0.0.3:9301"});
//   std::vector<int> order;
//   placement.PreferenceList(labels.Hash(), &order);  // indices into the node ids

#include <cstdint>
#include <string>
#include <vector>

namespace kura::shard {

// Immutable after construction; thread-safe.
class Placement {
 public:
  explicit Placement(const std::vector<std::string>& node_ids);

  size_t num_nodes() const { return node_hashes_.size(); }

  // Fills `order` with every node index, highest score for `series_hash` first.
  void PreferenceList(uint64_t series_hash, std::vector<int>* order) const;

  // The score of node `index` for `series_hash`; exposed for tests.
  uint64_t Score(uint64_t series_hash, int index) const;

 private:
  std::vector<uint64_t> node_hashes_;
};

}  // namespace kura::shard
