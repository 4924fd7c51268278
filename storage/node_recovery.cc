// Node::Rep's restart: the checkpointed open chunks, then the WAL written after them.

#include <algorithm>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "rocksdb/db.h"
#include "storage/keys.h"
#include "storage/node_rep.h"
#include "storage/rocksdb_status.h"

namespace kura::storage {
namespace {

// Checkpointed open chunks restored per batch of label lookups.
constexpr size_t kRestoreBatch = 4096;
// Closed chunks gathered during WAL replay before they are written.
constexpr size_t kReplayFlushChunks = 1024;

}  // namespace

absl::StatusOr<HeadSeries*> Node::Rep::LoadHeadSeries(uint64_t ref) {
  if (HeadSeries* series = head_.Find(ref)) return series;
  ASSIGN_OR_RETURN(std::vector<model::Labels> labels, index_.LabelsOf({ref}));
  HeadSeries* series = head_.Create(ref, labels[0].CanonicalBytes());
  ASSIGN_OR_RETURN(series->newest, PersistedNewest(ref));
  return series;
}

absl::Status Node::Rep::ReplayRecord(std::string_view record) {
  std::vector<WalSeriesSamples> entries;
  std::vector<WalSeriesSamples> out_of_order;
  if (!DecodeWalRecord(record, &entries, &out_of_order)) {
    return absl::DataLossError("malformed WAL record");
  }
  for (const WalSeriesSamples& entry : entries) {
    ASSIGN_OR_RETURN(HeadSeries * series, LoadHeadSeries(entry.ref));
    for (size_t i = 0; i < entry.samples.size(); ++i) {
      const model::Sample& sample = entry.samples[i];
      // Samples up to the newest are already in a written or checkpointed chunk.
      if (series->newest.has_value() && sample.timestamp_ms <= series->newest->timestamp_ms) {
        continue;
      }
      head_.Append(series, sample, entry.starts.empty() ? 0 : entry.starts[i]);
      const int64_t partition = PartitionOf(sample.timestamp_ms, partition_length_ms_);
      series->indexed_partition = std::max(series->indexed_partition, partition);
      newest_partition_ = std::max(newest_partition_, partition);
      ++stats_.wal_replayed_samples;
    }
  }
  // Inserting is idempotent: a sample already merged into the written chunks is merged again
  // as the same sample.
  for (const WalSeriesSamples& entry : out_of_order) {
    ASSIGN_OR_RETURN(HeadSeries * series, LoadHeadSeries(entry.ref));
    for (size_t i = 0; i < entry.samples.size(); ++i) {
      head_.InsertOutOfOrder(series, entry.samples[i], entry.starts.empty() ? 0 : entry.starts[i]);
      ++stats_.wal_replayed_samples;
    }
  }
  if (head_.pending().size() >= kReplayFlushChunks) RETURN_IF_ERROR(FlushPendingChunks());
  return absl::OkStatus();
}

// Loads the checkpointed open chunks and replays the WAL written after them.
absl::Status Node::Rep::Recover() {
  const absl::Time start = absl::Now();
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(index_.Init());
  RETURN_IF_ERROR(tombstones_.Load());
  RETURN_IF_ERROR(metadata_.Load());
  // The checkpointed open chunks, in batches so one MultiGet fetches the labels of many. Their
  // newest sample is the series' newest: the written chunks only hold older ones. A batch's
  // labels are fetched on a second thread while this one restores the batch before and scans
  // the next: the three take about as long each.
  struct Batch {
    std::vector<uint64_t> refs;
    std::vector<std::string> chunks;
    std::future<absl::StatusOr<std::vector<std::string>>> labels;
  };
  std::optional<Batch> fetching;
  auto restore = [&](Batch& batch) ABSL_NO_THREAD_SAFETY_ANALYSIS -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<std::string> labels, batch.labels.get());
    for (size_t i = 0; i < batch.refs.size(); ++i) {
      HeadSeries* series = head_.Create(batch.refs[i], std::move(labels[i]));
      if (!head_.RestoreOpenChunk(series, batch.chunks[i])) {
        return absl::DataLossError(
            absl::StrCat("corrupt checkpointed chunk of series ref ", batch.refs[i]));
      }
      series->indexed_partition = series->chunk_partition;
      newest_partition_ = std::max(newest_partition_, series->chunk_partition);
    }
    return absl::OkStatus();
  };
  // Starts fetching the labels of `next` and restores the batch fetched before it, if any.
  auto advance = [&](Batch next) -> absl::Status {
    std::optional<Batch> previous = std::move(fetching);
    next.labels = std::async(std::launch::async, [this, refs = next.refs] {
      return index_.CanonicalLabelsOf(refs);
    });
    fetching = std::move(next);
    return previous.has_value() ? restore(*previous) : absl::OkStatus();
  };
  // Read once, in order: the blocks would only crowd the cache, and the memory a restart
  // peaks at.
  rocksdb::ReadOptions scan;
  scan.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(scan, head_family_));
  Batch batch;
  for (it->Seek(kCheckpointChunkPrefix);
       it->Valid() && it->key().starts_with(kCheckpointChunkPrefix); it->Next()) {
    uint64_t ref = 0;
    if (!ParseCheckpointChunkKey(it->key().ToStringView(), &ref)) {
      return absl::DataLossError("malformed checkpoint key");
    }
    batch.refs.push_back(ref);
    batch.chunks.emplace_back(it->value().ToStringView());
    if (batch.refs.size() == kRestoreBatch) RETURN_IF_ERROR(advance(std::exchange(batch, {})));
  }
  RETURN_IF_ERROR(FromRocksDB(it->status(), "reading the checkpoint"));
  it.reset();
  if (!batch.refs.empty()) RETURN_IF_ERROR(advance(std::move(batch)));
  if (fetching.has_value()) RETURN_IF_ERROR(restore(*fetching));
  const absl::Time checkpoint_loaded = absl::Now();
  int64_t records = 0;
  RETURN_IF_ERROR(wal_->Replay([&](std::string_view record) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    ++records;
    return ReplayRecord(record);
  }));
  const absl::Time replayed = absl::Now();
  // No checkpoint here: the WAL counts the replayed segments towards the next one, so what the
  // next restart replays stays bounded, and being ready does not wait for the write.
  RETURN_IF_ERROR(FlushPendingChunks());
  auto seconds = [](absl::Duration d) { return absl::StrFormat("%.3f", absl::ToDoubleSeconds(d)); };
  base::LogInfo("recovered the head",
                {{"series", absl::StrCat(head_.num_series())},
                 {"checkpoint_load_seconds", seconds(checkpoint_loaded - start)},
                 {"wal_records", absl::StrCat(records)},
                 {"wal_samples", absl::StrCat(stats_.wal_replayed_samples)},
                 {"wal_replay_seconds", seconds(replayed - checkpoint_loaded)},
                 {"chunk_write_seconds", seconds(absl::Now() - replayed)}});
  return absl::OkStatus();
}

}  // namespace kura::storage
