#pragma once

// NodePool: a client, a health state and a prober for every storage node that Membership
// lists, shared by shard::Router and shard::FanOut. Each node is probed (grpc.health.v1) every
// probe interval; call outcomes reported by the router and fan-out count as well. A node taken
// out of rotation has its calls in flight cancelled, so their callers move on at once.
//
//   ASSIGN_OR_RETURN(auto pool, NodePool::Create(options, &registry));
//   std::shared_ptr<const NodePool::Nodes> nodes = pool->Snapshot();

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "base/metrics.h"
#include "shard/health.h"
#include "shard/membership.h"
#include "shard/node_client.h"

namespace kura::shard {

struct NodePoolOptions {
  MembershipOptions membership;
  NodeClientOptions client;
  HealthOptions health;
  // 250 ms: with the 500 ms probe timeout, a hung node fails two probes about 1.5 s after it
  // stops answering.
  absl::Duration probe_interval = absl::Milliseconds(250);
};

// One storage node in the pool. Thread-safe.
struct PoolNode {
  PoolNode(const std::string& address, const NodePoolOptions& options, base::Registry* metrics);
  ~PoolNode();  // stops the prober

  // Records the outcome of a call or probe: Unavailable, DeadlineExceeded, Unknown and
  // Internal count as failures of the node; other errors are the request's own.
  void Report(const absl::Status& status);
  bool healthy() const { return health.IsHealthy(); }

  NodeClient client;
  Health health;
  std::atomic<int64_t> in_flight_bytes{0};
  base::Histogram& write_latency;
  base::Counter& write_errors;
  base::Counter& ejections;
  base::Gauge& in_flight_gauge;
  base::Gauge& healthy_gauge;

  absl::Notification stop;
  std::thread prober;
};

// Thread-safe.
class NodePool {
 public:
  using Nodes = std::vector<std::shared_ptr<PoolNode>>;  // sorted by address

  // InvalidArgument for a malformed --store.nodes. `metrics` must outlive the pool.
  static absl::StatusOr<std::unique_ptr<NodePool>> Create(NodePoolOptions options,
                                                          base::Registry* metrics);
  ~NodePool();

  NodePool(const NodePool&) = delete;
  NodePool& operator=(const NodePool&) = delete;

  // The current nodes; follows membership changes, keeping the clients of nodes that stay.
  std::shared_ptr<const Nodes> Snapshot() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  NodePool(NodePoolOptions options, std::unique_ptr<Membership> membership,
           base::Registry* metrics);

  const NodePoolOptions options_;
  std::unique_ptr<Membership> membership_;
  base::Registry* metrics_;
  absl::Mutex mu_;
  std::shared_ptr<const std::vector<std::string>> addresses_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const Nodes> nodes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kura::shard
