// Storage features of a real `kura standalone` over HTTP: delete_series and clean_tombstones
// behind --web.enable-admin-api (and Prometheus's answer when disabled), and out-of-order
// samples within --ooo-window through remote write and a kill -9.

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/integration/http_client.h"
#include "tests/integration/json.h"
#include "tests/integration/kura_server.h"
#include "tests/integration/process.h"
#include "tests/integration/remote_write_encoder.h"
#include "tests/integration/temp_dir.h"

namespace kura::integration {
namespace {

class StorageFeaturesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Create("kura-admin");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
  }

  void StartKura(const std::vector<std::string>& flags) {
    absl::StatusOr<std::unique_ptr<KuraServer>> server = KuraServer::Start(
        KURA_BINARY, dir_->File("data"), dir_->File("kura.log"), absl::Seconds(30), flags);
    ASSERT_TRUE(server.ok()) << server.status();
    kura_ = *std::move(server);
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "kura log:\n" << ReadFileOrEmpty(dir_->File("kura.log"));
    kura_.reset();
  }

  HttpResult Send(const std::string& method, const std::string& target,
                  const std::string& form = "") {
    HttpCall call;
    call.method = method;
    call.target = target;
    if (!form.empty()) {
      call.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
      call.body = form;
    }
    absl::StatusOr<HttpResult> result = SendHttp(kura_->port(), call);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : HttpResult{};
  }

  // The job label of every series /api/v1/series lists for `selector`.
  std::vector<std::string> SeriesJobs(const std::string& selector) {
    HttpResult result = Send("GET", "/api/v1/series?match[]=" + UrlEncode(selector));
    EXPECT_EQ(result.status, 200) << result.body;
    absl::StatusOr<Json> json = ParseJson(result.body);
    EXPECT_TRUE(json.ok()) << json.status();
    std::vector<std::string> jobs;
    if (!json.ok()) return jobs;
    for (const Json& series : (*json)["data"].array) jobs.push_back(series["job"].text);
    return jobs;
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<KuraServer> kura_;
};

TEST_F(StorageFeaturesTest, DeleteSeriesAndCleanTombstonesThroughHttp) {
  ASSERT_NO_FATAL_FAILURE(StartKura({"--web.enable-admin-api", "--retention=90d"}));
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  HttpCall write;
  write.method = "POST";
  write.target = "/api/v1/write";
  write.headers = RemoteWriteHeaders();
  write.body = EncodeWriteRequest({
      {{{"__name__", "kura_admin"}, {"job", "keep"}}, {{now_ms - 2000, 1}, {now_ms - 1000, 2}}},
      {{{"__name__", "kura_admin"}, {"job", "drop"}}, {{now_ms - 2000, 1}, {now_ms - 1000, 2}}},
  });
  absl::StatusOr<HttpResult> written = SendHttp(kura_->port(), write);
  ASSERT_TRUE(written.ok()) << written.status();
  ASSERT_EQ(written->status, 204) << written->body;
  EXPECT_EQ(SeriesJobs("kura_admin").size(), 2u);

  HttpResult deleted = Send("POST", "/api/v1/admin/tsdb/delete_series",
                            "match[]=" + UrlEncode("kura_admin{job=\"drop\"}"));
  EXPECT_EQ(deleted.status, 204) << deleted.body;
  EXPECT_EQ(SeriesJobs("kura_admin"), std::vector<std::string>({"keep"}));
  HttpResult values = Send("GET", "/api/v1/label/job/values");
  EXPECT_EQ(values.status, 200);
  EXPECT_EQ(values.body.find("drop"), std::string::npos) << values.body;

  HttpResult cleaned = Send("PUT", "/api/v1/admin/tsdb/clean_tombstones");
  EXPECT_EQ(cleaned.status, 204) << cleaned.body;
  EXPECT_EQ(SeriesJobs("kura_admin"), std::vector<std::string>({"keep"}));
}

TEST_F(StorageFeaturesTest, DisabledByDefault) {
  ASSERT_NO_FATAL_FAILURE(StartKura({}));
  HttpResult result =
      Send("POST", "/api/v1/admin/tsdb/delete_series?match[]=" + UrlEncode("{job=\"x\"}"));
  EXPECT_EQ(result.status, 503);
  EXPECT_EQ(result.body,
            R"({"status":"error","errorType":"unavailable","error":"admin APIs disabled"})");
}

TEST_F(StorageFeaturesTest, OutOfOrderWindowThroughRemoteWriteAndAKill) {
  ASSERT_NO_FATAL_FAILURE(StartKura({"--ooo-window=1h"}));
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  auto write = [&](int64_t t) {
    HttpCall call;
    call.method = "POST";
    call.target = "/api/v1/write";
    call.headers = RemoteWriteHeaders();
    call.body = EncodeWriteRequest({{{{"__name__", "kura_ooo"}, {"job", "x"}}, {{t, 1}}}});
    absl::StatusOr<HttpResult> result = SendHttp(kura_->port(), call);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : HttpResult{};
  };
  EXPECT_EQ(write(now_ms - 1000).status, 204);
  HttpResult accepted = write(now_ms - 10 * 60 * 1000);
  EXPECT_EQ(accepted.status, 204) << accepted.body;
  HttpResult refused = write(now_ms - 3 * 3600 * 1000);
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("out-of-order window of 1h"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("kura_ooo{job=\"x\"}"), std::string::npos) << refused.body;

  ASSERT_TRUE(kura_->process().Kill().ok());
  kura_.reset();
  ASSERT_NO_FATAL_FAILURE(StartKura({"--ooo-window=1h"}));
  HttpResult count =
      Send("GET", absl::StrCat("/api/v1/query?query=", UrlEncode("count_over_time(kura_ooo[4h])"),
                               "&time=", now_ms / 1000));
  ASSERT_EQ(count.status, 200) << count.body;
  absl::StatusOr<Json> json = ParseJson(count.body);
  ASSERT_TRUE(json.ok()) << json.status();
  ASSERT_EQ((*json)["data"]["result"].array.size(), 1u) << count.body;
  EXPECT_EQ((*json)["data"]["result"].array[0]["value"].array.at(1).text, "2") << count.body;
}

}  // namespace
}  // namespace kura::integration
