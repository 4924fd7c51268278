#include "query/promql_test_script.h"

#include <cmath>
#include <limits>
#include <variant>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/sample.h"

namespace kura::query {
namespace {

using ::testing::HasSubstr;

model::Labels L(std::vector<model::Label> labels) {
  return model::Labels::FromUnsorted(std::move(labels));
}

std::vector<double> Floats(const ScriptSeries& series) {
  std::vector<double> out;
  for (const auto& v : series.values) out.push_back(v.value);
  return out;
}

TEST(ParseScriptDurationTest, AcceptsPrometheusDurations) {
  EXPECT_EQ(*ParseScriptDuration("0"), 0);
  EXPECT_EQ(*ParseScriptDuration("50m"), 3'000'000);
  EXPECT_EQ(*ParseScriptDuration("1h30m"), 5'400'000);
  EXPECT_EQ(*ParseScriptDuration("10s53ms"), 10'053);
  EXPECT_EQ(*ParseScriptDuration("1y1w1d"), (365 + 7 + 1) * 86'400'000LL);
  EXPECT_EQ(*ParseScriptDuration("3000s"), 3'000'000);
}

TEST(ParseScriptDurationTest, RejectsMalformedDurations) {
  for (const char* bad : {"", "5", "1.5m", "-1m", "30s1m", "1m1m", "1x", "m"}) {
    EXPECT_FALSE(ParseScriptDuration(bad).ok()) << bad;
  }
}

TEST(ParseSeriesLineTest, ExpandsValueSequences) {
  auto s = ParseSeriesLine("m 1+2x3 _ 5x1 _x2 10-2x2 1e-3 -Inf NaN");
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->values.size(), 4u + 1 + 2 + 2 + 3 + 3);
  EXPECT_EQ(s->values[0].value, 1);
  EXPECT_EQ(s->values[3].value, 7);
  EXPECT_EQ(s->values[4].kind, ScriptValue::Kind::kOmitted);
  EXPECT_EQ(s->values[5].value, 5);
  EXPECT_EQ(s->values[6].value, 5);
  EXPECT_EQ(s->values[7].kind, ScriptValue::Kind::kOmitted);
  EXPECT_EQ(s->values[8].kind, ScriptValue::Kind::kOmitted);
  EXPECT_EQ(s->values[9].value, 10);
  EXPECT_EQ(s->values[11].value, 6);
  EXPECT_EQ(s->values[12].value, 1e-3);
  EXPECT_EQ(s->values[13].value, -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(s->values[14].value));
  EXPECT_FALSE(model::IsStaleNaN(s->values[14].value));
}

TEST(ParseSeriesLineTest, UsesRepeatedAdditionAndStaleMarkers) {
  auto s = ParseSeriesLine("m 0+0.1x10 stale 1e-3+1e+0x1");
  ASSERT_TRUE(s.ok()) << s.status();
  double v = 0;
  for (int k = 0; k <= 10; ++k, v += 0.1) EXPECT_EQ(s->values[k].value, v) << k;
  EXPECT_TRUE(model::IsStaleNaN(s->values[11].value));
  EXPECT_EQ(s->values[12].value, 1e-3);
  EXPECT_EQ(s->values[13].value, 1e-3 + 1);
}

TEST(ParseSeriesLineTest, SkipsHistogramLiterals) {
  auto s = ParseSeriesLine(
      "h {{schema:0 sum:5 count:4 buckets:[1 2 1]}}x2 {{count:1}}+{{count:2 "
      "counter_reset_hint:gauge}}x1 3");
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->values.size(), 6u);
  EXPECT_EQ(s->values[4].kind, ScriptValue::Kind::kHistogram);
  EXPECT_EQ(s->values[5].kind, ScriptValue::Kind::kFloat);
  EXPECT_FALSE(ParseSeriesLine("h {{count:1").ok());
}

TEST(ParseSeriesLineTest, ParsesDescriptors) {
  auto s = ParseSeriesLine(R"(http_requests{job="api", instance='0' , "a.b"="c\n", e=""} 1)");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->labels,
            L({{"__name__", "http_requests"}, {"job", "api"}, {"instance", "0"}, {"a.b", "c\n"}}));
  s = ParseSeriesLine(R"({"my.metric", a=`x\y`} 2)");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->labels, L({{"__name__", "my.metric"}, {"a", "x\\y"}}));
  s = ParseSeriesLine("{} 3");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->labels.empty());
  s = ParseSeriesLine(R"(sum{a="\u00e9\x41"} 1)");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->labels.Get("a"), "\xc3\xa9\x41");
  EXPECT_FALSE(ParseSeriesLine("m{a=b} 1").ok());
  EXPECT_FALSE(ParseSeriesLine("m 5m").ok());
  EXPECT_FALSE(ParseSeriesLine("m 1+x3").ok());
}

constexpr char kScript[] = R"(
# A comment.
load 5m
  m{a="1"} 0+10x10
  m{a="2"} 1 2 3
  m{a="1"} 7

eval instant at 50m m
  expect no_warn
  expect info msg: PromQL info: something
  expect warn regex: ^PromQL warning
  m{a="1"} 7

eval_fail instant at 0 m

clear
eval range from 0 to 10m step 5m sum(m)
  {} 1 _ 3
)";

TEST(ParseTestScriptTest, ParsesCommands) {
  auto script = ParseTestScript(kScript);
  ASSERT_TRUE(script.ok()) << script.status();
  ASSERT_EQ(script->commands.size(), 5u);
  const auto& load = std::get<LoadCommand>(script->commands[0]);
  EXPECT_EQ(load.line, 3);
  EXPECT_EQ(load.interval_ms, 300'000);
  ASSERT_EQ(load.series.size(), 2u);
  EXPECT_EQ(Floats(load.series[0]), std::vector<double>{7});  // the last line wins

  const auto& e1 = std::get<EvalCommand>(script->commands[1]);
  EXPECT_EQ(e1.line, 8);
  EXPECT_EQ(e1.expr, "m");
  EXPECT_EQ(e1.start_ms, 3'000'000);
  EXPECT_TRUE(e1.no_warn);
  ASSERT_EQ(e1.info_matchers.size(), 1u);
  EXPECT_EQ(e1.info_matchers[0].kind, TextMatcher::Kind::kExact);
  EXPECT_EQ(e1.info_matchers[0].text, "PromQL info: something");
  ASSERT_EQ(e1.warn_matchers.size(), 1u);
  EXPECT_EQ(e1.warn_matchers[0].kind, TextMatcher::Kind::kRegex);
  EXPECT_THAT(e1.script_error, HasSubstr("no_warn"));  // warn and no_warn together
  ASSERT_EQ(e1.series.size(), 1u);

  EXPECT_TRUE(std::get<EvalCommand>(script->commands[2]).expect_fail);
  EXPECT_EQ(std::get<ClearCommand>(script->commands[3]).line, 16);

  const auto& range = std::get<EvalCommand>(script->commands[4]);
  EXPECT_TRUE(range.is_range);
  EXPECT_EQ(range.end_ms, 600'000);
  EXPECT_EQ(range.step_ms, 300'000);
  EXPECT_EQ(range.expr, "sum(m)");
  ASSERT_EQ(range.series.size(), 1u);
  EXPECT_EQ(range.series[0].values[1].kind, ScriptValue::Kind::kOmitted);
}

TEST(ParseTestScriptTest, ACommentEndsTheBody) {
  // The value line after the comment is at top level, where it is no command.
  auto script = ParseTestScript("eval instant at 1m 1\n# the end\n  1\n");
  ASSERT_FALSE(script.ok());
  EXPECT_THAT(script.status().message(), HasSubstr("line 3: invalid command"));
}

TEST(ParseTestScriptTest, RejectsUnknownCommands) {
  auto script = ParseTestScript("load 1m\n  m 1\n\nfoo bar\n");
  ASSERT_FALSE(script.ok());
  EXPECT_THAT(script.status().message(), HasSubstr("line 4"));
  EXPECT_FALSE(ParseTestScript("load 1m\n  m{ 1\n").ok());
}

TEST(ParseTestScriptTest, ParsesStartTimestampLines) {
  auto script = ParseTestScript(R"(
load 1m
  a@st _ -30s-1mx2 +1m _x1 0 -1msx1
  a    0 1 2 3 4 5 6 7 8
  b 1 2
)");
  ASSERT_TRUE(script.ok()) << script.status();
  const auto& load = std::get<LoadCommand>(script->commands[0]);
  ASSERT_EQ(load.series.size(), 2u);
  // Position k's start is k minutes plus its offset; `_` gives none (0), and so does a start
  // that lands on 0.
  EXPECT_EQ(load.series[0].start_timestamps_ms,
            (std::vector<int64_t>{0, 30'000, 30'000, 30'000, 300'000, 0, 360'000, 419'999,
                                  479'999}));
  EXPECT_TRUE(load.series[1].start_timestamps_ms.empty());
}

TEST(ParseTestScriptTest, RejectsStartTimestampLinesWithoutTheirSeries) {
  // A different series, a different length, and an @st line at the end of the block.
  EXPECT_FALSE(ParseTestScript("load 1m\n  a@st 0 0\n  b 1 2\n").ok());
  EXPECT_FALSE(ParseTestScript("load 1m\n  a@st 0\n  a 1 2\n").ok());
  EXPECT_FALSE(ParseTestScript("load 1m\n  a 1\n  a@st 0\n").ok());
  EXPECT_FALSE(ParseTestScript("load 1m\n  a@st 1x\n  a 1\n").ok());
}

TEST(ParseTestScriptTest, ParsesExpectationForms) {
  auto script = ParseTestScript(R"(
eval instant at 1m 1
  -0.5e-6

eval instant at 10s "a"
  expect string "a\tb"

eval instant at 1m m[1m]
  expect range vector from 10s to 1m step 10s
  m{a="2"} 1 2

eval instant at 1m m
  m 1 2

eval_ordered instant at 1m m
  expect fail regex: bad.*thing
)");
  ASSERT_TRUE(script.ok()) << script.status();
  ASSERT_EQ(script->commands.size(), 5u);
  EXPECT_EQ(*std::get<EvalCommand>(script->commands[0]).scalar, -0.5e-6);
  EXPECT_EQ(*std::get<EvalCommand>(script->commands[1]).string_value, "a\tb");
  const auto& rv = std::get<EvalCommand>(script->commands[2]);
  EXPECT_TRUE(rv.expect_range_vector);
  EXPECT_EQ(rv.start_ms, 60'000);
  EXPECT_EQ(rv.grid_start_ms, 10'000);
  EXPECT_EQ(rv.grid_step_ms, 10'000);
  EXPECT_TRUE(rv.script_error.empty()) << rv.script_error;
  EXPECT_THAT(std::get<EvalCommand>(script->commands[3]).script_error, HasSubstr("multiple"));
  const auto& ordered = std::get<EvalCommand>(script->commands[4]);
  EXPECT_TRUE(ordered.ordered);
  EXPECT_TRUE(ordered.expect_fail);
  ASSERT_EQ(ordered.fail_matchers.size(), 1u);
  EXPECT_TRUE(ordered.fail_matchers[0].Matches("a bad thing happened"));
  EXPECT_FALSE(ordered.fail_matchers[0].Matches("all good"));
}

TEST(ParseTestScriptTest, ParsesTheCommentTerminatorAsEmptyExpectation) {
  auto script = ParseTestScript("eval instant at 0 m\n# empty\n");
  ASSERT_TRUE(script.ok()) << script.status();
  const auto& eval = std::get<EvalCommand>(script->commands[0]);
  EXPECT_TRUE(eval.series.empty());
  EXPECT_FALSE(eval.scalar.has_value());
}

TEST(ScriptFloatsEqualTest, FollowsTheUpstreamRule) {
  const double nan = std::nan("");
  EXPECT_TRUE(ScriptFloatsEqual(nan, std::nan("1")));
  EXPECT_FALSE(ScriptFloatsEqual(model::StaleNaN(), nan));
  EXPECT_TRUE(ScriptFloatsEqual(model::StaleNaN(), model::StaleNaN()));
  EXPECT_TRUE(ScriptFloatsEqual(INFINITY, INFINITY));
  EXPECT_FALSE(ScriptFloatsEqual(INFINITY, -INFINITY));
  EXPECT_TRUE(ScriptFloatsEqual(1.0, 1.0 + 1e-9));
  EXPECT_FALSE(ScriptFloatsEqual(1.0, 1.00001));
  EXPECT_FALSE(ScriptFloatsEqual(0, 1e-17));
  EXPECT_TRUE(ScriptFloatsEqual(0, -0.0));
}

EvalCommand ParseOneEval(std::string_view text) {
  auto script = ParseTestScript(text);
  EXPECT_TRUE(script.ok()) << script.status();
  return std::get<EvalCommand>(script->commands.at(0));
}

QueryResult VectorResult(std::vector<VectorElement> v) {
  QueryResult r;
  r.type = ValueType::kVector;
  r.vector = std::move(v);
  return r;
}

TEST(CheckEvalResultTest, ComparesVectors) {
  EvalCommand eval = ParseOneEval("eval instant at 1m m\n  m{a=\"1\"} 1\n  m{a=\"2\"} 2\n");
  const auto a1 = L({{"__name__", "m"}, {"a", "1"}});
  const auto a2 = L({{"__name__", "m"}, {"a", "2"}});
  EXPECT_TRUE(CheckEvalResult(eval, VectorResult({{a2, 0, 2}, {a1, 0, 1}})).ok());
  EXPECT_THAT(CheckEvalResult(eval, VectorResult({{a1, 0, 1}})).message(), HasSubstr("not found"));
  EXPECT_THAT(CheckEvalResult(eval, VectorResult({{a1, 0, 1}, {a2, 0, 2.1}})).message(),
              HasSubstr("expected 2"));
  EXPECT_THAT(CheckEvalResult(eval, VectorResult({{L({}), 0, 1}})).message(),
              HasSubstr("unexpected metric {}"));
  eval.ordered = true;
  EXPECT_THAT(CheckEvalResult(eval, VectorResult({{a2, 0, 2}, {a1, 0, 1}})).message(),
              HasSubstr("position"));
  EXPECT_TRUE(CheckEvalResult(eval, VectorResult({{a1, 0, 1}, {a2, 0, 2}})).ok());
}

TEST(CheckEvalResultTest, ComparesMatrices) {
  EvalCommand eval = ParseOneEval("eval range from 0 to 2m step 1m m\n  m 1 _ 3\n  n 1\n");
  QueryResult r;
  r.type = ValueType::kMatrix;
  r.matrix = {{L({{"__name__", "m"}}), {{0, 1}, {120'000, 3}}}, {L({{"__name__", "n"}}), {{0, 1}}}};
  EXPECT_TRUE(CheckEvalResult(eval, r).ok());
  std::swap(r.matrix[0], r.matrix[1]);
  EXPECT_THAT(CheckEvalResult(eval, r).message(), HasSubstr("sorted"));
  std::swap(r.matrix[0], r.matrix[1]);
  r.matrix[0].points[1].t = 60'000;
  EXPECT_THAT(CheckEvalResult(eval, r).message(), HasSubstr("expected float point at 120000"));
  r.matrix[0].points.push_back({180'000, 4});
  EXPECT_THAT(CheckEvalResult(eval, r).message(), HasSubstr("2 float points"));
  EvalCommand too_long = ParseOneEval("eval range from 0 to 1m step 1m m\n  m 1 2 3\n");
  r.matrix = {{L({{"__name__", "m"}}), {{0, 1}, {60'000, 2}}}};
  EXPECT_THAT(CheckEvalResult(too_long, r).message(), HasSubstr("cannot return"));
}

TEST(CheckEvalResultTest, ComparesScalarsAndStrings) {
  EvalCommand eval = ParseOneEval("eval instant at 1m 1\n  1\n");
  QueryResult r;
  r.type = ValueType::kScalar;
  r.scalar = {60'000, 1};
  EXPECT_TRUE(CheckEvalResult(eval, r).ok());
  r.scalar.v = 2;
  EXPECT_FALSE(CheckEvalResult(eval, r).ok());
  EXPECT_THAT(CheckEvalResult(ParseOneEval("eval instant at 1m 1\n"), r).message(),
              HasSubstr("got scalar"));
  EXPECT_THAT(CheckEvalResult(eval, VectorResult({})).message(), HasSubstr("expected scalar"));
  QueryResult s;
  s.type = ValueType::kString;
  s.string_value = "x";
  EXPECT_TRUE(
      CheckEvalResult(ParseOneEval("eval instant at 0 \"x\"\n  expect string `x`\n"), s).ok());
  EXPECT_FALSE(CheckEvalResult(ParseOneEval("eval instant at 0 \"x\"\n"), s).ok());
}

TEST(CheckEvalResultTest, ChecksErrors) {
  EvalCommand eval =
      ParseOneEval("eval instant at 0 m\n  expect fail msg: vector cannot contain metrics\n");
  EXPECT_TRUE(
      CheckEvalResult(eval, absl::FailedPreconditionError("vector cannot contain metrics")).ok());
  EXPECT_FALSE(CheckEvalResult(eval, absl::FailedPreconditionError("other")).ok());
  EXPECT_THAT(CheckEvalResult(eval, VectorResult({})).message(), HasSubstr("expected an error"));
  EXPECT_THAT(CheckEvalResult(ParseOneEval("eval instant at 0 m\n"),
                              absl::InvalidArgumentError("1:1: parse error"))
                  .message(),
              HasSubstr("unexpected error: 1:1: parse error"));
  EXPECT_TRUE(
      CheckEvalResult(ParseOneEval("eval_fail instant at 0 m\n"), absl::InternalError("x")).ok());
}

TEST(CheckEvalResultTest, ChecksAnnotations) {
  QueryResult r = VectorResult({});
  r.warnings = {"PromQL warning: w1"};
  r.infos = {"PromQL info: i1"};
  EXPECT_TRUE(CheckEvalResult(ParseOneEval("eval instant at 0 m\n"), r).ok());
  EXPECT_FALSE(CheckEvalResult(ParseOneEval("eval instant at 0 m\n  expect no_info\n"), r).ok());
  EXPECT_TRUE(CheckEvalResult(
                  ParseOneEval("eval instant at 0 m\n  expect warn msg: PromQL warning: w1\n"), r)
                  .ok());
  EXPECT_FALSE(
      CheckEvalResult(ParseOneEval("eval instant at 0 m\n  expect warn msg: w1\n"), r).ok());
  EXPECT_TRUE(
      CheckEvalResult(ParseOneEval("eval instant at 0 m\n  expect info regex: i[0-9]\n"), r).ok());
  r.infos.push_back("PromQL info: other");
  EXPECT_THAT(CheckEvalResult(ParseOneEval("eval instant at 0 m\n  expect info regex: i[0-9]\n"), r)
                  .message(),
              HasSubstr("unexpected info annotation: PromQL info: other"));
  EXPECT_FALSE(CheckEvalResult(ParseOneEval("eval_warn instant at 0 m\n"), VectorResult({})).ok());
}

TEST(CheckRangeModeResultTest, ComparesThePointAtT) {
  EvalCommand eval = ParseOneEval("eval instant at 2m m\n  m 5\n");
  ASSERT_TRUE(WantsRangeModeCheck(eval));
  EXPECT_FALSE(WantsRangeModeCheck(ParseOneEval("eval instant at 2m time() - start()\n")));
  const QueryResult instant = VectorResult({{L({{"__name__", "m"}}), 120'000, 5}});
  QueryResult range;
  range.type = ValueType::kMatrix;
  range.matrix = {{L({{"__name__", "m"}}), {{60'000, 4}, {120'000, 5}, {180'000, 6}}}};
  EXPECT_TRUE(CheckRangeModeResult(eval, 120'000, instant, range).ok());
  range.matrix[0].points[1].v = 4;
  EXPECT_THAT(CheckRangeModeResult(eval, 120'000, instant, range).message(),
              HasSubstr("range mode"));
  EXPECT_FALSE(CheckRangeModeResult(eval, 120'000, instant, absl::InternalError("boom")).ok());
  range.matrix[0].points[1].v = 5;
  EXPECT_TRUE(CheckRangeModeResult(eval, 120'000, instant, range).ok());
  EXPECT_THAT(CheckRangeModeResult(eval, 60'000, instant, range).message(), HasSubstr("got 4"));
}

}  // namespace
}  // namespace kura::query
