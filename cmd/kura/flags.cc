#include "cmd/kura/flags.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "query/api_params.h"

namespace kura::cmd {
namespace {

// Flag names map to environment variables: --http.listen-address -> KURA_HTTP_LISTEN_ADDRESS.
std::string EnvName(std::string_view flag) {
  std::string env = "KURA_";
  for (char c : flag.substr(2)) {
    env.push_back(c == '.' || c == '-' ? '_' : static_cast<char>(std::toupper(c)));
  }
  return env;
}

template <typename T>
CLI::Option* AddFlag(CLI::App* app, const std::string& name, T* value, const std::string& help) {
  return app->add_option(name, *value, help)->envname(EnvName(name))->capture_default_str();
}

// A Prometheus duration ("5m", "1h30m") or float seconds.
CLI::Option* AddDurationFlag(CLI::App* app, const std::string& name, absl::Duration* value,
                             const std::string& help) {
  CLI::Option* option = app->add_option_function<std::string>(
      name,
      [value, name](const std::string& text) {
        absl::StatusOr<absl::Duration> d = query::ParseApiDuration(text);
        if (!d.ok()) throw CLI::ValidationError(name, std::string(d.status().message()));
        *value = *d;
      },
      help);
  return option->envname(EnvName(name))->default_str(absl::FormatDuration(*value));
}

// Prometheus's --enable-feature names for the engine switches that Kura has.
bool EnableFeature(std::string_view name, query::EngineOptions* engine) {
  if (name == "promql-experimental-functions") {
    engine->enable_experimental_functions = true;
  } else if (name == "promql-delayed-name-removal") {
    engine->enable_delayed_name_removal = true;
  } else if (name == "promql-extended-range-selectors") {
    engine->enable_extended_range_selectors = true;
  } else if (name == "promql-binop-fill-modifiers") {
    engine->enable_binop_fill_modifiers = true;
  } else if (name == "use-start-timestamps") {
    engine->use_start_timestamps = true;
  } else {
    return false;
  }
  return true;
}

// --enable-feature=a,b (repeatable), as Prometheus spells it.
void AddFeatureFlag(CLI::App* app, query::EngineOptions* engine) {
  app->add_option_function<std::vector<std::string>>(
         "--enable-feature",
         [engine](const std::vector<std::string>& features) {
           for (const std::string& feature : features) {
             if (!EnableFeature(feature, engine)) {
               throw CLI::ValidationError("--enable-feature", "unknown feature " + feature);
             }
           }
         },
         "Comma-separated feature names: promql-experimental-functions, "
         "promql-delayed-name-removal, promql-extended-range-selectors, "
         "promql-binop-fill-modifiers, use-start-timestamps.")
      ->delimiter(',')
      ->envname(EnvName("--enable-feature"));
}

// A non-negative Prometheus duration under a Prometheus-style name and a short alias
// ("--storage.retention,--retention"); the environment variable follows the first name.
void AddAliasedDurationFlag(CLI::App* app, const std::string& names, absl::Duration* value,
                            const std::string& help) {
  const std::string name = names.substr(0, names.find(','));
  app->add_option_function<std::string>(
         names,
         [value, name](const std::string& text) {
           absl::StatusOr<absl::Duration> d = query::ParseApiDuration(text);
           if (!d.ok()) throw CLI::ValidationError(name, std::string(d.status().message()));
           if (*d < absl::ZeroDuration()) throw CLI::ValidationError(name, "must not be negative");
           *value = *d;
         },
         help)
      ->envname(EnvName(name))
      ->default_str(absl::FormatDuration(*value));
}

// Every role: --http.listen-address, --log.level, --drain.delay, --drain.timeout.
void AddServerFlags(CLI::App* app, ServerOptions* options, std::string* log_level) {
  AddFlag(
      app, "--http.listen-address", &options->listen_address,
      "Address to listen on for HTTP: the role's API, /-/ready, /metrics (host:port or :port).");
  AddFlag(app, "--log.level", log_level, "Only log messages at or above: debug, info, warn, error.")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  AddDurationFlag(app, "--drain.delay", &options->drain_delay,
                  "After SIGTERM, how long /-/ready is 503 while new work is still served.");
  AddDurationFlag(
      app, "--drain.timeout", &options->drain_timeout,
      "After the drain delay (new requests then get 503), how long in-flight work may take.");
}

// The storage node: standalone and store.
void AddStorageFlags(CLI::App* app, storage::NodeOptions* node) {
  AddFlag(app, "--storage.path", &node->data_dir, "Base path for the data.");
  app->add_flag("--storage.sync", node->sync_wal,
                "fsync the WAL before acknowledging writes (power-loss durability).")
      ->envname(EnvName("--storage.sync"));
  AddAliasedDurationFlag(app, "--storage.retention,--retention", &node->retention,
                         "How long to keep samples (e.g. 90d); 0 keeps them forever. Whole "
                         "partitions go once they end before now minus this.");
  AddAliasedDurationFlag(app, "--storage.ooo-window,--ooo-window", &node->out_of_order_window,
                         "Accept samples up to this much older than their series' newest "
                         "(Prometheus's out_of_order_time_window); 0 accepts none.");
  AddFlag(app, "--storage.memory-budget", &node->memory_budget_bytes,
          "Memory for the block cache (1/4), memtables (1/32) and head (the rest), e.g. 2GiB; past "
          "it the head writes chunks out early, then refuses new series with 503. At least 4MiB.")
      ->transform(CLI::AsSizeValue(false))
      ->default_str("1GiB");
}

// The remote-write receiver: standalone and receive.
void AddRemoteWriteFlags(CLI::App* app, ingest::RemoteWriteOptions* remote_write) {
  AddFlag(app, "--remote-write.labels-cache-size", &remote_write->labels_cache_bytes,
          "Memory for label sets already decoded and validated, ~300 bytes per active series "
          "(half of it should hold them all), e.g. 512MiB; 0 turns the cache off.")
      ->transform(CLI::AsSizeValue(false))
      ->default_str("256MiB");
}

// Prometheus's --web.enable-admin-api, for the roles that hold a storage node.
void AddAdminApiFlag(CLI::App* app, bool* enabled) {
  app->add_flag("--web.enable-admin-api", *enabled,
                "Enable the admin endpoints delete_series, clean_tombstones and compact.")
      ->envname(EnvName("--web.enable-admin-api"));
}

// The PromQL engine: standalone and query.
void AddEngineFlags(CLI::App* app, query::EngineOptions* engine, int* decode_threads) {
  AddFlag(app, "--query.decode-threads", decode_threads,
          "Threads that decode the series of a query's selectors beside the query's own "
          "(0: each query decodes alone).");
  AddDurationFlag(app, "--query.lookback-delta", &engine->lookback_delta,
                  "How far back to look for a sample of an instant vector selector.");
  AddDurationFlag(app, "--query.timeout", &engine->timeout,
                  "Maximum time a query may take before it is aborted.");
  AddFlag(app, "--query.max-samples", &engine->max_samples,
          "Maximum number of samples a single query can load into memory.");
  AddFeatureFlag(app, engine);
}

// The storage nodes a cluster role talks to: receive and query.
void AddStoreClientFlags(CLI::App* app, shard::NodePoolOptions* pool) {
  AddFlag(app, "--store.nodes", &pool->membership.nodes,
          "Storage nodes: comma-separated host:port, or dns+NAME:PORT for every address of a "
          "DNS name (a headless Service), re-resolved periodically.")
      ->required();
  AddDurationFlag(app, "--store.timeout", &pool->client.timeout,
                  "Deadline of each write or read on one storage node.");
  AddDurationFlag(app, "--store.dns-refresh-interval", &pool->membership.refresh_interval,
                  "How often a dns+ --store.nodes name is re-resolved.");
}

void AddStandaloneFlags(CLI::App* app, StandaloneOptions* options, std::string* log_level) {
  AddServerFlags(app, &options->server, log_level);
  AddStorageFlags(app, &options->node);
  AddRemoteWriteFlags(app, &options->remote_write);
  AddAdminApiFlag(app, &options->enable_admin_api);
  AddEngineFlags(app, &options->engine, &options->query_decode_threads);
}

void AddStoreFlags(CLI::App* app, StoreOptions* options, std::string* log_level) {
  AddServerFlags(app, &options->server, log_level);
  AddFlag(app, "--grpc.listen-address", &options->grpc_listen_address,
          "Address to listen on for the gRPC Storage service (host:port or :port).");
  AddStorageFlags(app, &options->node);
  AddAdminApiFlag(app, &options->enable_admin_api);
}

void AddReceiveFlags(CLI::App* app, ReceiveOptions* options, std::string* log_level) {
  AddServerFlags(app, &options->server, log_level);
  AddStoreClientFlags(app, &options->pool);
  AddRemoteWriteFlags(app, &options->remote_write);
  AddFlag(app, "--replication.factor", &options->router.replication_factor,
          "Storage nodes that must acknowledge every sample before the write is acknowledged.")
      ->check(CLI::Range(1, 16));
  AddFlag(app, "--store.max-in-flight-bytes", &options->router.max_in_flight_bytes_per_node,
          "Bytes of writes in flight to one storage node beyond which writes get 503 (e.g. 64MiB).")
      ->transform(CLI::AsSizeValue(false));
}

void AddQueryFlags(CLI::App* app, QueryOptions* options, std::string* log_level) {
  AddServerFlags(app, &options->server, log_level);
  AddStoreClientFlags(app, &options->pool);
  app->add_flag("--query.partial-response", options->fan_out.partial_response,
                "Answer with a warning when a storage node does not answer; with =false, fail.")
      ->envname(EnvName("--query.partial-response"))
      ->capture_default_str();
  AddEngineFlags(app, &options->engine, &options->query_decode_threads);
}

}  // namespace

int DefaultDecodeThreads() {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::clamp(cores - 1, 0, 7);
}

CommandLine ParseCommandLine(int argc, char** argv) {
  CommandLine result;
  CLI::App app{"Kura: a Prometheus-compatible long-term metrics store."};
  app.set_version_flag("--version", "kura, version " KURA_VERSION);
  app.require_subcommand(1);
  std::string log_level = "info";
  CLI::App* standalone = app.add_subcommand(
      "standalone", "Run every role in one process (the default on one machine).");
  AddStandaloneFlags(standalone, &result.standalone, &log_level);
  CLI::App* receive = app.add_subcommand("receive", "Accept remote write, route to storage nodes.");
  AddReceiveFlags(receive, &result.receive, &log_level);
  CLI::App* store = app.add_subcommand("store", "Run a storage node.");
  AddStoreFlags(store, &result.store, &log_level);
  CLI::App* query =
      app.add_subcommand("query", "Serve the Prometheus query API over storage nodes.");
  AddQueryFlags(query, &result.query, &log_level);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    result.exit_code = code == 0 ? 0 : 2;
    return result;
  }
  if (standalone->parsed()) {
    result.command = Command::kStandalone;
  } else if (receive->parsed()) {
    result.command = Command::kReceive;
  } else if (store->parsed()) {
    result.command = Command::kStore;
  } else if (query->parsed()) {
    result.command = Command::kQuery;
  }
  // A Select stream is read at the pace of the query consuming it.
  result.query.pool.client.select_timeout = result.query.engine.timeout;
  base::LogLevel level = base::LogLevel::kInfo;
  base::ParseLogLevel(log_level, &level);
  for (ServerOptions* server : {&result.standalone.server, &result.store.server,
                                &result.receive.server, &result.query.server}) {
    server->log_level = level;
  }
  return result;
}

}  // namespace kura::cmd
