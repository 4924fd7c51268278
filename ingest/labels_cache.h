#pragma once

// LabelsCache: label sets already decoded and validated, by the wire bytes they arrived as.
// Prometheus sends the very same label bytes for a series in every request, so a hit skips
// building the label strings, validating them and computing their canonical form: the entry's
// Labels is shared (model::Labels copies are a reference count) and its canonical form and hash
// are computed once.
//
// Correctness rests on two facts: the labels a TimeSeries decodes to are a function of its label
// fields' bytes alone, and whether they are valid is a function of the labels alone. A hit
// therefore requires exact byte equality (the hash only picks the slot), and only labels that
// passed validation are inserted.
//
// Memory is bounded by `max_bytes` (estimated: key, strings and bookkeeping). The cache keeps two
// generations per shard: entries go into the current one; when it is full it becomes the old
// one and the oldest is dropped; a hit in the old one moves the entry back. That is an LRU
// approximation that costs nothing per hit beyond the lookup. Thread-safe: shards with one mutex
// each keep the HTTP worker threads apart.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "model/labels.h"

namespace kura::ingest {

class LabelsCache {
 public:
  // 0 disables the cache: Find misses and Insert does nothing.
  explicit LabelsCache(size_t max_bytes);
  LabelsCache(const LabelsCache&) = delete;
  LabelsCache& operator=(const LabelsCache&) = delete;

  // The labels `wire` decoded to when it was inserted, or nullopt. `wire` is the bytes of one
  // TimeSeries' label fields, tags included.
  std::optional<model::Labels> Find(std::string_view wire);
  // REQUIRES: `labels` is what `wire` decodes to, and it passed validation.
  void Insert(std::string_view wire, const model::Labels& labels);

  // What the entries cost, estimated, and how many there are.
  size_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  size_t size() const { return entries_.load(std::memory_order_relaxed); }

  // The estimate of one entry's memory, exposed for tests.
  static size_t EntryBytes(std::string_view wire, const model::Labels& labels);

 private:
  static constexpr int kNumShards = 16;

  // The hash is computed once per request series and kept with the key, so neither a lookup
  // nor a rehash hashes the bytes again. The stored key's string sits in the map's slot, one
  // pointer away from its bytes; lookups pass a view.
  struct Key {
    std::string bytes;
    uint64_t hash;
  };
  struct KeyView {
    std::string_view bytes;
    uint64_t hash;
  };
  struct KeyHash {
    using is_transparent = void;
    template <typename K>
    size_t operator()(const K& k) const {
      return static_cast<size_t>(k.hash);
    }
  };
  struct KeyEq {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return a.hash == b.hash && std::string_view(a.bytes) == std::string_view(b.bytes);
    }
  };
  struct Entry {
    model::Labels labels;
    size_t bytes = 0;
  };
  using Map = absl::flat_hash_map<Key, Entry, KeyHash, KeyEq>;

  struct Shard {
    absl::Mutex mu;
    Map current ABSL_GUARDED_BY(mu);
    Map old ABSL_GUARDED_BY(mu);
    size_t current_bytes ABSL_GUARDED_BY(mu) = 0;
    size_t old_bytes ABSL_GUARDED_BY(mu) = 0;
  };

  static uint64_t HashOf(std::string_view wire);
  // Adds `entry` to the shard's current generation, rotating generations first when it is full.
  void Add(Shard& shard, Key&& key, Entry entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);

  const size_t generation_bytes_;  // per shard and generation
  std::array<Shard, kNumShards> shards_;
  std::atomic<size_t> bytes_{0};
  std::atomic<size_t> entries_{0};
};

}  // namespace kura::ingest
