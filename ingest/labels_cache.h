#pragma once

// LabelsCache: label sets already decoded and validated, by the wire bytes they arrived as.
// Prometheus sends the very same label bytes for a series in every request, so a hit skips
// building the label strings, validating them and computing their canonical form: the entry's
// Labels is shared (model::Labels copies are a reference count) and made from the canonical form
// (model::Labels::FromCanonical), which storage shares too, so an entry costs little more than
// those bytes.
//
// Correctness rests on two facts: the labels a TimeSeries decodes to are a function of its label
// fields' bytes alone, and whether they are valid is a function of the labels alone. An entry
// keeps only the hash of the bytes and the Labels: a hit requires the bytes to decode to exactly
// those Labels, checked field by field against their canonical form without allocating, in the
// form every sender writes: each Label a field 1 holding its name as field 1 and then its value
// as field 2 (either left out when empty), nothing else. Bytes in another form (fields in
// another order, unknown fields, labels repeated, a length varint over 4 bytes) are never a
// hit, and never cached: they decode the slow way. Only labels that passed validation are
// inserted.
//
// Memory is bounded by `max_bytes` (estimated: the canonical form and bookkeeping). The cache
// keeps two generations per shard: entries go into the current one; when it is full it becomes
// the old one and the oldest is dropped; a hit in the old one moves the entry back. That is an
// LRU approximation that costs nothing per hit beyond the lookup. Thread-safe: shards with one
// mutex each keep the HTTP worker threads apart.

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
#include "model/canonical_labels.h"
#include "model/labels.h"

namespace kura::ingest {

class LabelsCache {
 public:
  // How the wire bytes are hashed: XXH3 unless a test needs collisions.
  using WireHash = uint64_t (*)(std::string_view wire);

  // 0 disables the cache: Find misses and Insert does nothing.
  explicit LabelsCache(size_t max_bytes, WireHash hash = nullptr);
  LabelsCache(const LabelsCache&) = delete;
  LabelsCache& operator=(const LabelsCache&) = delete;

  // The labels `wire` decodes to, or nullopt. `wire` is the bytes of one TimeSeries' label
  // fields, tags included.
  std::optional<model::Labels> Find(std::string_view wire);
  // REQUIRES: `labels` is what `wire` decodes to, and it passed validation. Bytes not in the
  // form described above are not inserted.
  void Insert(std::string_view wire, const model::Labels& labels);

  // What the entries cost, estimated, and how many there are.
  size_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  size_t size() const { return entries_.load(std::memory_order_relaxed); }

  // The estimate of one entry's memory, exposed for tests.
  static size_t EntryBytes(const model::Labels& labels);
  // Whether `wire` is in the form described above and decodes to `labels`.
  static bool IsEncodingOf(std::string_view wire, const model::Labels& labels);

 private:
  static constexpr int kNumShards = 16;

  // By the hash of the wire bytes, computed once per request series; the map uses it as is.
  struct IdentityHash {
    size_t operator()(uint64_t hash) const { return static_cast<size_t>(hash); }
  };
  // The canonical form is the labels' own (a reference count): a hit compares the wire with
  // it, one allocation away from the map's slot.
  struct Entry {
    model::Labels labels;
    model::CanonicalLabels canonical;
  };
  using Map = absl::flat_hash_map<uint64_t, Entry, IdentityHash>;

  struct Shard {
    absl::Mutex mu;
    Map current ABSL_GUARDED_BY(mu);
    Map old ABSL_GUARDED_BY(mu);
    size_t current_bytes ABSL_GUARDED_BY(mu) = 0;
    size_t old_bytes ABSL_GUARDED_BY(mu) = 0;
  };

  static uint64_t Xxh3(std::string_view wire);
  // Adds an entry of `bytes` to the shard's current generation, rotating generations first when
  // it is full.
  void Add(Shard& shard, uint64_t hash, Entry entry, size_t bytes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);

  const WireHash hash_;
  const size_t generation_bytes_;  // per shard and generation
  std::array<Shard, kNumShards> shards_;
  std::atomic<size_t> bytes_{0};
  std::atomic<size_t> entries_{0};
};

}  // namespace kura::ingest
