#pragma once

// Picks a TCP port on 127.0.0.1 that is free right now, for a process the test starts next.
// The kernel hands out ephemeral ports round-robin, so the port is unlikely to be taken again in
// the moment between closing the probe socket and the child binding it.

#include "absl/status/statusor.h"

namespace kura::integration {

absl::StatusOr<int> PickFreePort();

}  // namespace kura::integration
