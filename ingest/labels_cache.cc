#include "ingest/labels_cache.h"

#include <memory>
#include <utility>

#include "xxhash.h"

namespace kura::ingest {
namespace {

// The map's control bytes and free slots, the allocation headers and the label
// representation's bookkeeping, roughly.
constexpr size_t kEntryOverheadBytes = 120;

// Bytes a string holds beyond its object: none while it fits the small-string buffer.
size_t HeapBytes(const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; }

}  // namespace

LabelsCache::LabelsCache(size_t max_bytes) : generation_bytes_(max_bytes / kNumShards / 2) {}

uint64_t LabelsCache::HashOf(std::string_view wire) {
  return XXH3_64bits(wire.data(), wire.size());
}

size_t LabelsCache::EntryBytes(std::string_view wire, const model::Labels& labels) {
  size_t n = kEntryOverheadBytes + sizeof(Key) + sizeof(Entry);
  if (wire.size() > 15) n += wire.size() + 1;  // beyond the small-string buffer
  n += labels.size() * sizeof(model::Label);
  for (const model::Label& l : labels) n += HeapBytes(l.name) + HeapBytes(l.value);
  // The canonical form, computed once and kept with the labels.
  n += labels.CanonicalView().size() + 1;
  return n;
}

std::optional<model::Labels> LabelsCache::Find(std::string_view wire) {
  if (generation_bytes_ == 0) return std::nullopt;
  const KeyView key{wire, HashOf(wire)};
  Shard& shard = shards_[key.hash >> 60];  // the map uses the low bits
  absl::MutexLock lock(&shard.mu);
  if (auto it = shard.current.find(key); it != shard.current.end()) return it->second.labels;
  auto it = shard.old.find(key);
  if (it == shard.old.end()) return std::nullopt;
  // Still in use: back into the current generation, so the next rotation keeps it.
  auto node = shard.old.extract(it);
  shard.old_bytes -= node.mapped().bytes;
  model::Labels labels = node.mapped().labels;
  Add(shard, std::move(node.key()), std::move(node.mapped()));
  return labels;
}

void LabelsCache::Insert(std::string_view wire, const model::Labels& labels) {
  if (generation_bytes_ == 0) return;
  const size_t entry_bytes = EntryBytes(wire, labels);  // computes the canonical form unlocked
  if (entry_bytes > generation_bytes_) return;
  const uint64_t hash = HashOf(wire);
  Shard& shard = shards_[hash >> 60];
  absl::MutexLock lock(&shard.mu);
  const KeyView probe{wire, hash};
  if (shard.current.contains(probe) || shard.old.contains(probe)) return;  // another thread's
  bytes_.fetch_add(entry_bytes, std::memory_order_relaxed);
  entries_.fetch_add(1, std::memory_order_relaxed);
  Add(shard, Key{std::string(wire), hash}, Entry{labels, entry_bytes});
}

void LabelsCache::Add(Shard& shard, Key&& key, Entry entry) {
  if (shard.current_bytes + entry.bytes > generation_bytes_) {
    bytes_.fetch_sub(shard.old_bytes, std::memory_order_relaxed);
    entries_.fetch_sub(shard.old.size(), std::memory_order_relaxed);
    shard.old = std::move(shard.current);
    shard.old_bytes = shard.current_bytes;
    shard.current = Map();
    shard.current_bytes = 0;
  }
  shard.current_bytes += entry.bytes;
  shard.current.emplace(std::move(key), std::move(entry));
}

}  // namespace kura::ingest
