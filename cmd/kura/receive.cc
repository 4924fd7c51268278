#include "cmd/kura/receive.h"

#include <memory>

#include "base/log.h"
#include "base/metrics.h"
#include "cmd/kura/drain.h"
#include "cmd/kura/http_server.h"
#include "cmd/kura/routes.h"
#include "ingest/remote_write_handler.h"
#include "shard/node_pool.h"
#include "shard/router.h"

namespace kura::cmd {

int RunReceive(const ReceiveOptions& options) {
  base::SetLogLevel(options.server.log_level);
  base::LogInfo("starting kura", {{"version", KURA_VERSION},
                                  {"mode", "receive"},
                                  {"store_nodes", options.pool.membership.nodes}});
  base::Registry registry;

  absl::StatusOr<std::unique_ptr<shard::NodePool>> pool =
      shard::NodePool::Create(options.pool, &registry);
  if (!pool.ok()) {
    base::LogError("storage nodes", {{"err", pool.status().ToString()}});
    return 2;
  }
  shard::Router router(pool->get(), options.router, &registry);
  ingest::RemoteWriteHandler remote_write(&router, &registry, options.remote_write);

  HttpServer server(HttpServerOptions{.listen_address = options.server.listen_address}, &registry);
  AddRemoteWriteRoute(&remote_write, options.remote_write, &server);
  if (absl::Status status = server.Start(); !status.ok()) {
    base::LogError("starting http server failed", {{"err", status.ToString()}});
    return 1;
  }
  server.SetReady(true);
  base::LogInfo("ready");

  BeginDrain(WaitForTerminationSignal(), &server, options.server.drain_delay);
  // In-flight writes finish (each is acknowledged by its replicas or fails); the receiver holds
  // no buffer of its own to flush.
  server.Drain(options.server.drain_timeout);
  base::LogInfo("stopped");
  return 0;
}

}  // namespace kura::cmd
