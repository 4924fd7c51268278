#include "query/admin_api.h"

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/write_batch.h"
#include "query/api_params.h"
#include "storage/node.h"

namespace kura::query {
namespace {

model::TimeSeries Series(std::vector<model::Label> labels, std::vector<model::Sample> samples) {
  return model::TimeSeries{model::Labels::FromUnsorted(std::move(labels)), std::move(samples)};
}

// A real storage node behind the admin API; up{job="a"} and up{job="b"} at 0s, 15s and 30s.
class AdminApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<base::TempDir> temp = base::TempDir::Create("admin_api_test");
    ASSERT_TRUE(temp.ok()) << temp.status();
    temp_ = *std::move(temp);
    absl::StatusOr<std::unique_ptr<storage::Node>> node =
        storage::Node::Open(storage::NodeOptions{.data_dir = temp_.path() + "/data"});
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = *std::move(node);
    model::WriteBatch batch;
    for (std::string job : {"a", "b"}) {
      batch.series.push_back(
          Series({{"__name__", "up"}, {"job", job}}, {{0, 1}, {15000, 1}, {30000, 1}}));
    }
    ASSERT_TRUE(node_->Write(batch).ok());
  }

  base::HttpResponse Send(AdminApi& api, std::string method, std::string path,
                          std::string query = "", std::string form = "") {
    base::HttpRequest request;
    request.method = std::move(method);
    request.path = std::move(path);
    request.query = std::move(query);
    if (!form.empty()) {
      request.headers = {{"content-type", "application/x-www-form-urlencoded"}};
      request.body = std::move(form);
    }
    base::HttpResponse response;
    api.Handle(request, &response);
    return response;
  }

  // Timestamps of the series with job=`job` over all time.
  std::vector<int64_t> Times(const std::string& job) {
    absl::StatusOr<model::LabelMatcher> m =
        model::LabelMatcher::Create(model::MatchType::kEqual, "job", job);
    EXPECT_TRUE(m.ok());
    std::vector<model::LabelMatcher> matchers = {*m};
    absl::StatusOr<std::unique_ptr<model::SeriesSet>> set =
        node_->Select(matchers, kMinTimeMs, kMaxTimeMs);
    EXPECT_TRUE(set.ok()) << set.status();
    std::vector<int64_t> times;
    while ((*set)->Next()) {
      std::unique_ptr<model::SampleIterator> it = (*set)->At().NewIterator();
      while (it->Next()) times.push_back(it->At().timestamp_ms);
    }
    return times;
  }

  base::TempDir temp_;
  std::unique_ptr<storage::Node> node_;
};

constexpr char kDeleteSeries[] = "/api/v1/admin/tsdb/delete_series";
constexpr char kCleanTombstones[] = "/api/v1/admin/tsdb/clean_tombstones";
constexpr char kSnapshot[] = "/api/v1/admin/tsdb/snapshot";

TEST_F(AdminApiTest, DisabledAnswersAsPrometheusDoes) {
  AdminApi api(node_.get(), AdminApiOptions{});
  for (const char* path : {kDeleteSeries, kCleanTombstones}) {
    base::HttpResponse response = Send(api, "POST", path, "match[]=up");
    EXPECT_EQ(response.status, 503);
    EXPECT_EQ(response.body,
              R"({"status":"error","errorType":"unavailable","error":"admin APIs disabled"})");
  }
  EXPECT_EQ(Times("a").size(), 3u);
}

TEST_F(AdminApiTest, DeleteSeriesByFormAndByQueryString) {
  AdminApi api(node_.get(), AdminApiOptions{.enabled = true});
  base::HttpResponse response =
      Send(api, "POST", kDeleteSeries, "", "match[]=up%7Bjob%3D%22a%22%7D&start=0&end=15");
  EXPECT_EQ(response.status, 204) << response.body;
  EXPECT_TRUE(response.body.empty());
  EXPECT_EQ(Times("a"), std::vector<int64_t>({30000}));
  EXPECT_EQ(Times("b").size(), 3u);
  // PUT, as Prometheus also accepts; no start or end deletes everything.
  response = Send(api, "PUT", kDeleteSeries, "match[]={job=%22b%22}");
  EXPECT_EQ(response.status, 204) << response.body;
  EXPECT_TRUE(Times("b").empty());

  response = Send(api, "POST", kCleanTombstones);
  EXPECT_EQ(response.status, 204) << response.body;
  EXPECT_EQ(Times("a"), std::vector<int64_t>({30000}));
  EXPECT_TRUE(Times("b").empty());
  response = Send(api, "POST", "/api/v1/admin/tsdb/compact");
  EXPECT_EQ(response.status, 204) << response.body;
  EXPECT_EQ(Times("a"), std::vector<int64_t>({30000}));
}

TEST_F(AdminApiTest, BadRequests) {
  AdminApi api(node_.get(), AdminApiOptions{.enabled = true});
  base::HttpResponse response = Send(api, "POST", kDeleteSeries);
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body,
            R"({"status":"error","errorType":"bad_data","error":"no match[] parameter provided"})");
  response = Send(api, "POST", kDeleteSeries, "match[]=up&start=x");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body,
            R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"start\": )"
            R"(Invalid time value for 'start': cannot parse \"x\" to a valid timestamp"})");
  response = Send(api, "POST", kDeleteSeries, "match[]=up&match[]={");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find(R"(invalid parameter \"match[]\")"), std::string::npos)
      << response.body;
  // Nothing was deleted by the request whose second selector was bad.
  EXPECT_EQ(Times("a").size(), 3u);

  response = Send(api, "GET", kDeleteSeries, "match[]=up");
  EXPECT_EQ(response.status, 405);
  response = Send(api, "POST", "/api/v1/admin/tsdb/unknown");
  EXPECT_EQ(response.status, 404);
}

}  // namespace
}  // namespace kura::query

namespace kura::query {
namespace {

TEST_F(AdminApiTest, SnapshotNamesTheCopyAsPrometheusDoes) {
  AdminApi api(node_.get(), AdminApiOptions{.enabled = true});
  base::HttpResponse response = Send(api, "POST", kSnapshot, "skip_head=true");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_THAT(response.body, ::testing::MatchesRegex(
                                 R"(\{"status":"success","data":\{"name":"[0-9]{8}T[0-9]{6}Z-)"
                                 R"([0-9a-f]+"\}\})"));
  const size_t begin = response.body.find("\"name\":\"") + 8;
  const std::string name = response.body.substr(begin, response.body.find('"', begin) - begin);
  EXPECT_TRUE(std::filesystem::is_directory(temp_.path() + "/data/snapshots/" + name));

  response = Send(api, "PUT", kSnapshot, "skip_head=maybe");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body,
            R"({"status":"error","errorType":"bad_data","error":"unable to parse boolean )"
            R"('skip_head' argument: strconv.ParseBool: parsing \"maybe\": invalid syntax"})");
  EXPECT_EQ(Send(api, "GET", kSnapshot).status, 405);
}

}  // namespace
}  // namespace kura::query
