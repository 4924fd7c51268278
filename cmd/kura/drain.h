#pragma once

// Termination signals, taken synchronously so a role can drain in order: readiness false,
// in-flight work finished, buffers flushed, then exit.

namespace kura::cmd {

// Blocks SIGTERM and SIGINT in the calling thread and in every thread it starts afterwards.
// Call at the top of main, before any thread exists.
void BlockTerminationSignals();

// Waits until SIGTERM or SIGINT arrives; returns its number.
int WaitForTerminationSignal();

}  // namespace kura::cmd
