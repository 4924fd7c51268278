// Kura next to a real Prometheus: Prometheus scrapes itself and a node exporter and
// remote-writes everything to Kura; then the same PromQL queries, sent through promtool to both
// servers at the same evaluation time, must give the same answers.

#include <unistd.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/integration/free_port.h"
#include "tests/integration/http_client.h"
#include "tests/integration/json.h"
#include "tests/integration/kura_server.h"
#include "tests/integration/process.h"
#include "tests/integration/promtool_result.h"
#include "tests/integration/temp_dir.h"

namespace kura::integration {
namespace {

// How long Prometheus scrapes, counted from its first scrapes, before the comparison: long
// enough for the 15 s windows and the offset queries below to see only scraped data.
constexpr absl::Duration kScrapeFor = absl::Seconds(28);
// The evaluation time lags the wall clock so remote write (batch_send_deadline 1 s) has
// delivered every sample up to it.
constexpr absl::Duration kEvaluationLag = absl::Seconds(4);
// The range queries cover the last kRangeWindow before the evaluation time. Every rate window
// in it starts after the series' first sample: for a window that reaches back before a counter's
// first sample, Prometheus 2.42 and 3.x extrapolate differently (3.x, which Kura follows, caps
// the extension at half a sample interval before clamping at zero).
constexpr int64_t kRangeWindowSeconds = 12;
// Remote write is asynchronous: a mismatch is re-checked a few times before it counts.
constexpr int kCompareAttempts = 4;

constexpr char kConfigTemplate[] = R"(global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["127.0.0.1:$PROMETHEUS_PORT"]
  - job_name: node
    static_configs:
      - targets: ["127.0.0.1:$NODE_PORT"]
remote_write:
  - url: http://127.0.0.1:$KURA_PORT/api/v1/write
    queue_config:
      batch_send_deadline: 1s
      min_backoff: 50ms
      max_backoff: 1s
    metadata_config:
      send: true
      send_interval: 1s
)";

struct Query {
  std::string expr;
  double relative_tolerance = 0;  // 0: exact
};

const std::vector<Query>& InstantQueries() {
  static const auto* queries = new std::vector<Query>{
      {"up"},
      {"prometheus_tsdb_head_series"},
      {"sum by (job) (up)"},
      {"rate(prometheus_http_requests_total[10s])", 1e-9},
      {"node_load1"},
      {"count by (mode) (node_cpu_seconds_total)"},
      {"max_over_time(process_resident_memory_bytes[15s])"},
      {"scrape_samples_scraped offset 10s"},
  };
  return *queries;
}

const std::vector<Query>& RangeQueries() {
  static const auto* queries = new std::vector<Query>{
      {"up"},
      {"sum by (job) (up)"},
      {"rate(prometheus_http_requests_total[10s])", 1e-9},
      {"max_over_time(process_resident_memory_bytes[15s])"},
      {"node_load1 offset 5s"},
  };
  return *queries;
}

bool IsExecutable(const std::string& path) {
  return !path.empty() && access(path.c_str(), X_OK) == 0;
}

class PrometheusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& [path, package] : std::vector<std::pair<std::string, std::string>>{
             {KURA_PROMETHEUS_BINARY, "prometheus"},
             {KURA_PROMTOOL_BINARY, "prometheus (promtool)"},
             {KURA_NODE_EXPORTER_BINARY, "prometheus-node-exporter"}}) {
      ASSERT_TRUE(IsExecutable(path))
          << "missing peer binary '" << path << "': install the Debian package " << package
          << " (scripts/install-deps.sh does), then re-run CMake";
    }
    absl::StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Create("kura-prometheus");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
  }

  void TearDown() override {
    if (HasFailure()) {
      for (const char* name : {"prometheus.log", "node_exporter.log", "kura.log"}) {
        std::string log = ReadFileOrEmpty(dir_->File(name));
        if (log.size() > 5000) log = "..." + log.substr(log.size() - 5000);
        std::cerr << "---- tail of " << name << " ----\n" << log << "\n";
      }
    }
    // Prometheus first, so it stops sending to Kura before Kura goes away.
    if (prometheus_) (void)prometheus_->Stop(absl::Seconds(10));
    if (node_exporter_) (void)node_exporter_->Stop(absl::Seconds(5));
    kura_.reset();
  }

  void StartAll() {
    absl::StatusOr<std::unique_ptr<KuraServer>> kura =
        KuraServer::Start(KURA_BINARY, dir_->File("kura-data"), dir_->File("kura.log"));
    ASSERT_TRUE(kura.ok()) << kura.status();
    kura_ = *std::move(kura);

    absl::StatusOr<int> node_port = PickFreePort();
    ASSERT_TRUE(node_port.ok()) << node_port.status();
    absl::StatusOr<std::unique_ptr<Process>> node = Process::Start(
        {KURA_NODE_EXPORTER_BINARY, absl::StrCat("--web.listen-address=127.0.0.1:", *node_port),
         "--collector.disable-defaults", "--collector.cpu", "--collector.loadavg",
         "--collector.meminfo"},
        dir_->File("node_exporter.log"));
    ASSERT_TRUE(node.ok()) << node.status();
    node_exporter_ = *std::move(node);
    absl::Status node_ready =
        WaitForHttpOk(*node_port, "/metrics", *node_exporter_, absl::Seconds(15));
    ASSERT_TRUE(node_ready.ok()) << node_ready;

    absl::StatusOr<int> port = PickFreePort();
    ASSERT_TRUE(port.ok()) << port.status();
    prometheus_port_ = *port;
    const std::string config =
        absl::StrReplaceAll(kConfigTemplate, {{"$PROMETHEUS_PORT", absl::StrCat(prometheus_port_)},
                                              {"$NODE_PORT", absl::StrCat(*node_port)},
                                              {"$KURA_PORT", absl::StrCat(kura_->port())}});
    std::ofstream(dir_->File("prometheus.yml")) << config;
    absl::StatusOr<std::unique_ptr<Process>> prometheus = Process::Start(
        {KURA_PROMETHEUS_BINARY, absl::StrCat("--config.file=", dir_->File("prometheus.yml")),
         absl::StrCat("--storage.tsdb.path=", dir_->File("prometheus-data")),
         absl::StrCat("--web.listen-address=127.0.0.1:", prometheus_port_)},
        dir_->File("prometheus.log"));
    ASSERT_TRUE(prometheus.ok()) << prometheus.status();
    prometheus_ = *std::move(prometheus);
    absl::Status ready =
        WaitForHttpOk(prometheus_port_, "/-/ready", *prometheus_, absl::Seconds(20));
    ASSERT_TRUE(ready.ok()) << ready;
  }

  // Prometheus starts its scrape loops a few seconds after it is ready; the scrape time starts
  // to count when both targets have been scraped once. Bounded by 20 s.
  void WaitForFirstScrapes() {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    std::string last;
    while (absl::Now() < deadline) {
      ASSERT_TRUE(prometheus_->running()) << "prometheus exited";
      absl::StatusOr<HttpResult> result =
          HttpGet(prometheus_port_, absl::StrCat("/api/v1/query?query=", UrlEncode("count(up)")));
      if (result.ok() && result->status == 200) {
        absl::StatusOr<Json> json = ParseJson(result->body);
        if (json.ok()) {
          const std::vector<Json>& vector = (*json)["data"]["result"].array;
          if (vector.size() == 1 && vector[0]["value"].array.size() == 2 &&
              vector[0]["value"].array[1].text == "2") {
            scrapes_started_ = absl::Now();
            return;
          }
        }
        last = result->body;
      } else {
        last = result.ok() ? absl::StrCat("HTTP ", result->status) : result.status().ToString();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    FAIL() << "Prometheus did not scrape both targets within 20 s; last answer: " << last;
  }

  // Waits until Prometheus has scraped for kScrapeFor and Kura answers that both jobs are up.
  // Bounded by kScrapeFor plus 20 s.
  void WaitForData() {
    const absl::Time deadline = scrapes_started_ + kScrapeFor + absl::Seconds(20);
    std::string last;
    while (absl::Now() < deadline) {
      ASSERT_TRUE(prometheus_->running()) << "prometheus exited";
      ASSERT_TRUE(kura_->process().running()) << "kura exited";
      if (absl::Now() >= scrapes_started_ + kScrapeFor) {
        absl::StatusOr<CommandResult> result =
            Promtool({"query", "instant", "-o", "json", kura_->url(), "count(up == 1)"});
        if (result.ok() && result->exit_code == 0) {
          absl::StatusOr<std::vector<ResultSeries>> parsed = ParsePromtoolJson(result->out);
          if (parsed.ok() && parsed->size() == 1 && (*parsed)[0].points.size() == 1 &&
              (*parsed)[0].points[0].value == 2) {
            return;
          }
          last = result->out;
        } else {
          last = result.ok() ? result->err : result.status().ToString();
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    FAIL() << "Kura never showed both scrape jobs up (count(up == 1) == 2); last answer: " << last;
  }

  absl::StatusOr<CommandResult> Promtool(std::vector<std::string> args) {
    args.insert(args.begin(), KURA_PROMTOOL_BINARY);
    return RunCommand(args, dir_->File("promtool"), absl::Seconds(20));
  }

  // Runs the promtool query `args` (the server URL is appended, then `expr`) and parses its
  // output.
  absl::StatusOr<std::vector<ResultSeries>> QueryBoth(const std::vector<std::string>& args,
                                                      const std::string& url,
                                                      const std::string& expr) {
    std::vector<std::string> full = args;
    full.push_back(url);
    full.push_back(expr);
    absl::StatusOr<CommandResult> result = Promtool(full);
    if (!result.ok()) return result.status();
    if (result->exit_code != 0) {
      return absl::InternalError(absl::StrCat("promtool against ", url, " exited ",
                                              result->exit_code, ": ", result->err, result->out));
    }
    return ParsePromtoolJson(result->out);
  }

  // Compares one query on both servers; re-checks a mismatch a few times, since the last
  // samples may still be on their way to Kura.
  void Compare(const std::vector<std::string>& args, const Query& query) {
    SCOPED_TRACE(query.expr);
    std::string diff;
    for (int attempt = 0; attempt < kCompareAttempts; ++attempt) {
      if (attempt > 0) {
        std::cerr << "re-checking '" << query.expr << "' after: " << diff.substr(0, 300) << "\n";
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
      absl::StatusOr<std::vector<ResultSeries>> want =
          QueryBoth(args, absl::StrCat("http://127.0.0.1:", prometheus_port_), query.expr);
      ASSERT_TRUE(want.ok()) << want.status();
      ASSERT_FALSE(want->empty()) << "Prometheus returned nothing; the comparison would be void";
      absl::StatusOr<std::vector<ResultSeries>> got = QueryBoth(args, kura_->url(), query.expr);
      ASSERT_TRUE(got.ok()) << got.status();
      diff = DiffResults(*want, *got, query.relative_tolerance);
      if (diff.empty()) return;
      diff = absl::StrCat(diff, "\nPrometheus:\n", FormatResults(*want), "Kura:\n",
                          FormatResults(*got));
    }
    ADD_FAILURE() << "Kura differs from Prometheus for " << absl::StrJoin(args, " ") << " '"
                  << query.expr << "': " << diff;
  }

  // Kura's /api/v1/metadata answer for `metric`, which remote write delivered, against the one
  // Prometheus gives from its targets: the same bytes. Metadata goes out once a second
  // (metadata_config above); bounded by 15 s.
  void CompareMetadata(const std::string& metric) {
    SCOPED_TRACE(metric);
    const std::string target = absl::StrCat("/api/v1/metadata?metric=", UrlEncode(metric));
    absl::StatusOr<HttpResult> want = HttpGet(prometheus_port_, target);
    ASSERT_TRUE(want.ok()) << want.status();
    ASSERT_EQ(want->status, 200) << want->body;
    ASSERT_NE(want->body.find("\"type\""), std::string::npos)
        << "Prometheus has none: " << want->body;
    std::string got;
    for (const absl::Time deadline = absl::Now() + absl::Seconds(15); absl::Now() < deadline;) {
      absl::StatusOr<HttpResult> result = HttpGet(kura_->port(), target);
      ASSERT_TRUE(result.ok()) << result.status();
      got = result->body;
      if (got == want->body) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    ADD_FAILURE() << "metadata differs: Prometheus " << want->body << ", Kura " << got;
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<KuraServer> kura_;
  std::unique_ptr<Process> node_exporter_;
  std::unique_ptr<Process> prometheus_;
  int prometheus_port_ = 0;
  absl::Time scrapes_started_;
};

TEST_F(PrometheusTest, QueriesMatchPrometheus) {
  ASSERT_NO_FATAL_FAILURE(StartAll());
  ASSERT_NO_FATAL_FAILURE(WaitForFirstScrapes());
  ASSERT_NO_FATAL_FAILURE(WaitForData());
  const int64_t eval_s = absl::ToUnixSeconds(absl::Now() - kEvaluationLag);
  const std::string time = absl::StrCat(eval_s);
  for (const Query& query : InstantQueries()) {
    Compare({"query", "instant", "-o", "json", absl::StrCat("--time=", time)}, query);
  }
  for (const Query& query : RangeQueries()) {
    Compare({"query", "range", "-o", "json", absl::StrCat("--start=", eval_s - kRangeWindowSeconds),
             absl::StrCat("--end=", time), "--step=2s"},
            query);
  }
  for (const char* metric : {"node_load1", "prometheus_http_requests_total"}) {
    CompareMetadata(metric);
  }
}

}  // namespace
}  // namespace kura::integration
