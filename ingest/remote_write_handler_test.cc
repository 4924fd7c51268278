#include "ingest/remote_write_handler.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/remote.pb.h"
#include "snappy.h"

namespace kura::ingest {
namespace {

using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

// Records batches and answers with a chosen status: the write faults (overload, a hung
// replica) that a real node cannot produce on cue.
class RecordingWriter : public model::SeriesWriter {
 public:
  absl::Status Write(const model::WriteBatch& batch) override {
    absl::MutexLock lock(&mu_);
    ++calls_;
    if (status_.ok()) batches_.push_back(batch);
    return status_;
  }
  void set_status(absl::Status status) {
    absl::MutexLock lock(&mu_);
    status_ = std::move(status);
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  std::vector<model::WriteBatch> batches() {
    absl::MutexLock lock(&mu_);
    return batches_;
  }

 private:
  absl::Mutex mu_;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<model::WriteBatch> batches_ ABSL_GUARDED_BY(mu_);
};

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

void AddSeries(prometheus::WriteRequest* request,
               std::vector<std::pair<std::string, std::string>> labels,
               std::vector<int64_t> timestamps_ms) {
  prometheus::TimeSeries* ts = request->add_timeseries();
  for (auto& [name, value] : labels) {
    prometheus::Label* l = ts->add_labels();
    l->set_name(name);
    l->set_value(value);
  }
  for (int64_t t : timestamps_ms) {
    prometheus::Sample* s = ts->add_samples();
    s->set_timestamp(t);
    s->set_value(static_cast<double>(t % 1000));
  }
}

base::HttpRequest Post(const prometheus::WriteRequest& request) {
  base::HttpRequest http;
  http.method = "POST";
  http.path = "/api/v1/write";
  http.headers = {{"content-encoding", "snappy"},
                  {"content-type", "application/x-protobuf"},
                  {"x-prometheus-remote-write-version", "0.1.0"}};
  std::string raw = request.SerializeAsString();
  snappy::Compress(raw.data(), raw.size(), &http.body);
  return http;
}

prometheus::WriteRequest ValidRequest() {
  prometheus::WriteRequest request;
  int64_t now = NowMs();
  AddSeries(&request, {{"__name__", "up"}, {"instance", "a:9100"}, {"job", "node"}},
            {now - 30'000, now - 15'000, now});
  AddSeries(&request, {{"__name__", "up"}, {"instance", "b:9100"}, {"job", "node"}}, {now});
  return request;
}

class RemoteWriteHandlerTest : public ::testing::Test {
 protected:
  base::HttpResponse Send(const base::HttpRequest& request) {
    base::HttpResponse response;
    handler_.Handle(request, &response);
    return response;
  }
  double Requests(const std::string& code) {
    return registry_.AddCounter("kura_remote_write_requests_total", "", {{"code", code}}).value();
  }
  double Counter(const std::string& name) { return registry_.AddCounter(name, "").value(); }

  RecordingWriter writer_;
  base::Registry registry_;
  RemoteWriteOptions options_{.max_body_bytes = 4096};
  RemoteWriteHandler handler_{&writer_, &registry_, options_};
};

TEST_F(RemoteWriteHandlerTest, WritesAValidRequestAndAnswers204) {
  base::HttpResponse response = Send(Post(ValidRequest()));
  EXPECT_EQ(response.status, 204);
  EXPECT_EQ(response.body, "");
  std::vector<model::WriteBatch> batches = writer_.batches();
  ASSERT_EQ(batches.size(), 1u);
  const model::WriteBatch& batch = batches[0];
  ASSERT_EQ(batch.series.size(), 2u);
  EXPECT_EQ(batch.series[1].labels.ToString(), R"(up{instance="b:9100", job="node"})");
  EXPECT_EQ(batch.NumSamples(), 4u);
  EXPECT_EQ(Requests("204"), 1);
  EXPECT_EQ(Counter("kura_remote_write_samples_received_total"), 4);
  EXPECT_EQ(Counter("kura_remote_write_samples_rejected_total"), 0);
  EXPECT_THAT(registry_.Exposition(),
              HasSubstr("kura_remote_write_request_duration_seconds_count 1\n"));
}

TEST_F(RemoteWriteHandlerTest, RefusesOtherMethodsWith405) {
  base::HttpRequest request = Post(ValidRequest());
  request.method = "GET";
  base::HttpResponse response = Send(request);
  EXPECT_EQ(response.status, 405);
  EXPECT_THAT(response.headers, UnorderedElementsAre(Pair("Allow", "POST")));
  EXPECT_EQ(response.body, "method GET not allowed: remote write uses POST\n");
  EXPECT_EQ(writer_.calls(), 0);
  EXPECT_EQ(Requests("405"), 1);
}

TEST_F(RemoteWriteHandlerTest, RefusesOversizedBodyWith413) {
  base::HttpRequest request = Post(ValidRequest());
  request.body.assign(4097, 'x');
  base::HttpResponse response = Send(request);
  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(response.body, "request body of 4097 bytes exceeds the limit of 4096 bytes\n");
  EXPECT_EQ(writer_.calls(), 0);
  EXPECT_EQ(Requests("413"), 1);
}

TEST_F(RemoteWriteHandlerTest, RefusesRemoteWrite2With415) {
  base::HttpRequest request = Post(ValidRequest());
  request.headers[1].second = "application/x-protobuf;proto=io.prometheus.write.v2.Request";
  base::HttpResponse response = Send(request);
  EXPECT_EQ(response.status, 415);
  EXPECT_THAT(response.body, HasSubstr("remote write 2.0"));
  EXPECT_EQ(writer_.calls(), 0);
  EXPECT_EQ(Requests("415"), 1);
}

TEST_F(RemoteWriteHandlerTest, InvalidSeriesRejectsTheWholeRequestWith400) {
  prometheus::WriteRequest request = ValidRequest();
  AddSeries(&request, {{"__name__", "up"}, {"job", "node"}, {"instance", "c:9100"}}, {NowMs()});
  base::HttpResponse response = Send(Post(request));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body,
            "invalid series up{job=\"node\", instance=\"c:9100\"}: label names not sorted "
            "ascending: \"instance\" comes after \"job\"\n");
  // The valid series sent with it were not written either.
  EXPECT_EQ(writer_.calls(), 0);
  EXPECT_EQ(Requests("400"), 1);
  EXPECT_EQ(Counter("kura_remote_write_samples_rejected_total"), 5);
}

TEST_F(RemoteWriteHandlerTest, FutureSamplesAre400) {
  prometheus::WriteRequest request;
  AddSeries(&request, {{"__name__", "up"}}, {NowMs() + absl::ToInt64Milliseconds(absl::Hours(1))});
  base::HttpResponse response = Send(Post(request));
  EXPECT_EQ(response.status, 400);
  EXPECT_THAT(response.body, HasSubstr("ahead of the receiver's clock"));
  EXPECT_EQ(writer_.calls(), 0);
}

TEST_F(RemoteWriteHandlerTest, UndecodableBodiesAre400) {
  base::HttpRequest wrong_encoding = Post(ValidRequest());
  wrong_encoding.headers[0].second = "gzip";
  EXPECT_EQ(Send(wrong_encoding).status, 400);

  base::HttpRequest corrupt = Post(ValidRequest());
  corrupt.body = "not snappy at all";
  base::HttpResponse response = Send(corrupt);
  EXPECT_EQ(response.status, 400);
  EXPECT_THAT(response.body, HasSubstr("corrupt"));

  prometheus::WriteRequest histograms = ValidRequest();
  histograms.mutable_timeseries(0)->add_histograms()->set_count_int(1);
  response = Send(Post(histograms));
  EXPECT_EQ(response.status, 400);
  EXPECT_THAT(response.body, HasSubstr("native histograms are not supported yet"));

  EXPECT_EQ(writer_.calls(), 0);
  EXPECT_EQ(Requests("400"), 3);
}

TEST_F(RemoteWriteHandlerTest, WriterInvalidArgumentIs400WithItsMessage) {
  writer_.set_status(absl::InvalidArgumentError("out of order sample for series up"));
  base::HttpResponse response = Send(Post(ValidRequest()));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body, "out of order sample for series up\n");
  EXPECT_TRUE(response.headers.empty());
  EXPECT_EQ(Counter("kura_remote_write_samples_rejected_total"), 4);
}

// 503, not 429: Prometheus drops a 429 unless retry_on_http_429 is set.
TEST_F(RemoteWriteHandlerTest, OverloadIs503WithRetryAfter) {
  writer_.set_status(absl::ResourceExhaustedError("in-flight bytes limit reached"));
  base::HttpResponse response = Send(Post(ValidRequest()));
  EXPECT_EQ(response.status, 503);
  EXPECT_THAT(response.headers, UnorderedElementsAre(Pair("Retry-After", "1")));
  EXPECT_EQ(response.body, "in-flight bytes limit reached\n");
  EXPECT_EQ(Requests("503"), 1);
  // Prometheus retries these, so they are not counted as rejected.
  EXPECT_EQ(Counter("kura_remote_write_samples_rejected_total"), 0);
}

TEST_F(RemoteWriteHandlerTest, UnavailableAndDeadlineExceededAre503WithRetryAfter) {
  writer_.set_status(absl::UnavailableError("no healthy replica"));
  base::HttpResponse unavailable = Send(Post(ValidRequest()));
  EXPECT_EQ(unavailable.status, 503);
  EXPECT_THAT(unavailable.headers, UnorderedElementsAre(Pair("Retry-After", "1")));

  writer_.set_status(absl::DeadlineExceededError("replica timed out"));
  base::HttpResponse deadline = Send(Post(ValidRequest()));
  EXPECT_EQ(deadline.status, 503);
  EXPECT_EQ(deadline.body, "replica timed out\n");
  EXPECT_EQ(Requests("503"), 2);
}

TEST_F(RemoteWriteHandlerTest, OtherWriterErrorsAre500) {
  writer_.set_status(absl::InternalError("disk on fire"));
  base::HttpResponse response = Send(Post(ValidRequest()));
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.body, "disk on fire\n");
  EXPECT_TRUE(response.headers.empty());
  EXPECT_EQ(Requests("500"), 1);
}

TEST_F(RemoteWriteHandlerTest, EveryRequestIsTimed) {
  base::HttpRequest get = Post(ValidRequest());
  get.method = "PUT";
  Send(get);
  Send(Post(ValidRequest()));
  EXPECT_THAT(registry_.Exposition(),
              HasSubstr("kura_remote_write_request_duration_seconds_count 2\n"));
}

}  // namespace
}  // namespace kura::ingest
