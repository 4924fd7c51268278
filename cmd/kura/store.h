#pragma once

#include "cmd/kura/flags.h"

namespace kura::cmd {

// `kura store`: a storage node: storage::Node behind the gRPC Storage service, with health and
// metrics over HTTP. Returns the process exit code after a drain on SIGTERM or
// SIGINT.
// REQUIRES: BlockTerminationSignals() was called before any thread started.
int RunStore(const StoreOptions& options);

}  // namespace kura::cmd
