// Node::Rep's out-of-order samples on disk: the head holds the samples older than a series'
// open chunk in a sorted buffer; this merges them into the written chunks they fall among,
// re-encoding those chunks, so that a series' chunks never overlap in time and readers need no
// extra merge.

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "base/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "storage/chunk_decoder.h"
#include "storage/chunk_encoder.h"
#include "storage/keys.h"
#include "storage/node_rep.h"
#include "storage/rocksdb_status.h"

namespace kura::storage {

absl::Status Node::Rep::FlushOutOfOrder() {
  for (HeadSeries* series : head_.SeriesWithOutOfOrder()) {
    RETURN_IF_ERROR(MergeIntoChunks(series->ref, series->out_of_order));
    head_.ClearOutOfOrder(series);
  }
  return absl::OkStatus();
}

absl::Status Node::Rep::MergeIntoChunks(uint64_t ref,
                                        const std::vector<OutOfOrderSample>& samples) {
  const int64_t retention_min_time_ms = ReadableMinTime(INT64_MIN);
  rocksdb::WriteBatch wb;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), chunks_));
  for (size_t begin = 0; begin < samples.size();) {
    const int64_t partition = PartitionOf(samples[begin].sample.timestamp_ms, partition_length_ms_);
    size_t end = begin;
    while (end < samples.size() &&
           PartitionOf(samples[end].sample.timestamp_ms, partition_length_ms_) == partition) {
      ++end;
    }
    const int64_t min_time_ms = samples[begin].sample.timestamp_ms;
    const int64_t max_time_ms = samples[end - 1].sample.timestamp_ms;
    // The new samples first: of equal timestamps the first is kept, and both hold one value.
    std::vector<OutOfOrderSample> merged(samples.begin() + begin, samples.begin() + end);
    begin = end;
    if (max_time_ms < retention_min_time_ms) continue;  // its partition is dropped
    // Every written chunk of the partition overlapping the new samples' span is merged, so the
    // chunks written back cover one span and overlap none of the others.
    const std::string prefix = ChunkSeriesPrefix(partition, ref);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      ChunkMeta meta;
      RETURN_IF_ERROR(ReadChunkMeta(it->value().ToStringView(), &meta));
      if (meta.min_time_ms > max_time_ms) break;
      if (meta.max_time_ms < min_time_ms) continue;
      std::unique_ptr<model::SampleIterator> chunk =
          timestamp_columns_.NewIterator(partition, it->value().ToStringView());
      while (chunk->Next()) merged.push_back({chunk->At(), chunk->StartAt()});
      RETURN_IF_ERROR(chunk->status());
      wb.Delete(chunks_, it->key()).PermitUncheckedError();
    }
    RETURN_IF_ERROR(FromRocksDB(it->status(), "reading chunks"));
    std::stable_sort(merged.begin(), merged.end(),
                     [](const OutOfOrderSample& a, const OutOfOrderSample& b) {
                       return a.sample.timestamp_ms < b.sample.timestamp_ms;
                     });
    merged.erase(std::unique(merged.begin(), merged.end(),
                             [](const OutOfOrderSample& a, const OutOfOrderSample& b) {
                               return a.sample.timestamp_ms == b.sample.timestamp_ms;
                             }),
                 merged.end());
    // With any start known, every chunk written back stores starts.
    const bool with_starts = std::any_of(merged.begin(), merged.end(),
                                         [](const OutOfOrderSample& m) { return m.start_ms != 0; });
    auto new_chunk = [&] { return with_starts ? ChunkEncoder::WithStarts() : ChunkEncoder(); };
    ChunkEncoder chunk = new_chunk();
    auto put = [&] {
      const std::string_view bytes = chunk.bytes();
      wb.Put(chunks_, ChunkKey(partition, ref, chunk.min_time_ms()),
             rocksdb::Slice(bytes.data(), bytes.size()))
          .PermitUncheckedError();
      ++stats_.chunks_written;
    };
    for (const OutOfOrderSample& m : merged) {
      if (chunk.num_samples() >= options_.max_samples_per_chunk) {
        put();
        chunk = new_chunk();
      }
      chunk.Append(m.sample.timestamp_ms, m.sample.value, m.start_ms);
    }
    if (chunk.num_samples() > 0) put();
  }
  if (wb.Count() == 0) return absl::OkStatus();
  return FromRocksDB(db_->Write(IndexWriteOptions(), &wb), "merging out-of-order samples");
}

}  // namespace kura::storage
