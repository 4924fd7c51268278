#include "cmd/kura/flags.h"

#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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
         "promql-binop-fill-modifiers.")
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

// "2GiB", "512MB", "1073741824": an integer and an optional unit, B to TiB in powers of 1024
// (KB, MB, GB and TB too, as Prometheus's size flags read them).
std::optional<int64_t> ParseBytes(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 18) return std::nullopt;
  int64_t value = std::stoll(std::string(text.substr(0, digits)));
  const std::string_view unit = text.substr(digits);
  int shift = 0;
  if (unit.empty() || unit == "B") {
    shift = 0;
  } else if (unit == "KiB" || unit == "KB") {
    shift = 10;
  } else if (unit == "MiB" || unit == "MB") {
    shift = 20;
  } else if (unit == "GiB" || unit == "GB") {
    shift = 30;
  } else if (unit == "TiB" || unit == "TB") {
    shift = 40;
  } else {
    return std::nullopt;
  }
  if (value > (INT64_MAX >> shift)) return std::nullopt;
  return value << shift;
}

// Retention, out-of-order samples, the memory budget and the admin API of the storage node.
void AddStorageNodeFlags(CLI::App* app, StandaloneOptions* options) {
  AddAliasedDurationFlag(app, "--storage.retention,--retention", &options->node.retention,
                         "How long to keep samples (e.g. 90d); 0 keeps them forever. Whole "
                         "partitions go once they end before now minus this.");
  AddAliasedDurationFlag(app, "--storage.ooo-window,--ooo-window",
                         &options->node.out_of_order_window,
                         "Accept samples up to this much older than their series' newest "
                         "(Prometheus's out_of_order_time_window); 0 accepts none.");
  int64_t* budget = &options->node.memory_budget_bytes;
  app->add_option_function<std::string>(
         "--storage.memory-budget",
         [budget](const std::string& text) {
           std::optional<int64_t> bytes = ParseBytes(text);
           if (!bytes.has_value()) {
             throw CLI::ValidationError("--storage.memory-budget",
                                        "want a size such as 2GiB or 512MiB, got " + text);
           }
           *budget = *bytes;
         },
         "Memory for the block cache (1/4), memtables (1/8) and head (the rest); past it the "
         "head writes chunks out early, then refuses new series with 503. At least 4MiB.")
      ->envname(EnvName("--storage.memory-budget"))
      ->default_str("1GiB");
  app->add_flag("--web.enable-admin-api", options->enable_admin_api,
                "Enable the admin endpoints delete_series, clean_tombstones and compact.")
      ->envname(EnvName("--web.enable-admin-api"));
}

void AddStandaloneFlags(CLI::App* app, StandaloneOptions* options, std::string* log_level) {
  AddFlag(app, "--http.listen-address", &options->listen_address,
          "Address to listen on for the API, remote write and /metrics (host:port or :port).");
  AddFlag(app, "--storage.path", &options->node.data_dir, "Base path for the data.");
  app->add_flag("--storage.sync", options->node.sync_wal,
                "fsync the WAL before acknowledging writes (power-loss durability).")
      ->envname(EnvName("--storage.sync"));
  AddStorageNodeFlags(app, options);
  AddDurationFlag(app, "--query.lookback-delta", &options->engine.lookback_delta,
                  "How far back to look for a sample of an instant vector selector.");
  AddDurationFlag(app, "--query.timeout", &options->engine.timeout,
                  "Maximum time a query may take before it is aborted.");
  AddFlag(app, "--query.max-samples", &options->engine.max_samples,
          "Maximum number of samples a single query can load into memory.");
  AddFeatureFlag(app, &options->engine);
  AddFlag(app, "--log.level", log_level, "Only log messages at or above: debug, info, warn, error.")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
}

}  // namespace

CommandLine ParseCommandLine(int argc, char** argv) {
  CommandLine result;
  CLI::App app{"Kura: a Prometheus-compatible long-term metrics store."};
  app.set_version_flag("--version", "kura, version " KURA_VERSION);
  app.require_subcommand(1);
  std::string log_level = "info";
  CLI::App* standalone =
      app.add_subcommand("standalone", "Run every role in one process (the default on one machine).");
  AddStandaloneFlags(standalone, &result.standalone, &log_level);
  CLI::App* receive = app.add_subcommand("receive", "Accept remote write, route to storage nodes.");
  CLI::App* store = app.add_subcommand("store", "Run a storage node.");
  CLI::App* query = app.add_subcommand("query", "Serve the Prometheus query API over storage nodes.");
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
  base::ParseLogLevel(log_level, &result.standalone.log_level);
  return result;
}

}  // namespace kura::cmd
