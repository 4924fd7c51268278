// RemoteWriteHandler in front of a real storage::Node on RocksDB: what a 204 stored can be read
// back, and a rejected request stores nothing.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/temp_dir.h"
#include "gtest/gtest.h"
#include "ingest/remote_write_handler.h"
#include "model/matcher.h"
#include "proto/remote.pb.h"
#include "snappy.h"
#include "storage/node.h"

namespace kura::ingest {
namespace {

void AddSeries(prometheus::WriteRequest* request,
               std::vector<std::pair<std::string, std::string>> labels,
               std::vector<std::pair<int64_t, double>> samples) {
  prometheus::TimeSeries* ts = request->add_timeseries();
  for (auto& [name, value] : labels) {
    prometheus::Label* l = ts->add_labels();
    l->set_name(name);
    l->set_value(value);
  }
  for (auto [t, v] : samples) {
    prometheus::Sample* s = ts->add_samples();
    s->set_timestamp(t);
    s->set_value(v);
  }
}

base::HttpRequest Post(const prometheus::WriteRequest& request) {
  base::HttpRequest http;
  http.method = "POST";
  http.path = "/api/v1/write";
  http.headers = {{"content-encoding", "snappy"}, {"content-type", "application/x-protobuf"}};
  std::string raw = request.SerializeAsString();
  snappy::Compress(raw.data(), raw.size(), &http.body);
  return http;
}

class RemoteWriteNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<base::TempDir> temp = base::TempDir::Create("remote_write_node_test");
    ASSERT_TRUE(temp.ok()) << temp.status();
    temp_ = *std::move(temp);
    dir_ = temp_.path();
    absl::StatusOr<std::unique_ptr<storage::Node>> node =
        storage::Node::Open({.data_dir = dir_ + "/data"});
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = std::move(*node);
    handler_ = std::make_unique<RemoteWriteHandler>(node_.get(), &registry_);
  }
  void TearDown() override {
    handler_.reset();
    node_.reset();
  }

  // Every stored sample of metric `name`, as "labels@t=v" lines in series order.
  std::vector<std::string> Read(const std::string& name) {
    absl::StatusOr<model::LabelMatcher> matcher =
        model::LabelMatcher::Create(model::MatchType::kEqual, "__name__", name);
    EXPECT_TRUE(matcher.ok()) << matcher.status();
    std::vector<model::LabelMatcher> matchers = {*matcher};
    absl::StatusOr<std::unique_ptr<model::SeriesSet>> set =
        node_->Select(matchers, 0, now_ms_ + 3'600'000);
    EXPECT_TRUE(set.ok()) << set.status();
    std::vector<std::string> out;
    if (!set.ok()) return out;
    while ((*set)->Next()) {
      std::unique_ptr<model::SampleIterator> it = (*set)->At().NewIterator();
      while (it->Next()) {
        out.push_back(absl::StrCat((*set)->At().labels().ToString(), "@",
                                   it->At().timestamp_ms - now_ms_, "=", it->At().value));
      }
      EXPECT_TRUE(it->status().ok()) << it->status();
    }
    EXPECT_TRUE((*set)->status().ok()) << (*set)->status();
    return out;
  }

  base::HttpResponse Send(const base::HttpRequest& request) {
    base::HttpResponse response;
    handler_->Handle(request, &response);
    return response;
  }

  const int64_t now_ms_ = absl::ToUnixMillis(absl::Now());
  base::TempDir temp_;  // destroyed after the members below, which use it
  std::string dir_;
  base::Registry registry_;
  std::unique_ptr<storage::Node> node_;
  std::unique_ptr<RemoteWriteHandler> handler_;
};

TEST_F(RemoteWriteNodeTest, AcceptedSamplesAreStored) {
  prometheus::WriteRequest request;
  AddSeries(&request, {{"__name__", "up"}, {"job", "api"}}, {{now_ms_ - 15'000, 1}, {now_ms_, 0}});
  AddSeries(&request, {{"__name__", "up"}, {"job", "db"}}, {{now_ms_, 1}});
  base::HttpResponse response = Send(Post(request));
  ASSERT_EQ(response.status, 204) << response.body;
  EXPECT_EQ(Read("up"), (std::vector<std::string>{"up{job=\"api\"}@-15000=1", "up{job=\"api\"}@0=0",
                                                  "up{job=\"db\"}@0=1"}));
}

TEST_F(RemoteWriteNodeTest, RejectedRequestStoresNothing) {
  prometheus::WriteRequest request;
  AddSeries(&request, {{"__name__", "up"}, {"job", "api"}}, {{now_ms_, 1}});
  AddSeries(&request, {{"__name__", "up"}, {"job", ""}}, {{now_ms_, 1}});
  base::HttpResponse response = Send(Post(request));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body.substr(0, 31), "invalid series up{job=\"\"}: labe");
  EXPECT_TRUE(Read("up").empty());
  EXPECT_EQ(node_->stats().samples_appended, 0);
}

}  // namespace
}  // namespace kura::ingest
