#include "cmd/kura/standalone.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "base/metrics.h"
#include "cmd/kura/drain.h"
#include "cmd/kura/http_server.h"
#include "ingest/remote_write_handler.h"
#include "query/admin_api.h"
#include "query/api.h"
#include "query/engine.h"
#include "storage/node.h"

namespace kura::cmd {
namespace {

query::BuildInfo KuraBuildInfo() {
  return query::BuildInfo{.version = KURA_VERSION,
                          .revision = KURA_REVISION,
                          .branch = KURA_BRANCH,
                          .build_user = "",
                          .build_date = __DATE__ " " __TIME__,
                          .go_version = absl::StrCat("g++ ", __VERSION__)};
}

void RegisterNodeMetrics(storage::Node* node, base::Registry* registry) {
  registry->AddGaugeFunc("kura_storage_active_series", "Series with an open head chunk.",
                         [node] { return static_cast<double>(node->stats().active_series); });
  registry->AddCounterFunc("kura_storage_samples_appended_total", "Samples appended.",
                           [node] { return static_cast<double>(node->stats().samples_appended); });
  registry->AddCounterFunc("kura_storage_series_created_total", "Series created.",
                           [node] { return static_cast<double>(node->stats().series_created); });
  registry->AddCounterFunc("kura_storage_chunks_written_total", "Chunks written.",
                           [node] { return static_cast<double>(node->stats().chunks_written); });
  registry->AddCounterFunc(
      "kura_storage_out_of_order_samples_total", "Samples rejected as out of order.",
      [node] { return static_cast<double>(node->stats().out_of_order_samples); });
  registry->AddCounterFunc("kura_storage_out_of_order_accepted_total",
                           "Samples accepted within the out-of-order window.", [node] {
                             return static_cast<double>(node->stats().out_of_order_accepted);
                           });
  registry->AddGaugeFunc("kura_storage_memory_budget_bytes", "The memory budget.",
                         [node] { return static_cast<double>(node->stats().memory_budget_bytes); });
  const std::pair<const char*, int64_t storage::NodeStats::*> components[] = {
      {"head", &storage::NodeStats::head_memory_bytes},
      {"block_cache", &storage::NodeStats::block_cache_bytes},
      {"memtables", &storage::NodeStats::memtable_bytes}};
  for (const auto& [component, field] : components) {
    registry->AddGaugeFunc(
        "kura_storage_memory_bytes", "Memory the budget accounts, by component.",
        [node, field = field] { return static_cast<double>(node->stats().*field); },
        {{"component", component}});
  }
  registry->AddCounterFunc(
      "kura_storage_memory_pressure_flushes_total", "Times the head wrote its chunks out early.",
      [node] { return static_cast<double>(node->stats().memory_pressure_flushes); });
  registry->AddCounterFunc(
      "kura_storage_memory_rejected_writes_total", "Writes refused by the memory budget.",
      [node] { return static_cast<double>(node->stats().memory_rejected_writes); });
  registry->AddCounterFunc(
      "kura_storage_partitions_dropped_total", "Partitions dropped by retention.",
      [node] { return static_cast<double>(node->stats().partitions_dropped); });
  registry->AddCounterFunc(
      "kura_storage_partitions_compacted_total", "Closed partitions merged per series.",
      [node] { return static_cast<double>(node->stats().partitions_compacted); });
  registry->AddGaugeFunc(
      "kura_storage_tombstoned_series", "Series with deletions not yet cleaned.",
      [node] { return static_cast<double>(node->stats().active_tombstoned_series); });
}

}  // namespace

int RunStandalone(const StandaloneOptions& options) {
  base::SetLogLevel(options.log_level);
  base::LogInfo(
      "starting kura",
      {{"version", KURA_VERSION}, {"mode", "standalone"}, {"storage_path", options.node.data_dir}});
  base::Registry registry;

  // Opening replays the WAL; the server starts after it, so /-/ready is never true before
  // every acknowledged sample is readable.
  absl::StatusOr<std::unique_ptr<storage::Node>> node = storage::Node::Open(options.node);
  if (!node.ok()) {
    base::LogError("opening storage failed", {{"err", node.status().ToString()}});
    return 1;
  }
  RegisterNodeMetrics(node->get(), &registry);

  query::Engine engine(node->get(), options.engine);
  query::Api api(node->get(), &engine,
                 query::ApiOptions{.engine = options.engine, .build_info = KuraBuildInfo()});
  ingest::RemoteWriteHandler remote_write(node->get(), &registry, options.remote_write);

  storage::Node* storage_node = node->get();
  HttpServer server(
      HttpServerOptions{.listen_address = options.listen_address,
                        .readiness = [storage_node] { return storage_node->WriteHealth(); }},
      &registry);
  server.Handle(
      "/api/v1/write",
      [&remote_write](const base::HttpRequest& request, base::HttpResponse* response) {
        remote_write.Handle(request, response);
      },
      RouteOptions{.max_body_bytes = options.remote_write.max_body_bytes});
  query::AdminApi admin_api(node->get(),
                            query::AdminApiOptions{.enabled = options.enable_admin_api});
  for (query::ApiRoute& route : admin_api.Routes()) {
    server.Handle(route.path, std::move(route.handler));
  }
  for (query::ApiRoute& route : api.Routes()) {
    if (route.prefix) {
      server.HandlePrefix(route.path, route.name, std::move(route.handler));
    } else {
      server.Handle(route.path, std::move(route.handler));
    }
  }
  if (absl::Status status = server.Start(); !status.ok()) {
    base::LogError("starting http server failed", {{"err", status.ToString()}});
    return 1;
  }
  server.SetReady(true);
  base::LogInfo("ready");

  int signal = WaitForTerminationSignal();
  base::LogInfo("draining", {{"signal", std::to_string(signal)}});
  server.Drain(options.drain_timeout);
  node->reset();  // flushes and closes RocksDB
  base::LogInfo("stopped");
  return 0;
}

}  // namespace kura::cmd
