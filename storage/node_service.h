#pragma once

// NodeService: `kura store`'s gRPC server. Serves the Storage service (proto/storage.proto) over
// one storage::Node, translating proto <-> model, plus the standard grpc.health.v1 service.
// gRPC stays inside node_service.cc.
//
//   NodeService service(node.get(), NodeServiceOptions{.listen_address = ":9301"});
//   RETURN_IF_ERROR(service.Start());
//   ...
//   service.SetServing(false);          // drain: health answers NOT_SERVING
//   service.Shutdown(absl::Seconds(25));

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/metrics.h"
#include "storage/node.h"

namespace kura::storage {

struct NodeServiceOptions {
  // "host:port" or ":port" (all interfaces); port 0 picks a free port.
  std::string listen_address = ":9301";
  // A Select stream message is sent once it holds about this many bytes of chunks.
  size_t max_select_message_bytes = 1 << 20;
  // Chunks of a Select answer hold at most this many samples.
  int max_samples_per_chunk = 120;
  // Larger Write requests are refused by gRPC (ResourceExhausted).
  int max_receive_message_bytes = 64 << 20;
};

// Thread-safe. `node` (and `metrics`, when given) must outlive the service.
class NodeService {
 public:
  NodeService(Node* node, NodeServiceOptions options, base::Registry* metrics = nullptr);
  ~NodeService();  // Shutdown(ZeroDuration()) if still running

  NodeService(const NodeService&) = delete;
  NodeService& operator=(const NodeService&) = delete;

  // Binds and starts serving; health answers SERVING.
  absl::Status Start();
  // REQUIRES: Start() returned OK.
  int port() const;

  // What grpc.health.v1 answers: SERVING or NOT_SERVING. It answers NOT_SERVING regardless
  // while Node::WriteHealth() is not OK.
  void SetServing(bool serving);

  // Stops accepting calls, lets in-flight calls finish for up to `grace`, cancels the rest.
  // Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  class Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace kura::storage
