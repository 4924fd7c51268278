#pragma once

// Node::Rep: the state of a storage node and the functions over it, split by verb across
// node.cc (open, write, read), node_recovery.cc (restart) and node_admin.cc (retention and
// deletion). Included only by those files.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "model/labels.h"
#include "model/matcher.h"
#include "model/series_set.h"
#include "model/write_batch.h"
#include "storage/chunk_series_set.h"
#include "storage/head.h"
#include "storage/node.h"
#include "storage/postings.h"
#include "storage/metadata_store.h"
#include "storage/querier.h"
#include "storage/series_index.h"
#include "storage/timestamp_columns.h"
#include "storage/tombstones.h"
#include "storage/wal.h"

namespace rocksdb {
class Cache;
class ColumnFamilyHandle;
class DB;
class WriteBatch;
class WriteBufferManager;
struct ColumnFamilyOptions;
struct DBOptions;
struct WriteOptions;
}  // namespace rocksdb

namespace kura::storage {

// How NodeOptions::memory_budget_bytes is shared out.
struct MemoryShares {
  int64_t block_cache_bytes = 0;
  int64_t memtable_bytes = 0;
  int64_t head_bytes = 0;
};
MemoryShares SplitMemoryBudget(int64_t budget_bytes);
// Shared timestamp columns are cached in this fraction of the block cache's share.
inline constexpr int64_t kTimestampColumnCacheShare = 16;

// RocksDB takes its cache and write buffer manager as shared_ptr; the node owns both.
struct RocksDBMemory {
  std::shared_ptr<rocksdb::Cache> block_cache;
  std::shared_ptr<rocksdb::WriteBufferManager> write_buffers;
};

// Creates the cache and write buffer manager for `budget_bytes` and sets them, with the table
// and memtable sizes that follow, in the options.
RocksDBMemory ConfigureMemory(int64_t budget_bytes, rocksdb::DBOptions* db_options,
                              rocksdb::ColumnFamilyOptions* family_options);

// Compacts [begin, end) of `family` down to the last level, so that what was deleted or
// rewritten there leaves the disk now.
absl::Status CompactKeyRange(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family,
                             const std::string& begin, const std::string& end);

// A partition's shared timestamp columns by id, while compaction merges its chunks.
using PartitionColumns = absl::flat_hash_map<uint64_t, TimestampColumn>;

// One series of a write, its occurrences in the batch merged.
struct SeriesWrite {
  const model::Labels* labels = nullptr;
  CanonicalLabelsView canonical;  // into *labels, which the caller's batch keeps alive
  WalSamples samples;           // sorted and validated: only new samples remain
  // Empty (every start 0, nearly every series), or the samples' start timestamps, one each.
  std::vector<int64_t> starts;
  HeadSeries* head = nullptr;   // null when the series is not in the head
  std::optional<uint64_t> ref;  // unset for a series never written
  std::optional<model::Sample> newest;
  WalSamples out_of_order;  // older than newest, within the out-of-order window; sorted
  std::vector<int64_t> out_of_order_starts;  // as `starts`, for `out_of_order`
};

class Node::Rep {
 public:
  Rep(const NodeOptions& options, rocksdb::DB* db,
      std::vector<rocksdb::ColumnFamilyHandle*> handles, std::unique_ptr<Wal> wal,
      RocksDBMemory memory)
      : options_(options),
        head_budget_bytes_(SplitMemoryBudget(options.memory_budget_bytes).head_bytes),
        memory_(std::move(memory)),
        partition_length_ms_(absl::ToInt64Milliseconds(options.partition_length)),
        db_(db),
        handles_(std::move(handles)),
        series_(handles_[1]),
        postings_(handles_[2]),
        chunks_(handles_[3]),
        head_family_(handles_[4]),
        tombstones_family_(handles_[5]),
        metadata_family_(handles_[6]),
        index_(db, series_),
        wal_(std::move(wal)),
        querier_(
            db, postings_,
            [this](absl::Span<const uint64_t> refs) { return CanonicalLabelsOf(refs); },
            partition_length_ms_),
        head_(options.max_samples_per_chunk, partition_length_ms_),
        tombstones_(db, tombstones_family_),
        metadata_(db, metadata_family_),
        timestamp_columns_(db, chunks_, SplitMemoryBudget(options.memory_budget_bytes)
                                            .block_cache_bytes /
                                        kTimestampColumnCacheShare) {}

  ~Rep();

  absl::Status Recover();
  absl::Status Write(const model::WriteBatch& batch);
  // Write's part for the batch's series.
  absl::Status WriteSeries(const model::WriteBatch& batch);
  absl::StatusOr<std::unique_ptr<model::SeriesSet>> Select(
      absl::Span<const model::LabelMatcher> matchers, int64_t min_time_ms, int64_t max_time_ms);
  absl::StatusOr<std::vector<std::string>> LabelNames(
      absl::Span<const model::LabelMatcher> matchers, int64_t min_time_ms, int64_t max_time_ms);
  absl::StatusOr<std::vector<std::string>> LabelValues(
      std::string_view name, absl::Span<const model::LabelMatcher> matchers, int64_t min_time_ms,
      int64_t max_time_ms);
  NodeStats stats() const;
  const MetadataStore& metadata() const { return metadata_; }

  // node_admin.cc: retention, deletion and the background thread that applies retention.
  absl::Status ApplyRetention(absl::Time now);
  absl::Status DeleteSeries(absl::Span<const model::LabelMatcher> matchers, int64_t min_time_ms,
                            int64_t max_time_ms);
  absl::Status CleanTombstones();
  void StartMaintenance();
  // node_compaction.cc.
  absl::Status CompactClosedPartitions(absl::Time now);
  absl::Status Compact();
  absl::StatusOr<std::string> Snapshot();  // node_snapshot.cc
  // The labels of `refs`, in order: an active series' from the head, the others' from the index.
  absl::StatusOr<std::vector<model::CanonicalLabels>> CanonicalLabelsOf(
      absl::Span<const uint64_t> refs);
  absl::StatusOr<std::vector<model::Labels>> LabelsOf(absl::Span<const uint64_t> refs);
  absl::Status WriteHealth() const {
    absl::MutexLock lock(&health_mu_);
    return write_health_;
  }

 private:
  absl::Status Merge(const model::WriteBatch& batch, std::vector<SeriesWrite>* writes) const;
  absl::Status Validate(SeriesWrite* write, int64_t retention_min_time_ms)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::optional<double>> FindStoredSample(const SeriesWrite& write,
                                                         int64_t timestamp_ms) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::optional<model::Sample>> PersistedNewest(uint64_t ref) const;
  void AddPostings(const SeriesWrite& write, rocksdb::WriteBatch* batch) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyToHead(SeriesWrite* write) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<HeadSeries*> LoadHeadSeries(uint64_t ref) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ReplayRecord(std::string_view record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status FlushPendingChunks() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // node_out_of_order.cc: merges the head's out-of-order samples into the written chunks.
  absl::Status FlushOutOfOrder() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status MergeIntoChunks(uint64_t ref, const std::vector<OutOfOrderSample>& samples)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records the outcome of a write's disk I/O for WriteHealth and returns it.
  absl::Status SetWriteHealth(absl::Status status) {
    absl::MutexLock lock(&health_mu_);
    write_health_ = status;
    return status;
  }
  absl::Status Checkpoint() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Keeps the head within its memory share before `writes` are applied: writes the open
  // chunks out early, and refuses writes that add series when that is not enough.
  absl::Status CheckMemory(const std::vector<SeriesWrite>& writes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Synced as options_.sync_wal asks, for index entries and chunks.
  rocksdb::WriteOptions IndexWriteOptions() const;
  // Always synced: the WAL segments a checkpoint replaces are deleted right after it.
  // Writes every open chunk of the head as the checkpoint's chunks, durably.
  absl::Status WriteCheckpointChunks() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Where a checkpoint's table file is built before RocksDB takes it in.
  std::string CheckpointFilePath() const;

  // The series of `refs` as a reader sees them: head chunks copied, tombstones attached.
  std::vector<ChunkSeriesData> SeriesData(const PostingsList& refs, int64_t min_time_ms,
                                          int64_t max_time_ms);
  ChunkSource Source(std::vector<int64_t> partitions, int64_t min_time_ms,
                     int64_t max_time_ms) const;
  // Reads start no earlier than retention allows.
  int64_t ReadableMinTime(int64_t min_time_ms) const;
  // The selected refs, less those whose every sample in the range a tombstone deletes.
  absl::StatusOr<PostingsList> VisibleRefs(absl::Span<const model::LabelMatcher> matchers,
                                           absl::Span<const int64_t> partitions,
                                           int64_t min_time_ms, int64_t max_time_ms);
  absl::Status DropPartitionsBefore(int64_t first_kept);
  // Rewrites the chunks of `ref` in `partition` without the samples `deleted` covers, and drops
  // the series' postings there when nothing is left.
  absl::Status CleanPartition(uint64_t ref, const model::Labels& labels, int64_t partition,
                              const std::vector<TimeInterval>& deleted)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MaintenanceLoop();
  int64_t FirstOpenPartition(absl::Time now) const;
  absl::StatusOr<bool> IsCompacted(int64_t partition) const;
  // Merges every series' chunks of `partition`; marks it compacted when `closed`.
  // Merges the partition's chunks per series; `closed` also marks it compacted.
  absl::Status CompactPartition(int64_t partition, bool closed);
  // The shared timestamp columns stored for `partition`, by id.
  absl::StatusOr<PartitionColumns> LoadTimestampColumns(int64_t partition) const;
  // Merges the chunks of `ref` in `partition` into one (or a few) into `batch`; timestamps
  // found in `columns` are shared, new ones are added to it and to `batch`.
  absl::Status MergePartitionChunks(int64_t partition, uint64_t ref, PartitionColumns* columns,
                                    rocksdb::WriteBatch* batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const NodeOptions options_;
  const int64_t head_budget_bytes_;
  const RocksDBMemory memory_;
  const int64_t partition_length_ms_;
  rocksdb::DB* const db_;
  const std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // default, then kFamilies
  rocksdb::ColumnFamilyHandle* const series_;
  rocksdb::ColumnFamilyHandle* const postings_;
  rocksdb::ColumnFamilyHandle* const chunks_;
  rocksdb::ColumnFamilyHandle* const head_family_;
  rocksdb::ColumnFamilyHandle* const tombstones_family_;
  rocksdb::ColumnFamilyHandle* const metadata_family_;

  // Writers serialize on mu_; the index's and WAL's counters are part of the guarded state.
  mutable absl::Mutex mu_;
  SeriesIndex index_;  // lookups are thread-safe; AllocateRef needs mu_
  const std::unique_ptr<Wal> wal_ ABSL_GUARDED_BY(mu_);
  const Querier querier_;
  Head head_ ABSL_GUARDED_BY(mu_);
  NodeStats stats_ ABSL_GUARDED_BY(mu_);
  // Its own lock: readiness probes must not wait behind a write or a checkpoint.
  mutable absl::Mutex health_mu_;
  absl::Status write_health_ ABSL_GUARDED_BY(health_mu_);
  // The latest partition any sample fell into; series idle since before the one preceding it
  // leave the head at the next checkpoint.
  int64_t newest_partition_ ABSL_GUARDED_BY(mu_) = INT64_MIN;
  Tombstones tombstones_;
  MetadataStore metadata_;
  // Shared timestamp columns of packed chunks, cached decoded.
  const TimestampColumns timestamp_columns_;
  // Retention's boundary: samples before it are gone or about to go, and never read.
  mutable absl::Mutex retention_mu_;
  int64_t retention_min_time_ms_ ABSL_GUARDED_BY(retention_mu_) = INT64_MIN;
  int64_t partitions_dropped_ ABSL_GUARDED_BY(retention_mu_) = 0;
  int64_t partitions_compacted_ ABSL_GUARDED_BY(retention_mu_) = 0;
  // Serializes retention passes and tombstone cleaning with each other.
  absl::Mutex maintenance_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  absl::Mutex stop_mu_;
  bool stopping_ ABSL_GUARDED_BY(stop_mu_) = false;
  std::thread maintenance_thread_;
};

}  // namespace kura::storage
