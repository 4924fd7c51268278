#include "query/engine.h"

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/sample.h"
#include "model/write_batch.h"
#include "storage/node.h"

namespace kura::query {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kMinute = 60'000;

// An engine over a real storage node in a fresh temporary directory.
class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<base::TempDir> temp = base::TempDir::Create("engine_test");
    ASSERT_TRUE(temp.ok()) << temp.status();
    temp_ = *std::move(temp);
    dir_ = temp_.path();
    storage::NodeOptions options;
    options.data_dir = dir_;
    auto node = storage::Node::Open(options);
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = *std::move(node);
  }
  void TearDown() override { node_.reset(); }

  // Writes `values` at 0, step, 2*step, ... ; NaN entries are skipped, `stale` writes a marker.
  void Load(std::vector<model::Label> labels, int64_t step_ms, std::vector<double> values) {
    model::WriteBatch batch;
    model::TimeSeries ts;
    ts.labels = model::Labels::FromUnsorted(std::move(labels));
    for (size_t i = 0; i < values.size(); ++i) {
      if (std::isnan(values[i]) && !model::IsStaleNaN(values[i])) continue;
      ts.samples.push_back({static_cast<int64_t>(i) * step_ms, values[i]});
    }
    batch.series.push_back(std::move(ts));
    ASSERT_TRUE(node_->Write(batch).ok());
  }

  // Writes `values` at step, 2*step, ... with the start timestamps `starts` (0: unknown).
  void LoadWithStarts(std::vector<model::Label> labels, int64_t step_ms,
                      std::vector<double> values, std::vector<int64_t> starts) {
    model::WriteBatch batch;
    model::TimeSeries ts;
    ts.labels = model::Labels::FromUnsorted(std::move(labels));
    for (size_t i = 0; i < values.size(); ++i) {
      ts.samples.push_back({static_cast<int64_t>(i + 1) * step_ms, values[i]});
    }
    ts.start_timestamps_ms = std::move(starts);
    batch.series.push_back(std::move(ts));
    ASSERT_TRUE(node_->Write(batch).ok());
  }

  Engine MakeEngine(EngineOptions options = {}) { return Engine(node_.get(), options); }

  // The instant vector as "labels=value" strings, in result order.
  std::vector<std::string> Instant(std::string_view q, int64_t t, EngineOptions options = {}) {
    Engine engine = MakeEngine(options);
    auto r = engine.InstantQuery(q, t);
    EXPECT_TRUE(r.ok()) << q << ": " << r.status();
    if (!r.ok()) return {};
    EXPECT_EQ(r->type, ValueType::kVector) << q;
    std::vector<std::string> out;
    for (const auto& e : r->vector) {
      out.push_back(e.labels.ToString() + "=" + FormatValue(e.v));
    }
    return out;
  }

  static std::string FormatValue(double v) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.6g", v);
    return buf;
  }

  base::TempDir temp_;  // destroyed after the members below, which use it
  std::string dir_;
  std::unique_ptr<storage::Node> node_;
};

const double kNaN = std::nan("");

TEST_F(EngineTest, LookbackIsLeftOpen) {
  Load({{"__name__", "up"}, {"job", "a"}}, kMinute, {1});
  EXPECT_THAT(Instant("up", 0), ElementsAre("up{job=\"a\"}=1"));
  EXPECT_THAT(Instant("up", 5 * kMinute - 1), ElementsAre("up{job=\"a\"}=1"));
  EXPECT_THAT(Instant("up", 5 * kMinute), ElementsAre());
  EXPECT_THAT(Instant("up", -1), ElementsAre());
}

TEST_F(EngineTest, StaleMarkerEndsSeries) {
  Load({{"__name__", "up"}}, 30'000, {1, model::StaleNaN(), kNaN, 3});
  EXPECT_THAT(Instant("up", 20'000), ElementsAre("up=1"));
  EXPECT_THAT(Instant("up", 45'000), ElementsAre());
  EXPECT_THAT(Instant("up", 90'000), ElementsAre("up=3"));
  // Range vectors drop stale markers: only the two real samples count.
  EXPECT_THAT(Instant("count_over_time(up[2m])", 90'000), ElementsAre("{}=2"));
}

TEST_F(EngineTest, OffsetAndAtModifiers) {
  Load({{"__name__", "x"}}, kMinute, {0, 10, 20, 30, 40});
  EXPECT_THAT(Instant("x offset 2m", 4 * kMinute), ElementsAre("x=20"));
  EXPECT_THAT(Instant("x @ 60", 4 * kMinute), ElementsAre("x=10"));
  EXPECT_THAT(Instant("x offset -1m", 2 * kMinute), ElementsAre("x=30"));
}

TEST_F(EngineTest, RateAndIncreaseExtrapolate) {
  Load({{"__name__", "http_requests_total"}}, kMinute,
       {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100});
  EXPECT_THAT(Instant("increase(http_requests_total[5m])", 5 * kMinute), ElementsAre("{}=50"));
  EXPECT_THAT(Instant("rate(http_requests_total[5m])", 5 * kMinute), ElementsAre("{}=0.166667"));
  EXPECT_THAT(Instant("irate(http_requests_total[5m])", 5 * kMinute), ElementsAre("{}=0.166667"));
  EXPECT_THAT(Instant("delta(http_requests_total[5m])", 5 * kMinute), ElementsAre("{}=50"));
}

TEST_F(EngineTest, IncreaseHandlesCounterReset) {
  Load({{"__name__", "c_total"}}, kMinute, {0, 10, 20, 5, 15});
  EXPECT_THAT(Instant("increase(c_total[5m])", 4 * kMinute), ElementsAre("{}=35"));
  EXPECT_THAT(Instant("resets(c_total[5m])", 4 * kMinute), ElementsAre("{}=1"));
}

TEST_F(EngineTest, StartTimestampsMarkResetsAndReplaceExtrapolation) {
  // A delta series (each sample starts at the one before) and a cumulative one that restarted
  // at 6m, which its values alone do not show.
  std::vector<int64_t> delta_starts;
  for (int64_t i = 0; i < 10; ++i) delta_starts.push_back(i * kMinute);
  LoadWithStarts({{"__name__", "d_total"}}, kMinute, std::vector<double>(10, 60), delta_starts);
  LoadWithStarts({{"__name__", "c_total"}}, kMinute, {10, 20, 30, 40, 50, 60, 70, 80, 90, 100},
                 {30'000, 30'000, 30'000, 30'000, 30'000, 6 * kMinute - 1, 6 * kMinute - 1,
                  6 * kMinute - 1, 6 * kMinute - 1, 6 * kMinute - 1});
  EngineOptions on;
  on.use_start_timestamps = true;
  EXPECT_THAT(Instant("increase(d_total[5m])", 10 * kMinute, on), ElementsAre("{}=300"));
  EXPECT_THAT(Instant("rate(d_total[5m])", 10 * kMinute, on), ElementsAre("{}=1"));
  EXPECT_THAT(Instant("irate(d_total[5m])", 10 * kMinute, on), ElementsAre("{}=1"));
  EXPECT_THAT(Instant("resets(d_total[5m])", 10 * kMinute, on), ElementsAre("{}=4"));
  // Without the feature, or through a subquery, the starts are not seen.
  EXPECT_THAT(Instant("increase(d_total[5m])", 10 * kMinute), ElementsAre("{}=0"));
  EXPECT_THAT(Instant("increase(d_total[5m:1m])", 10 * kMinute, on), ElementsAre("{}=0"));
  // c_total's restart shows only in its starts.
  EXPECT_THAT(Instant("resets(c_total[10m])", 10 * kMinute, on), ElementsAre("{}=1"));
  EXPECT_THAT(Instant("resets(c_total[10m])", 10 * kMinute), ElementsAre("{}=0"));
  // Its first sample started 30 s after the window's start: no extrapolation to the left.
  EXPECT_THAT(Instant("increase(c_total[2m])", 2 * kMinute, on), ElementsAre("{}=20"));
}

TEST_F(EngineTest, OverlappingStartTimestampsWarn) {
  LoadWithStarts({{"__name__", "o_total"}}, kMinute, {60, 120, 180}, {1, 2, 3});
  EngineOptions on;
  on.use_start_timestamps = true;
  Engine engine = MakeEngine(on);
  auto r = engine.InstantQuery("rate(o_total[5m])", 3 * kMinute);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->warnings, ElementsAre("PromQL warning: sample has start time that overlaps "
                                       "with previous sample timestamp for metric \"o_total\""));
}

TEST_F(EngineTest, RateOfNonCounterNameGivesInfo) {
  Load({{"__name__", "foo"}}, kMinute, {0, 1, 2});
  Engine engine = MakeEngine();
  auto r = engine.InstantQuery("rate(foo[5m])", 2 * kMinute);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->infos, ElementsAre("PromQL info: metric might not be a counter, name does not "
                                    "end in _total/_sum/_count/_bucket: \"foo\""));
}

TEST_F(EngineTest, SumByAndWithout) {
  Load({{"__name__", "req"}, {"job", "a"}, {"instance", "1"}}, kMinute, {1});
  Load({{"__name__", "req"}, {"job", "a"}, {"instance", "2"}}, kMinute, {2});
  Load({{"__name__", "req"}, {"job", "b"}, {"instance", "1"}}, kMinute, {4});
  EXPECT_THAT(Instant("sum by (job) (req)", 0), ElementsAre("{job=\"a\"}=3", "{job=\"b\"}=4"));
  EXPECT_THAT(Instant("sum without (instance) (req)", 0),
              ElementsAre("{job=\"a\"}=3", "{job=\"b\"}=4"));
  EXPECT_THAT(Instant("sum(req)", 0), ElementsAre("{}=7"));
  EXPECT_THAT(Instant("count by (instance) (req)", 0),
              ElementsAre("{instance=\"1\"}=2", "{instance=\"2\"}=1"));
  EXPECT_THAT(Instant("topk(2, req)", 0),
              ElementsAre("req{instance=\"1\", job=\"b\"}=4", "req{instance=\"2\", job=\"a\"}=2"));
  EXPECT_THAT(Instant("avg(req)", 0), ElementsAre("{}=2.33333"));
}

TEST_F(EngineTest, VectorMatching) {
  Load({{"__name__", "errors"}, {"job", "a"}, {"code", "500"}}, kMinute, {6});
  Load({{"__name__", "errors"}, {"job", "a"}, {"code", "404"}}, kMinute, {3});
  Load({{"__name__", "total"}, {"job", "a"}}, kMinute, {12});
  EXPECT_THAT(Instant("errors / ignoring(code) group_left total", 0),
              ElementsAre("{code=\"404\", job=\"a\"}=0.25", "{code=\"500\", job=\"a\"}=0.5"));
  EXPECT_THAT(Instant("total > bool on(job) group_right errors", 0),
              ElementsAre("{code=\"404\", job=\"a\"}=1", "{code=\"500\", job=\"a\"}=1"));
  EXPECT_THAT(Instant("errors > 4", 0), ElementsAre("errors{code=\"500\", job=\"a\"}=6"));
  EXPECT_THAT(Instant("errors and on(code) errors{code=\"404\"}", 0),
              ElementsAre("errors{code=\"404\", job=\"a\"}=3"));
  EXPECT_THAT(Instant("errors unless on(code) errors{code=\"404\"}", 0),
              ElementsAre("errors{code=\"500\", job=\"a\"}=6"));

  Engine engine = MakeEngine();
  auto r = engine.InstantQuery("total / on(job) errors", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(),
            "found duplicate series for the match group {job=\"a\"} on the right hand-side of "
            "the operation: [errors{code=\"500\", job=\"a\"}, errors{code=\"404\", job=\"a\"}]"
            ";many-to-many matching not allowed: matching labels must be unique on one side");
}

TEST_F(EngineTest, DuplicateLabelsetIsAnError) {
  Load({{"__name__", "m1"}, {"a", "b"}}, kMinute, {1});
  Load({{"__name__", "m2"}, {"a", "b"}}, kMinute, {2});
  Engine engine = MakeEngine();
  auto r = engine.InstantQuery("-{__name__=~\"m1|m2\"}", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), "vector cannot contain metrics with the same labelset");
}

TEST_F(EngineTest, DelayedNameRemoval) {
  Load({{"__name__", "m_total"}, {"env", "1"}}, kMinute, {0, 60, 120});
  EngineOptions options;
  options.enable_delayed_name_removal = true;
  EXPECT_THAT(Instant("label_replace(rate(m_total[2m]), \"__name__\", \"r_$1\", \"__name__\", "
                      "\"(.+)\")",
                      2 * kMinute, options),
              ElementsAre("r_m_total{env=\"1\"}=1"));
  EXPECT_THAT(Instant("rate(m_total[2m])", 2 * kMinute, options), ElementsAre("{env=\"1\"}=1"));
}

TEST_F(EngineTest, RangeQueryIsSortedMatrix) {
  Load({{"__name__", "x"}, {"i", "b"}}, kMinute, {1, 2, 3});
  Load({{"__name__", "x"}, {"i", "a"}}, kMinute, {5, kNaN, 7});
  Engine engine = MakeEngine();
  auto r = engine.RangeQuery("x * 2", 0, 2 * kMinute, kMinute);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->type, ValueType::kMatrix);
  ASSERT_EQ(r->matrix.size(), 2u);
  EXPECT_EQ(r->matrix[0].labels.ToString(), "{i=\"a\"}");
  ASSERT_EQ(r->matrix[0].points.size(), 3u);  // lookback fills the gap at 1m
  EXPECT_EQ(r->matrix[0].points[1].v, 10);
  EXPECT_EQ(r->matrix[1].points[2].v, 6);

  auto s = engine.RangeQuery("time()", 0, 2 * kMinute, kMinute);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->matrix.size(), 1u);
  EXPECT_EQ(s->matrix[0].points[2].v, 120);
}

TEST_F(EngineTest, SubqueryAlignsToStep) {
  Load({{"__name__", "x"}}, kMinute, {1, 5, 2, 8, 3, 4});
  EXPECT_THAT(Instant("max_over_time(x[3m:1m])", 5 * kMinute), ElementsAre("{}=8"));
  EXPECT_THAT(Instant("count_over_time(x[3m:1m])", 5 * kMinute + 30'000), ElementsAre("{}=3"));
  EXPECT_THAT(Instant("sum_over_time(x[10m:])", 5 * kMinute), ElementsAre("{}=23"));
}

TEST_F(EngineTest, ScalarAndStringResults) {
  Engine engine = MakeEngine();
  auto r = engine.InstantQuery("1 + 2 * 3", 1000);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->type, ValueType::kScalar);
  EXPECT_EQ(r->scalar.v, 7);
  EXPECT_EQ(r->scalar.t, 1000);
  auto s = engine.InstantQuery("\"hello\"", 1000);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->type, ValueType::kString);
  EXPECT_EQ(s->string_value, "hello");
}

TEST_F(EngineTest, FunctionsOnVectors) {
  Load({{"__name__", "v"}, {"le", "0.5"}}, kMinute, {2});
  Load({{"__name__", "v"}, {"le", "1"}}, kMinute, {6});
  Load({{"__name__", "v"}, {"le", "+Inf"}}, kMinute, {8});
  EXPECT_THAT(Instant("histogram_quantile(0.5, v)", 0), ElementsAre("{}=0.75"));
  EXPECT_THAT(Instant("sort_desc(v)", 0),
              ElementsAre("v{le=\"+Inf\"}=8", "v{le=\"1\"}=6", "v{le=\"0.5\"}=2"));
  EXPECT_THAT(Instant("clamp_max(v, 5)", 0),
              ElementsAre("{le=\"+Inf\"}=5", "{le=\"0.5\"}=2", "{le=\"1\"}=5"));
  EXPECT_THAT(Instant("absent(nope{job=\"x\"})", 0), ElementsAre("{job=\"x\"}=1"));
  EXPECT_THAT(Instant("label_join(v{le=\"1\"}, \"d\", \"-\", \"le\", \"le\")", 0),
              ElementsAre("v{d=\"1-1\", le=\"1\"}=6"));
  EXPECT_THAT(Instant("hour(vector(7200))", 0), ElementsAre("{}=2"));
}

TEST_F(EngineTest, LimitsAndRangeQueryTypeErrors) {
  for (int i = 0; i < 20; ++i) {
    Load({{"__name__", "many"}, {"i", std::to_string(i)}}, kMinute, {1, 2, 3});
  }
  EngineOptions small;
  small.max_samples = 10;
  Engine limited = MakeEngine(small);
  auto r = limited.InstantQuery("many", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("too many samples"));

  EngineOptions expired;
  expired.timeout = absl::Seconds(-1);
  Engine timed_out = MakeEngine(expired);
  r = timed_out.InstantQuery("many", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(r.status().message(), "query timed out in expression evaluation");

  Engine engine = MakeEngine();
  r = engine.RangeQuery("many[5m]", 0, kMinute, kMinute);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  r = engine.InstantQuery("many +", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(EngineTest, InfoJoinsDataLabelsOfInfoSeries) {
  Load({{"__name__", "m"}, {"instance", "a"}, {"job", "1"}}, kMinute, {1, 2, 3});
  Load({{"__name__", "other"}, {"instance", "b"}, {"job", "1"}}, kMinute, {7, 7, 7});
  // target_info changes its data label at 2m; the newest sample wins while both are in range.
  Load({{"__name__", "target_info"}, {"instance", "a"}, {"job", "1"}, {"data", "old"}}, kMinute,
       {1, 1});
  Load({{"__name__", "target_info"}, {"instance", "a"}, {"job", "1"}, {"data", "new"}}, kMinute,
       {kNaN, kNaN, 1});
  Load({{"__name__", "build_info"}, {"instance", "a"}, {"job", "1"}, {"version", "v1"}}, kMinute,
       {1, 1, 1});
  EngineOptions options;
  options.enable_experimental_functions = true;
  EXPECT_THAT(Instant("info(m)", kMinute, options),
              ElementsAre("m{data=\"old\", instance=\"a\", job=\"1\"}=2"));
  EXPECT_THAT(Instant("info(m)", 2 * kMinute, options),
              ElementsAre("m{data=\"new\", instance=\"a\", job=\"1\"}=3"));
  EXPECT_THAT(Instant("info(m, {__name__=\"build_info\"})", 0, options),
              ElementsAre("m{instance=\"a\", job=\"1\", version=\"v1\"}=1"));
  // Only negated name matchers pick among the *_info metrics.
  EXPECT_THAT(Instant("info(m, {__name__!=\"target_info\"})", 0, options),
              ElementsAre("m{instance=\"a\", job=\"1\", version=\"v1\"}=1"));
  // A data matcher restricts the labels added.
  EXPECT_THAT(Instant("info(m, {__name__=~\".+_info\", version=~\".+\"})", 0, options),
              ElementsAre("m{instance=\"a\", job=\"1\", version=\"v1\"}=1"));
  // No info series joins `other`: kept as is unless a data matcher rejects the empty value.
  EXPECT_THAT(Instant("info(other)", 0, options),
              ElementsAre("other{instance=\"b\", job=\"1\"}=7"));
  EXPECT_THAT(Instant("info(other, {data=~\".*\"})", 0, options),
              ElementsAre("other{instance=\"b\", job=\"1\"}=7"));
  EXPECT_THAT(Instant("info(other, {data=~\".+\"})", 0, options), ElementsAre());
  // Info series themselves are not enriched, and the base name survives.
  EXPECT_THAT(Instant("info(build_info, {__name__=~\".+_info\"})", 0, options),
              ElementsAre("build_info{instance=\"a\", job=\"1\", version=\"v1\"}=1"));
  // The @ of the first argument's selector also bounds the info samples read.
  EXPECT_THAT(Instant("info(m @ 60)", 2 * kMinute, options),
              ElementsAre("m{data=\"old\", instance=\"a\", job=\"1\"}=2"));

  // Two info metrics disagreeing on a data label are an error.
  Load({{"__name__", "extra_info"}, {"instance", "a"}, {"job", "1"}, {"data", "other"}}, kMinute,
       {1});
  Engine engine = MakeEngine(options);
  auto r = engine.InstantQuery("info(m, {__name__=~\".+_info\"})", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), "conflicting label: data");
}

TEST_F(EngineTest, BinopFillModifiers) {
  Load({{"__name__", "l"}, {"k", "a"}}, 5 * kMinute, {10, kNaN, 30});
  Load({{"__name__", "l"}, {"k", "b"}}, 5 * kMinute, {20});
  Load({{"__name__", "r"}, {"k", "a"}}, 5 * kMinute, {100, 200});
  Load({{"__name__", "r"}, {"k", "c"}}, 5 * kMinute, {300});
  EngineOptions options;
  options.enable_binop_fill_modifiers = true;

  EXPECT_THAT(Instant("l + fill(0) r", 0, options),
              ElementsAre("{k=\"a\"}=110", "{k=\"b\"}=20", "{k=\"c\"}=300"));
  EXPECT_THAT(Instant("l - fill_left(1) r", 0, options),
              ElementsAre("{k=\"a\"}=-90", "{k=\"c\"}=-299"));
  EXPECT_THAT(Instant("l - fill_right(1) r", 0, options),
              ElementsAre("{k=\"a\"}=-90", "{k=\"b\"}=19"));
  // A filled-in left side has the match group's labels and the fill value.
  EXPECT_THAT(Instant("l != fill(7) r", 0, options),
              ElementsAre("l{k=\"a\"}=10", "l{k=\"b\"}=20", "{k=\"c\"}=7"));
  EXPECT_THAT(Instant("l > bool fill(15) r", 0, options),
              ElementsAre("{k=\"a\"}=0", "{k=\"b\"}=1", "{k=\"c\"}=0"));

  // group_right swaps the "one" side to the right; the fill values follow the swapped sides.
  EXPECT_THAT(Instant("r * on(k) group_right fill_left(2) l", 0, options),
              ElementsAre("{k=\"a\"}=1000", "{k=\"c\"}=600"));
  EXPECT_THAT(Instant("r * on(k) group_right fill_right(2) l", 0, options),
              ElementsAre("{k=\"a\"}=1000", "{k=\"b\"}=40"));

  // Each step fills independently: l{k="a"} is missing at 5m, r{k="a"} at 10m.
  Engine engine = MakeEngine(options);
  auto r = engine.RangeQuery("l + on(k) group_left fill(0) r", 0, 10 * kMinute, 5 * kMinute);
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<std::string> got;
  for (const auto& s : r->matrix) {
    std::string line = s.labels.ToString();
    for (const auto& p : s.points) {
      line += " " + std::to_string(p.t / kMinute) + ":" + FormatValue(p.v);
    }
    got.push_back(line);
  }
  EXPECT_THAT(got, ElementsAre("{k=\"a\"} 0:110 5:200 10:30", "{k=\"b\"} 0:20", "{k=\"c\"} 0:300"));

  // Off by default: the parser refuses the modifier.
  auto off = MakeEngine().InstantQuery("l + fill(0) r", 0);
  ASSERT_FALSE(off.ok());
  EXPECT_EQ(off.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(off.status().message(), HasSubstr("binop fill modifiers are experimental"));
}

TEST_F(EngineTest, AnchoredAndSmoothedModifiers) {
  Load({{"__name__", "metric"}}, 15'000, {1, 2, 3, 4, 5, 9, 10, 11, 12, 13});
  EngineOptions options;
  options.enable_extended_range_selectors = true;
  // Anchored: from the last sample at or before the window's start to the last in it.
  EXPECT_THAT(Instant("increase(metric[1m] anchored)", 80'000, options), ElementsAre("{}=7"));
  EXPECT_THAT(Instant("increase(metric[1m] anchored)", 50'000, options), ElementsAre("{}=3"));
  EXPECT_THAT(Instant("delta(metric[1m] anchored)", 80'000, options), ElementsAre("{}=7"));
  EXPECT_THAT(Instant("changes(metric[1m] anchored)", 80'000, options), ElementsAre("{}=4"));
  // Smoothed: values interpolated at both edges of the window.
  EXPECT_THAT(Instant("increase(metric[1m] smoothed)", 20'000, options), ElementsAre("{}=1.33333"));
  EXPECT_THAT(Instant("rate(metric[1m] smoothed)", 125'000, options), ElementsAre("{}=0.1"));
  // An instant selector interpolates between the samples around each step.
  EXPECT_THAT(Instant("metric smoothed", 20'000, options), ElementsAre("metric=2.33333"));
  EXPECT_THAT(Instant("metric smoothed", 200'000, options), ElementsAre("metric=13"));
  EXPECT_THAT(Instant("metric", 20'000, options), ElementsAre("metric=2"));

  // A bare anchored range selector is framed by the values at the window's edges.
  Engine engine = MakeEngine(options);
  auto r = engine.InstantQuery("metric[30s] anchored", 50'000);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->matrix.size(), 1u);
  std::string points;
  for (const auto& p : r->matrix[0].points) {
    points += std::to_string(p.t) + ":" + FormatValue(p.v) + " ";
  }
  EXPECT_EQ(points, "20000:2 30000:3 45000:4 50000:4 ");

  // Only the functions that understand samples outside the window take the modifiers.
  auto bad = engine.InstantQuery("max_over_time(metric[1m] smoothed)", 60'000);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(bad.status().message(),
            "smoothed modifier can only be used with: delta, increase, rate - not with "
            "max_over_time");
  bad = engine.InstantQuery("deriv(metric[1m] anchored)", 60'000);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("changes, delta, increase, rate, resets"));

  // Off by default: the parser refuses the modifiers.
  auto off = MakeEngine().InstantQuery("rate(metric[1m] anchored)", 0);
  ASSERT_FALSE(off.ok());
  EXPECT_EQ(off.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(off.status().message(), HasSubstr("anchored modifier is experimental"));
}


// Folding aggregations read a selector or a one-metric range function series by series; what
// they answer must be what the collected evaluation answers, including past the streaming
// state budget (many groups times many steps), where they fall back to it.
TEST_F(EngineTest, StreamedAggregationsMatchTheCollectedOnes) {
  std::vector<double> values;
  for (int i = 0; i < 120; ++i) values.push_back(i * 1.5 + (i % 7 == 0 ? -20 : 0));
  for (int i = 0; i < 300; ++i) {
    std::vector<double> v = values;
    for (double& x : v) x += i * 0.25;
    Load({{"__name__", "c"}, {"i", std::to_string(i)}, {"job", i % 3 ? "a" : "b"}}, 15'000, v);
  }
  Engine engine = MakeEngine();
  auto text = [&](std::string_view q, int64_t step) {
    auto r = engine.RangeQuery(q, 0, 30 * kMinute, step);
    EXPECT_TRUE(r.ok()) << q << ": " << r.status();
    std::string out;
    if (!r.ok()) return out;
    for (const auto& s : r->matrix) {
      out += s.labels.ToString();
      for (const auto& p : s.points) out += absl::StrCat(" ", p.t, ":", FormatValue(p.v));
      out += "\n";
    }
    return out;
  };
  // A regex on the name is not streamed (results could share a label set); `+ 0` neither.
  for (int64_t step : {kMinute, int64_t{1000}}) {  // 1 s steps: 1801 x 300 groups > budget
    SCOPED_TRACE(step);
    EXPECT_EQ(text("sum by (job) (rate(c[5m]))", step),
              text("sum by (job) (rate({__name__=~\"c\"}[5m]))", step));
    EXPECT_EQ(text("avg by (i) (c)", step), text("avg by (i) (c + 0)", step));
    EXPECT_EQ(text("count(c)", step), text("count(c + 0)", step));
    EXPECT_EQ(text("max without (i) (increase(c[2m]))", step),
              text("max without (i) (increase({__name__=~\"c|d\"}[2m]))", step));
    EXPECT_EQ(text("stddev by (job) (c)", step), text("stddev by (job) (c * 1)", step));
  }
  EXPECT_NE(text("count(c)", kMinute), "");
}

}  // namespace
}  // namespace kura::query
