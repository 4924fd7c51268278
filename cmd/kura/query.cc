#include "cmd/kura/query.h"

#include <memory>

#include "base/log.h"
#include "base/metrics.h"
#include "base/thread_pool.h"
#include "cmd/kura/build_info.h"
#include "cmd/kura/drain.h"
#include "cmd/kura/http_server.h"
#include "cmd/kura/routes.h"
#include "query/api.h"
#include "query/engine.h"
#include "shard/fan_out.h"
#include "shard/node_pool.h"

namespace kura::cmd {

int RunQuery(const QueryOptions& options) {
  base::SetLogLevel(options.server.log_level);
  base::LogInfo("starting kura", {{"version", KURA_VERSION},
                                  {"mode", "query"},
                                  {"store_nodes", options.pool.membership.nodes}});
  base::Registry registry;

  absl::StatusOr<std::unique_ptr<shard::NodePool>> pool =
      shard::NodePool::Create(options.pool, &registry);
  if (!pool.ok()) {
    base::LogError("storage nodes", {{"err", pool.status().ToString()}});
    return 2;
  }
  shard::FanOut fan_out(pool->get(), options.fan_out, &registry);
  base::ThreadPool decode_pool(options.query_decode_threads);
  query::EngineOptions engine_options = options.engine;
  engine_options.decode_pool = &decode_pool;
  query::Engine engine(&fan_out, engine_options);
  query::Api api(&fan_out, &engine,
                 query::ApiOptions{.engine = engine_options, .build_info = KuraBuildInfo()});

  HttpServer server(HttpServerOptions{.listen_address = options.server.listen_address}, &registry);
  AddApiRoutes(api.Routes(), &server);
  if (absl::Status status = server.Start(); !status.ok()) {
    base::LogError("starting http server failed", {{"err", status.ToString()}});
    return 1;
  }
  server.SetReady(true);
  base::LogInfo("ready");

  BeginDrain(WaitForTerminationSignal(), &server, options.server.drain_delay);
  server.Drain(options.server.drain_timeout);
  base::LogInfo("stopped");
  return 0;
}

}  // namespace kura::cmd
