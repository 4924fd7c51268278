// The node's memory budget: how it is shared between RocksDB's block cache, its memtables and
// the head, and what the head does when it reaches its share.

#include <algorithm>
#include <memory>

#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "rocksdb/cache.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/write_buffer_manager.h"
#include "storage/node_rep.h"

namespace kura::storage {
namespace {

// Per family: small memtables, flushed often, keep what a restart replays small.
constexpr size_t kFamilyWriteBufferBytes = size_t{32} << 20;

}  // namespace

MemoryShares SplitMemoryBudget(int64_t budget_bytes) {
  MemoryShares shares;
  shares.block_cache_bytes = budget_bytes / 4;
  // Memtables hold little but bursts: the WAL is not in RocksDB and checkpoints are ingested
  // as table files, so what passes through them is new series' index entries and chunks as
  // they close, all at once for series scraped together. A small share flushes those bursts
  // early instead of holding them.
  shares.memtable_bytes = budget_bytes / 32;
  shares.head_bytes = budget_bytes - shares.block_cache_bytes - shares.memtable_bytes;
  return shares;
}

RocksDBMemory ConfigureMemory(int64_t budget_bytes, rocksdb::DBOptions* db_options,
                              rocksdb::ColumnFamilyOptions* family_options) {
  const MemoryShares shares = SplitMemoryBudget(budget_bytes);
  RocksDBMemory memory;
  memory.block_cache = rocksdb::NewLRUCache(static_cast<size_t>(shares.block_cache_bytes));
  memory.write_buffers =
      std::make_shared<rocksdb::WriteBufferManager>(static_cast<size_t>(shares.memtable_bytes));
  db_options->write_buffer_manager = memory.write_buffers;
  family_options->write_buffer_size =
      std::min(kFamilyWriteBufferBytes, static_cast<size_t>(shares.memtable_bytes / 4));
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = memory.block_cache;
  // Index and filter blocks count against the cache too, so the budget bounds them; the
  // level-0 ones, read by every lookup, stay pinned.
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  family_options->table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Most data settles in the last level, read rarely: zstd there (chunks' bit streams, label
  // text and posting keys all shrink further than with the default snappy), snappy above it.
  family_options->bottommost_compression = rocksdb::kZSTD;
  return memory;
}

absl::Status Node::Rep::CheckMemory(const std::vector<SeriesWrite>& writes) {
  if (head_.memory_bytes() <= head_budget_bytes_) return absl::OkStatus();
  // Chunks are what writing out frees; closing them early costs compression, not data.
  if (head_.chunk_memory_bytes() > head_budget_bytes_ / 4) {
    ++stats_.memory_pressure_flushes;
    head_.CloseAllChunks();
    RETURN_IF_ERROR(Checkpoint());
    if (head_.memory_bytes() <= head_budget_bytes_) return absl::OkStatus();
  }
  // What is left is series; those already in the head may go on writing.
  const bool adds_series = std::any_of(writes.begin(), writes.end(),
                                       [](const SeriesWrite& w) { return w.head == nullptr; });
  if (!adds_series) return absl::OkStatus();
  ++stats_.memory_rejected_writes;
  return absl::UnavailableError(absl::StrFormat(
      "memory budget exhausted: the head holds %d bytes of its %d across %d series; new series "
      "are refused until series go idle (raise --storage.memory-budget)",
      head_.memory_bytes(), head_budget_bytes_, head_.num_series()));
}

}  // namespace kura::storage
