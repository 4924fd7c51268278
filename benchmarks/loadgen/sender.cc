#include "benchmarks/loadgen/sender.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"

namespace kura::loadgen {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

absl::StatusOr<Url> ParseUrl(std::string_view url_view) {
  const absl::string_view url(url_view.data(), url_view.size());
  constexpr absl::string_view kScheme = "http://";
  if (!absl::StartsWith(url, kScheme)) {
    return absl::InvalidArgumentError(absl::StrCat("URL must start with http://: ", url));
  }
  absl::string_view rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  Url out;
  out.path = slash == absl::string_view::npos ? "/" : std::string(rest.substr(slash));
  const absl::string_view authority = rest.substr(0, slash);
  const size_t colon = authority.rfind(':');
  if (colon == absl::string_view::npos) {
    out.host = std::string(authority);
    out.port = "80";
  } else {
    out.host = std::string(authority.substr(0, colon));
    out.port = std::string(authority.substr(colon + 1));
    int port = 0;
    if (!absl::SimpleAtoi(out.port, &port) || port <= 0 || port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("bad port in URL: ", url));
    }
  }
  if (out.host.empty()) return absl::InvalidArgumentError(absl::StrCat("no host in URL: ", url));
  return out;
}

namespace {

struct Connection {
  explicit Connection(asio::io_context& io) : socket(io) {}
  tcp::socket socket;
  boost::beast::flat_buffer buffer;
  bool open = false;
};

}  // namespace

struct Sender::Impl {
  asio::io_context io;
  tcp::resolver::results_type endpoints;
  std::string header_prefix;
  std::vector<std::unique_ptr<Connection>> connections;

  bool Open(Connection* c) {
    boost::system::error_code ec;
    c->socket = tcp::socket(io);
    asio::connect(c->socket, endpoints, ec);
    if (ec) return false;
    c->socket.set_option(tcp::no_delay(true), ec);
    c->buffer.clear();
    c->open = true;
    return true;
  }

  // One request; updates `stats` with its outcome.
  void Post(Connection* c, const EncodedRequest& request, SendStats* stats) {
    stats->requests++;
    stats->samples_sent += request.samples;
    if (!c->open && !Open(c)) {
      stats->transport_errors++;
      return;
    }
    const std::string header =
        absl::StrCat(header_prefix, request.body.size(), "\r\n\r\n");
    const std::array<asio::const_buffer, 2> buffers = {asio::buffer(header),
                                                      asio::buffer(request.body)};
    boost::system::error_code ec;
    asio::write(c->socket, buffers, ec);
    http::response<http::string_body> response;
    if (!ec) http::read(c->socket, c->buffer, response, ec);
    if (ec) {
      stats->transport_errors++;
      c->socket.close(ec);
      c->open = false;
      return;
    }
    const int code = static_cast<int>(response.result_int());
    if (code >= 200 && code < 300) {
      stats->samples_acknowledged += request.samples;
    } else {
      stats->non_2xx[code]++;
    }
    if (!response.keep_alive()) {
      c->socket.close(ec);
      c->open = false;
    }
  }
};

absl::StatusOr<std::unique_ptr<Sender>> Sender::Connect(const Url& url, int connections) {
  if (connections <= 0) return absl::InvalidArgumentError("connections must be positive");
  auto impl = std::make_unique<Impl>();
  boost::system::error_code ec;
  tcp::resolver resolver(impl->io);
  impl->endpoints = resolver.resolve(url.host, url.port, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("resolving ", url.host, ": ", ec.message()));
  }
  impl->header_prefix = absl::StrCat(
      "POST ", url.path, " HTTP/1.1\r\nHost: ", url.host, ":", url.port,
      "\r\nUser-Agent: kura-loadgen\r\nContent-Encoding: snappy\r\n"
      "Content-Type: application/x-protobuf\r\nX-Prometheus-Remote-Write-Version: 0.1.0\r\n"
      "Content-Length: ");
  for (int i = 0; i < connections; ++i) {
    impl->connections.push_back(std::make_unique<Connection>(impl->io));
    if (!impl->Open(impl->connections.back().get())) {
      return absl::UnavailableError(absl::StrCat("cannot connect to ", url.host, ":", url.port));
    }
  }
  return std::unique_ptr<Sender>(new Sender(std::move(impl)));
}

Sender::Sender(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Sender::~Sender() = default;

void Sender::SendAll(const std::vector<EncodedRequest>& requests) {
  const size_t workers = std::min(impl_->connections.size(), requests.size());
  std::vector<SendStats> per_worker(workers);
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (size_t w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      for (size_t i = next++; i < requests.size(); i = next++) {
        impl_->Post(impl_->connections[w].get(), requests[i], &per_worker[w]);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const SendStats& s : per_worker) {
    stats_.requests += s.requests;
    stats_.samples_sent += s.samples_sent;
    stats_.samples_acknowledged += s.samples_acknowledged;
    stats_.transport_errors += s.transport_errors;
    for (const auto& [code, n] : s.non_2xx) stats_.non_2xx[code] += n;
  }
}

}  // namespace kura::loadgen
