#include "storage/node.h"

#include <algorithm>
#include <bit>
#include <filesystem>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/sst_file_writer.h"
#include "rocksdb/write_batch.h"
#include "rocksdb/write_buffer_manager.h"
#include "storage/chunk_decoder.h"
#include "storage/chunk_series_set.h"
#include "storage/head.h"
#include "storage/keys.h"
#include "storage/node_rep.h"
#include "storage/querier.h"
#include "storage/rocksdb_status.h"
#include "storage/series_index.h"
#include "storage/wal.h"

namespace kura::storage {
namespace {

// RocksDB's own log holds index entries, chunks and checkpoints; a checkpoint flushes the
// memtables so it can be dropped, and this caps it in between.
constexpr uint64_t kMaxRocksDBLogBytes = uint64_t{128} << 20;
// The smallest memory budget the shares still work with.
constexpr int64_t kMinMemoryBudgetBytes = int64_t{4} << 20;
// Out-of-order samples held in the head before they are merged into the written chunks: each
// costs 16 bytes here, and a merge rewrites the chunks they fall into.
constexpr int64_t kOutOfOrderFlushSamples = 64 * 1024;

// In the order of Rep's handles_, after "default".
constexpr std::string_view kFamilies[] = {kSeriesFamily, kPostingsFamily,   kChunksFamily,
                                          kHeadFamily,   kTombstonesFamily, kMetadataFamily};

bool SameBits(double a, double b) {
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
}

// Sorts samples by time, stably, with their parallel start timestamps.
void SortWithStarts(WalSamples* samples, std::vector<int64_t>* starts) {
  std::vector<size_t> order(samples->size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return (*samples)[a].timestamp_ms < (*samples)[b].timestamp_ms;
  });
  WalSamples sorted_samples(samples->size());
  std::vector<int64_t> sorted_starts(starts->size());
  for (size_t i = 0; i < order.size(); ++i) {
    sorted_samples[i] = (*samples)[order[i]];
    sorted_starts[i] = (*starts)[order[i]];
  }
  *samples = std::move(sorted_samples);
  *starts = std::move(sorted_starts);
}

}  // namespace

Node::Rep::~Rep() {
  {
    absl::MutexLock lock(&stop_mu_);
    stopping_ = true;
  }
  if (maintenance_thread_.joinable()) maintenance_thread_.join();
  {
    absl::MutexLock lock(&mu_);
    // Best effort: without it the next Open replays the WAL instead.
    Checkpoint().IgnoreError();
  }
  // The checkpoint is in RocksDB's log until its memtables are flushed; flushing them now
  // leaves that log empty, so the next open replays nothing and the disk holds the compressed
  // tables only. Best effort too: the log is as durable.
  rocksdb::FlushOptions flush;
  flush.wait = true;
  db_->Flush(flush, handles_).PermitUncheckedError();
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  }
  db_->Close().PermitUncheckedError();
  delete db_;
}

rocksdb::WriteOptions Node::Rep::IndexWriteOptions() const {
  rocksdb::WriteOptions options;
  options.sync = options_.sync_wal;
  return options;
}

std::string Node::Rep::CheckpointFilePath() const {
  return (std::filesystem::path(options_.data_dir) / "checkpoint.sst.tmp").string();
}

// The open chunks go into RocksDB as one table file, ingested atomically: a write batch and
// the memtable holding it would each take as much memory as every open chunk together (tens of
// MiB at 100k series), and the memtable would then be flushed into the same file anyway.
absl::Status Node::Rep::WriteCheckpointChunks() {
  std::vector<const HeadSeries*> open;
  open.reserve(head_.num_series());
  head_.ForEach([&](const HeadSeries& series) {
    if (series.chunk.num_samples() > 0) open.push_back(&series);
  });
  if (open.empty()) return absl::OkStatus();
  // A table's keys are written in order; checkpoint keys sort by ref.
  std::sort(open.begin(), open.end(),
            [](const HeadSeries* a, const HeadSeries* b) { return a->ref < b->ref; });
  const std::string path = CheckpointFilePath();
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), db_->GetOptions(head_family_),
                                head_family_);
  RETURN_IF_ERROR(FromRocksDB(writer.Open(path), "writing a checkpoint"));
  // The file replaces every earlier checkpoint chunk at once: its range tombstone covers the
  // older versions but not the file's own keys. Recovery's scan then skips the stale versions
  // in older files wholesale instead of stepping past them one by one (each checkpoint
  // rewrites every open chunk, and several checkpoints' files may be waiting for compaction).
  RETURN_IF_ERROR(FromRocksDB(writer.DeleteRange(kCheckpointChunkPrefix, kCheckpointChunkEnd),
                              "writing a checkpoint"));
  for (const HeadSeries* series : open) {
    const std::string_view bytes = series->chunk.bytes();
    RETURN_IF_ERROR(FromRocksDB(
        writer.Put(CheckpointChunkKey(series->ref), rocksdb::Slice(bytes.data(), bytes.size())),
        "writing a checkpoint"));
  }
  RETURN_IF_ERROR(FromRocksDB(writer.Finish(), "writing a checkpoint"));
  rocksdb::IngestExternalFileOptions ingest;
  ingest.move_files = true;  // a hard link, not a copy
  const absl::Status ingested =
      FromRocksDB(db_->IngestExternalFile(head_family_, {path}, ingest), "ingesting a checkpoint");
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
  return ingested;
}

// ---- Write -------------------------------------------------------------------------------

absl::Status Node::Rep::Merge(const model::WriteBatch& batch,
                              std::vector<SeriesWrite>* writes) const {
  // Keys view the batch's labels, whose canonical form and hash are computed once per label set
  // (ingest hands the same one to every request that carries it).
  writes->reserve(batch.series.size());
  absl::flat_hash_map<CanonicalLabelsView, size_t, CanonicalLabelsHash, CanonicalLabelsEq>
      positions;
  positions.reserve(batch.series.size());
  for (const model::TimeSeries& series : batch.series) {
    if (series.samples.empty()) continue;
    const std::vector<int64_t>& series_starts = series.start_timestamps_ms;
    if (!series_starts.empty() && series_starts.size() != series.samples.size()) {
      return absl::InvalidArgumentError(absl::StrCat("series ", series.labels.ToString(), " has ",
                                                     series.samples.size(), " samples but ",
                                                     series_starts.size(), " start timestamps"));
    }
    SeriesWrite& candidate = writes->emplace_back();
    candidate.canonical = {series.labels.CanonicalView(), series.labels.Hash()};
    auto [it, inserted] = positions.try_emplace(candidate.canonical, writes->size() - 1);
    if (inserted) {
      candidate.labels = &series.labels;
    } else {
      writes->pop_back();  // a repeated series: its samples join the first occurrence
    }
    SeriesWrite& write = (*writes)[it->second];
    // Starts are kept only when one is known: all zeros is the same as none.
    const bool any_start = std::any_of(series_starts.begin(), series_starts.end(),
                                       [](int64_t start) { return start != 0; });
    if (any_start || !write.starts.empty()) {
      write.starts.resize(write.samples.size(), 0);
      if (any_start) {
        write.starts.insert(write.starts.end(), series_starts.begin(), series_starts.end());
      } else {
        write.starts.resize(write.samples.size() + series.samples.size(), 0);
      }
    }
    write.samples.insert(write.samples.end(), series.samples.begin(), series.samples.end());
  }
  for (SeriesWrite& write : *writes) {
    WalSamples& samples = write.samples;
    std::vector<int64_t>& starts = write.starts;
    auto by_time = [](const model::Sample& a, const model::Sample& b) {
      return a.timestamp_ms < b.timestamp_ms;
    };
    if (!std::is_sorted(samples.begin(), samples.end(), by_time)) {
      if (starts.empty()) {
        std::stable_sort(samples.begin(), samples.end(), by_time);
      } else {
        SortWithStarts(&samples, &starts);
      }
    }
    size_t kept = 0;
    for (size_t i = 0; i < samples.size(); ++i) {
      if (kept > 0 && samples[kept - 1].timestamp_ms == samples[i].timestamp_ms) {
        // A resend is recognised by its value; the first sample's start is kept.
        if (SameBits(samples[kept - 1].value, samples[i].value)) continue;
        return absl::InvalidArgumentError(
            absl::StrCat("duplicate sample for timestamp ", samples[i].timestamp_ms,
                         " with different values in series ", write.labels->ToString()));
      }
      if (!starts.empty()) starts[kept] = starts[i];
      samples[kept++] = samples[i];
    }
    samples.resize(kept);
    if (!starts.empty()) starts.resize(kept);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<model::Sample>> Node::Rep::PersistedNewest(uint64_t ref) const {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), head_family_, PersistedMaxTimeKey(ref), &value);
  if (s.IsNotFound()) return std::nullopt;
  RETURN_IF_ERROR(FromRocksDB(s, "reading a series' newest time"));
  if (value.size() != 8) return absl::DataLossError("malformed newest time");
  // Only the timestamp matters to validation; a retried sample's value is compared with the
  // chunk that holds it.
  return model::Sample{DecodeInt64BE(value), 0};
}

absl::StatusOr<std::optional<double>> Node::Rep::FindStoredSample(const SeriesWrite& write,
                                                                  int64_t timestamp_ms) const {
  if (write.head != nullptr) {
    bool older = false;
    std::optional<double> value = head_.FindSample(*write.head, timestamp_ms, &older);
    if (!older) return value;
  }
  if (!write.ref.has_value()) return std::nullopt;
  const std::string prefix =
      ChunkSeriesPrefix(PartitionOf(timestamp_ms, partition_length_ms_), *write.ref);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), chunks_));
  std::string key = prefix;
  PutInt64BE(&key, timestamp_ms);
  it->SeekForPrev(key);
  RETURN_IF_ERROR(FromRocksDB(it->status(), "reading chunks"));
  if (!it->Valid() || !it->key().starts_with(prefix)) return std::nullopt;
  std::unique_ptr<model::SampleIterator> samples = timestamp_columns_.NewIterator(
      PartitionOf(timestamp_ms, partition_length_ms_), it->value().ToStringView(), timestamp_ms,
      timestamp_ms);
  if (samples->Next()) return samples->At().value;
  RETURN_IF_ERROR(samples->status());
  return std::nullopt;
}

// Drops samples already stored bit for bit (a sender's retry); moves samples not newer than the
// series' newest but within the out-of-order window to write->out_of_order; rejects the rest,
// and samples before retention's boundary.
absl::Status Node::Rep::Validate(SeriesWrite* write, int64_t retention_min_time_ms) {
  if (HeadSeries* head = head_.FindByLabels(write->canonical)) {
    write->ref = head->ref;
    write->head = head;
    write->newest = head->newest;
  } else {
    ASSIGN_OR_RETURN(write->ref, index_.Lookup(write->canonical.bytes));
    if (write->ref.has_value()) {
      ASSIGN_OR_RETURN(write->newest, PersistedNewest(*write->ref));
    }
  }
  WalSamples& samples = write->samples;
  if (samples.front().timestamp_ms < retention_min_time_ms) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sample at ", samples.front().timestamp_ms, " is older than the retention boundary ",
        retention_min_time_ms, " in series ", write->labels->ToString()));
  }
  if (!write->newest.has_value()) return absl::OkStatus();
  const int64_t newest = write->newest->timestamp_ms;
  const int64_t window_ms = absl::ToInt64Milliseconds(options_.out_of_order_window);
  std::vector<int64_t>& starts = write->starts;
  size_t kept = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    const model::Sample sample = samples[i];
    if (sample.timestamp_ms > newest) {
      if (!starts.empty()) starts[kept] = starts[i];
      samples[kept++] = sample;
      continue;
    }
    ASSIGN_OR_RETURN(std::optional<double> stored, FindStoredSample(*write, sample.timestamp_ms));
    if (stored.has_value() && SameBits(*stored, sample.value)) continue;
    if (!stored.has_value() && window_ms > 0 && sample.timestamp_ms >= newest - window_ms) {
      write->out_of_order.push_back(sample);
      if (!starts.empty()) write->out_of_order_starts.push_back(starts[i]);
      continue;
    }
    ++stats_.out_of_order_samples;
    if (stored.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("duplicate sample for timestamp ", sample.timestamp_ms,
                       " with a different value in series ", write->labels->ToString()));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "out of order sample at ", sample.timestamp_ms, ": older than the series' newest ", newest,
        window_ms > 0 ? absl::StrCat(" by more than the out-of-order window of ",
                                     absl::FormatDuration(options_.out_of_order_window))
                      : " (no out-of-order window is configured)",
        " in series ", write->labels->ToString()));
  }
  samples.resize(kept);
  if (!starts.empty()) starts.resize(kept);
  return absl::OkStatus();
}

void Node::Rep::AddPostings(const SeriesWrite& write, rocksdb::WriteBatch* batch) const {
  auto add = [&](int64_t partition) {
    batch->Put(postings_, PostingKey(partition, "", "", *write.ref), "").PermitUncheckedError();
    // From the canonical form: a label set from ingest's cache has no parsed list to walk.
    model::Labels::ForEachCanonical(
        write.canonical.bytes, [&](std::string_view name, std::string_view value) {
          batch->Put(postings_, PostingKey(partition, name, value, *write.ref), "")
              .PermitUncheckedError();
        });
  };
  int64_t indexed = write.head != nullptr ? write.head->indexed_partition : INT64_MIN;
  for (const model::Sample& sample : write.samples) {
    const int64_t partition = PartitionOf(sample.timestamp_ms, partition_length_ms_);
    if (partition <= indexed) continue;
    indexed = partition;
    add(partition);
  }
  // Out-of-order samples may reach back into a partition the series had no samples in; they are
  // rare, so their postings are written again whether or not they exist.
  int64_t last = INT64_MIN;
  for (const model::Sample& sample : write.out_of_order) {
    const int64_t partition = PartitionOf(sample.timestamp_ms, partition_length_ms_);
    if (partition == last) continue;
    last = partition;
    add(partition);
  }
}

void Node::Rep::ApplyToHead(SeriesWrite* write) {
  HeadSeries* series = write->head;
  if (series == nullptr) {
    series = head_.Create(*write->ref, write->labels->Canonical());
    series->newest = write->newest;
  }
  const std::vector<int64_t>& starts = write->starts;
  for (size_t i = 0; i < write->samples.size(); ++i) {
    head_.Append(series, write->samples[i], starts.empty() ? 0 : starts[i]);
  }
  const std::vector<int64_t>& out_of_order_starts = write->out_of_order_starts;
  for (size_t i = 0; i < write->out_of_order.size(); ++i) {
    head_.InsertOutOfOrder(series, write->out_of_order[i],
                           out_of_order_starts.empty() ? 0 : out_of_order_starts[i]);
  }
  if (!write->samples.empty()) {
    const int64_t partition = PartitionOf(write->samples.back().timestamp_ms, partition_length_ms_);
    series->indexed_partition = std::max(series->indexed_partition, partition);
    newest_partition_ = std::max(newest_partition_, partition);
  }
  stats_.samples_appended +=
      static_cast<int64_t>(write->samples.size() + write->out_of_order.size());
  stats_.out_of_order_accepted += static_cast<int64_t>(write->out_of_order.size());
}

absl::Status Node::Rep::Write(const model::WriteBatch& batch) {
  // Series first: a batch whose samples are refused stores no metadata either. Metadata that
  // then fails to write fails the batch, whose samples a retry skips as already written.
  RETURN_IF_ERROR(WriteSeries(batch));
  if (batch.metadata.empty()) return absl::OkStatus();
  return SetWriteHealth(metadata_.Update(batch.metadata, IndexWriteOptions()));
}

absl::Status Node::Rep::WriteSeries(const model::WriteBatch& batch) {
  std::vector<SeriesWrite> writes;
  RETURN_IF_ERROR(Merge(batch, &writes));
  absl::MutexLock lock(&mu_);
  const int64_t retention_min_time_ms = ReadableMinTime(INT64_MIN);
  for (SeriesWrite& write : writes) RETURN_IF_ERROR(Validate(&write, retention_min_time_ms));
  std::erase_if(writes,
                [](const SeriesWrite& w) { return w.samples.empty() && w.out_of_order.empty(); });
  if (writes.empty()) return absl::OkStatus();
  RETURN_IF_ERROR(CheckMemory(writes));

  // New series and postings go to RocksDB first: a WAL record only names series the index
  // knows. Most writes add none and touch RocksDB not at all.
  rocksdb::WriteBatch wb;
  std::vector<WalSeriesSamples> wal_series;
  wal_series.reserve(writes.size());
  std::vector<WalSeriesSamples> wal_out_of_order;
  int64_t created = 0;
  for (SeriesWrite& write : writes) {
    if (!write.ref.has_value()) {
      write.ref = index_.AllocateRef();
      index_.AddToBatch(*write.ref, write.canonical.bytes, &wb);
      ++created;
    }
    AddPostings(write, &wb);
    if (!write.samples.empty()) wal_series.push_back({*write.ref, write.samples, write.starts});
    if (!write.out_of_order.empty()) {
      wal_out_of_order.push_back({*write.ref, write.out_of_order, write.out_of_order_starts});
    }
  }
  if (wb.Count() > 0) {
    RETURN_IF_ERROR(
        SetWriteHealth(FromRocksDB(db_->Write(IndexWriteOptions(), &wb), "writing the index")));
  }
  stats_.series_created += created;
  std::string record;
  EncodeWalRecord(wal_series, &record, wal_out_of_order);
  RETURN_IF_ERROR(SetWriteHealth(wal_->Append(record)));

  for (SeriesWrite& write : writes) ApplyToHead(&write);
  // The samples are durable in the WAL from here on; moving them into chunks or a checkpoint
  // may fail and is retried with the next write, so it does not fail this one.
  if (FlushPendingChunks().ok() && wal_->bytes_since_rotate() >= options_.checkpoint_wal_bytes) {
    Checkpoint().IgnoreError();
  } else if (head_.num_out_of_order() >= kOutOfOrderFlushSamples) {
    FlushOutOfOrder().IgnoreError();
  }
  return absl::OkStatus();
}

// Writes the closed chunks with each series' newest written timestamp, and drops the checkpointed
// open chunk they replace.
absl::Status Node::Rep::FlushPendingChunks() {
  if (head_.pending().empty()) return absl::OkStatus();
  // A chunk wholly before retention's boundary would land in a dropped partition.
  const int64_t readable_min_time_ms = ReadableMinTime(INT64_MIN);
  rocksdb::WriteBatch wb;
  for (const ClosedChunk& chunk : head_.pending()) {
    if (chunk.max_time_ms >= readable_min_time_ms) {
      wb.Put(chunks_, ChunkKey(chunk.partition, chunk.ref, chunk.min_time_ms), chunk.bytes)
          .PermitUncheckedError();
    }
    std::string newest;
    PutInt64BE(&newest, chunk.max_time_ms);
    wb.Put(head_family_, PersistedMaxTimeKey(chunk.ref), newest).PermitUncheckedError();
    wb.Delete(head_family_, CheckpointChunkKey(chunk.ref)).PermitUncheckedError();
  }
  RETURN_IF_ERROR(FromRocksDB(db_->Write(IndexWriteOptions(), &wb), "writing chunks"));
  stats_.chunks_written += static_cast<int64_t>(head_.pending().size());
  head_.ClearPending();
  return absl::OkStatus();
}

// Saves every open chunk and deletes the whole WAL in one batch, so that a restart reads the
// open chunks instead of replaying everything since they opened. Series idle for more than a
// partition are written out and leave the head first.
absl::Status Node::Rep::Checkpoint() {
  // Out-of-order samples are not in the open chunks a checkpoint saves: they are merged into
  // the written chunks first, so the WAL holding them can go.
  RETURN_IF_ERROR(FlushPendingChunks());
  RETURN_IF_ERROR(FlushOutOfOrder());
  if (newest_partition_ > INT64_MIN) head_.EvictIdle(newest_partition_ - 1);
  RETURN_IF_ERROR(FlushPendingChunks());
  // Records appended from here on go to the new segment; the head holds everything before.
  ASSIGN_OR_RETURN(const uint64_t first_kept, wal_->Rotate());
  RETURN_IF_ERROR(WriteCheckpointChunks());
  RETURN_IF_ERROR(wal_->Truncate(first_kept));
  // Flushing the memtables lets RocksDB drop its log too, so what it replays on open is bounded
  // like our WAL. In the background: ingest does not wait for it.
  rocksdb::FlushOptions flush;
  flush.wait = false;
  flush.allow_write_stall = true;
  return FromRocksDB(db_->Flush(flush, handles_), "flushing memtables");
}

// ---- Read --------------------------------------------------------------------------------

int64_t Node::Rep::ReadableMinTime(int64_t min_time_ms) const {
  absl::MutexLock lock(&retention_mu_);
  return std::max(min_time_ms, retention_min_time_ms_);
}

std::vector<ChunkSeriesData> Node::Rep::SeriesData(const PostingsList& refs, int64_t min_time_ms,
                                                   int64_t max_time_ms) {
  std::vector<ChunkSeriesData> series(refs.size());
  {
    // Only copies; chunks written meanwhile are read from disk too, and the merge drops the
    // samples seen twice.
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < refs.size(); ++i) {
      head_.CopyChunks(refs[i], min_time_ms, max_time_ms, &series[i].head_chunks);
    }
  }
  const bool any_tombstones = !tombstones_.empty();
  for (size_t i = 0; i < refs.size(); ++i) {
    series[i].ref = refs[i];
    if (any_tombstones) series[i].deleted = tombstones_.Of(refs[i]);
  }
  return series;
}

ChunkSource Node::Rep::Source(std::vector<int64_t> partitions, int64_t min_time_ms,
                              int64_t max_time_ms) const {
  ChunkSource source;
  source.chunks = std::make_shared<ChunkIteratorPool>(db_, chunks_);
  source.timestamp_columns = &timestamp_columns_;
  source.partitions = std::move(partitions);
  source.min_time_ms = min_time_ms;
  source.max_time_ms = max_time_ms;
  return source;
}

absl::StatusOr<std::vector<model::CanonicalLabels>> Node::Rep::CanonicalLabelsOf(
    absl::Span<const uint64_t> refs) {
  std::vector<model::CanonicalLabels> out(refs.size());
  std::vector<uint64_t> stored;
  std::vector<size_t> stored_at;  // in `out`
  {
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < refs.size(); ++i) {
      if (const HeadSeries* series = std::as_const(head_).Find(refs[i])) {
        out[i] = series->labels;  // shared, not copied
      } else {
        stored.push_back(refs[i]);
        stored_at.push_back(i);
      }
    }
  }
  ASSIGN_OR_RETURN(std::vector<std::string> from_index, index_.CanonicalLabelsOf(stored));
  for (size_t k = 0; k < stored.size(); ++k) {
    out[stored_at[k]] =
        model::CanonicalLabels::Copy(from_index[k], model::Labels::HashCanonical(from_index[k]));
  }
  return out;
}

absl::StatusOr<std::vector<model::Labels>> Node::Rep::LabelsOf(
    absl::Span<const uint64_t> refs) {
  ASSIGN_OR_RETURN(std::vector<model::CanonicalLabels> canonical, CanonicalLabelsOf(refs));
  std::vector<model::Labels> out(refs.size());
  for (size_t i = 0; i < refs.size(); ++i) {
    if (!model::Labels::ParseCanonical(canonical[i].bytes(), &out[i])) {
      return absl::DataLossError(absl::StrCat("malformed labels of series ref ", refs[i]));
    }
  }
  return out;
}

absl::StatusOr<std::unique_ptr<model::SeriesSet>> Node::Rep::Select(
    absl::Span<const model::LabelMatcher> matchers, int64_t min_time_ms, int64_t max_time_ms) {
  min_time_ms = ReadableMinTime(min_time_ms);
  ASSIGN_OR_RETURN(std::vector<int64_t> partitions, querier_.Partitions(min_time_ms, max_time_ms));
  ASSIGN_OR_RETURN(PostingsList refs, querier_.SelectRefs(matchers, partitions));
  ASSIGN_OR_RETURN(std::vector<model::Labels> labels, LabelsOf(refs));
  std::vector<ChunkSeriesData> series = SeriesData(refs, min_time_ms, max_time_ms);
  for (size_t i = 0; i < refs.size(); ++i) series[i].labels = std::move(labels[i]);
  std::sort(series.begin(), series.end(), [](const ChunkSeriesData& a, const ChunkSeriesData& b) {
    return model::Labels::Compare(a.labels, b.labels) < 0;
  });
  return NewChunkSeriesSet(Source(std::move(partitions), min_time_ms, max_time_ms),
                           std::move(series));
}

absl::StatusOr<PostingsList> Node::Rep::VisibleRefs(absl::Span<const model::LabelMatcher> matchers,
                                                    absl::Span<const int64_t> partitions,
                                                    int64_t min_time_ms, int64_t max_time_ms) {
  ASSIGN_OR_RETURN(PostingsList refs, querier_.SelectRefs(matchers, partitions));
  PostingsList deleted;
  for (uint64_t ref : tombstones_.Refs()) {
    if (std::binary_search(refs.begin(), refs.end(), ref)) deleted.push_back(ref);
  }
  if (deleted.empty()) return refs;
  const ChunkSource source =
      Source(std::vector<int64_t>(partitions.begin(), partitions.end()), min_time_ms, max_time_ms);
  PostingsList hidden;
  for (const ChunkSeriesData& series : SeriesData(deleted, min_time_ms, max_time_ms)) {
    ASSIGN_OR_RETURN(bool has_samples, HasSamples(source, series));
    if (!has_samples) hidden.push_back(series.ref);
  }
  return SubtractPostings(refs, hidden);
}

absl::StatusOr<std::vector<std::string>> Node::Rep::LabelNames(
    absl::Span<const model::LabelMatcher> matchers, int64_t min_time_ms, int64_t max_time_ms) {
  min_time_ms = ReadableMinTime(min_time_ms);
  ASSIGN_OR_RETURN(std::vector<int64_t> partitions, querier_.Partitions(min_time_ms, max_time_ms));
  if (tombstones_.empty()) return querier_.LabelNames(matchers, partitions);
  // Deleted series must not show: list from the labels of the series that keep samples.
  ASSIGN_OR_RETURN(PostingsList refs, VisibleRefs(matchers, partitions, min_time_ms, max_time_ms));
  ASSIGN_OR_RETURN(std::vector<model::Labels> labels, LabelsOf(refs));
  absl::btree_set<std::string> names;
  for (const model::Labels& l : labels) {
    for (const model::Label& label : l) names.insert(label.name);
  }
  return std::vector<std::string>(names.begin(), names.end());
}

absl::StatusOr<std::vector<std::string>> Node::Rep::LabelValues(
    std::string_view name, absl::Span<const model::LabelMatcher> matchers, int64_t min_time_ms,
    int64_t max_time_ms) {
  min_time_ms = ReadableMinTime(min_time_ms);
  ASSIGN_OR_RETURN(std::vector<int64_t> partitions, querier_.Partitions(min_time_ms, max_time_ms));
  if (tombstones_.empty()) return querier_.LabelValues(name, matchers, partitions);
  ASSIGN_OR_RETURN(PostingsList refs, VisibleRefs(matchers, partitions, min_time_ms, max_time_ms));
  ASSIGN_OR_RETURN(std::vector<model::Labels> labels, LabelsOf(refs));
  absl::btree_set<std::string> values;
  for (const model::Labels& l : labels) {
    const std::string_view value = l.Get(name);
    if (!value.empty()) values.emplace(value);
  }
  return std::vector<std::string>(values.begin(), values.end());
}

NodeStats Node::Rep::stats() const {
  absl::MutexLock lock(&mu_);
  NodeStats stats = stats_;
  stats.active_series = static_cast<int64_t>(head_.num_series());
  stats.active_tombstoned_series = static_cast<int64_t>(tombstones_.num_series());
  stats.memory_budget_bytes = options_.memory_budget_bytes;
  stats.head_memory_bytes = head_.memory_bytes();
  stats.block_cache_bytes = static_cast<int64_t>(memory_.block_cache->GetUsage());
  stats.memtable_bytes = static_cast<int64_t>(memory_.write_buffers->memory_usage());
  absl::MutexLock retention_lock(&retention_mu_);
  stats.partitions_dropped = partitions_dropped_;
  stats.partitions_compacted = partitions_compacted_;
  return stats;
}

// ---- Node --------------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Node>> Node::Open(const NodeOptions& options) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("no data directory given");
  if (options.max_samples_per_chunk < 1) {
    return absl::InvalidArgumentError("max_samples_per_chunk must be positive");
  }
  if (absl::ToInt64Milliseconds(options.partition_length) < 1) {
    return absl::InvalidArgumentError("partition_length must be at least 1ms");
  }
  if (options.memory_budget_bytes < kMinMemoryBudgetBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the memory budget must be at least ", kMinMemoryBudgetBytes, " bytes"));
  }
  if (options.retention < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("retention must not be negative");
  }
  std::error_code error;
  std::filesystem::create_directories(options.data_dir, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("creating data directory ", options.data_dir, ": ", error.message()));
  }
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  // Caps RocksDB's own log: a family written rarely (series) is flushed rather than keeping
  // every log file alive, so RocksDB's recovery stays bounded like ours.
  db_options.max_total_wal_size = kMaxRocksDBLogBytes;
  rocksdb::ColumnFamilyOptions family_options;
  RocksDBMemory memory = ConfigureMemory(options.memory_budget_bytes, &db_options, &family_options);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, family_options);
  for (std::string_view name : kFamilies) {
    rocksdb::ColumnFamilyOptions options_for_family = family_options;
    // Each checkpoint rewrites every open chunk, and the last one stays in level 0 after a
    // clean close: zstd at every level, for about the CPU of the write it compresses.
    if (name == kHeadFamily) options_for_family.compression = rocksdb::kZSTD;
    descriptors.emplace_back(std::string(name), options_for_family);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  RETURN_IF_ERROR(
      FromRocksDB(rocksdb::DB::Open(db_options, options.data_dir, descriptors, &handles, &db),
                  absl::StrCat("opening ", options.data_dir)));
  // After RocksDB's open, whose lock keeps a second process off the directory.
  Wal::Options wal_options;
  wal_options.sync = options.sync_wal;
  absl::StatusOr<std::unique_ptr<Wal>> wal =
      Wal::Open((std::filesystem::path(options.data_dir) / "wal").string(), wal_options);
  if (!wal.ok()) {
    for (rocksdb::ColumnFamilyHandle* handle : handles) {
      db->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
    }
    delete db;
    return wal.status();
  }
  auto rep =
      std::make_unique<Rep>(options, db, std::move(handles), *std::move(wal), std::move(memory));
  RETURN_IF_ERROR(rep->Recover());
  RETURN_IF_ERROR(rep->ApplyRetention(options.clock ? options.clock() : absl::Now()));
  rep->StartMaintenance();
  return std::unique_ptr<Node>(new Node(std::move(rep)));
}

Node::Node(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
Node::~Node() = default;

absl::Status Node::Write(const model::WriteBatch& batch) { return rep_->Write(batch); }

absl::StatusOr<std::unique_ptr<model::SeriesSet>> Node::Select(
    absl::Span<const model::LabelMatcher> matchers, int64_t min_time_ms, int64_t max_time_ms) {
  return rep_->Select(matchers, min_time_ms, max_time_ms);
}

absl::StatusOr<std::vector<std::string>> Node::LabelNames(
    absl::Span<const model::LabelMatcher> matchers, int64_t min_time_ms, int64_t max_time_ms) {
  return rep_->LabelNames(matchers, min_time_ms, max_time_ms);
}

absl::StatusOr<std::vector<std::string>> Node::LabelValues(
    std::string_view name, absl::Span<const model::LabelMatcher> matchers, int64_t min_time_ms,
    int64_t max_time_ms) {
  return rep_->LabelValues(name, matchers, min_time_ms, max_time_ms);
}

absl::StatusOr<std::vector<model::MetricMetadata>> Node::Metadata(std::string_view metric) {
  return rep_->metadata().Get(metric);
}

NodeStats Node::stats() const { return rep_->stats(); }
absl::Status Node::WriteHealth() const { return rep_->WriteHealth(); }

absl::Status Node::DeleteSeries(absl::Span<const model::LabelMatcher> matchers, int64_t min_time_ms,
                                int64_t max_time_ms) {
  return rep_->DeleteSeries(matchers, min_time_ms, max_time_ms);
}

absl::Status Node::CleanTombstones() { return rep_->CleanTombstones(); }
absl::Status Node::ApplyRetention(absl::Time now) { return rep_->ApplyRetention(now); }
absl::Status Node::Compact() { return rep_->Compact(); }
absl::Status Node::CompactClosedPartitions(absl::Time now) {
  return rep_->CompactClosedPartitions(now);
}

}  // namespace kura::storage
