#pragma once

// The command line: subcommands and Prometheus-style flags, each with a KURA_* environment
// fallback (--storage.path -> KURA_STORAGE_PATH), copied into typed Options. Flags exist only
// here; libraries see the Options structs. Flags come in groups that roles share, so a flag
// means the same in every role that has it.

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "base/log.h"
#include "ingest/remote_write_handler.h"
#include "query/engine.h"
#include "shard/fan_out.h"
#include "shard/node_pool.h"
#include "shard/router.h"
#include "storage/node.h"

namespace kura::cmd {

// Every role: its HTTP server (health, readiness, metrics and the role's API), logs, drain.
struct ServerOptions {
  std::string listen_address = ":9201";
  base::LogLevel log_level = base::LogLevel::kInfo;
  // After SIGTERM, /-/ready is 503 at once while new work is still served this long, so load
  // balancers stop sending before anything is refused.
  absl::Duration drain_delay = absl::Seconds(5);
  // How long in-flight requests may then take. A pod's terminationGracePeriodSeconds should
  // cover the delay plus this.
  absl::Duration drain_timeout = absl::Seconds(25);
};

// Threads that help queries decode series: one per core beyond the query's own, at most 7.
// (In a container the machine's cores are not the CPU limit; set the flag there.)
int DefaultDecodeThreads();

struct StandaloneOptions {
  ServerOptions server;
  storage::NodeOptions node{.data_dir = "./data"};
  query::EngineOptions engine;  // decode_pool is set where the pool is made
  int query_decode_threads = DefaultDecodeThreads();
  ingest::RemoteWriteOptions remote_write;
  // Prometheus's --web.enable-admin-api: delete_series, clean_tombstones, and Kura's compact.
  bool enable_admin_api = false;
};

struct StoreOptions {
  ServerOptions server;
  std::string grpc_listen_address = ":9301";
  storage::NodeOptions node{.data_dir = "./data"};
  bool enable_admin_api = false;  // as StandaloneOptions::enable_admin_api
};

struct ReceiveOptions {
  ServerOptions server;
  shard::NodePoolOptions pool;
  shard::RouterOptions router;
  ingest::RemoteWriteOptions remote_write;
};

struct QueryOptions {
  ServerOptions server;
  shard::NodePoolOptions pool;
  shard::FanOutOptions fan_out;
  query::EngineOptions engine;  // as in StandaloneOptions
  int query_decode_threads = DefaultDecodeThreads();
};

enum class Command { kStandalone, kReceive, kStore, kQuery };

struct CommandLine {
  // Set when the process should exit at once: 0 after --help or --version, 2 on a bad flag.
  std::optional<int> exit_code;
  Command command = Command::kStandalone;
  StandaloneOptions standalone;
  StoreOptions store;
  ReceiveOptions receive;
  QueryOptions query;
};

// Prints help, version and errors itself.
CommandLine ParseCommandLine(int argc, char** argv);

}  // namespace kura::cmd
