#pragma once

#include "cmd/kura/flags.h"

namespace kura::cmd {

// `kura query`: the Prometheus query API over shard::FanOut across the storage nodes. Returns the
// process exit code after a drain on SIGTERM or SIGINT. REQUIRES: BlockTerminationSignals() was
// called before any thread started.
int RunQuery(const QueryOptions& options);

}  // namespace kura::cmd
