#include "storage/keys.h"

namespace kura::storage {
namespace {

constexpr uint64_t kSignBit = uint64_t{1} << 63;
constexpr char kSeriesByLabelsTag = 'l';
constexpr char kSeriesByRefTag = 'r';
constexpr char kCheckpointChunkTag = 'c';
constexpr char kPersistedMaxTimeTag = 't';
constexpr char kCompactedPartitionTag = 'p';

std::string TaggedRefKey(char tag, uint64_t ref) {
  std::string key(1, tag);
  PutUint64BE(&key, ref);
  return key;
}

bool ParseTaggedRefKey(char tag, std::string_view key, uint64_t* ref) {
  if (key.size() != 9 || key[0] != tag) return false;
  *ref = DecodeUint64BE(key.substr(1));
  return true;
}

}  // namespace

void PutUint64BE(std::string* dst, uint64_t v) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  dst->append(buf, 8);
}

void PutInt64BE(std::string* dst, int64_t v) {
  PutUint64BE(dst, static_cast<uint64_t>(v) ^ kSignBit);
}

uint64_t DecodeUint64BE(std::string_view src) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(src[i]);
  return v;
}

int64_t DecodeInt64BE(std::string_view src) {
  return static_cast<int64_t>(DecodeUint64BE(src) ^ kSignBit);
}

void PutVarint64(std::string* dst, uint64_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}

bool GetVarint64(std::string_view* src, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !src->empty(); shift += 7) {
    const uint8_t byte = static_cast<uint8_t>(src->front());
    src->remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

int64_t PartitionOf(int64_t timestamp_ms, int64_t partition_length_ms) {
  int64_t p = timestamp_ms / partition_length_ms;
  if (timestamp_ms % partition_length_ms < 0) --p;  // floor, also before 1970
  return p;
}

std::string SeriesByLabelsKey(std::string_view canonical_labels) {
  std::string key(1, kSeriesByLabelsTag);
  key.append(canonical_labels);
  return key;
}

std::string SeriesByRefKey(uint64_t ref) { return TaggedRefKey(kSeriesByRefTag, ref); }

bool ParseSeriesByRefKey(std::string_view key, uint64_t* ref) {
  return ParseTaggedRefKey(kSeriesByRefTag, key, ref);
}

std::string PartitionPrefix(int64_t partition) {
  std::string key;
  PutInt64BE(&key, partition);
  return key;
}

std::string LabelNamePrefix(int64_t partition, std::string_view name) {
  std::string key = PartitionPrefix(partition);
  key.append(name);
  key.push_back(kSeparator);
  return key;
}

std::string LabelPairPrefix(int64_t partition, std::string_view name, std::string_view value) {
  std::string key = LabelNamePrefix(partition, name);
  key.append(value);
  key.push_back(kSeparator);
  return key;
}

std::string PostingKey(int64_t partition, std::string_view name, std::string_view value,
                       uint64_t ref) {
  std::string key = LabelPairPrefix(partition, name, value);
  PutUint64BE(&key, ref);
  return key;
}

bool ParsePostingKey(std::string_view key, PostingKeyParts* parts) {
  if (key.size() < 8 + 2 + 8) return false;
  parts->partition = DecodeInt64BE(key);
  parts->ref = DecodeUint64BE(key.substr(key.size() - 8));
  std::string_view middle = key.substr(8, key.size() - 16);  // name 0xff value 0xff
  if (middle.back() != kSeparator) return false;
  middle.remove_suffix(1);
  const size_t sep = middle.find(kSeparator);
  if (sep == std::string_view::npos) return false;
  parts->name = middle.substr(0, sep);
  parts->value = middle.substr(sep + 1);
  return parts->value.find(kSeparator) == std::string_view::npos;
}

std::string ChunkSeriesPrefix(int64_t partition, uint64_t ref) {
  std::string key = PartitionPrefix(partition);
  PutUint64BE(&key, ref);
  return key;
}

std::string ChunkKey(int64_t partition, uint64_t ref, int64_t min_time_ms) {
  std::string key = ChunkSeriesPrefix(partition, ref);
  PutInt64BE(&key, min_time_ms);
  return key;
}

std::string TimestampColumnKey(int64_t partition, uint64_t column_id) {
  std::string key = ChunkSeriesPrefix(partition, kTimestampColumnRef);
  PutUint64BE(&key, column_id);
  return key;
}

bool ParseChunkKey(std::string_view key, int64_t* partition, uint64_t* ref, int64_t* min_time_ms) {
  if (key.size() != 24) return false;
  *partition = DecodeInt64BE(key);
  *ref = DecodeUint64BE(key.substr(8));
  *min_time_ms = DecodeInt64BE(key.substr(16));
  return true;
}

std::string CheckpointChunkKey(uint64_t ref) { return TaggedRefKey(kCheckpointChunkTag, ref); }

bool ParseCheckpointChunkKey(std::string_view key, uint64_t* ref) {
  return ParseTaggedRefKey(kCheckpointChunkTag, key, ref);
}

std::string PersistedMaxTimeKey(uint64_t ref) { return TaggedRefKey(kPersistedMaxTimeTag, ref); }

std::string CompactedPartitionKey(int64_t partition) {
  std::string key(1, kCompactedPartitionTag);
  PutInt64BE(&key, partition);
  return key;
}

std::string TombstoneSeriesPrefix(uint64_t ref) {
  std::string key;
  PutUint64BE(&key, ref);
  return key;
}

std::string TombstoneKey(uint64_t ref, int64_t min_time_ms, int64_t max_time_ms) {
  std::string key = TombstoneSeriesPrefix(ref);
  PutInt64BE(&key, min_time_ms);
  PutInt64BE(&key, max_time_ms);
  return key;
}

bool ParseTombstoneKey(std::string_view key, uint64_t* ref, int64_t* min_time_ms,
                       int64_t* max_time_ms) {
  if (key.size() != 24) return false;
  *ref = DecodeUint64BE(key);
  *min_time_ms = DecodeInt64BE(key.substr(8));
  *max_time_ms = DecodeInt64BE(key.substr(16));
  return true;
}

}  // namespace kura::storage
