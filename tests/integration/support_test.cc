#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/free_port.h"
#include "tests/integration/http_client.h"
#include "tests/integration/json.h"
#include "tests/integration/process.h"
#include "tests/integration/promtool_result.h"
#include "tests/integration/temp_dir.h"

namespace kura::integration {
namespace {

TEST(JsonTest, ParsesPrometheusResponse) {
  absl::StatusOr<Json> json =
      ParseJson(R"({"status":"success","data":{"resultType":"vector","result":[)"
                R"({"metric":{"__name__":"up","job":"a\"b\u00e9"},"value":[1700000000.5,"1"]}]},)"
                R"("ok":true,"no":false,"n":null})");
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ((*json)["status"].text, "success");
  const Json& sample = (*json)["data"]["result"].array.at(0);
  EXPECT_EQ(sample["metric"]["job"].text, "a\"b\xc3\xa9");
  EXPECT_EQ(sample["value"].array.at(0).text, "1700000000.5");
  EXPECT_EQ(sample["value"].array.at(1).text, "1");
  EXPECT_TRUE((*json)["ok"].boolean);
  EXPECT_FALSE((*json)["no"].boolean);
  EXPECT_EQ((*json)["n"].type, Json::Type::kNull);
  EXPECT_EQ((*json)["missing"].type, Json::Type::kNull);
}

TEST(JsonTest, RejectsMalformedInput) {
  for (const char* bad : {"", "{", "[1,", R"({"a" 1})", R"("open)", "[1] x", "@"}) {
    EXPECT_FALSE(ParseJson(bad).ok()) << bad;
  }
}

TEST(PromtoolResultTest, SortsVectorAndComparesValues) {
  absl::StatusOr<std::vector<ResultSeries>> prometheus =
      ParsePromtoolJson(R"([{"metric":{"job":"b"},"value":[1700000000.5,"2"]},)"
                        R"({"metric":{"job":"a","__name__":"up"},"value":[1700000000.5,"NaN"]}])"
                        "\n");
  ASSERT_TRUE(prometheus.ok()) << prometheus.status();
  ASSERT_EQ(prometheus->size(), 2u);
  EXPECT_EQ((*prometheus)[0].labels, R"({__name__="up", job="a"})");
  EXPECT_EQ((*prometheus)[1].points.at(0).timestamp_ms, 1700000000500);

  absl::StatusOr<std::vector<ResultSeries>> kura =
      ParsePromtoolJson(R"([{"metric":{"__name__":"up","job":"a"},"value":[1700000000.5,"NaN"]},)"
                        R"({"metric":{"job":"b"},"value":[1700000000.5,"2.0000000001"]}])");
  ASSERT_TRUE(kura.ok()) << kura.status();
  EXPECT_NE(DiffResults(*prometheus, *kura, 0), "");
  EXPECT_EQ(DiffResults(*prometheus, *kura, 1e-9), "");
  EXPECT_NE(DiffResults(*prometheus, {}, 1e-9), "");
}

TEST(PromtoolResultTest, MatrixScalarAndNull) {
  absl::StatusOr<std::vector<ResultSeries>> matrix =
      ParsePromtoolJson(R"([{"metric":{},"values":[[1700000000,"1"],[1700000002,"+Inf"]]}])");
  ASSERT_TRUE(matrix.ok()) << matrix.status();
  ASSERT_EQ(matrix->size(), 1u);
  ASSERT_EQ((*matrix)[0].points.size(), 2u);
  EXPECT_EQ((*matrix)[0].points[1].timestamp_ms, 1700000002000);

  absl::StatusOr<std::vector<ResultSeries>> shifted =
      ParsePromtoolJson(R"([{"metric":{},"values":[[1700000000,"1"],[1700000003,"+Inf"]]}])");
  ASSERT_TRUE(shifted.ok());
  EXPECT_NE(DiffResults(*matrix, *shifted, 0), "");

  absl::StatusOr<std::vector<ResultSeries>> scalar = ParsePromtoolJson(R"([1700000000.25,"3"])");
  ASSERT_TRUE(scalar.ok()) << scalar.status();
  ASSERT_EQ(scalar->size(), 1u);
  EXPECT_EQ((*scalar)[0].points.at(0).value, 3);
  EXPECT_TRUE(ParsePromtoolJson("null").ok());
  EXPECT_FALSE(ParsePromtoolJson(R"([{"metric":{},"value":[1,2]}])").ok());
}

TEST(FreePortTest, PortCanBeBound) {
  absl::StatusOr<int> port = PickFreePort();
  ASSERT_TRUE(port.ok()) << port.status();
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(*port));
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  close(fd);
}

TEST(ProcessTest, RunCommandCapturesOutputAndExitCode) {
  absl::StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Create("support-test");
  ASSERT_TRUE(dir.ok());
  absl::StatusOr<CommandResult> result = RunCommand(
      {"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, (*dir)->File("cmd"), absl::Seconds(10));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 3);
  EXPECT_EQ(result->out, "out\n");
  EXPECT_EQ(result->err, "err\n");
}

TEST(ProcessTest, TimeoutKillsTheChild) {
  absl::StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Create("support-test");
  ASSERT_TRUE(dir.ok());
  absl::StatusOr<CommandResult> result =
      RunCommand({"/bin/sleep", "30"}, (*dir)->File("cmd"), absl::Milliseconds(200));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST(ProcessTest, StopAndDestructorReapTheChild) {
  absl::StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Create("support-test");
  ASSERT_TRUE(dir.ok());
  absl::StatusOr<std::unique_ptr<Process>> process =
      Process::Start({"/bin/sleep", "30"}, (*dir)->File("log"));
  ASSERT_TRUE(process.ok()) << process.status();
  const pid_t pid = (*process)->pid();
  EXPECT_TRUE((*process)->running());
  EXPECT_TRUE((*process)->Stop(absl::Seconds(5)).ok());
  EXPECT_FALSE((*process)->running());

  absl::StatusOr<std::unique_ptr<Process>> second =
      Process::Start({"/bin/sleep", "30"}, (*dir)->File("log"));
  ASSERT_TRUE(second.ok());
  const pid_t second_pid = (*second)->pid();
  second->reset();
  // Reaped: the pid is no longer our child.
  EXPECT_EQ(waitpid(second_pid, nullptr, WNOHANG), -1);
  EXPECT_NE(pid, second_pid);
  EXPECT_NE((*process)->LogTail().find("# starting: /bin/sleep 30"), std::string::npos);
}

TEST(ProcessTest, MissingBinaryIsAnError) {
  EXPECT_EQ(Process::Start({"/nonexistent/binary"}, "/dev/null").status().code(),
            absl::StatusCode::kNotFound);
}

// Serves one connection with a canned response, to exercise the client's parsing.
class OneShotServer {
 public:
  explicit OneShotServer(std::string response) : response_(std::move(response)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t length = sizeof(address);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    listen(fd_, 1);
    thread_ = std::thread([this] {
      int client = accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      char buffer[4096];
      ssize_t n = 0;
      while ((n = recv(client, buffer, sizeof(buffer), 0)) > 0) {
        request_.append(buffer, static_cast<size_t>(n));
        if (request_.find("\r\n\r\n") != std::string::npos &&
            request_.find("hello") != std::string::npos) {
          break;
        }
      }
      send(client, response_.data(), response_.size(), MSG_NOSIGNAL);
      close(client);
    });
  }
  ~OneShotServer() {
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    close(fd_);
  }
  int port() const { return port_; }
  const std::string& request() const { return request_; }

 private:
  std::string response_;
  int fd_ = -1;
  int port_ = 0;
  std::string request_;
  std::thread thread_;
};

TEST(HttpClientTest, DechunksBodyAndSendsRequest) {
  OneShotServer server(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
      "5\r\n{\"a\":\r\n3;ext=1\r\n\"b\"\r\n1\r\n}\r\n0\r\n\r\n");
  HttpCall call;
  call.method = "POST";
  call.target = "/x?y=1";
  call.headers = {{"X-Test", "1"}};
  call.body = "hello";
  absl::StatusOr<HttpResult> result = SendHttp(server.port(), call);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, "{\"a\":\"b\"}");
  EXPECT_EQ(result->Header("content-type"), "application/json");
  EXPECT_EQ(server.request().rfind("POST /x?y=1 HTTP/1.1\r\n", 0), 0u) << server.request();
  EXPECT_NE(server.request().find("Content-Length: 5\r\n"), std::string::npos);
  EXPECT_NE(server.request().find("X-Test: 1\r\n"), std::string::npos);
}

TEST(HttpClientTest, ContentLengthBody) {
  OneShotServer server("HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad");
  HttpCall call;
  call.body = "hello";
  absl::StatusOr<HttpResult> result = SendHttp(server.port(), call);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->status, 400);
  EXPECT_EQ(result->body, "bad");
}

TEST(HttpClientTest, RefusedConnectionIsAnError) {
  absl::StatusOr<int> port = PickFreePort();
  ASSERT_TRUE(port.ok());
  EXPECT_FALSE(HttpGet(*port, "/", absl::Seconds(2)).ok());
}

TEST(HttpClientTest, UrlEncode) {
  EXPECT_EQ(UrlEncode("sum by (job) (up{a=\"b\"})[5m]"),
            "sum%20by%20%28job%29%20%28up%7Ba%3D%22b%22%7D%29%5B5m%5D");
}

}  // namespace
}  // namespace kura::integration
