// Node::Rep's compaction of closed partitions: once no sample can arrive in a partition any
// more, each series' chunks there are merged into one chunk, re-encoded as a packed chunk
// (storage/packed_chunk.h) when that is smaller, and the partition's key range is compacted
// so the old chunks leave the disk. A series with start timestamps there is merged into
// chunks of version 3 instead: packed chunks hold none.

#include <algorithm>
#include <bit>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "storage/chunk_decoder.h"
#include "storage/chunk_encoder.h"
#include "storage/keys.h"
#include "storage/node_rep.h"
#include "storage/packed_chunk.h"
#include "storage/rocksdb_status.h"

namespace kura::storage {
namespace {

// A day at 5s in one chunk; a query over a narrow range decodes at most this many samples of
// a series per partition.
constexpr size_t kCompactedChunkMaxSamples = 16384;
static_assert(kCompactedChunkMaxSamples <= kMaxPackedChunkSamples);
// Series merged per hold of the writers' lock, so ingest waits only briefly.
constexpr size_t kSeriesPerLock = 256;

// Below this many samples a series' chunk keeps its own timestamps: a shared column saves
// little there and costs a lookup per read.
constexpr size_t kMinSharedColumnSamples = 32;

// The packed encoding when it is smaller and decodes back to the very same samples (checked:
// the old chunks are deleted in the same batch), else the usual one. With a `column` the
// packed chunk names it instead of holding its timestamps.
std::string SmallestEncoding(absl::Span<const model::Sample> samples,
                             std::optional<uint64_t> column_id, const TimestampColumn* column) {
  ChunkEncoder encoder;
  for (const model::Sample& s : samples) encoder.Append(s.timestamp_ms, s.value);
  std::string packed = EncodePackedChunk(samples, column_id);
  if (packed.size() >= encoder.size_bytes()) return std::string(encoder.bytes());
  std::unique_ptr<model::SampleIterator> it =
      NewPackedChunkIterator(packed, INT64_MIN, INT64_MAX, column);
  size_t i = 0;
  while (it->Next()) {
    if (i >= samples.size() || it->At().timestamp_ms != samples[i].timestamp_ms ||
        std::bit_cast<uint64_t>(it->At().value) != std::bit_cast<uint64_t>(samples[i].value)) {
      return std::string(encoder.bytes());
    }
    ++i;
  }
  if (!it->status().ok() || i != samples.size()) return std::string(encoder.bytes());
  return packed;
}

// Encodes samples with start timestamps as version-3 chunks of up to
// kCompactedChunkMaxSamples, into `out`. False if one would not decode back to the very same
// samples and starts (then nothing may replace the old chunks).
bool EncodeWithStarts(absl::Span<const model::Sample> samples, absl::Span<const int64_t> starts,
                      std::vector<std::string>* out) {
  for (size_t begin = 0; begin < samples.size(); begin += kCompactedChunkMaxSamples) {
    const size_t end = std::min(samples.size(), begin + kCompactedChunkMaxSamples);
    ChunkEncoder encoder = ChunkEncoder::WithStarts();
    for (size_t i = begin; i < end; ++i) {
      encoder.Append(samples[i].timestamp_ms, samples[i].value, i < starts.size() ? starts[i] : 0);
    }
    std::vector<model::Sample> decoded;
    std::vector<int64_t> decoded_starts;
    const absl::Status decoded_status =
        NewChunkIterator(encoder.bytes())->AppendRemainingWithStarts(&decoded, &decoded_starts);
    if (!decoded_status.ok() || decoded.size() != end - begin) return false;
    for (size_t i = begin; i < end; ++i) {
      const model::Sample& got = decoded[i - begin];
      const int64_t got_start = i - begin < decoded_starts.size() ? decoded_starts[i - begin] : 0;
      if (got.timestamp_ms != samples[i].timestamp_ms ||
          std::bit_cast<uint64_t>(got.value) != std::bit_cast<uint64_t>(samples[i].value) ||
          got_start != (i < starts.size() ? starts[i] : 0)) {
        return false;
      }
    }
    out->push_back(encoder.TakeBytes());
  }
  return true;
}

}  // namespace

int64_t Node::Rep::FirstOpenPartition(absl::Time now) const {
  // Closed: ended before now minus the out-of-order window, so no write can reach it.
  const int64_t open_since_ms =
      absl::ToUnixMillis(now - options_.out_of_order_window) - partition_length_ms_;
  return PartitionOf(open_since_ms, partition_length_ms_) + 1;
}

absl::StatusOr<bool> Node::Rep::IsCompacted(int64_t partition) const {
  std::string marker;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), head_family_, CompactedPartitionKey(partition), &marker);
  if (s.IsNotFound()) return false;
  RETURN_IF_ERROR(FromRocksDB(s, "reading compaction markers"));
  return true;
}

absl::Status Node::Rep::CompactClosedPartitions(absl::Time now) {
  if (!options_.compact_closed_partitions) return absl::OkStatus();
  absl::MutexLock maintenance(&maintenance_mu_);
  const int64_t first_open = FirstOpenPartition(now);
  {
    // A series idle since before the partition ended still has its last chunk there open in
    // the head: written after the merge, it would stay unmerged.
    absl::MutexLock lock(&mu_);
    head_.CloseChunksBefore(first_open);
    RETURN_IF_ERROR(FlushPendingChunks());
    RETURN_IF_ERROR(FlushOutOfOrder());
  }
  ASSIGN_OR_RETURN(
      std::vector<int64_t> partitions,
      querier_.Partitions(ReadableMinTime(INT64_MIN), first_open * partition_length_ms_ - 1));
  for (int64_t partition : partitions) {
    if (partition >= first_open) break;
    ASSIGN_OR_RETURN(bool compacted, IsCompacted(partition));
    if (!compacted) RETURN_IF_ERROR(CompactPartition(partition, /*closed=*/true));
  }
  return absl::OkStatus();
}

absl::Status Node::Rep::Compact() {
  absl::MutexLock maintenance(&maintenance_mu_);
  {
    // The open chunks go out as if they had closed, so that they are merged and packed too;
    // the head starts new ones with the next samples.
    absl::MutexLock lock(&mu_);
    head_.CloseAllChunks();
    RETURN_IF_ERROR(FlushPendingChunks());
    RETURN_IF_ERROR(FlushOutOfOrder());
  }
  const int64_t first_open = FirstOpenPartition(options_.clock ? options_.clock() : absl::Now());
  ASSIGN_OR_RETURN(std::vector<int64_t> partitions,
                   querier_.Partitions(ReadableMinTime(INT64_MIN), INT64_MAX));
  // Compacted partitions too: out-of-order samples, or chunks a series closed after the
  // partition's compaction, may have added chunks there since.
  for (int64_t partition : partitions) {
    ASSIGN_OR_RETURN(bool compacted, IsCompacted(partition));
    RETURN_IF_ERROR(CompactPartition(partition, partition < first_open && !compacted));
  }
  // Everything else RocksDB holds, too: superseded checkpoints, deleted keys, level-0 files.
  for (rocksdb::ColumnFamilyHandle* family :
       {series_, postings_, head_family_, tombstones_family_}) {
    rocksdb::CompactRangeOptions options;
    options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
    RETURN_IF_ERROR(
        FromRocksDB(db_->CompactRange(options, family, nullptr, nullptr), "compacting"));
  }
  return absl::OkStatus();
}

absl::StatusOr<PartitionColumns> Node::Rep::LoadTimestampColumns(int64_t partition) const {
  PartitionColumns columns;
  const std::string prefix = ChunkSeriesPrefix(partition, kTimestampColumnRef);
  rocksdb::ReadOptions scan;
  scan.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(scan, chunks_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const std::string_view key = it->key().ToStringView();
    if (key.size() != prefix.size() + 8) return absl::DataLossError("malformed column key");
    ASSIGN_OR_RETURN(TimestampColumn column, DecodeTimestampColumn(it->value().ToStringView()));
    columns.emplace(DecodeUint64BE(key.substr(prefix.size())), std::move(column));
  }
  RETURN_IF_ERROR(FromRocksDB(it->status(), "reading timestamp columns"));
  return columns;
}

absl::Status Node::Rep::CompactPartition(int64_t partition, bool closed) {
  const int64_t partitions[] = {partition};
  ASSIGN_OR_RETURN(PostingsList refs, querier_.SelectRefs({}, partitions));
  ASSIGN_OR_RETURN(PartitionColumns columns, LoadTimestampColumns(partition));
  for (size_t begin = 0; begin < refs.size(); begin += kSeriesPerLock) {
    rocksdb::WriteBatch wb;
    absl::MutexLock lock(&mu_);
    for (size_t i = begin; i < std::min(refs.size(), begin + kSeriesPerLock); ++i) {
      RETURN_IF_ERROR(MergePartitionChunks(partition, refs[i], &columns, &wb));
    }
    if (wb.Count() > 0) {
      RETURN_IF_ERROR(FromRocksDB(db_->Write(IndexWriteOptions(), &wb), "merging chunks"));
    }
  }
  const std::string begin = PartitionPrefix(partition);
  const std::string end =
      partition == INT64_MAX ? std::string(9, '\xff') : PartitionPrefix(partition + 1);
  RETURN_IF_ERROR(CompactKeyRange(db_, chunks_, begin, end));
  // An open partition gets more chunks; a later compaction merges them in again.
  if (!closed) return absl::OkStatus();
  RETURN_IF_ERROR(
      FromRocksDB(db_->Put(IndexWriteOptions(), head_family_, CompactedPartitionKey(partition), ""),
                  "writing a compaction marker"));
  {
    absl::MutexLock lock(&retention_mu_);
    ++partitions_compacted_;
  }
  base::LogInfo("compacted a partition",
                {{"partition", absl::StrCat(partition)}, {"series", absl::StrCat(refs.size())}});
  return absl::OkStatus();
}

absl::Status Node::Rep::MergePartitionChunks(int64_t partition, uint64_t ref,
                                             PartitionColumns* columns,
                                             rocksdb::WriteBatch* batch) {
  const std::string prefix = ChunkSeriesPrefix(partition, ref);
  rocksdb::ReadOptions scan;
  scan.fill_cache = false;  // a one-off pass over a whole partition
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(scan, chunks_));
  std::vector<std::string> keys;
  std::vector<std::string> chunks;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    keys.emplace_back(it->key().ToStringView());
    chunks.emplace_back(it->value().ToStringView());
  }
  RETURN_IF_ERROR(FromRocksDB(it->status(), "reading chunks"));
  // One chunk is re-encoded too unless it is packed already: an open partition's series has
  // one when it has not filled a chunk before compact closed it.
  if (chunks.empty() || (chunks.size() == 1 && static_cast<uint8_t>(chunks[0][0]) ==
                                                   kPackedChunkVersion)) {
    return absl::OkStatus();
  }
  // Chunks of a series do not overlap and come in time order: their samples in key order are
  // ascending.
  std::vector<model::Sample> samples;
  std::vector<int64_t> starts;  // parallel to samples, or shorter: the rest are 0
  for (const std::string& chunk : chunks) {
    std::unique_ptr<model::SampleIterator> it = timestamp_columns_.NewIterator(partition, chunk);
    RETURN_IF_ERROR(it->AppendRemainingWithStarts(&samples, &starts));
  }
  // Packed chunks (version 2) have no start column: a series with a start timestamp in the
  // partition is merged into version-3 chunks instead, or left as it is when it has one.
  if (std::any_of(starts.begin(), starts.end(), [](int64_t start) { return start != 0; })) {
    if (chunks.size() == 1) return absl::OkStatus();
    std::vector<std::string> merged;
    if (!EncodeWithStarts(samples, starts, &merged)) return absl::OkStatus();
    for (const std::string& key : keys) batch->Delete(chunks_, key).PermitUncheckedError();
    for (const std::string& bytes : merged) {
      ChunkMeta meta;
      RETURN_IF_ERROR(ReadChunkMeta(bytes, &meta));
      batch->Put(chunks_, ChunkKey(partition, ref, meta.min_time_ms), bytes).PermitUncheckedError();
    }
    return absl::OkStatus();
  }
  for (const std::string& key : keys) batch->Delete(chunks_, key).PermitUncheckedError();
  for (size_t begin = 0; begin < samples.size(); begin += kCompactedChunkMaxSamples) {
    const absl::Span<const model::Sample> part =
        absl::MakeConstSpan(samples).subspan(begin, kCompactedChunkMaxSamples);
    std::optional<uint64_t> column_id;
    const TimestampColumn* column = nullptr;
    if (part.size() >= kMinSharedColumnSamples) {
      TimestampColumn timestamps(part.size());
      for (size_t i = 0; i < part.size(); ++i) timestamps[i] = part[i].timestamp_ms;
      const uint64_t id = TimestampColumnId(timestamps);
      auto [it, added] = columns->try_emplace(id, std::move(timestamps));
      if (added) {
        batch->Put(chunks_, TimestampColumnKey(partition, id), EncodeTimestampColumn(it->second))
            .PermitUncheckedError();
      }
      // Equal ids of different timestamps (a hash collision): this chunk keeps its own.
      if (added || std::equal(it->second.begin(), it->second.end(), part.begin(), part.end(),
                              [](int64_t t, const model::Sample& s) {
                                return t == s.timestamp_ms;
                              })) {
        column_id = id;
        column = &it->second;
      }
    }
    const std::string bytes = SmallestEncoding(part, column_id, column);
    batch->Put(chunks_, ChunkKey(partition, ref, part.front().timestamp_ms), bytes)
        .PermitUncheckedError();
  }
  return absl::OkStatus();
}

}  // namespace kura::storage
