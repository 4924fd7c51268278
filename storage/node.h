#pragma once

// Node: one storage node. Owns the RocksDB instance, the WAL, the head and the index, and is
// both seams (SeriesWriter and SeriesReader) and the admin seam (SeriesAdmin). Used directly by
// `kura standalone`, behind the gRPC Storage service by `kura store`.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "model/series_admin.h"
#include "model/series_reader.h"
#include "model/series_writer.h"

namespace kura::storage {

struct NodeOptions {
  std::string data_dir;
  // 120: Prometheus's DefaultSamplesPerChunk, so bytes/sample compare 1:1 in benchmarks.
  int max_samples_per_chunk = 120;
  absl::Duration partition_length = absl::Hours(24);
  // fsync the WAL before acknowledging (power-loss durability). Without it a write survives a
  // process kill (the data is in the kernel) but not a machine crash.
  bool sync_wal = false;
  // WAL volume after which the open chunks are checkpointed and the WAL they cover deleted:
  // what a restart replays at most.
  int64_t checkpoint_wal_bytes = int64_t{64} << 20;
  // Like Prometheus's out_of_order_time_window: a sample up to this much older than its
  // series' newest is accepted (durably, and read in order); zero accepts none, as Prometheus.
  absl::Duration out_of_order_window = absl::ZeroDuration();
  // Bounds the node's memory: RocksDB's block cache gets a quarter (one LRU cache shared by
  // every column family, index and filter blocks included), its memtables a 32nd (one write
  // buffer manager) and the head the rest. A head over its share first writes its open chunks
  // out early; if it stays over, writes that would add series to the head get Unavailable (503,
  // which senders retry) until series go idle. At least 4 MiB.
  int64_t memory_budget_bytes = int64_t{1} << 30;
  // How long samples are kept; zero keeps them forever (Kura is long-term storage). Data goes a
  // whole partition at a time, once the partition ends more than `retention` before now.
  absl::Duration retention = absl::ZeroDuration();
  // Merge each series' chunks of a partition into one (up to 16384 samples) once the partition
  // has closed (ended more than out_of_order_window ago), in the background.
  bool compact_closed_partitions = true;
  // How often the background thread applies retention (it also runs at Open) and compacts.
  absl::Duration maintenance_interval = absl::Minutes(1);
  // The time retention measures from; null means the system clock. Tests inject one.
  std::function<absl::Time()> clock;
};

// Counters for /metrics; read with stats(). Monotonic unless named active_*.
struct NodeStats {
  int64_t samples_appended = 0;
  int64_t series_created = 0;
  int64_t active_series = 0;
  int64_t chunks_written = 0;
  int64_t out_of_order_samples = 0;   // rejected: too old, or a different value
  int64_t out_of_order_accepted = 0;  // within the out-of-order window
  int64_t wal_replayed_samples = 0;
  int64_t partitions_dropped = 0;  // by retention
  int64_t partitions_compacted = 0;
  // Memory as the budget accounts it (gauges), and what the budget made the node do.
  int64_t memory_budget_bytes = 0;
  int64_t head_memory_bytes = 0;
  int64_t block_cache_bytes = 0;
  int64_t memtable_bytes = 0;
  int64_t memory_pressure_flushes = 0;
  int64_t memory_rejected_writes = 0;
  int64_t active_tombstoned_series = 0;
};

class Node : public model::SeriesWriter, public model::SeriesReader, public model::SeriesAdmin {
 public:
  // Opens or creates the node in options.data_dir, replaying the WAL so every acknowledged
  // sample is readable. FailedPrecondition when another process holds the directory.
  static absl::StatusOr<std::unique_ptr<Node>> Open(const NodeOptions& options);
  ~Node() override;  // closes RocksDB; the head stays recoverable from the WAL

  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  absl::Status Write(const model::WriteBatch& batch) override;

  absl::StatusOr<std::unique_ptr<model::SeriesSet>> Select(
      absl::Span<const model::LabelMatcher> matchers, int64_t min_time_ms,
      int64_t max_time_ms) override;
  absl::StatusOr<std::vector<std::string>> LabelNames(
      absl::Span<const model::LabelMatcher> matchers, int64_t min_time_ms,
      int64_t max_time_ms) override;
  absl::StatusOr<std::vector<std::string>> LabelValues(
      std::string_view name, absl::Span<const model::LabelMatcher> matchers, int64_t min_time_ms,
      int64_t max_time_ms) override;
  absl::StatusOr<std::vector<model::MetricMetadata>> Metadata(std::string_view metric) override;

  // Prometheus's delete_series: tombstones the samples, which reads leave out from now on.
  // The tombstone ends at each series' newest sample, so later writes stay visible.
  absl::Status DeleteSeries(absl::Span<const model::LabelMatcher> matchers, int64_t min_time_ms,
                            int64_t max_time_ms) override;
  // Rewrites the chunks that tombstones cover without the deleted samples, drops the postings
  // of partitions left empty, compacts the ranges it rewrote and removes the tombstones.
  absl::Status CleanTombstones() override;

  // Drops the partitions that retention no longer keeps at `now` (DeleteRange over their
  // postings and chunks, then a compaction of those ranges). Runs at Open and in the
  // background; a no-op without retention.
  absl::Status ApplyRetention(absl::Time now);

  // Merges each series' chunks in every closed partition not yet compacted into one chunk
  // per series (fewer keys, one header per series and partition), then compacts the
  // partition's key range. Runs in the background; a no-op unless compact_closed_partitions.
  absl::Status CompactClosedPartitions(absl::Time now);
  // Compacts now, like VictoriaMetrics's force_flush and force_merge together: writes the
  // head's open chunks out as if they had closed, merges the chunks of every partition as
  // above (open partitions are merged again next time), then compacts every other column
  // family in full. For operators and benchmarks; it takes a while.
  absl::Status Compact() override;
  // Checkpoints the head so that RocksDB holds every acknowledged sample, then takes a RocksDB
  // checkpoint of it (SST files hard-linked) into snapshots/<name>. Writes wait meanwhile.
  absl::StatusOr<std::string> Snapshot() override;

  NodeStats stats() const;

  // OK while writes succeed; after a write failed to reach the index or the WAL (disk full, I/O
  // error), that error until a write succeeds again. /-/ready reports it.
  absl::Status WriteHealth() const;

 private:
  class Rep;  // defined in node.cc
  explicit Node(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace kura::storage
