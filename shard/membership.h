#pragma once

// Membership: the storage nodes' addresses, from `--store.nodes`: a comma-separated list of
// host:port, or `dns+NAME:PORT`, whose A/AAAA records (a Kubernetes headless Service: one per
// ready pod) are re-resolved every refresh interval, so a replaced pod's new IP is picked up
// without a restart. No consensus, no gossip: the DNS answer is the membership.
//
//   ASSIGN_OR_RETURN(auto membership, Membership::Create({.nodes = "dns+kura-store:9301"}));
//   std::shared_ptr<const std::vector<std::string>> nodes = membership->Snapshot();

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace kura::shard {

struct MembershipOptions {
  std::string nodes;  // "host:port,host:port" or "dns+NAME:PORT"
  absl::Duration refresh_interval = absl::Seconds(15);
};

// Thread-safe. Snapshots are immutable; a refresh publishes a new one.
class Membership {
 public:
  // InvalidArgument for a malformed spec. A DNS name that does not resolve yet gives an empty
  // list, retried at every refresh.
  static absl::StatusOr<std::unique_ptr<Membership>> Create(MembershipOptions options);
  ~Membership();  // stops the refresh thread

  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;

  // Sorted, unique addresses ("host:port", "[v6]:port").
  std::shared_ptr<const std::vector<std::string>> Snapshot() const ABSL_LOCKS_EXCLUDED(mu_);

  // Re-resolves now. On a DNS error the previous snapshot stays and the error is returned.
  absl::Status Refresh() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Spec {
    std::vector<std::string> static_nodes;  // set for a list
    std::string dns_name;                   // set for dns+NAME:PORT
    std::string dns_port;
  };
  static absl::StatusOr<Spec> ParseSpec(const std::string& nodes);
  static absl::StatusOr<std::vector<std::string>> Resolve(const Spec& spec);

  Membership(Spec spec, absl::Duration refresh_interval);
  void RefreshLoop();

  const Spec spec_;
  const absl::Duration refresh_interval_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const std::vector<std::string>> snapshot_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread refresher_;  // only for a DNS spec
};

}  // namespace kura::shard
