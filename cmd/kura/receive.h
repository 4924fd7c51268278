#pragma once

#include "cmd/kura/flags.h"

namespace kura::cmd {

// `kura receive`: remote write in, shard::Router out to the storage nodes. Returns the process exit
// code after a drain on SIGTERM or SIGINT. REQUIRES: BlockTerminationSignals() was called before
// any thread started.
int RunReceive(const ReceiveOptions& options);

}  // namespace kura::cmd
