#include "cmd/kura/standalone.h"

#include <memory>
#include <string>

#include "base/log.h"
#include "base/metrics.h"
#include "base/thread_pool.h"
#include "cmd/kura/build_info.h"
#include "cmd/kura/drain.h"
#include "cmd/kura/http_server.h"
#include "cmd/kura/node_metrics.h"
#include "cmd/kura/routes.h"
#include "ingest/remote_write_handler.h"
#include "query/admin_api.h"
#include "query/api.h"
#include "query/engine.h"
#include "storage/node.h"

namespace kura::cmd {

int RunStandalone(const StandaloneOptions& options) {
  base::SetLogLevel(options.server.log_level);
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

  base::ThreadPool decode_pool(options.query_decode_threads);
  query::EngineOptions engine_options = options.engine;
  engine_options.decode_pool = &decode_pool;
  query::Engine engine(node->get(), engine_options);
  query::Api api(node->get(), &engine,
                 query::ApiOptions{.engine = engine_options, .build_info = KuraBuildInfo()});
  ingest::RemoteWriteHandler remote_write(node->get(), &registry, options.remote_write);

  storage::Node* storage_node = node->get();
  HttpServer server(
      HttpServerOptions{.listen_address = options.server.listen_address,
                        .readiness = [storage_node] { return storage_node->WriteHealth(); }},
      &registry);
  AddRemoteWriteRoute(&remote_write, options.remote_write, &server);
  query::AdminApi admin_api(node->get(),
                            query::AdminApiOptions{.enabled = options.enable_admin_api});
  AddApiRoutes(admin_api.Routes(), &server);
  AddApiRoutes(api.Routes(), &server);
  if (absl::Status status = server.Start(); !status.ok()) {
    base::LogError("starting http server failed", {{"err", status.ToString()}});
    return 1;
  }
  server.SetReady(true);
  base::LogInfo("ready");

  BeginDrain(WaitForTerminationSignal(), &server, options.server.drain_delay);
  server.Drain(options.server.drain_timeout);
  node->reset();  // flushes and closes RocksDB
  base::LogInfo("stopped");
  return 0;
}

}  // namespace kura::cmd
