#include "ingest/labels_cache.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "xxhash.h"

namespace kura::ingest {
namespace {

// The map's control bytes and free slots, the allocation headers and the label set's
// representation, roughly.
constexpr size_t kEntryOverheadBytes = 150;

constexpr char kCanonicalSeparator = '\xff';
// Protobuf tags of prometheus.TimeSeries.labels, Label.name and Label.value: field 1 or 2,
// wire type 2 (length-delimited).
constexpr char kLabelsTag = 0x0a;
constexpr char kNameTag = 0x0a;
constexpr char kValueTag = 0x12;

bool HasSeparator(const model::Labels& labels) {
  return std::any_of(labels.begin(), labels.end(), [](const model::Label& l) {
    return l.name.find(kCanonicalSeparator) != std::string::npos ||
           l.value.find(kCanonicalSeparator) != std::string::npos;
  });
}

// A varint of at most 4 bytes (a length below 256 MiB) at *p, before `end`. A longer one is no
// match, so the decoder, not this, judges it.
inline bool ReadLength(const char** p, const char* end, size_t* out) {
  size_t v = 0;
  for (int shift = 0; shift <= 21 && *p != end; shift += 7) {
    const auto byte = static_cast<uint8_t>(*(*p)++);
    v |= static_cast<size_t>(byte & 0x7f) << shift;
    if (byte < 0x80) {
      *out = v;
      return true;
    }
  }
  return false;
}

// Matches one string field of a Label at *p (before `end`): present with `tag`, its bytes are
// the next part of the canonical form at *c, up to a separator; absent, that part is empty.
inline bool MatchPart(const char** p, const char* end, char tag, const char** c,
                      const char* c_end) {
  size_t n = 0;
  if (*p != end && **p == tag) {
    ++*p;
    if (!ReadLength(p, end, &n) || n > static_cast<size_t>(end - *p) ||
        n >= static_cast<size_t>(c_end - *c) || std::memcmp(*p, *c, n) != 0) {
      return false;
    }
    *p += n;
  }
  if (*c == c_end || (*c)[n] != kCanonicalSeparator) return false;
  *c += n + 1;
  return true;
}

// Whether `wire` decodes to the labels whose canonical form is `canonical`, checked in the form
// the header describes: each label a field 1 holding exactly a name field 1 and then a value
// field 2 (either left out when empty). REQUIRES: no name or value of those labels holds the
// separator byte, so matching the canonical form part by part matches the names and values.
bool IsEncodingOfCanonical(std::string_view wire, std::string_view canonical) {
  const char* p = wire.data();
  const char* const end = p + wire.size();
  const char* c = canonical.data();
  const char* const c_end = c + canonical.size();
  while (c != c_end) {
    size_t message_size = 0;
    if (p == end || *p++ != kLabelsTag || !ReadLength(&p, end, &message_size) ||
        message_size > static_cast<size_t>(end - p)) {
      return false;
    }
    const char* const message_end = p + message_size;
    if (!MatchPart(&p, message_end, kNameTag, &c, c_end) ||
        !MatchPart(&p, message_end, kValueTag, &c, c_end) || p != message_end) {
      return false;
    }
  }
  return p == end;
}

}  // namespace

LabelsCache::LabelsCache(size_t max_bytes, WireHash hash)
    : hash_(hash != nullptr ? hash : &Xxh3), generation_bytes_(max_bytes / kNumShards / 2) {}

uint64_t LabelsCache::Xxh3(std::string_view wire) { return XXH3_64bits(wire.data(), wire.size()); }

size_t LabelsCache::EntryBytes(const model::Labels& labels) {
  // The canonical form and its allocation's header; the cached label set's list is never parsed
  // on the write path (see Insert).
  return kEntryOverheadBytes + sizeof(uint64_t) + sizeof(Entry) + labels.CanonicalView().size() +
         24;
}

bool LabelsCache::IsEncodingOf(std::string_view wire, const model::Labels& labels) {
  return !HasSeparator(labels) && IsEncodingOfCanonical(wire, labels.CanonicalView());
}

std::optional<model::Labels> LabelsCache::Find(std::string_view wire) {
  if (generation_bytes_ == 0) return std::nullopt;
  const uint64_t hash = hash_(wire);
  Shard& shard = shards_[hash >> 60];  // the map uses the low bits
  absl::MutexLock lock(&shard.mu);
  // Insert made sure that no cached name or value holds the separator.
  if (auto it = shard.current.find(hash); it != shard.current.end()) {
    if (!IsEncodingOfCanonical(wire, it->second.canonical.bytes())) return std::nullopt;
    return it->second.labels;
  }
  auto it = shard.old.find(hash);
  if (it == shard.old.end() || !IsEncodingOfCanonical(wire, it->second.canonical.bytes())) {
    return std::nullopt;
  }
  // Still in use: back into the current generation, so the next rotation keeps it.
  Entry entry = std::move(it->second);
  shard.old.erase(it);
  const size_t entry_bytes = EntryBytes(entry.labels);
  shard.old_bytes -= entry_bytes;
  model::Labels labels = entry.labels;
  Add(shard, hash, std::move(entry), entry_bytes);
  return labels;
}

void LabelsCache::Insert(std::string_view wire, const model::Labels& labels) {
  if (generation_bytes_ == 0) return;
  // Unlocked: the canonical form (computed once per label set) and the check against the wire.
  const model::CanonicalLabels canonical = labels.Canonical();
  const size_t entry_bytes = EntryBytes(labels);
  if (entry_bytes > generation_bytes_ || !IsEncodingOf(wire, labels)) return;
  const uint64_t hash = hash_(wire);
  Shard& shard = shards_[hash >> 60];
  absl::MutexLock lock(&shard.mu);
  // Present already: another thread's insert, or (as rare as a 64-bit hash collision) other
  // labels, which stay; the new ones decode the slow way.
  if (shard.current.contains(hash) || shard.old.contains(hash)) return;
  bytes_.fetch_add(entry_bytes, std::memory_order_relaxed);
  entries_.fetch_add(1, std::memory_order_relaxed);
  // Made from the canonical form, the entry holds no list of label strings: on a hit, storage
  // finds the series by its canonical form and never parses it.
  Add(shard, hash, Entry{model::Labels::FromCanonical(canonical), canonical}, entry_bytes);
}

void LabelsCache::Add(Shard& shard, uint64_t hash, Entry entry, size_t bytes) {
  if (shard.current_bytes + bytes > generation_bytes_) {
    bytes_.fetch_sub(shard.old_bytes, std::memory_order_relaxed);
    entries_.fetch_sub(shard.old.size(), std::memory_order_relaxed);
    shard.old = std::move(shard.current);
    shard.old_bytes = shard.current_bytes;
    shard.current = Map();
    shard.current_bytes = 0;
  }
  shard.current_bytes += bytes;
  shard.current.emplace(hash, std::move(entry));
}

}  // namespace kura::ingest
