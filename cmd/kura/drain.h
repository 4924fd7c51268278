#pragma once

// Termination signals, taken synchronously so a role can drain in order: readiness false,
// in-flight work finished, buffers flushed, then exit.

#include "absl/time/time.h"

namespace kura::cmd {

class HttpServer;

// Blocks SIGTERM and SIGINT in the calling thread and in every thread it starts afterwards.
// Call at the top of main, before any thread exists.
void BlockTerminationSignals();

// Waits until SIGTERM or SIGINT arrives; returns its number.
int WaitForTerminationSignal();

// The first step of every role's drain, once the signal came: /-/ready answers 503 at once,
// and new work is still served for `delay` so load balancers and clients move away before
// anything is refused. The role then stops its servers (HttpServer::Drain) and flushes.
void BeginDrain(int signal, HttpServer* server, absl::Duration delay);

}  // namespace kura::cmd
