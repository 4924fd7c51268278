#include "cmd/kura/http_server.h"

#include <atomic>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/metrics.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "gtest/gtest.h"

namespace kura::cmd {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// A blocking HTTP/1.1 client on one keep-alive connection.
class Client {
 public:
  explicit Client(int port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }

  void Send(const std::string& method, const std::string& target, std::string body = "") {
    http::request<http::string_body> request(
        method == "POST" ? http::verb::post : http::string_to_verb(method), target, 11);
    request.set(http::field::host, "localhost");
    request.body() = std::move(body);
    request.prepare_payload();
    http::write(socket_, request);
  }

  http::response<http::string_body> Receive() {
    http::response<http::string_body> response;
    http::read(socket_, buffer_, response);
    return response;
  }

  http::response<http::string_body> Request(const std::string& method, const std::string& target,
                                            std::string body = "") {
    Send(method, target, std::move(body));
    return Receive();
  }

  void Close() { socket_.close(); }
  // Half-closes: the server sees the end of the stream, and the client can still read.
  void ShutdownSend() { socket_.shutdown(tcp::socket::shutdown_send); }

  // True when the server closed the connection.
  bool ReadsEof() {
    http::response<http::string_body> response;
    beast::error_code ec;
    http::read(socket_, buffer_, response, ec);
    return ec == http::error::end_of_stream || ec == asio::error::eof ||
           ec == asio::error::connection_reset;
  }

 private:
  asio::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

base::HttpHandler Echo() {
  return [](const base::HttpRequest& request, base::HttpResponse* response) {
    response->body = request.method + " " + request.path + " ?" + request.query + " " +
                     std::string(request.Header("x-test")) + " " + request.body;
  };
}

TEST(HttpServerTest, ReadinessCheckTurnsReadyOffWhileItFails) {
  base::Registry registry;
  std::atomic<bool> disk_full{false};
  HttpServer server(HttpServerOptions{.listen_address = "127.0.0.1:0",
                                      .readiness =
                                          [&disk_full] {
                                            return disk_full ? absl::UnavailableError(
                                                                   "appending to the WAL: "
                                                                   "No space left on device")
                                                             : absl::OkStatus();
                                          }},
                    &registry);
  ASSERT_TRUE(server.Start().ok());
  Client client(server.port());
  EXPECT_EQ(client.Request("GET", "/-/ready").result_int(), 503);  // not started yet
  server.SetReady(true);
  EXPECT_EQ(client.Request("GET", "/-/ready").result_int(), 200);
  disk_full = true;
  auto failing = client.Request("GET", "/-/ready");
  EXPECT_EQ(failing.result_int(), 503);
  EXPECT_EQ(failing.body(), "Service Unavailable: appending to the WAL: No space left on device\n");
  EXPECT_EQ(client.Request("GET", "/-/healthy").result_int(), 200);  // alive, just not ready
  disk_full = false;
  EXPECT_EQ(client.Request("GET", "/-/ready").result_int(), 200);
  server.Drain(absl::Seconds(1));
}

TEST(HttpServerTest, ServesProbesRoutesAndMetrics) {
  base::Registry registry;
  HttpServer server(HttpServerOptions{.listen_address = "127.0.0.1:0"}, &registry);
  server.Handle("/echo", Echo(), RouteOptions{.max_body_bytes = 8});
  server.HandlePrefix("/api/v1/label/", "/api/v1/label/:name/values", Echo());
  ASSERT_TRUE(server.Start().ok());
  ASSERT_GT(server.port(), 0);
  EXPECT_EQ(server.address(), "127.0.0.1:" + std::to_string(server.port()));

  Client client(server.port());
  auto healthy = client.Request("GET", "/-/healthy");
  EXPECT_EQ(healthy.result_int(), 200);
  EXPECT_EQ(healthy.body(), "Kura is Healthy.\n");
  EXPECT_EQ(client.Request("GET", "/-/ready").result_int(), 503);
  server.SetReady(true);
  EXPECT_EQ(client.Request("GET", "/-/ready").result_int(), 200);

  auto echo = client.Request("POST", "/echo?a=%20b", "12345678");
  EXPECT_EQ(echo.result_int(), 200);
  EXPECT_EQ(echo.body(), "POST /echo ?a=%20b  12345678");
  auto label = client.Request("GET", "/api/v1/label/job%2Fx/values");
  EXPECT_EQ(label.body(), "GET /api/v1/label/job/x/values ?  ");
  EXPECT_EQ(client.Request("GET", "/nothing").result_int(), 404);

  auto metrics = client.Request("GET", "/metrics");
  EXPECT_EQ(metrics.result_int(), 200);
  EXPECT_EQ(metrics[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(metrics.body().find("kura_http_request_duration_seconds_count{handler=\"/echo\"} 1"),
            std::string::npos)
      << metrics.body();

  // Over the route's body limit: 413, and the unread body ends the connection.
  auto too_large = client.Request("POST", "/echo", "123456789");
  EXPECT_EQ(too_large.result_int(), 413);
  EXPECT_TRUE(client.ReadsEof());
}

TEST(HttpServerTest, RejectsWorkBeyondTheQueueWith503) {
  base::Registry registry;
  HttpServer server(
      HttpServerOptions{
          .listen_address = "127.0.0.1:0", .worker_threads = 1, .max_queued_requests = 1},
      &registry);
  absl::Notification entered, release;
  server.Handle("/block", [&](const base::HttpRequest&, base::HttpResponse* response) {
    if (!entered.HasBeenNotified()) entered.Notify();
    release.WaitForNotification();
    response->body = "done";
  });
  ASSERT_TRUE(server.Start().ok());

  Client busy(server.port());
  busy.Send("GET", "/block");
  entered.WaitForNotification();  // the only worker is now taken

  // Of two more requests one waits in the queue and the other is refused at once.
  Client second(server.port()), third(server.port());
  second.Send("GET", "/block");
  third.Send("GET", "/block");
  absl::Notification refused;
  int statuses[2] = {0, 0};
  auto read = [&](Client* client, int* status) {
    *status = client->Receive().result_int();
    if (*status == 503) refused.Notify();
  };
  std::thread second_reader(read, &second, &statuses[0]);
  std::thread third_reader(read, &third, &statuses[1]);
  refused.WaitForNotification();
  release.Notify();
  second_reader.join();
  third_reader.join();
  EXPECT_EQ(statuses[0] + statuses[1], 503 + 200);
  EXPECT_EQ(busy.Receive().result_int(), 200);
}

TEST(HttpServerTest, HandlersSeeTheClientGo) {
  base::Registry registry;
  HttpServer server(HttpServerOptions{.listen_address = "127.0.0.1:0"}, &registry);
  absl::Notification entered, saw_gone;
  std::atomic<bool> gone_while_connected{false};
  server.Handle("/slow", [&](const base::HttpRequest& request, base::HttpResponse* response) {
    ASSERT_TRUE(request.client_gone);
    gone_while_connected = request.client_gone();
    entered.Notify();
    // Bounded: 10 s at most, polling as the engine does.
    for (int i = 0; i < 1000 && !request.client_gone(); ++i) absl::SleepFor(absl::Milliseconds(10));
    if (request.client_gone()) saw_gone.Notify();
  });
  ASSERT_TRUE(server.Start().ok());

  Client client(server.port());
  client.Send("GET", "/slow");
  entered.WaitForNotification();
  EXPECT_FALSE(gone_while_connected);
  client.Close();
  EXPECT_TRUE(saw_gone.WaitForNotificationWithTimeout(absl::Seconds(10)));
}

// A client closing its keep-alive connection between requests is no bad request: the server
// closes its side without answering.
TEST(HttpServerTest, ClientClosingBetweenRequestsGetsNoAnswer) {
  base::Registry registry;
  HttpServer server(HttpServerOptions{.listen_address = "127.0.0.1:0"}, &registry);
  server.Handle("/echo", Echo());
  ASSERT_TRUE(server.Start().ok());
  Client client(server.port());
  EXPECT_EQ(client.Request("GET", "/echo").result_int(), 200);
  client.ShutdownSend();
  EXPECT_TRUE(client.ReadsEof());
}

TEST(HttpServerTest, DrainClosesIdleConnectionsAndFinishesInFlightRequests) {
  base::Registry registry;
  HttpServer server(HttpServerOptions{.listen_address = "127.0.0.1:0"}, &registry);
  absl::Notification entered, release;
  server.Handle("/block", [&](const base::HttpRequest&, base::HttpResponse* response) {
    entered.Notify();
    release.WaitForNotification();
    response->body = "done";
  });
  server.Handle("/echo", Echo());
  ASSERT_TRUE(server.Start().ok());
  server.SetReady(true);

  Client idle(server.port());
  EXPECT_EQ(idle.Request("GET", "/echo").result_int(), 200);
  Client in_flight(server.port());
  in_flight.Send("GET", "/block");
  entered.WaitForNotification();

  std::thread drain([&] { server.Drain(absl::Minutes(1)); });
  EXPECT_TRUE(idle.ReadsEof());
  // New work is refused while the in-flight request finishes.
  Client late(server.port());
  auto refused = late.Request("GET", "/echo");
  EXPECT_EQ(refused.result_int(), 503);
  EXPECT_FALSE(refused.keep_alive());
  release.Notify();
  auto response = in_flight.Receive();
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "done");
  EXPECT_FALSE(response.keep_alive());
  drain.join();
}

TEST(HttpServerTest, StartFailsOnABadAddress) {
  base::Registry registry;
  HttpServer no_port(HttpServerOptions{.listen_address = "127.0.0.1"}, &registry);
  EXPECT_FALSE(no_port.Start().ok());
  HttpServer bad_port(HttpServerOptions{.listen_address = ":99999"}, &registry);
  EXPECT_FALSE(bad_port.Start().ok());
}

}  // namespace
}  // namespace kura::cmd
