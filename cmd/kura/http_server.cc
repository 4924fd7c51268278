#include "cmd/kura/http_server.h"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "base/log.h"
#include "boost/asio/dispatch.hpp"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ip/v6_only.hpp"
#include "boost/asio/post.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "cmd/kura/worker_pool.h"

namespace kura::cmd {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr uint32_t kMaxHeaderBytes = 64 << 10;

// This Abseil's string_view is its own type, not std::string_view.
absl::string_view AsAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

struct Route {
  std::string name;
  base::HttpHandler handler;
  size_t max_body_bytes = 0;
  // Cheap, non-blocking handlers (probes, /metrics) answer on the I/O thread so they work
  // even when the worker pool is saturated.
  bool run_inline = false;
  base::Histogram* latency = nullptr;
};

class Session;

// Everything the server shares with its connections.
class Core {
 public:
  Core(HttpServerOptions options, base::Registry* metrics)
      : options(std::move(options)),
        metrics(metrics),
        rejected(metrics->AddCounter("kura_http_requests_rejected_total",
                                     "Requests answered 503 because the worker queue was full.")) {}

  const Route& FindRoute(std::string_view path) const {
    if (auto it = exact.find(AsAbsl(path)); it != exact.end()) return it->second;
    for (const auto& [prefix, route] : prefixes) {
      if (path.substr(0, prefix.size()) == prefix) return route;
    }
    return not_found;
  }

  void RequestStarted() {
    absl::MutexLock lock(&mu);
    ++in_flight;
  }
  void RequestFinished() {
    absl::MutexLock lock(&mu);
    --in_flight;
  }

  void RecordRequest(const Route& route, int status, absl::Duration latency) {
    if (route.latency != nullptr) route.latency->Observe(absl::ToDoubleSeconds(latency));
    metrics
        ->AddCounter("kura_http_requests_total", "HTTP requests by handler and status code.",
                     {{"handler", route.name}, {"code", absl::StrCat(status)}})
        .Inc();
  }

  void Accept();

  const HttpServerOptions options;
  base::Registry* const metrics;
  absl::flat_hash_map<std::string, Route> exact;
  std::vector<std::pair<std::string, Route>> prefixes;  // longest first
  Route not_found;
  std::atomic<bool> ready{false};
  std::atomic<bool> draining{false};

  absl::Mutex mu;
  int in_flight ABSL_GUARDED_BY(mu) = 0;
  absl::flat_hash_map<Session*, std::weak_ptr<Session>> sessions ABSL_GUARDED_BY(mu);

  // One context per I/O thread, each connection on one of them, so that a request's handlers
  // all run on one thread: with threads sharing a context, asio wakes an idle one for every
  // handler it queues, and those wake-ups cost more CPU than serving a small request.
  // Declared after `mu` and `sessions`: destroying a context destroys pending handlers and
  // with them sessions, which unregister themselves.
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  size_t next_context = 0;  // for the next accepted connection; used on the acceptor's thread
  // Keep the I/O threads running while no socket operation is pending, e.g. when the only
  // connection left waits for a worker and the acceptor is closed by a drain.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work_guards;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> io_threads;
  std::unique_ptr<WorkerPool> pool;
  base::Counter& rejected;
};

// Decodes %XX in a request path; malformed escapes stay as they are.
std::string DecodePath(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    unsigned value = 0;
    if (path[i] == '%' && i + 2 < path.size() &&
        std::from_chars(path.data() + i + 1, path.data() + i + 3, value, 16).ptr ==
            path.data() + i + 3) {
      out.push_back(static_cast<char>(value));
      i += 2;
    } else {
      out.push_back(path[i]);
    }
  }
  return out;
}

// One connection. Every method runs on the thread of the connection's context.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Core* core) : stream_(std::move(socket)), core_(core) {}

  ~Session() {
    absl::MutexLock lock(&core_->mu);
    core_->sessions.erase(this);
  }

  void Start() {
    {
      absl::MutexLock lock(&core_->mu);
      core_->sessions[this] = weak_from_this();
    }
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

  // Used by a drain: a connection between requests is closed; one inside a request finishes
  // it and closes after the response.
  void CloseIfIdle() {
    if (idle_) Close();
  }

  asio::any_io_executor executor() { return stream_.get_executor(); }

 private:
  void ReadHeader() {
    idle_ = true;
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    // The route's limit is applied once the path is known; Beast checks Content-Length
    // against the limit while finishing the header, so it is open until then.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    stream_.expires_after(absl::ToChronoNanoseconds(core_->options.idle_timeout));
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) {
      if (ec == http::error::header_limit) return Reject(431, "Request Header Fields Too Large");
      // The client closed the connection between requests: in Beast's category, but no error.
      if (ec == http::error::end_of_stream) return Close();
      if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
        return Reject(400, "Bad Request");
      }
      return Close();  // EOF, idle timeout, reset
    }
    idle_ = false;
    // A request that arrives once a drain began (on a connection opened since) is refused.
    if (core_->draining) return Reject(503, "Service Unavailable: shutting down");
    started_ = absl::Now();
    core_->RequestStarted();
    in_flight_ = true;
    const auto& header = parser_->get();
    std::string_view target(header.target().data(), header.target().size());
    size_t question = target.find('?');
    request_.method = std::string(header.method_string());
    request_.path = DecodePath(target.substr(0, question));
    request_.query =
        question == std::string_view::npos ? "" : std::string(target.substr(question + 1));
    route_ = &core_->FindRoute(request_.path);
    if (parser_->content_length() && *parser_->content_length() > route_->max_body_bytes) {
      return Reject(413, "Request Entity Too Large");
    }
    parser_->body_limit(route_->max_body_bytes);
    stream_.expires_after(absl::ToChronoNanoseconds(core_->options.read_timeout));
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
  }

  void OnBody(beast::error_code ec) {
    if (ec == http::error::body_limit) return Reject(413, "Request Entity Too Large");
    if (ec) {
      FinishRequest();
      return Close();
    }
    http::request<http::string_body> message = parser_->release();
    keep_alive_ = message.keep_alive();
    version_ = message.version();
    request_.headers.clear();
    for (const auto& field : message) {
      request_.headers.emplace_back(absl::AsciiStrToLower(std::string(field.name_string())),
                                    std::string(field.value()));
    }
    request_.body = std::move(message.body());
    Dispatch();
  }

  void Dispatch() {
    if (route_->run_inline) {
      base::HttpResponse response;
      route_->handler(request_, &response);
      return Respond(std::move(response), /*close=*/false);
    }
    request_.client_gone = ClientGone(stream_.socket().native_handle());
    bool queued = core_->pool->TrySubmit([self = shared_from_this()] {
      base::HttpResponse response;
      self->route_->handler(self->request_, &response);
      asio::post(self->executor(), [self, response = std::move(response)]() mutable {
        self->Respond(std::move(response), /*close=*/false);
      });
    });
    if (!queued) {
      core_->rejected.Inc();
      base::HttpResponse response;
      response.status = 503;
      response.headers.emplace_back("Retry-After", "1");
      response.body = "server overloaded\n";
      Respond(std::move(response), /*close=*/false);
    }
  }

  // Polls whether the peer closed the connection while its request runs on a worker: no read is
  // pending on the socket then, so a peeked end of stream is the client going away (data, such
  // as a pipelined request, means it is still there). At most one poll per 100 ms, because the
  // engine asks often. The session, and so the descriptor, outlives the handler.
  static std::function<bool()> ClientGone(int fd) {
    return [fd, next_poll = absl::InfinitePast(), gone = false]() mutable {
      if (gone) return true;
      const absl::Time now = absl::Now();
      if (now < next_poll) return false;
      next_poll = now + absl::Milliseconds(100);
      char byte;
      gone = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
      return gone;
    };
  }

  // Answers a request whose body was not read; the connection cannot be reused.
  void Reject(int status, std::string_view text) {
    if (!in_flight_) {
      started_ = absl::Now();
      core_->RequestStarted();
      in_flight_ = true;
      route_ = &core_->not_found;
    }
    base::HttpResponse response;
    response.status = status;
    response.body = std::string(text) + "\n";
    Respond(std::move(response), /*close=*/true);
  }

  void Respond(base::HttpResponse response, bool close) {
    close = close || !keep_alive_ || core_->draining;
    status_ = response.status;
    response_.emplace();
    response_->version(version_);
    response_->result(static_cast<unsigned>(response.status));
    if (response.status == 499) response_->reason("Client Closed Request");
    response_->set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) response_->set(name, value);
    response_->body() = std::move(response.body);
    response_->keep_alive(!close);
    response_->prepare_payload();
    if (request_.method == "HEAD") response_->body().clear();
    stream_.expires_after(absl::ToChronoNanoseconds(core_->options.read_timeout));
    http::async_write(stream_, *response_,
                      [self = shared_from_this(), close](beast::error_code ec, size_t) {
                        self->OnWrite(ec, close);
                      });
  }

  void OnWrite(beast::error_code ec, bool close) {
    core_->RecordRequest(*route_, status_, absl::Now() - started_);
    FinishRequest();
    response_.reset();
    if (ec || close) return Close();
    ReadHeader();
  }

  void FinishRequest() {
    if (!in_flight_) return;
    in_flight_ = false;
    core_->RequestFinished();
  }

  void Close() {
    idle_ = false;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  Core* const core_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  base::HttpRequest request_;
  const Route* route_ = nullptr;
  absl::Time started_;
  unsigned version_ = 11;
  int status_ = 0;
  bool keep_alive_ = true;
  bool idle_ = true;
  bool in_flight_ = false;
};

void Core::Accept() {
  asio::io_context& context = *contexts[next_context];
  next_context = (next_context + 1) % contexts.size();
  acceptor->async_accept(context, [this](beast::error_code ec, tcp::socket socket) {
    // Connections accepted during a drain are served 503s until the acceptor closes.
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
    if (ec) {
      base::LogWarn("accept failed", {{"err", ec.message()}});
    } else {
      std::make_shared<Session>(std::move(socket), this)->Start();
    }
    Accept();
  });
}

std::string FormatEndpoint(const tcp::endpoint& endpoint) {
  std::string host = endpoint.address().to_string();
  if (endpoint.address().is_v6()) host = absl::StrCat("[", host, "]");
  return absl::StrCat(host, ":", endpoint.port());
}

absl::StatusOr<tcp::endpoint> ResolveListenAddress(std::string_view address,
                                                   asio::io_context& ioc) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address \"", AsAbsl(address), "\" must be host:port or :port"));
  }
  std::string host(address.substr(0, colon));
  std::string_view port_text = address.substr(colon + 1);
  unsigned port = 0;
  auto parsed = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || parsed.ptr != port_text.data() + port_text.size() || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid port in listen address \"", AsAbsl(address), "\""));
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) return tcp::endpoint(tcp::v6(), static_cast<uint16_t>(port));
  beast::error_code ec;
  asio::ip::address ip = asio::ip::make_address(host, ec);
  if (!ec) return tcp::endpoint(ip, static_cast<uint16_t>(port));
  tcp::resolver resolver(ioc);
  auto results = resolver.resolve(host, std::string(port_text), ec);
  if (ec || results.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot resolve listen address \"", AsAbsl(address), "\": ", ec.message()));
  }
  return results.begin()->endpoint();
}

// Opens, binds and listens; an all-interfaces v6 socket also takes IPv4 where the host allows.
absl::Status Listen(tcp::acceptor& acceptor, tcp::endpoint endpoint) {
  beast::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (ec && endpoint.address().is_v6() && endpoint.address().is_unspecified()) {
    endpoint = tcp::endpoint(tcp::v4(), endpoint.port());
    ec.clear();
    acceptor.open(endpoint.protocol(), ec);
  }
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec && endpoint.address().is_v6()) acceptor.set_option(asio::ip::v6_only(false), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("listen on ", FormatEndpoint(endpoint), ": ", ec.message()));
  }
  return absl::OkStatus();
}

void TextResponse(int status, std::string body, base::HttpResponse* response) {
  response->status = status;
  response->content_type = "text/plain; charset=utf-8";
  response->body = std::move(body);
}

bool IsGetOrHead(const base::HttpRequest& request) {
  return request.method == "GET" || request.method == "HEAD";
}

}  // namespace

class HttpServer::Rep {
 public:
  Rep(HttpServerOptions options, base::Registry* metrics) : core(std::move(options), metrics) {}
  Core core;
  bool started = false;
  bool stopped = false;
};

HttpServer::HttpServer(HttpServerOptions options, base::Registry* metrics)
    : rep_(std::make_unique<Rep>(std::move(options), metrics)) {
  Core* core = &rep_->core;
  core->not_found = Route{"other",
                          [](const base::HttpRequest&, base::HttpResponse* response) {
                            TextResponse(404, "404 page not found\n", response);
                          },
                          RouteOptions{}.max_body_bytes, true, nullptr};
  auto add_inline = [&](const std::string& path, base::HttpHandler handler) {
    Handle(path, std::move(handler));
    core->exact[path].run_inline = true;
  };
  add_inline("/-/healthy", [](const base::HttpRequest& request, base::HttpResponse* response) {
    if (!IsGetOrHead(request)) return TextResponse(405, "Method Not Allowed\n", response);
    TextResponse(200, "Kura is Healthy.\n", response);
  });
  add_inline("/-/ready", [core](const base::HttpRequest& request, base::HttpResponse* response) {
    if (!IsGetOrHead(request)) return TextResponse(405, "Method Not Allowed\n", response);
    if (!core->ready) return TextResponse(503, "Service Unavailable", response);
    if (core->options.readiness) {
      if (absl::Status status = core->options.readiness(); !status.ok()) {
        return TextResponse(503, absl::StrCat("Service Unavailable: ", status.message(), "\n"),
                            response);
      }
    }
    TextResponse(200, "Kura is Ready.\n", response);
  });
  add_inline("/metrics", [core](const base::HttpRequest& request, base::HttpResponse* response) {
    if (!IsGetOrHead(request)) return TextResponse(405, "Method Not Allowed\n", response);
    TextResponse(200, core->metrics->Exposition(), response);
    response->content_type = "text/plain; version=0.0.4; charset=utf-8";
  });
}

HttpServer::~HttpServer() { Drain(absl::ZeroDuration()); }

void HttpServer::Handle(const std::string& path, base::HttpHandler handler, RouteOptions options) {
  Core& core = rep_->core;
  base::Histogram& latency = core.metrics->AddHistogram(
      "kura_http_request_duration_seconds", "Latency of HTTP requests by handler.",
      base::DefaultLatencyBuckets(), {{"handler", path}});
  core.exact[path] = Route{path, std::move(handler), options.max_body_bytes, false, &latency};
}

void HttpServer::HandlePrefix(const std::string& prefix, const std::string& name,
                              base::HttpHandler handler, RouteOptions options) {
  Core& core = rep_->core;
  base::Histogram& latency = core.metrics->AddHistogram(
      "kura_http_request_duration_seconds", "Latency of HTTP requests by handler.",
      base::DefaultLatencyBuckets(), {{"handler", name}});
  core.prefixes.emplace_back(
      prefix, Route{name, std::move(handler), options.max_body_bytes, false, &latency});
  std::sort(core.prefixes.begin(), core.prefixes.end(),
            [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

absl::Status HttpServer::Start() {
  Core& core = rep_->core;
  for (int i = 0; i < std::max(1, core.options.io_threads); ++i) {
    core.contexts.push_back(std::make_unique<asio::io_context>(/*concurrency_hint=*/1));
  }
  absl::StatusOr<tcp::endpoint> endpoint =
      ResolveListenAddress(core.options.listen_address, *core.contexts[0]);
  if (!endpoint.ok()) return endpoint.status();
  core.acceptor.emplace(*core.contexts[0]);
  if (absl::Status status = Listen(*core.acceptor, *endpoint); !status.ok()) return status;
  core.pool = std::make_unique<WorkerPool>(std::max(1, core.options.worker_threads),
                                           core.options.max_queued_requests);
  core.Accept();
  for (const std::unique_ptr<asio::io_context>& context : core.contexts) {
    core.work_guards.push_back(asio::make_work_guard(*context));
    core.io_threads.emplace_back([&context = *context] { context.run(); });
  }
  rep_->started = true;
  base::LogInfo("listening", {{"address", address()}});
  return absl::OkStatus();
}

std::string HttpServer::address() const {
  beast::error_code ec;
  tcp::endpoint endpoint = rep_->core.acceptor->local_endpoint(ec);
  return FormatEndpoint(endpoint);
}

int HttpServer::port() const {
  beast::error_code ec;
  return rep_->core.acceptor->local_endpoint(ec).port();
}

void HttpServer::SetReady(bool ready) { rep_->core.ready = ready; }

void HttpServer::Drain(absl::Duration grace) {
  if (!rep_->started || rep_->stopped) return;
  rep_->stopped = true;
  Core& core = rep_->core;
  core.ready = false;
  core.draining = true;
  std::vector<std::shared_ptr<Session>> live;
  {
    absl::MutexLock lock(&core.mu);
    for (auto& [session, weak] : core.sessions) {
      if (std::shared_ptr<Session> s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (std::shared_ptr<Session>& session : live) {
    asio::post(session->executor(), [session] { session->CloseIfIdle(); });
  }
  live.clear();
  {
    absl::MutexLock lock(&core.mu);
    auto idle = [&core]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(core.mu) { return core.in_flight == 0; };
    core.mu.AwaitWithTimeout(absl::Condition(&idle), grace);
  }
  absl::Notification closed;
  asio::post(core.acceptor->get_executor(), [&core, &closed] {
    beast::error_code ignored;
    core.acceptor->close(ignored);
    closed.Notify();
  });
  closed.WaitForNotificationWithTimeout(absl::Seconds(1));
  core.pool->Stop();
  core.work_guards.clear();
  for (const std::unique_ptr<asio::io_context>& context : core.contexts) context->stop();
  for (std::thread& thread : core.io_threads) thread.join();
  core.io_threads.clear();
  base::LogInfo("http server stopped");
}

}  // namespace kura::cmd
