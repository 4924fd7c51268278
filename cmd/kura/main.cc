// kura: one binary, one subcommand per role. main only parses flags and dispatches.

#include <cstdio>

#include "cmd/kura/drain.h"
#include "cmd/kura/flags.h"
#include "cmd/kura/standalone.h"

namespace {

int NotYetImplemented(const char* role) {
  std::fprintf(stderr, "kura %s: not yet implemented\n", role);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread starts, so every thread inherits the mask and only the drain path
  // receives SIGTERM and SIGINT.
  kura::cmd::BlockTerminationSignals();
  kura::cmd::CommandLine command_line = kura::cmd::ParseCommandLine(argc, argv);
  if (command_line.exit_code) return *command_line.exit_code;
  switch (command_line.command) {
    case kura::cmd::Command::kStandalone:
      return kura::cmd::RunStandalone(command_line.standalone);
    case kura::cmd::Command::kReceive:
      return NotYetImplemented("receive");
    case kura::cmd::Command::kStore:
      return NotYetImplemented("store");
    case kura::cmd::Command::kQuery:
      return NotYetImplemented("query");
  }
  return 2;
}
