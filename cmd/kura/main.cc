// kura: one binary, one subcommand per role. main only parses flags and dispatches.

#include "absl/synchronization/mutex.h"
#include "cmd/kura/drain.h"
#include "cmd/kura/flags.h"
#include "cmd/kura/query.h"
#include "cmd/kura/receive.h"
#include "cmd/kura/standalone.h"
#include "cmd/kura/store.h"

int main(int argc, char** argv) {
  // Before any thread starts, so every thread inherits the mask and only the drain path
  // receives SIGTERM and SIGINT.
  kura::cmd::BlockTerminationSignals();
  // Debian's Abseil checks every lock order at run time (about 1% of ingest CPU, in a global
  // graph); the tests, which link no such call, keep that check.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  kura::cmd::CommandLine command_line = kura::cmd::ParseCommandLine(argc, argv);
  if (command_line.exit_code) return *command_line.exit_code;
  switch (command_line.command) {
    case kura::cmd::Command::kStandalone:
      return kura::cmd::RunStandalone(command_line.standalone);
    case kura::cmd::Command::kReceive:
      return kura::cmd::RunReceive(command_line.receive);
    case kura::cmd::Command::kStore:
      return kura::cmd::RunStore(command_line.store);
    case kura::cmd::Command::kQuery:
      return kura::cmd::RunQuery(command_line.query);
  }
  return 2;
}
