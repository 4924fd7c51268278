#pragma once

// HttpServer: Kura's one HTTP/1.1 server (Boost.Beast on Asio, kept out of this header).
// A few I/O threads accept, read and write on every connection without blocking, so idle
// keep-alive connections from many remote-write senders pin no thread. Handlers, which may
// block (WAL writes, queries), run on a bounded worker pool; a request that finds the pool's
// queue full gets 503 at once. Built in: /-/healthy, /-/ready, /metrics.
//
//   HttpServer server(HttpServerOptions{.listen_address = ":9201"}, &registry);
//   server.Handle("/api/v1/write", handler, {.max_body_bytes = 32 << 20});
//   RETURN_IF_ERROR(server.Start());  // logs msg="listening" address=...
//   server.SetReady(true);
//   ...
//   server.Drain(absl::Seconds(30));

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/http_message.h"
#include "base/metrics.h"

namespace kura::cmd {

struct HttpServerOptions {
  // "host:port", ":port" (all interfaces) or "[v6]:port"; port 0 picks a free port.
  std::string listen_address = ":9201";
  int io_threads = 2;
  int worker_threads = 8;
  // Requests waiting for a worker beyond this are answered 503.
  size_t max_queued_requests = 256;
  // A keep-alive connection with no request for this long is closed.
  absl::Duration idle_timeout = absl::Minutes(5);
  // Upper bound for reading one request (headers and body) once it has started.
  absl::Duration read_timeout = absl::Minutes(1);
  // Asked by /-/ready once SetReady(true) was called: an error answers 503 with its message,
  // e.g. while the storage cannot write, so a load balancer sends writes elsewhere.
  std::function<absl::Status()> readiness;
};

struct RouteOptions {
  // Larger request bodies get 413. Go's ParseForm caps forms at 10 MiB; so does this default.
  size_t max_body_bytes = 10 << 20;
};

// Thread-safe. Register routes before Start().
class HttpServer {
 public:
  // `metrics` must outlive the server; it holds the request metrics and serves /metrics.
  HttpServer(HttpServerOptions options, base::Registry* metrics);
  ~HttpServer();  // drains with no grace period if still running

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Serves requests whose path equals `path`.
  void Handle(const std::string& path, base::HttpHandler handler, RouteOptions options = {});
  // Serves requests whose path starts with `prefix` (the longest registered prefix wins);
  // `name` labels its metrics, e.g. "/api/v1/label/:name/values".
  void HandlePrefix(const std::string& prefix, const std::string& name, base::HttpHandler handler,
                    RouteOptions options = {});

  // Binds and starts serving; /-/ready answers 503 until SetReady(true).
  absl::Status Start();
  // The bound address, e.g. "127.0.0.1:43211". REQUIRES: Start() returned OK.
  std::string address() const;
  int port() const;

  void SetReady(bool ready);

  // Graceful drain: /-/ready turns 503, idle connections are closed, requests on connections
  // opened since are answered 503 (Connection: close), in-flight requests finish (up to
  // `grace`) and are answered with Connection: close; then the listener closes and every
  // thread stops. Idempotent.
  void Drain(absl::Duration grace);

 private:
  class Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace kura::cmd
