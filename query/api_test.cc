#include "query/api.h"

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "base/temp_dir.h"
#include "gtest/gtest.h"
#include "model/write_batch.h"
#include "query/engine.h"
#include "storage/node.h"

namespace kura::query {
namespace {

model::TimeSeries Series(std::vector<model::Label> labels, std::vector<model::Sample> samples) {
  return model::TimeSeries{model::Labels::FromUnsorted(std::move(labels)), std::move(samples)};
}

// A real storage node and engine behind the Api, with a fixed clock of t=30s.
class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<base::TempDir> temp = base::TempDir::Create("api_test");
    ASSERT_TRUE(temp.ok()) << temp.status();
    temp_ = *std::move(temp);
    dir_ = temp_.path();
    absl::StatusOr<std::unique_ptr<storage::Node>> node =
        storage::Node::Open(storage::NodeOptions{.data_dir = dir_ + "/data"});
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = *std::move(node);

    model::WriteBatch batch;
    batch.series.push_back(Series({{"__name__", "up"}, {"job", "prometheus"}, {"instance", "a"}},
                                  {{0, 1}, {15000, 1}, {30000, 0}}));
    batch.series.push_back(
        Series({{"__name__", "up"}, {"job", "node"}, {"instance", "b"}}, {{0, 1}, {15000, 1}}));
    batch.series.push_back(
        Series({{"__name__", "other"}, {"job", "prometheus"}, {"instance", "a"}}, {{30000, 1e21}}));
    batch.series.push_back(Series({{"__name__", "html"}, {"path", "<a>&b"}}, {{30000, 0.1}}));
    ASSERT_TRUE(node_->Write(batch).ok());

    engine_ = std::make_unique<Engine>(node_.get(), EngineOptions{});
    ApiOptions options;
    options.build_info = BuildInfo{"1.0", "abc", "main", "me", "today", "g++"};
    options.now_ms = [] { return int64_t{30000}; };
    api_ = std::make_unique<Api>(node_.get(), engine_.get(), std::move(options));
  }

  void TearDown() override {
    api_.reset();
    engine_.reset();
    node_.reset();
  }

  base::HttpResponse Get(const std::string& path, const std::string& query = "") {
    base::HttpRequest request;
    request.method = "GET";
    request.path = path;
    request.query = query;
    base::HttpResponse response;
    api_->Handle(request, &response);
    return response;
  }

  base::HttpResponse Post(const std::string& path, const std::string& form) {
    base::HttpRequest request;
    request.method = "POST";
    request.path = path;
    request.headers = {{"content-type", "application/x-www-form-urlencoded"}};
    request.body = form;
    base::HttpResponse response;
    api_->Handle(request, &response);
    return response;
  }

  // The body of a 200 JSON response.
  std::string Ok(const base::HttpResponse& response) {
    EXPECT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.content_type, "application/json");
    return response.body;
  }

  void ExpectError(const base::HttpResponse& response, int status, const std::string& type,
                   const std::string& message) {
    EXPECT_EQ(response.status, status) << response.body;
    EXPECT_EQ(response.content_type, "application/json");
    EXPECT_EQ(response.body, "{\"status\":\"error\",\"errorType\":\"" + type + "\",\"error\":\"" +
                                 message + "\"}");
  }

  base::TempDir temp_;  // destroyed after the members below, which use it
  std::string dir_;
  std::unique_ptr<storage::Node> node_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Api> api_;
};

constexpr char kUpVector[] =
    "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
    "{\"metric\":{\"__name__\":\"up\",\"instance\":\"a\",\"job\":\"prometheus\"},"
    "\"value\":[30,\"0\"]},"
    "{\"metric\":{\"__name__\":\"up\",\"instance\":\"b\",\"job\":\"node\"},"
    "\"value\":[30,\"1\"]}]}}";

TEST_F(ApiTest, InstantQueryVectorAtDefaultAndGivenTime) {
  EXPECT_EQ(Ok(Get("/api/v1/query", "query=up")), kUpVector);
  EXPECT_EQ(Ok(Get("/api/v1/query", "query=up&time=30")), kUpVector);
  EXPECT_EQ(Ok(Get("/api/v1/query", "query=up&time=1970-01-01T00:00:30Z")), kUpVector);
  EXPECT_EQ(Ok(Post("/api/v1/query", "query=up&time=30.000")), kUpVector);
}

TEST_F(ApiTest, InstantQueryFormatsValuesAndEscapesLikePrometheus) {
  EXPECT_EQ(Ok(Get("/api/v1/query", "query=other&time=30.001")),
            "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
            "{\"metric\":{\"__name__\":\"other\",\"instance\":\"a\",\"job\":\"prometheus\"},"
            "\"value\":[30.001,\"1e+21\"]}]}}");
  EXPECT_EQ(Ok(Get("/api/v1/query", "query=html")),
            "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
            "{\"metric\":{\"__name__\":\"html\",\"path\":\"\\u003ca\\u003e\\u0026b\"},"
            "\"value\":[30,\"0.1\"]}]}}");
}

TEST_F(ApiTest, InstantQueryScalarAndString) {
  EXPECT_EQ(Ok(Get("/api/v1/query", "query=1.5%2B1&time=1435781451.781")),
            "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
            "\"result\":[1435781451.781,\"2.5\"]}}");
  EXPECT_EQ(Ok(Get("/api/v1/query", "query=%22a%3Cb%22&time=1.5")),
            "{\"status\":\"success\",\"data\":{\"resultType\":\"string\","
            "\"result\":[1.5,\"a\\u003cb\"]}}");
}

TEST_F(ApiTest, RangeQueryMatrix) {
  EXPECT_EQ(
      Ok(Get("/api/v1/query_range", "query=up%7Binstance%3D%22a%22%7D&start=0&end=30&step=15s")),
      "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
      "{\"metric\":{\"__name__\":\"up\",\"instance\":\"a\",\"job\":\"prometheus\"},"
      "\"values\":[[0,\"1\"],[15,\"1\"],[30,\"0\"]]}]}}");
  EXPECT_EQ(Ok(Post("/api/v1/query_range", "query=time()&start=0&end=1&step=0.5")),
            "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
            "{\"metric\":{},\"values\":[[0,\"0\"],[0.500,\"0.5\"],[1,\"1\"]]}]}}");
}

TEST_F(ApiTest, QueryParameterErrors) {
  ExpectError(Get("/api/v1/query", "query=up&time=abc"), 400, "bad_data",
              "invalid parameter \\\"time\\\": Invalid time value for 'time': cannot parse "
              "\\\"abc\\\" to a valid timestamp");
  ExpectError(Get("/api/v1/query", "query=up&timeout=soon"), 400, "bad_data",
              "invalid parameter \\\"timeout\\\": cannot parse \\\"soon\\\" to a valid duration");
  ExpectError(Get("/api/v1/query", "query=%zz"), 400, "bad_data",
              "error parsing form values: invalid URL escape \\\"%zz\\\"");
  base::HttpResponse parse_error = Get("/api/v1/query", "query=sum(up");
  EXPECT_EQ(parse_error.status, 400);
  EXPECT_NE(parse_error.body.find("\"errorType\":\"bad_data\",\"error\":\"invalid parameter "
                                  "\\\"query\\\": 1:"),
            std::string::npos)
      << parse_error.body;
}

TEST_F(ApiTest, RangeQueryErrorsUsePrometheusWording) {
  ExpectError(Get("/api/v1/query_range", "query=up&start=10&end=0&step=1"), 400, "bad_data",
              "end timestamp must not be before start time");
  ExpectError(Get("/api/v1/query_range", "query=up&start=0&end=10&step=0"), 400, "bad_data",
              "zero or negative query resolution step widths are not accepted. Try a positive "
              "integer");
  ExpectError(Get("/api/v1/query_range", "query=up&start=0&end=11001&step=1"), 400, "bad_data",
              "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the "
              "query resolution (?step=XX)");
  ExpectError(Get("/api/v1/query_range", "query=up&end=10&step=1"), 400, "bad_data",
              "invalid parameter \\\"start\\\": cannot parse \\\"\\\" to a valid timestamp");
  ExpectError(Get("/api/v1/query_range", "query=up&start=0&end=10"), 400, "bad_data",
              "invalid parameter \\\"step\\\": cannot parse \\\"\\\" to a valid duration");
  // 11,000 points exactly are allowed.
  EXPECT_EQ(Get("/api/v1/query_range", "query=1&start=0&end=11000&step=1").status, 200);
}

TEST_F(ApiTest, ExecutionErrorIs422) {
  base::HttpResponse response = Get("/api/v1/query", "query=%7Bjob%3D%22prometheus%22%7D*1");
  EXPECT_EQ(response.status, 422) << response.body;
  EXPECT_NE(response.body.find("\"errorType\":\"execution\""), std::string::npos);
}

TEST_F(ApiTest, SeriesUnionOfMatchersWithLimit) {
  constexpr char kUpA[] = "{\"__name__\":\"up\",\"instance\":\"a\",\"job\":\"prometheus\"}";
  constexpr char kUpB[] = "{\"__name__\":\"up\",\"instance\":\"b\",\"job\":\"node\"}";
  constexpr char kOther[] = "{\"__name__\":\"other\",\"instance\":\"a\",\"job\":\"prometheus\"}";
  EXPECT_EQ(Ok(Get("/api/v1/series", "match[]=up")),
            std::string("{\"status\":\"success\",\"data\":[") + kUpA + "," + kUpB + "]}");
  EXPECT_EQ(
      Ok(Post("/api/v1/series", "match%5B%5D=up&match%5B%5D=other&match%5B%5D=up")),
      std::string("{\"status\":\"success\",\"data\":[") + kOther + "," + kUpA + "," + kUpB + "]}");
  EXPECT_EQ(Ok(Get("/api/v1/series", "match[]=up&limit=1")),
            std::string("{\"status\":\"success\",\"data\":[") + kUpA +
                "],\"warnings\":[\"results truncated due to limit\"]}");
}

TEST_F(ApiTest, SeriesErrors) {
  ExpectError(Get("/api/v1/series"), 400, "bad_data", "no match[] parameter provided");
  ExpectError(Get("/api/v1/series", "match[]=%7Bjob%3D~%22.*%22%7D"), 400, "bad_data",
              "invalid parameter \\\"match[]\\\": match[] must contain at least one non-empty "
              "matcher");
  ExpectError(Get("/api/v1/series", "match[]=up&start=x"), 400, "bad_data",
              "invalid parameter \\\"start\\\": Invalid time value for 'start': cannot parse "
              "\\\"x\\\" to a valid timestamp");
  ExpectError(Get("/api/v1/series", "match[]=up&limit=-1"), 400, "bad_data",
              "invalid parameter \\\"limit\\\": limit must be non-negative");
  EXPECT_EQ(Get("/api/v1/series", "match[]=up%7B").status, 400);
}

TEST_F(ApiTest, LabelNames) {
  EXPECT_EQ(Ok(Get("/api/v1/labels")),
            "{\"status\":\"success\",\"data\":[\"__name__\",\"instance\",\"job\",\"path\"]}");
  EXPECT_EQ(Ok(Get("/api/v1/labels", "match[]=html&match[]=up")),
            "{\"status\":\"success\",\"data\":[\"__name__\",\"instance\",\"job\",\"path\"]}");
  EXPECT_EQ(Ok(Post("/api/v1/labels", "match[]=html")),
            "{\"status\":\"success\",\"data\":[\"__name__\",\"path\"]}");
  EXPECT_EQ(Ok(Get("/api/v1/labels", "limit=2")),
            "{\"status\":\"success\",\"data\":[\"__name__\",\"instance\"],"
            "\"warnings\":[\"results truncated due to limit\"]}");
}

TEST_F(ApiTest, LabelValues) {
  EXPECT_EQ(Ok(Get("/api/v1/label/job/values")),
            "{\"status\":\"success\",\"data\":[\"node\",\"prometheus\"]}");
  EXPECT_EQ(Ok(Get("/api/v1/label/__name__/values", "match[]=%7Bjob%3D%22prometheus%22%7D")),
            "{\"status\":\"success\",\"data\":[\"other\",\"up\"]}");
  EXPECT_EQ(Ok(Get("/api/v1/label/missing/values")), "{\"status\":\"success\",\"data\":[]}");
  EXPECT_EQ(Get("/api/v1/label/job/other").status, 404);
}

TEST_F(ApiTest, StaticEndpoints) {
  EXPECT_EQ(Ok(Get("/api/v1/status/buildinfo")),
            "{\"status\":\"success\",\"data\":{\"version\":\"1.0\",\"revision\":\"abc\","
            "\"branch\":\"main\",\"buildUser\":\"me\",\"buildDate\":\"today\","
            "\"goVersion\":\"g++\"}}");
  EXPECT_EQ(Ok(Get("/api/v1/metadata")), "{\"status\":\"success\",\"data\":{}}");
  EXPECT_EQ(Ok(Get("/api/v1/query_exemplars", "query=up")), "{\"status\":\"success\",\"data\":[]}");
  EXPECT_EQ(Get("/api/v1/nothing").status, 404);
}

TEST_F(ApiTest, MetadataAsRemoteWriteDeliveredIt) {
  model::WriteBatch batch;
  batch.metadata = {{"up", "gauge", "Whether \"it\" answered.", ""},
                    {"http_request_duration_seconds", "histogram", "Latency.", "seconds"},
                    {"process_cpu_seconds_total", "counter", "CPU.", ""}};
  ASSERT_TRUE(node_->Write(batch).ok());
  const std::string up = "\"up\":[{\"type\":\"gauge\",\"help\":\"Whether \\\"it\\\" answered.\","
                         "\"unit\":\"\"}]";
  const std::string latency =
      "\"http_request_duration_seconds\":[{\"type\":\"histogram\",\"help\":\"Latency.\","
      "\"unit\":\"seconds\"}]";
  const std::string cpu =
      "\"process_cpu_seconds_total\":[{\"type\":\"counter\",\"help\":\"CPU.\",\"unit\":\"\"}]";
  EXPECT_EQ(Ok(Get("/api/v1/metadata")),
            "{\"status\":\"success\",\"data\":{" + latency + "," + cpu + "," + up + "}}");
  EXPECT_EQ(Ok(Get("/api/v1/metadata", "metric=up")),
            "{\"status\":\"success\",\"data\":{" + up + "}}");
  EXPECT_EQ(Ok(Get("/api/v1/metadata", "metric=down")), "{\"status\":\"success\",\"data\":{}}");
  EXPECT_EQ(Ok(Get("/api/v1/metadata", "limit=2&limit_per_metric=1")),
            "{\"status\":\"success\",\"data\":{" + latency + "," + cpu + "}}");
  EXPECT_EQ(Ok(Get("/api/v1/metadata", "limit=0")),
            "{\"status\":\"success\",\"data\":{" + latency + "," + cpu + "," + up + "}}");
  base::HttpResponse bad = Get("/api/v1/metadata", "limit_per_metric=x");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body,
            "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"invalid parameter "
            "\\\"limit_per_metric\\\": strconv.Atoi: parsing \\\"x\\\": invalid syntax\"}");
}

TEST_F(ApiTest, FormatQueryPrintsCanonicalForm) {
  EXPECT_EQ(Ok(Post("/api/v1/format_query",
                    "query=SUM+BY(job)(rate(http_requests_total%7Bcode%3D%22200%22%7D%5B5m%5D))")),
            "{\"status\":\"success\",\"data\":"
            "\"sum by (job) (rate(http_requests_total{code=\\\"200\\\"}[5m]))\"}");
  ExpectError(Get("/api/v1/format_query", "query=sum("), 400, "bad_data",
              "invalid parameter \\\"query\\\": 1:5: parse error: unclosed left parenthesis");
}

// Prometheus's translateAST: Go maps, so keys in sorted order.
TEST_F(ApiTest, ParseQueryAnswersTheSyntaxTree) {
  const std::string up =
      "{\"anchored\":false,\"matchers\":[{\"name\":\"__name__\",\"type\":\"=\",\"value\":\"up\"}],"
      "\"name\":\"up\",\"offset\":0,\"smoothed\":false,\"startOrEnd\":null,\"timestamp\":null,"
      "\"type\":\"vectorSelector\"}";
  EXPECT_EQ(Ok(Get("/api/v1/parse_query", "query=up")),
            "{\"status\":\"success\",\"data\":" + up + "}");
  EXPECT_EQ(
      Ok(Post("/api/v1/parse_query",
              "query=sum+by(job)(rate(up%7Ba%3D%22b%22%7D%5B5m%5D+offset+1m+%40+10))+%3E+bool+1")),
      "{\"status\":\"success\",\"data\":{\"bool\":true,\"lhs\":{\"expr\":{\"args\":[{"
      "\"anchored\":false,\"matchers\":[{\"name\":\"a\",\"type\":\"=\",\"value\":\"b\"},"
      "{\"name\":\"__name__\",\"type\":\"=\",\"value\":\"up\"}],\"name\":\"up\",\"offset\":60000,"
      "\"range\":300000,\"smoothed\":false,\"startOrEnd\":null,\"timestamp\":10000,"
      "\"type\":\"matrixSelector\"}],\"func\":{\"argTypes\":[\"matrix\"],\"name\":\"rate\","
      "\"returnType\":\"vector\",\"variadic\":0},\"type\":\"call\"},\"grouping\":[\"job\"],"
      "\"op\":\"sum\",\"param\":null,\"type\":\"aggregation\",\"without\":false},"
      "\"matching\":null,\"op\":\"\\u003e\",\"rhs\":{\"type\":\"numberLiteral\",\"val\":\"1\"},"
      "\"type\":\"binaryExpr\"}}");
  EXPECT_EQ(Ok(Get("/api/v1/parse_query", "query=up+%2F+on(x)+group_left(y)+-(up)")),
            "{\"status\":\"success\",\"data\":{\"bool\":false,\"lhs\":" + up +
                ",\"matching\":{\"card\":\"many-to-one\",\"fillValues\":{\"lhs\":null,"
                "\"rhs\":null},\"include\":[\"y\"],\"labels\":[\"x\"],\"on\":true},\"op\":\"/\","
                "\"rhs\":{\"expr\":{\"expr\":" +
                up +
                ",\"type\":\"parenExpr\"},\"op\":\"-\",\"type\":\"unaryExpr\"},"
                "\"type\":\"binaryExpr\"}}");
  EXPECT_EQ(Ok(Get("/api/v1/parse_query", "query=up%5B5m%3A1m%5D+%40+start()")),
            "{\"status\":\"success\",\"data\":{\"alignEvalTime\":false,\"expr\":" + up +
                ",\"offset\":0,\"range\":300000,\"startOrEnd\":\"start\",\"step\":60000,"
                "\"timestamp\":null,\"type\":\"subquery\"}}");
  ExpectError(Get("/api/v1/parse_query", "query=sum("), 400, "bad_data",
              "invalid parameter \\\"query\\\": 1:5: parse error: unclosed left parenthesis");
}

TEST_F(ApiTest, MethodsOtherThanGetAndPostAre405) {
  base::HttpRequest request;
  request.method = "PUT";
  request.path = "/api/v1/query";
  base::HttpResponse response;
  api_->Handle(request, &response);
  EXPECT_EQ(response.status, 405);
  for (const char* get_only :
       {"/api/v1/label/job/values", "/api/v1/status/buildinfo", "/api/v1/metadata"}) {
    EXPECT_EQ(Post(get_only, "").status, 405) << get_only;
  }
  for (const char* both :
       {"/api/v1/query", "/api/v1/query_range", "/api/v1/series", "/api/v1/labels",
        "/api/v1/query_exemplars", "/api/v1/format_query", "/api/v1/parse_query"}) {
    EXPECT_NE(Post(both, "").status, 405) << both;
  }
}

TEST_F(ApiTest, TimeoutIs503WithPrometheusWording) {
  // A request's timeout shortens the server's; 0 has expired before evaluation starts.
  ExpectError(Get("/api/v1/query", "query=up&timeout=0"), 503, "timeout",
              "query timed out in expression evaluation");
  ExpectError(Post("/api/v1/query_range", "query=up&start=0&end=30&step=15&timeout=0s"), 503,
              "timeout", "query timed out in expression evaluation");
  EXPECT_EQ(Get("/api/v1/query", "query=up&timeout=1m").status, 200);
}

TEST_F(ApiTest, ClientThatHasGoneAwayCancelsEvaluation) {
  int polls = 0;
  base::HttpRequest request;
  request.method = "GET";
  request.path = "/api/v1/query_range";
  request.query = "query=sum(rate(up%5B1m%5D))&start=0&end=30&step=1";
  request.client_gone = [&polls] { return ++polls > 1; };
  base::HttpResponse response;
  api_->Handle(request, &response);
  ExpectError(response, 499, "canceled", "query was canceled in expression evaluation");
  // Evaluation stopped at the first poll after the client left, not at the end.
  EXPECT_EQ(polls, 2);

  request.client_gone = [] { return false; };
  api_->Handle(request, &response);
  EXPECT_EQ(response.status, 200) << response.body;
}

TEST_F(ApiTest, TooManySamplesIs422) {
  EngineOptions small;
  small.max_samples = 1;
  Engine engine(node_.get(), small);
  ApiOptions options;
  options.engine = small;
  options.now_ms = [] { return int64_t{30000}; };
  Api api(node_.get(), &engine, options);
  base::HttpRequest request;
  request.method = "GET";
  request.path = "/api/v1/query";
  request.query = "query=up";
  base::HttpResponse response;
  api.Handle(request, &response);
  ExpectError(response, 422, "execution",
              "query processing would load too many samples into memory in query execution");
}

TEST_F(ApiTest, StatsParameterAddsPrometheusStats) {
  for (const char* stats : {"stats=all", "stats=1"}) {
    const std::string body = Ok(Get("/api/v1/query", std::string("query=up&") + stats));
    EXPECT_EQ(body.rfind(std::string(kUpVector, sizeof(kUpVector) - 4), 0), 0u) << body;
    EXPECT_NE(body.find("],\"stats\":{\"timings\":{\"evalTotalTime\":"), std::string::npos) << body;
    for (const char* key : {"resultSortTime", "queryPreparationTime", "innerEvalTime",
                            "execQueueTime", "execTotalTime"}) {
      EXPECT_NE(body.find(std::string("\"") + key + "\":"), std::string::npos) << key;
    }
    EXPECT_NE(body.find("\"samples\":{\"totalQueryableSamples\":2,\"peakSamples\":2}}}}"),
              std::string::npos)
        << body;
  }
  const std::string range =
      Ok(Post("/api/v1/query_range", "query=up&start=0&end=30&step=15&stats=all"));
  EXPECT_NE(range.find("\"samples\":{\"totalQueryableSamples\":6,"), std::string::npos) << range;
  EXPECT_EQ(Ok(Get("/api/v1/query", "query=up")), kUpVector);
}

TEST_F(ApiTest, LimitOnQueryEndpointsTruncatesSeries) {
  EXPECT_EQ(Ok(Get("/api/v1/query", "query=up&limit=1")),
            "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
            "{\"metric\":{\"__name__\":\"up\",\"instance\":\"a\",\"job\":\"prometheus\"},"
            "\"value\":[30,\"0\"]}]},\"warnings\":[\"results truncated due to limit\"]}");
  EXPECT_EQ(Ok(Get("/api/v1/query", "query=up&limit=2")), kUpVector);
  EXPECT_EQ(Ok(Post("/api/v1/query_range", "query=up&start=0&end=30&step=15&limit=1")),
            "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
            "{\"metric\":{\"__name__\":\"up\",\"instance\":\"a\",\"job\":\"prometheus\"},"
            "\"values\":[[0,\"1\"],[15,\"1\"],[30,\"0\"]]}]},"
            "\"warnings\":[\"results truncated due to limit\"]}");
  // Scalars are not series.
  EXPECT_EQ(Ok(Get("/api/v1/query", "query=1&limit=1")),
            "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[30,\"1\"]}}");
  ExpectError(Get("/api/v1/query", "query=up&limit=-1"), 400, "bad_data",
              "invalid parameter \\\"limit\\\": limit must be non-negative");
}

TEST_F(ApiTest, LookbackDeltaParameter) {
  // up{instance="b"} last reported at 15s: outside a 10s lookback from 30s.
  EXPECT_EQ(Ok(Get("/api/v1/query", "query=up&lookback_delta=10s")),
            "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
            "{\"metric\":{\"__name__\":\"up\",\"instance\":\"a\",\"job\":\"prometheus\"},"
            "\"value\":[30,\"0\"]}]}}");
  EXPECT_EQ(Ok(Post("/api/v1/query", "query=up&lookback_delta=20")), kUpVector);
  ExpectError(Get("/api/v1/query", "query=up&lookback_delta=x"), 400, "bad_data",
              "error parsing lookback delta duration: cannot parse \\\"x\\\" to a valid "
              "duration");
}

TEST_F(ApiTest, RoutesCoverEveryEndpoint) {
  std::vector<ApiRoute> routes = api_->Routes();
  ASSERT_EQ(routes.size(), 10u);
  base::HttpRequest request;
  request.method = "GET";
  request.path = "/api/v1/metadata";
  for (ApiRoute& route : routes) {
    if (route.path != request.path) continue;
    base::HttpResponse response;
    route.handler(request, &response);
    EXPECT_EQ(response.body, "{\"status\":\"success\",\"data\":{}}");
  }
  EXPECT_EQ(routes[4].name, "/api/v1/label/:name/values");
  EXPECT_TRUE(routes[4].prefix);
}

}  // namespace
}  // namespace kura::query
