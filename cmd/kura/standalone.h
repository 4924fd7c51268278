#pragma once

#include "cmd/kura/flags.h"

namespace kura::cmd {

// `kura standalone`: one storage::Node as both seams, remote write and the query API on one
// HTTP server. Returns the process exit code after a drain on SIGTERM or SIGINT.
// REQUIRES: BlockTerminationSignals() was called before any thread started.
int RunStandalone(const StandaloneOptions& options);

}  // namespace kura::cmd
