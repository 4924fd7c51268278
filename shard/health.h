#pragma once

// Health: whether one storage node is in rotation. Passive ejection: after
// `failures_to_eject` consecutive failures (failed or timed-out calls, failed grpc.health.v1
// probes) the node is ejected. An ejected node is readmitted by the first success once its
// backoff has run out; each failure while ejected restarts the backoff, and a node ejected
// again soon after readmission waits twice as long (up to max_backoff).
//
// Time comes in as an argument, so the state machine is tested without sleeping.

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace kura::shard {

struct HealthOptions {
  // 2: a killed node (connection refused) fails two calls within milliseconds; a hung node
  // fails two probes within about a second, inside the 2 s goal.
  int failures_to_eject = 2;
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(10);
  // A node in rotation this long after readmission starts again from initial_backoff.
  absl::Duration stable_after = absl::Seconds(30);
};

// Thread-safe.
class Health {
 public:
  explicit Health(HealthOptions options = {});

  bool IsHealthy() const ABSL_LOCKS_EXCLUDED(mu_);

  // A call or probe succeeded at `now`.
  void ReportSuccess(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  // A call or probe failed at `now`; true when this failure ejected the node.
  [[nodiscard]] bool ReportFailure(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);

  // Times the node was ejected.
  int ejections() const ABSL_LOCKS_EXCLUDED(mu_);
  // The backoff of the current or last ejection.
  absl::Duration backoff() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const HealthOptions options_;
  mutable absl::Mutex mu_;
  bool healthy_ ABSL_GUARDED_BY(mu_) = true;
  int consecutive_failures_ ABSL_GUARDED_BY(mu_) = 0;
  int ejections_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Duration backoff_ ABSL_GUARDED_BY(mu_);
  absl::Time readmit_after_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time readmitted_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace kura::shard
