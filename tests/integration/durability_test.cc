// Whole-process durability: every remote-write request that Kura acknowledged survives a
// SIGKILL in the middle of a write load, with its exact values, as seen through the query API.

#include <algorithm>
#include <atomic>
#include <bit>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/integration/http_client.h"
#include "tests/integration/json.h"
#include "tests/integration/kura_server.h"
#include "tests/integration/remote_write_encoder.h"
#include "tests/integration/temp_dir.h"

namespace kura::integration {
namespace {

constexpr int kSenders = 4;
constexpr int kRequestsPerSender = 50;  // 200 requests in all
constexpr int kSeriesPerSender = 3;
constexpr int kSamplesPerRequest = 4;  // per series
constexpr int64_t kStepMs = 1000;
constexpr uint32_t kSeed = 0x6b757261;
constexpr char kMetric[] = "kura_durability_test";

// Values exercise the formatter: integers, repeating fractions, negatives, tiny and huge
// magnitudes. Deterministic, so any returned sample can be checked against what was sent.
double SampleValue(int sender, int series, int64_t index) {
  switch (index % 5) {
    case 0:
      return static_cast<double>(index);
    case 1:
      return (index + sender) / 3.0;
    case 2:
      return -0.1 * static_cast<double>(index * (series + 1));
    case 3:
      return 1.5e-7 * static_cast<double>(index + 1);
    default:
      return 12345678912345.678 + static_cast<double>(sender * 100 + series);
  }
}

std::string FormatTimeSeconds(int64_t ms) {
  return absl::StrFormat("%d.%03d", ms / 1000, ms % 1000);
}

// "1700000000.123" or "1700000000" -> milliseconds, without a trip through double.
bool ParseTimestampMs(absl::string_view text, int64_t* ms) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '.');
  int64_t seconds = 0;
  if (parts.empty() || parts.size() > 2 || !absl::SimpleAtoi(parts[0], &seconds)) return false;
  int64_t millis = 0;
  if (parts.size() == 2) {
    std::string fraction(parts[1]);
    if (fraction.empty() || fraction.size() > 3) return false;
    fraction.resize(3, '0');
    if (!absl::SimpleAtoi(fraction, &millis)) return false;
  }
  *ms = seconds * 1000 + millis;
  return true;
}

// GETs a Prometheus API path and returns its `data` member after checking `status`.
absl::StatusOr<Json> ApiData(int port, const std::string& target) {
  absl::StatusOr<HttpResult> result = HttpGet(port, target);
  if (!result.ok()) return result.status();
  if (result->status != 200) {
    return absl::InternalError(
        absl::StrCat("GET ", target, " -> HTTP ", result->status, ": ", result->body));
  }
  absl::StatusOr<Json> json = ParseJson(result->body);
  if (!json.ok()) return json.status();
  if ((*json)["status"].text != "success") {
    return absl::InternalError(absl::StrCat("GET ", target, " -> ", result->body));
  }
  return (*json)["data"];
}

std::string QueryTarget(const std::string& expr, int64_t time_ms) {
  return absl::StrCat("/api/v1/query?query=", UrlEncode(expr),
                      "&time=", FormatTimeSeconds(time_ms));
}

struct SenderLog {
  // Per request: 0 not sent, -1 transport error, else the HTTP status.
  std::vector<int> status = std::vector<int>(kRequestsPerSender, 0);
  std::string first_error;
};

class Load {
 public:
  Load(int port, int64_t base_ms) : port_(port), base_ms_(base_ms) {}

  std::vector<WireSeries> Batch(int sender, int request) const {
    std::vector<WireSeries> batch;
    for (int series = 0; series < kSeriesPerSender; ++series) {
      WireSeries one;
      one.labels = {{"__name__", kMetric},
                    {"sender", absl::StrCat(sender)},
                    {"series", absl::StrCat(series)}};
      for (int j = 0; j < kSamplesPerRequest; ++j) {
        int64_t index = int64_t{request} * kSamplesPerRequest + j;
        one.samples.emplace_back(base_ms_ + index * kStepMs, SampleValue(sender, series, index));
      }
      batch.push_back(std::move(one));
    }
    return batch;
  }

  // Sends this sender's requests in order, stopping at the first failure (the server is gone).
  void Run(int sender, SenderLog* log) {
    for (int request = 0; request < kRequestsPerSender; ++request) {
      HttpCall call;
      call.method = "POST";
      call.target = "/api/v1/write";
      call.headers = RemoteWriteHeaders();
      call.body = EncodeWriteRequest(Batch(sender, request));
      absl::StatusOr<HttpResult> result = SendHttp(port_, call);
      log->status[request] = result.ok() ? result->status : -1;
      if (!result.ok() || result->status != 204) {
        log->first_error = result.ok() ? absl::StrCat("HTTP ", result->status, ": ", result->body)
                                       : result.status().ToString();
        return;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++acknowledged_;
      }
      acked_cv_.notify_all();
    }
  }

  // Waits until `count` requests were acknowledged in all, or `timeout`.
  bool WaitForAcks(int count, absl::Duration timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return acked_cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                              [&] { return acknowledged_ >= count; });
  }

  int acknowledged() {
    std::lock_guard<std::mutex> lock(mu_);
    return acknowledged_;
  }

 private:
  const int port_;
  const int64_t base_ms_;
  std::mutex mu_;
  std::condition_variable acked_cv_;
  int acknowledged_ = 0;
};

class DurabilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Create("kura-durability");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
    storage_ = dir_->File("data");
  }

  void StartKura() {
    absl::StatusOr<std::unique_ptr<KuraServer>> server =
        KuraServer::Start(KURA_BINARY, storage_, dir_->File("kura.log"));
    ASSERT_TRUE(server.ok()) << server.status();
    kura_ = *std::move(server);
  }

  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "kura log tail:\n" << ReadTail(dir_->File("kura.log")) << "\n";
    }
    kura_.reset();
  }

  static std::string ReadTail(const std::string& path) {
    std::string log = ReadFileOrEmpty(path);
    return log.size() > 6000 ? log.substr(log.size() - 6000) : log;
  }

  std::unique_ptr<TempDir> dir_;
  std::string storage_;
  std::unique_ptr<KuraServer> kura_;
};

TEST_F(DurabilityTest, AcknowledgedSamplesSurviveKill9) {
  ASSERT_NO_FATAL_FAILURE(StartKura());
  const int64_t base_ms = (absl::ToUnixMillis(absl::Now()) / 1000 - 600) * 1000;
  std::mt19937 rng(kSeed);
  const int total = kSenders * kRequestsPerSender;
  const int kill_after = std::uniform_int_distribution<int>(total / 4, total * 3 / 4)(rng);

  Load load(kura_->port(), base_ms);
  std::vector<SenderLog> logs(kSenders);
  std::vector<std::thread> senders;
  for (int s = 0; s < kSenders; ++s) senders.emplace_back([&, s] { load.Run(s, &logs[s]); });
  const bool reached = load.WaitForAcks(kill_after, absl::Seconds(40));
  ASSERT_TRUE(kura_->process().Kill().ok());
  for (std::thread& t : senders) t.join();
  ASSERT_TRUE(reached) << "only " << load.acknowledged() << " of " << kill_after
                       << " requests acknowledged before the deadline; first sender error: "
                       << logs[0].first_error;
  std::cerr << "killed kura after " << load.acknowledged() << " acknowledged requests (target "
            << kill_after << ")\n";
  for (int s = 0; s < kSenders; ++s) {
    for (int r = 0; r < kRequestsPerSender; ++r) {
      ASSERT_TRUE(logs[s].status[r] == 0 || logs[s].status[r] == 204 || logs[s].status[r] == -1)
          << "sender " << s << " request " << r << ": " << logs[s].first_error;
    }
  }

  kura_.reset();
  ASSERT_NO_FATAL_FAILURE(StartKura());

  const int64_t span_ms = int64_t{kRequestsPerSender} * kSamplesPerRequest * kStepMs;
  const int64_t eval_ms = base_ms + span_ms + 1000;
  const std::string window = absl::StrCat((span_ms + 10'000) / 1000, "s");
  int checked = 0;
  for (int s = 0; s < kSenders; ++s) {
    for (int k = 0; k < kSeriesPerSender; ++k) {
      SCOPED_TRACE(absl::StrCat("sender ", s, " series ", k));
      const std::string selector = absl::StrCat(kMetric, "{sender=\"", s, "\",series=\"", k, "\"}");
      absl::StatusOr<Json> data =
          ApiData(kura_->port(), QueryTarget(absl::StrCat(selector, "[", window, "]"), eval_ms));
      ASSERT_TRUE(data.ok()) << data.status();
      ASSERT_EQ((*data)["resultType"].text, "matrix");
      const std::vector<Json>& result = (*data)["result"].array;
      const bool any_acked = logs[s].status[0] == 204;
      if (!any_acked && result.empty()) continue;
      ASSERT_EQ(result.size(), 1u);
      EXPECT_EQ(result[0]["metric"]["__name__"].text, kMetric);
      EXPECT_EQ(result[0]["metric"]["sender"].text, absl::StrCat(s));
      EXPECT_EQ(result[0]["metric"]["series"].text, absl::StrCat(k));

      std::map<int64_t, double> stored;
      for (const Json& point : result[0]["values"].array) {
        ASSERT_EQ(point.array.size(), 2u);
        int64_t ts = 0;
        ASSERT_TRUE(ParseTimestampMs(point.array[0].text, &ts)) << point.array[0].text;
        // Compared as parsed doubles: Prometheus prints the shortest round-trip form, and
        // switches to exponent notation below 1e-6 and from 1e21 on.
        const std::string& text = point.array[1].text;
        double value = 0;
        ASSERT_TRUE(absl::SimpleAtod(text, &value)) << text;
        ASSERT_TRUE(stored.emplace(ts, value).second) << "duplicate timestamp " << ts;
      }
      // Everything stored was sent; nothing acknowledged is missing or changed.
      for (const auto& [ts, value] : stored) {
        const int64_t index = (ts - base_ms) / kStepMs;
        ASSERT_TRUE((ts - base_ms) % kStepMs == 0 && index >= 0 &&
                    index < int64_t{kRequestsPerSender} * kSamplesPerRequest)
            << "unexpected timestamp " << ts;
        EXPECT_NE(logs[s].status[index / kSamplesPerRequest], 0)
            << "sample at " << ts << " belongs to a request never sent";
        EXPECT_EQ(std::bit_cast<uint64_t>(value), std::bit_cast<uint64_t>(SampleValue(s, k, index)))
            << "at " << ts << ": stored " << value << ", sent " << SampleValue(s, k, index);
      }
      for (int r = 0; r < kRequestsPerSender; ++r) {
        if (logs[s].status[r] != 204) continue;
        for (int j = 0; j < kSamplesPerRequest; ++j) {
          const int64_t ts = base_ms + (int64_t{r} * kSamplesPerRequest + j) * kStepMs;
          EXPECT_TRUE(stored.count(ts))
              << "acknowledged sample at " << ts << " (request " << r << ") lost";
          ++checked;
        }
      }
      // The same samples through a function over the range.
      absl::StatusOr<Json> count = ApiData(
          kura_->port(),
          QueryTarget(absl::StrCat("count_over_time(", selector, "[", window, "])"), eval_ms));
      ASSERT_TRUE(count.ok()) << count.status();
      ASSERT_EQ((*count)["result"].array.size(), 1u);
      EXPECT_EQ((*count)["result"].array[0]["value"].array.at(1).text, absl::StrCat(stored.size()));
    }
  }
  EXPECT_GT(checked, 0);
  std::cerr << "verified " << checked << " acknowledged samples\n";
}

class WriteApiTest : public DurabilityTest {};

TEST_F(WriteApiTest, MalformedBodiesGet400WithReason) {
  ASSERT_NO_FATAL_FAILURE(StartKura());
  const std::vector<std::pair<std::string, std::string>> bodies = {
      {"not snappy", "this is not a snappy block"},
      {"snappy, not protobuf", SnappyCompress("\xff\xff\xff\xff not a WriteRequest")},
  };
  for (const auto& [name, body] : bodies) {
    SCOPED_TRACE(name);
    HttpCall call;
    call.method = "POST";
    call.target = "/api/v1/write";
    call.headers = RemoteWriteHeaders();
    call.body = body;
    absl::StatusOr<HttpResult> result = SendHttp(kura_->port(), call);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->status, 400) << result->body;
    EXPECT_FALSE(result->body.empty()) << "a 400 must say why";
    EXPECT_TRUE(std::all_of(result->body.begin(), result->body.end(),
                            [](char c) { return c == '\n' || c == '\t' || (c >= 0x20); }))
        << "reason is not readable text: " << result->body;
  }
  EXPECT_TRUE(kura_->process().running()) << "kura died on a malformed request";
}

TEST_F(WriteApiTest, ValidRequestGets204AndIsQueryable) {
  ASSERT_NO_FATAL_FAILURE(StartKura());
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  const int64_t sample_ms = now_ms - 2000;
  HttpCall call;
  call.method = "POST";
  call.target = "/api/v1/write";
  call.headers = RemoteWriteHeaders();
  call.body = EncodeWriteRequest(
      {{{{"__name__", "kura_integration_valid"}, {"job", "integration"}}, {{sample_ms, 42.5}}}});
  absl::StatusOr<HttpResult> write = SendHttp(kura_->port(), call);
  ASSERT_TRUE(write.ok()) << write.status();
  ASSERT_EQ(write->status, 204) << write->body;

  absl::StatusOr<Json> data = ApiData(kura_->port(), QueryTarget("kura_integration_valid", now_ms));
  ASSERT_TRUE(data.ok()) << data.status();
  ASSERT_EQ((*data)["resultType"].text, "vector");
  ASSERT_EQ((*data)["result"].array.size(), 1u);
  const Json& sample = (*data)["result"].array[0];
  EXPECT_EQ(sample["metric"]["__name__"].text, "kura_integration_valid");
  EXPECT_EQ(sample["metric"]["job"].text, "integration");
  EXPECT_EQ(sample["metric"].object.size(), 2u);
  ASSERT_EQ(sample["value"].array.size(), 2u);
  int64_t echoed_ms = 0;
  EXPECT_TRUE(ParseTimestampMs(sample["value"].array[0].text, &echoed_ms));
  EXPECT_EQ(echoed_ms, now_ms) << "an instant vector carries the evaluation time";
  EXPECT_EQ(sample["value"].array[1].text, "42.5");
}

}  // namespace
}  // namespace kura::integration
