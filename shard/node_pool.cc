#include "shard/node_pool.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "base/log.h"

namespace kura::shard {
namespace {

bool IsNodeFailure(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kInternal:
      return true;
    default:
      return false;
  }
}

void Probe(PoolNode* node, absl::Duration interval) {
  while (!node->stop.WaitForNotificationWithTimeout(interval)) {
    node->Report(node->client.Check());
  }
}

}  // namespace

PoolNode::PoolNode(const std::string& address, const NodePoolOptions& options,
                   base::Registry* metrics)
    : client(address, options.client),
      health(options.health),
      write_latency(metrics->AddHistogram("kura_shard_node_write_duration_seconds",
                                          "Time of Write calls to a storage node.",
                                          base::DefaultLatencyBuckets(), {{"node", address}})),
      write_errors(metrics->AddCounter("kura_shard_node_write_errors_total",
                                       "Write calls to a storage node that failed.",
                                       {{"node", address}})),
      ejections(metrics->AddCounter("kura_shard_node_ejections_total",
                                    "Times a storage node was taken out of rotation.",
                                    {{"node", address}})),
      in_flight_gauge(metrics->AddGauge("kura_shard_node_in_flight_bytes",
                                        "Bytes of writes in flight to a storage node.",
                                        {{"node", address}})),
      healthy_gauge(metrics->AddGauge("kura_shard_node_healthy",
                                      "1 while a storage node is in rotation.",
                                      {{"node", address}})) {
  healthy_gauge.Set(1);
  prober = std::thread([this, interval = options.probe_interval] { Probe(this, interval); });
}

PoolNode::~PoolNode() {
  stop.Notify();
  prober.join();
}

void PoolNode::Report(const absl::Status& status) {
  const absl::Time now = absl::Now();
  if (!IsNodeFailure(status)) {
    if (status.ok()) health.ReportSuccess(now);
    healthy_gauge.Set(healthy() ? 1 : 0);
    return;
  }
  if (health.ReportFailure(now)) {
    ejections.Inc();
    base::LogWarn("storage node out of rotation",
                  {{"node", client.address()}, {"err", status.ToString()}});
    healthy_gauge.Set(0);
    client.CancelInFlight();
  }
}

NodePool::NodePool(NodePoolOptions options, std::unique_ptr<Membership> membership,
                   base::Registry* metrics)
    : options_(std::move(options)),
      membership_(std::move(membership)),
      metrics_(metrics),
      nodes_(std::make_shared<const Nodes>()) {}

absl::StatusOr<std::unique_ptr<NodePool>> NodePool::Create(NodePoolOptions options,
                                                           base::Registry* metrics) {
  absl::StatusOr<std::unique_ptr<Membership>> membership = Membership::Create(options.membership);
  if (!membership.ok()) return membership.status();
  std::unique_ptr<NodePool> pool(new NodePool(std::move(options), *std::move(membership), metrics));
  (void)pool->Snapshot();  // starts the probers
  return pool;
}

NodePool::~NodePool() = default;

std::shared_ptr<const NodePool::Nodes> NodePool::Snapshot() {
  std::shared_ptr<const std::vector<std::string>> addresses = membership_->Snapshot();
  absl::MutexLock lock(&mu_);
  if (addresses == addresses_) return nodes_;
  absl::flat_hash_map<std::string, std::shared_ptr<PoolNode>> existing;
  for (const std::shared_ptr<PoolNode>& node : *nodes_) existing[node->client.address()] = node;
  auto nodes = std::make_shared<Nodes>();
  for (const std::string& address : *addresses) {
    auto it = existing.find(address);
    nodes->push_back(it != existing.end()
                         ? it->second
                         : std::make_shared<PoolNode>(address, options_, metrics_));
  }
  addresses_ = std::move(addresses);
  nodes_ = std::move(nodes);
  return nodes_;
}

}  // namespace kura::shard
