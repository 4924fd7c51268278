#pragma once

// Router: the cluster's SeriesWriter (`kura receive`). Each series goes to the first
// `replication_factor` healthy nodes of its rendezvous preference list; the per-node parts of
// a batch are written in parallel, and the batch is acknowledged only when every series was
// acknowledged by RF nodes. A node that fails or times out is skipped for the next healthy node
// in each affected series' preference list, so one dead node never blocks writes.
//
// Retries are safe: a storage node drops an exact resend of a (series, timestamp, value), so a
// sender's retry after a partial failure duplicates nothing.
//
// Backpressure: writes in flight to one node are bounded in bytes; a batch that would exceed the
// bound is refused with ResourceExhausted (503, which Prometheus retries) instead of being buffered.

#include <cstddef>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "base/metrics.h"
#include "model/series_writer.h"
#include "shard/node_pool.h"
#include "shard/placement.h"

namespace kura::shard {

struct RouterOptions {
  int replication_factor = 1;
  // 64 MiB per node: a few seconds of a busy receiver's writes, so a slow node pushes back
  // before the receiver's memory grows.
  size_t max_in_flight_bytes_per_node = size_t{64} << 20;
};

// Thread-safe. `pool` and `metrics` must outlive the router.
class Router : public model::SeriesWriter {
 public:
  Router(NodePool* pool, RouterOptions options, base::Registry* metrics);

  // InvalidArgument when a node rejects a sample (nothing is retried); ResourceExhausted when a
  // node has too many bytes in flight; Unavailable when fewer than RF healthy nodes could take
  // a series.
  absl::Status Write(const model::WriteBatch& batch) override;

 private:
  struct Layout {
    std::shared_ptr<const NodePool::Nodes> nodes;
    std::unique_ptr<Placement> placement;
  };
  // The placement for the pool's current nodes, rebuilt when they change.
  std::shared_ptr<const Layout> CurrentLayout() ABSL_LOCKS_EXCLUDED(mu_);

  NodePool* pool_;
  const RouterOptions options_;
  base::Counter& rerouted_series_;
  base::Counter& refused_batches_;
  absl::Mutex mu_;
  std::shared_ptr<const Layout> layout_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kura::shard
