#pragma once

// Every RocksDB key layout of a storage node, and the names of its column families. Layouts are
// drawn in docs/format/keys.md. Integers in keys are big-endian and fixed-width so that keys sort
// numerically; signed integers (partitions, timestamps) have their sign bit flipped first.

#include <cstdint>
#include <string>
#include <string_view>

namespace kura::storage {

// Column families. "default" is unused but RocksDB requires it.
inline constexpr std::string_view kSeriesFamily = "series";
inline constexpr std::string_view kPostingsFamily = "postings";
inline constexpr std::string_view kChunksFamily = "chunks";
inline constexpr std::string_view kHeadFamily = "head";
inline constexpr std::string_view kTombstonesFamily = "tombstones";
inline constexpr std::string_view kMetadataFamily = "metadata";

// Separator inside keys; it never occurs in UTF-8 text, so names and values need no escaping.
inline constexpr char kSeparator = '\xff';

// Fixed-width integer coding. Decode functions read exactly 8 bytes.
void PutUint64BE(std::string* dst, uint64_t v);
void PutInt64BE(std::string* dst, int64_t v);  // sign bit flipped: sorts like the int
uint64_t DecodeUint64BE(std::string_view src);
int64_t DecodeInt64BE(std::string_view src);
// Unsigned LEB128, for values.
void PutVarint64(std::string* dst, uint64_t v);
bool GetVarint64(std::string_view* src, uint64_t* v);

// Partition number of a timestamp: floor(timestamp_ms / partition_length_ms).
int64_t PartitionOf(int64_t timestamp_ms, int64_t partition_length_ms);

// series family: 'l' canonical-labels -> ref (8 bytes), and 'r' ref -> canonical labels.
std::string SeriesByLabelsKey(std::string_view canonical_labels);
std::string SeriesByRefKey(uint64_t ref);
inline constexpr std::string_view kSeriesByRefPrefix = "r";
bool ParseSeriesByRefKey(std::string_view key, uint64_t* ref);

// postings family: partition, name, 0xff, value, 0xff, ref -> "" (one key per posting). The
// empty name with the empty value lists every series of the partition (AllPostings).
std::string PostingKey(int64_t partition, std::string_view name, std::string_view value,
                       uint64_t ref);
// Prefix of every posting of one partition.
std::string PartitionPrefix(int64_t partition);
// Prefix of the postings of one label name in a partition.
std::string LabelNamePrefix(int64_t partition, std::string_view name);
// Prefix of the postings of one label pair in a partition.
std::string LabelPairPrefix(int64_t partition, std::string_view name, std::string_view value);
struct PostingKeyParts {
  int64_t partition = 0;
  std::string_view name;
  std::string_view value;
  uint64_t ref = 0;
};
// Views in `parts` point into `key`.
bool ParsePostingKey(std::string_view key, PostingKeyParts* parts);

// chunks family: partition, ref, min_time -> encoded chunk.
std::string ChunkKey(int64_t partition, uint64_t ref, int64_t min_time_ms);
std::string ChunkSeriesPrefix(int64_t partition, uint64_t ref);
bool ParseChunkKey(std::string_view key, int64_t* partition, uint64_t* ref, int64_t* min_time_ms);

// chunks family: partition, kTimestampColumnRef, column id -> a timestamp column shared by
// packed chunks of the partition (storage/timestamp_columns.h). No series has that ref, and
// the columns sit inside their partition's key range, so retention drops them with it.
inline constexpr uint64_t kTimestampColumnRef = ~uint64_t{0};
std::string TimestampColumnKey(int64_t partition, uint64_t column_id);

// head family: 'c' ref -> the open chunk as of the last checkpoint; 't' ref -> max timestamp
// of the series' samples in written chunks (8 bytes, signed); 'p' partition -> "" once the
// partition was compacted.
std::string CheckpointChunkKey(uint64_t ref);
inline constexpr std::string_view kCheckpointChunkPrefix = "c";
inline constexpr std::string_view kCheckpointChunkEnd = "d";  // past every checkpoint chunk key
bool ParseCheckpointChunkKey(std::string_view key, uint64_t* ref);
std::string PersistedMaxTimeKey(uint64_t ref);
// 'p' partition -> "": the partition's chunks were merged per series after it closed.
std::string CompactedPartitionKey(int64_t partition);

// tombstones family: ref, min_time, max_time -> "" (one key per deleted interval, both ends
// inclusive).
std::string TombstoneKey(uint64_t ref, int64_t min_time_ms, int64_t max_time_ms);
// Prefix of the tombstones of one series.
std::string TombstoneSeriesPrefix(uint64_t ref);
bool ParseTombstoneKey(std::string_view key, uint64_t* ref, int64_t* min_time_ms,
                       int64_t* max_time_ms);

}  // namespace kura::storage
