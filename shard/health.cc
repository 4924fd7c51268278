#include "shard/health.h"

#include <algorithm>

namespace kura::shard {

Health::Health(HealthOptions options) : options_(options), backoff_(options.initial_backoff) {}

bool Health::IsHealthy() const {
  absl::MutexLock lock(&mu_);
  return healthy_;
}

void Health::ReportSuccess(absl::Time now) {
  absl::MutexLock lock(&mu_);
  consecutive_failures_ = 0;
  if (healthy_ || now < readmit_after_) return;
  healthy_ = true;
  readmitted_at_ = now;
}

bool Health::ReportFailure(absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (!healthy_) {
    readmit_after_ = now + backoff_;
    return false;
  }
  if (++consecutive_failures_ < options_.failures_to_eject) return false;
  healthy_ = false;
  consecutive_failures_ = 0;
  ++ejections_;
  const bool flapping = ejections_ > 1 && now - readmitted_at_ < options_.stable_after;
  backoff_ = flapping ? std::min(backoff_ * 2, options_.max_backoff) : options_.initial_backoff;
  readmit_after_ = now + backoff_;
  return true;
}

int Health::ejections() const {
  absl::MutexLock lock(&mu_);
  return ejections_;
}

absl::Duration Health::backoff() const {
  absl::MutexLock lock(&mu_);
  return backoff_;
}

}  // namespace kura::shard
