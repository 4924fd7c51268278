#pragma once

// The command line: subcommands and Prometheus-style flags, each with a KURA_* environment
// fallback (--storage.path -> KURA_STORAGE_PATH), copied into typed Options. Flags exist only
// here; libraries see the Options structs.

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "base/log.h"
#include "ingest/remote_write_handler.h"
#include "query/engine.h"
#include "storage/node.h"

namespace kura::cmd {

struct StandaloneOptions {
  std::string listen_address = ":9201";
  storage::NodeOptions node{.data_dir = "./data"};
  query::EngineOptions engine;
  ingest::RemoteWriteOptions remote_write;
  // Prometheus's --web.enable-admin-api: delete_series, clean_tombstones, and Kura's compact.
  bool enable_admin_api = false;
  base::LogLevel log_level = base::LogLevel::kInfo;
  // How long a drain waits for in-flight requests; below Kubernetes' default 30s grace.
  absl::Duration drain_timeout = absl::Seconds(25);
};

enum class Command { kStandalone, kReceive, kStore, kQuery };

struct CommandLine {
  // Set when the process should exit at once: 0 after --help or --version, 2 on a bad flag.
  std::optional<int> exit_code;
  Command command = Command::kStandalone;
  StandaloneOptions standalone;
};

// Prints help, version and errors itself.
CommandLine ParseCommandLine(int argc, char** argv);

}  // namespace kura::cmd
