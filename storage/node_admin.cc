// Node::Rep's retention and deletion: dropping old partitions whole, tombstones, the rewrite
// that applies tombstones to the chunks on disk, and the background thread.

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "storage/chunk_decoder.h"
#include "storage/chunk_encoder.h"
#include "storage/chunk_format.h"
#include "storage/keys.h"
#include "storage/node_rep.h"
#include "storage/rocksdb_status.h"

namespace kura::storage {
namespace {

// Whether `family` holds a key in [begin, end).
absl::StatusOr<bool> AnyKeyIn(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family,
                              const std::string& begin, const std::string& end) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), family));
  it->Seek(begin);
  const bool found = it->Valid() && it->key().compare(rocksdb::Slice(end)) < 0;
  RETURN_IF_ERROR(FromRocksDB(it->status(), "scanning for old partitions"));
  return found;
}

bool IsDeleted(const std::vector<TimeInterval>& deleted, int64_t t) {
  return std::any_of(deleted.begin(), deleted.end(),
                     [t](const TimeInterval& interval) { return interval.Contains(t); });
}

}  // namespace

// Compacts [begin, end) of `family` down to the last level, so that what was deleted there
// leaves the disk now rather than whenever RocksDB would get to it.
absl::Status CompactKeyRange(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family,
                             const std::string& begin, const std::string& end) {
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  const rocksdb::Slice b(begin), e(end);
  return FromRocksDB(db->CompactRange(options, family, &b, &e), "compacting a key range");
}

// ---- Retention ---------------------------------------------------------------------------

absl::Status Node::Rep::ApplyRetention(absl::Time now) {
  if (options_.retention <= absl::ZeroDuration()) return absl::OkStatus();
  absl::MutexLock maintenance(&maintenance_mu_);
  const int64_t cutoff_ms = absl::ToUnixMillis(now - options_.retention);
  const int64_t first_kept = PartitionOf(cutoff_ms, partition_length_ms_);
  {
    // Reads stop at the boundary before anything is deleted, so none sees half a partition.
    absl::MutexLock lock(&retention_mu_);
    retention_min_time_ms_ = std::max(retention_min_time_ms_, first_kept * partition_length_ms_);
  }
  return DropPartitionsBefore(first_kept);
}

absl::Status Node::Rep::DropPartitionsBefore(int64_t first_kept) {
  const std::string begin = PartitionPrefix(INT64_MIN);
  const std::string end = PartitionPrefix(first_kept);
  ASSIGN_OR_RETURN(bool old_postings, AnyKeyIn(db_, postings_, begin, end));
  ASSIGN_OR_RETURN(bool old_chunks, AnyKeyIn(db_, chunks_, begin, end));
  if (!old_postings && !old_chunks) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<int64_t> dropped,
                   querier_.Partitions(INT64_MIN, first_kept * partition_length_ms_ - 1));
  // Two range tombstones, whatever the partitions hold: no per-key deletes.
  rocksdb::WriteBatch wb;
  wb.DeleteRange(postings_, begin, end).PermitUncheckedError();
  wb.DeleteRange(chunks_, begin, end).PermitUncheckedError();
  RETURN_IF_ERROR(FromRocksDB(db_->Write(IndexWriteOptions(), &wb), "dropping partitions"));
  RETURN_IF_ERROR(CompactKeyRange(db_, postings_, begin, end));
  RETURN_IF_ERROR(CompactKeyRange(db_, chunks_, begin, end));
  {
    absl::MutexLock lock(&retention_mu_);
    partitions_dropped_ += static_cast<int64_t>(dropped.size());
  }
  base::LogInfo("retention dropped partitions",
                {{"partitions", absl::StrCat(dropped.size())},
                 {"before_ms", absl::StrCat(first_kept * partition_length_ms_)}});
  return absl::OkStatus();
}

void Node::Rep::StartMaintenance() {
  if (options_.retention <= absl::ZeroDuration() && !options_.compact_closed_partitions) return;
  maintenance_thread_ = std::thread([this] { MaintenanceLoop(); });
}

void Node::Rep::MaintenanceLoop() {
  while (true) {
    {
      absl::MutexLock lock(&stop_mu_);
      if (stop_mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.maintenance_interval)) {
        return;
      }
    }
    const absl::Time now = options_.clock ? options_.clock() : absl::Now();
    if (absl::Status status = ApplyRetention(now); !status.ok()) {
      base::LogWarn("applying retention failed", {{"err", status.ToString()}});
    }
    if (absl::Status status = CompactClosedPartitions(now); !status.ok()) {
      base::LogWarn("compacting partitions failed", {{"err", status.ToString()}});
    }
  }
}

// ---- Deletion ----------------------------------------------------------------------------

absl::Status Node::Rep::DeleteSeries(absl::Span<const model::LabelMatcher> matchers,
                                     int64_t min_time_ms, int64_t max_time_ms) {
  if (min_time_ms > max_time_ms) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<int64_t> partitions, querier_.Partitions(min_time_ms, max_time_ms));
  ASSIGN_OR_RETURN(PostingsList refs, querier_.SelectRefs(matchers, partitions));
  // Under the writers' lock: a sample written after the newest read here is not deleted.
  absl::MutexLock lock(&mu_);
  std::vector<std::pair<uint64_t, TimeInterval>> entries;
  for (uint64_t ref : refs) {
    std::optional<model::Sample> newest;
    if (const HeadSeries* series = head_.Find(ref)) {
      newest = series->newest;
    } else {
      ASSIGN_OR_RETURN(newest, PersistedNewest(ref));
    }
    TimeInterval interval{min_time_ms, max_time_ms};
    if (newest.has_value()) {
      interval.max_time_ms = std::min(interval.max_time_ms, newest->timestamp_ms);
    }
    if (interval.min_time_ms <= interval.max_time_ms) entries.emplace_back(ref, interval);
  }
  return tombstones_.Add(entries);
}

absl::Status Node::Rep::CleanTombstones() {
  absl::MutexLock maintenance(&maintenance_mu_);
  absl::btree_set<int64_t> rewritten;
  for (uint64_t ref : tombstones_.Refs()) {
    const std::vector<TimeInterval> deleted = tombstones_.Of(ref);
    ASSIGN_OR_RETURN(std::vector<model::Labels> labels, index_.LabelsOf({ref}));
    absl::btree_set<int64_t> partitions;
    for (const TimeInterval& interval : deleted) {
      ASSIGN_OR_RETURN(std::vector<int64_t> overlapping,
                       querier_.Partitions(interval.min_time_ms, interval.max_time_ms));
      partitions.insert(overlapping.begin(), overlapping.end());
    }
    // One series at a time under the writers' lock, so ingest pauses briefly, not for the
    // whole rewrite.
    absl::MutexLock lock(&mu_);
    // Everything the head holds outside its open chunks goes to disk first, to be rewritten.
    RETURN_IF_ERROR(FlushPendingChunks());
    RETURN_IF_ERROR(FlushOutOfOrder());
    for (int64_t partition : partitions) {
      RETURN_IF_ERROR(CleanPartition(ref, labels[0], partition, deleted));
    }
    rewritten.insert(partitions.begin(), partitions.end());
    // The open chunk stays as it is until it is written; its tombstones stay with it.
    std::vector<TimeInterval> kept;
    for (const TimeInterval& interval : deleted) {
      std::vector<std::string> head_chunks;
      head_.CopyChunks(ref, interval.min_time_ms, interval.max_time_ms, &head_chunks);
      if (!head_chunks.empty()) kept.push_back(interval);
    }
    RETURN_IF_ERROR(tombstones_.Replace(ref, std::move(kept)));
  }
  for (int64_t partition : rewritten) {
    const std::string begin = PartitionPrefix(partition);
    const std::string end =
        partition == INT64_MAX ? std::string(9, '\xff') : PartitionPrefix(partition + 1);
    RETURN_IF_ERROR(CompactKeyRange(db_, chunks_, begin, end));
    RETURN_IF_ERROR(CompactKeyRange(db_, postings_, begin, end));
  }
  return absl::OkStatus();
}

absl::Status Node::Rep::CleanPartition(uint64_t ref, const model::Labels& labels, int64_t partition,
                                       const std::vector<TimeInterval>& deleted) {
  const std::string prefix = ChunkSeriesPrefix(partition, ref);
  rocksdb::WriteBatch wb;
  int64_t chunks_left = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), chunks_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const std::string_view bytes = it->value().ToStringView();
    ChunkMeta meta;
    RETURN_IF_ERROR(ReadChunkMeta(bytes, &meta));
    const bool touched =
        std::any_of(deleted.begin(), deleted.end(), [&](const TimeInterval& interval) {
          return interval.Overlaps(meta.min_time_ms, meta.max_time_ms);
        });
    if (!touched) {
      ++chunks_left;
      continue;
    }
    // A chunk with start timestamps keeps them.
    ChunkEncoder rewritten =
        chunk_format::UnpackedVersion(bytes) == chunk_format::kVersionWithStarts
            ? ChunkEncoder::WithStarts()
            : ChunkEncoder();
    std::unique_ptr<model::SampleIterator> samples =
        timestamp_columns_.NewIterator(partition, bytes);
    while (samples->Next()) {
      const model::Sample sample = samples->At();
      if (!IsDeleted(deleted, sample.timestamp_ms)) {
        rewritten.Append(sample.timestamp_ms, sample.value, samples->StartAt());
      }
    }
    RETURN_IF_ERROR(samples->status());
    wb.Delete(chunks_, it->key()).PermitUncheckedError();
    if (rewritten.num_samples() > 0) {
      const std::string_view out = rewritten.bytes();
      wb.Put(chunks_, ChunkKey(partition, ref, rewritten.min_time_ms()),
             rocksdb::Slice(out.data(), out.size()))
          .PermitUncheckedError();
      ++chunks_left;
    }
  }
  RETURN_IF_ERROR(FromRocksDB(it->status(), "reading chunks"));
  // The series leaves the partition's postings once nothing of it is left there, unless the
  // head still writes into that partition (its postings are not written again).
  const HeadSeries* head = head_.Find(ref);
  const bool head_writes_here = head != nullptr && head->indexed_partition == partition;
  if (chunks_left == 0 && !head_writes_here) {
    wb.Delete(postings_, PostingKey(partition, "", "", ref)).PermitUncheckedError();
    for (const model::Label& label : labels) {
      wb.Delete(postings_, PostingKey(partition, label.name, label.value, ref))
          .PermitUncheckedError();
    }
  }
  if (wb.Count() == 0) return absl::OkStatus();
  return FromRocksDB(db_->Write(IndexWriteOptions(), &wb), "rewriting chunks");
}

}  // namespace kura::storage
