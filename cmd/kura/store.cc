#include "cmd/kura/store.h"

#include <memory>

#include "base/log.h"
#include "base/metrics.h"
#include "cmd/kura/drain.h"
#include "cmd/kura/http_server.h"
#include "cmd/kura/node_metrics.h"
#include "cmd/kura/routes.h"
#include "query/admin_api.h"
#include "storage/node.h"
#include "storage/node_service.h"

namespace kura::cmd {

int RunStore(const StoreOptions& options) {
  base::SetLogLevel(options.server.log_level);
  base::LogInfo(
      "starting kura",
      {{"version", KURA_VERSION}, {"mode", "store"}, {"storage_path", options.node.data_dir}});
  base::Registry registry;

  // The WAL is replayed before either server starts: nothing is served that is not readable.
  absl::StatusOr<std::unique_ptr<storage::Node>> node = storage::Node::Open(options.node);
  if (!node.ok()) {
    base::LogError("opening storage failed", {{"err", node.status().ToString()}});
    return 1;
  }
  RegisterNodeMetrics(node->get(), &registry);

  storage::NodeService service(
      node->get(), storage::NodeServiceOptions{.listen_address = options.grpc_listen_address},
      &registry);
  storage::Node* storage_node = node->get();
  HttpServer server(
      HttpServerOptions{.listen_address = options.server.listen_address,
                        .readiness = [storage_node] { return storage_node->WriteHealth(); }},
      &registry);
  // Deletion and compaction act on this node's data only; in a cluster an operator runs them
  // on every store (docs/cluster.md).
  query::AdminApi admin_api(node->get(),
                            query::AdminApiOptions{.enabled = options.enable_admin_api});
  AddApiRoutes(admin_api.Routes(), &server);
  if (absl::Status status = service.Start(); !status.ok()) {
    base::LogError("starting grpc server failed", {{"err", status.ToString()}});
    return 1;
  }
  if (absl::Status status = server.Start(); !status.ok()) {
    base::LogError("starting http server failed", {{"err", status.ToString()}});
    return 1;
  }
  server.SetReady(true);
  base::LogInfo("ready");

  const int signal = WaitForTerminationSignal();
  // NOT_SERVING at once: clients' health probes take the node out of rotation while its
  // calls in flight, and new ones during the delay, are still served.
  service.SetServing(false);
  BeginDrain(signal, &server, options.server.drain_delay);
  service.Shutdown(options.server.drain_timeout);
  server.Drain(options.server.drain_timeout);
  node->reset();  // flushes and closes RocksDB
  base::LogInfo("stopped");
  return 0;
}

}  // namespace kura::cmd
