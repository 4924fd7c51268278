#include "query/parser.h"

#include <random>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "query/function_signatures.h"

namespace kura::query {
namespace {

struct ValidCase {
  std::string input;
  std::string printed;
  ValueType type;
};

class ValidQueryTest : public testing::TestWithParam<ValidCase> {};

TEST_P(ValidQueryTest, PrintsCanonicallyAndTypes) {
  const ValidCase& c = GetParam();
  absl::StatusOr<ExprPtr> e = ParseExpr(c.input);
  ASSERT_TRUE(e.ok()) << c.input << ": " << e.status();
  EXPECT_EQ((*e)->String(), c.printed) << c.input;
  EXPECT_EQ((*e)->type, c.type) << c.input;
  // The canonical form parses back to itself.
  absl::StatusOr<ExprPtr> again = ParseExpr(c.printed);
  ASSERT_TRUE(again.ok()) << c.printed << ": " << again.status();
  EXPECT_EQ((*again)->String(), c.printed);
}

constexpr ValueType kS = ValueType::kScalar;
constexpr ValueType kV = ValueType::kVector;
constexpr ValueType kM = ValueType::kMatrix;
constexpr ValueType kStr = ValueType::kString;

INSTANTIATE_TEST_SUITE_P(
    Queries, ValidQueryTest,
    testing::Values(
        ValidCase{"1", "1", kS}, ValidCase{"+Inf", "+Inf", kS}, ValidCase{"-Inf", "-Inf", kS},
        ValidCase{"NaN", "NaN", kS}, ValidCase{".5", "0.5", kS}, ValidCase{"5.", "5", kS},
        ValidCase{"0xc", "12", kS}, ValidCase{"0755", "493", kS}, ValidCase{"-0755", "-493", kS},
        ValidCase{"5e-3", "0.005", kS}, ValidCase{"1_000", "1000", kS},
        ValidCase{"0.1 + 0.2", "0.1 + 0.2", kS}, ValidCase{"1 == bool 1", "1 == bool 1", kS},
        ValidCase{"-1^2", "-1 ^ 2", kS}, ValidCase{"-1*2", "-1 * 2", kS},
        ValidCase{"- -1", "1", kS}, ValidCase{"-(1)", "-(1)", kS},
        ValidCase{"1 < bool 2 - 1 * 2", "1 < bool 2 - 1 * 2", kS},
        ValidCase{"1 atan2 2", "1 atan2 2", kS}, ValidCase{"(1 + 2)", "(1 + 2)", kS},
        ValidCase{"-some_metric", "-some_metric", kV},
        ValidCase{"+some_metric", "+some_metric", kV},
        ValidCase{"foo * on(test,blub) group_left bar",
                  "foo * on (test, blub) group_left () bar", kV},
        ValidCase{"foo / ignoring(a) group_right(b) bar", "foo / ignoring (a) group_right (b) bar",
                  kV},
        ValidCase{"foo and on() bar", "foo and on () bar", kV},
        ValidCase{"foo and ignoring() bar", "foo and bar", kV},
        ValidCase{"foo == 1", "foo == 1", kV}, ValidCase{"1 + on() foo", "1 + foo", kV},
        ValidCase{"sum by (job) (rate(http_requests_total{code=\"200\"}[5m] offset 1m))",
                  "sum by (job) (rate(http_requests_total{code=\"200\"}[5m] offset 1m))", kV},
        ValidCase{"sum(x) by (job, instance)", "sum by (job, instance) (x)", kV},
        ValidCase{"SUM BY (job,) (x)", "sum by (job) (x)", kV},
        ValidCase{"sum by () (x)", "sum(x)", kV},
        ValidCase{"sum without () (x)", "sum without () (x)", kV},
        ValidCase{"sum without (instance) (x)", "sum without (instance) (x)", kV},
        ValidCase{"sum by (\"foo.bar\", on) (x)", "sum by (\"foo.bar\", on) (x)", kV},
        ValidCase{"topk(5, foo)", "topk(5, foo)", kV},
        ValidCase{"count_values(\"v\", foo)", "count_values(\"v\", foo)", kV},
        ValidCase{"quantile(0.9, foo)", "quantile(0.9, foo)", kV},
        ValidCase{"limitk(2, foo)", "limitk(2, foo)", kV},
        ValidCase{"limit_ratio(0.5, foo)", "limit_ratio(0.5, foo)", kV},
        ValidCase{"foo offset -5m", "foo offset -5m", kV},
        ValidCase{"foo offset 0", "foo", kV},
        ValidCase{"foo offset 100 + 2", "foo offset 1m40s + 2", kV},
        ValidCase{"foo offset -2 ^ 2", "foo offset -2s ^ 2", kV}, ValidCase{"foo offset 90", "foo offset 1m30s", kV},
        ValidCase{"foo @ 1603774568", "foo @ 1603774568.000", kV},
        ValidCase{"foo @ -5", "foo @ -5.000", kV}, ValidCase{"foo @ 5m", "foo @ 300.000", kV},
        ValidCase{"foo @ start()", "foo @ start()", kV},
        ValidCase{"foo offset 5m @ end()", "foo @ end() offset 5m", kV},
        ValidCase{"foo[5m] @ 100 offset 1h", "foo[5m] @ 100.000 offset 1h", kM},
        ValidCase{"foo[5m] offset 1h @ 100", "foo[5m] @ 100.000 offset 1h", kM},
        ValidCase{"rate(foo[5m])[1h:]", "rate(foo[5m])[1h:]", kM},
        ValidCase{"rate(foo[5m])[1h:5m] offset 1m @ start()",
                  "rate(foo[5m])[1h:5m] @ start() offset 1m", kM},
        ValidCase{"max_over_time(rate(foo[5m])[1h:1m])", "max_over_time(rate(foo[5m])[1h:1m])",
                  kV},
        ValidCase{"foo{c=~\"d.*\", a=\"b\",}", "foo{a=\"b\",c=~\"d.*\"}", kV},
        ValidCase{"{__name__=\"foo\"}", "{__name__=\"foo\"}", kV},
        ValidCase{"{\"foo.bar\"}", "{__name__=\"foo.bar\"}", kV},
        ValidCase{"{\"foo.bar\", \"a.b\"=\"c\"}", "{\"a.b\"=\"c\",__name__=\"foo.bar\"}", kV},
        ValidCase{"foo:bar:rate5m{a!=\"x\\ny\"}", "foo:bar:rate5m{a!=\"x\\ny\"}", kV},
        ValidCase{"\"foo\"", "\"foo\"", kStr}, ValidCase{"'a\\'b'", "\"a'b\"", kStr},
        ValidCase{"`a\\b`", "\"a\\\\b\"", kStr},
        ValidCase{"foo[5m]", "foo[5m]", kM}, ValidCase{"foo[90d]", "foo[90d]", kM},
        ValidCase{"foo[3600s]", "foo[1h]", kM}, ValidCase{"foo[5]", "foo[5s]", kM},
        ValidCase{"foo[1y]", "foo[1y]", kM}, ValidCase{"foo[1500ms]", "foo[1s500ms]", kM},
        ValidCase{"sum", "sum", kV}, ValidCase{"offset", "offset", kV},
        ValidCase{"by{a=\"b\"}", "by{a=\"b\"}", kV},
        ValidCase{"time()", "time()", kS}, ValidCase{"pi()", "pi()", kS},
        ValidCase{"scalar(foo)", "scalar(foo)", kS}, ValidCase{"step()", "step()", kS},
        ValidCase{"min_of(1, 2)", "min_of(1, 2)", kS},
        ValidCase{"label_join(up, \"a\", \",\", \"b\", \"c\")",
                  "label_join(up, \"a\", \",\", \"b\", \"c\")", kV},
        ValidCase{"round(foo)", "round(foo)", kV}, ValidCase{"round(foo, 2)", "round(foo, 2)", kV},
        ValidCase{"info(foo, {bar=\"x\"})", "info(foo, {bar=\"x\"})", kV},
        ValidCase{"info(foo)", "info(foo)", kV},
        ValidCase{"histogram_quantile(0.9, sum by (le) (rate(foo_bucket[5m])))",
                  "histogram_quantile(0.9, sum by (le) (rate(foo_bucket[5m])))", kV},
        ValidCase{"foo # comment\n + bar", "foo + bar", kV},
        ValidCase{"a or b and c", "a or b and c", kV},
        ValidCase{"foo and bar unless baz or qux", "foo and bar unless baz or qux", kV}));

struct InvalidCase {
  std::string input;
  std::string error;
};

class InvalidQueryTest : public testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidQueryTest, FailsWithPrometheusWording) {
  const InvalidCase& c = GetParam();
  ParserOptions options;
  options.enable_experimental_functions = false;
  absl::StatusOr<ExprPtr> e = ParseExpr(c.input, options);
  ASSERT_FALSE(e.ok()) << c.input << " parsed as " << (*e)->String();
  EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(e.status().message(), c.error) << c.input;
}

INSTANTIATE_TEST_SUITE_P(
    Queries, InvalidQueryTest,
    testing::Values(
        InvalidCase{"", "unknown position: parse error: no expression found in input"},
        InvalidCase{"# just a comment\n\n", "1:1: parse error: no expression found in input"},
        InvalidCase{"1+", "1:3: parse error: unexpected end of input"},
        InvalidCase{".", "1:1: parse error: unexpected character: '.'"},
        InvalidCase{"2.5.", "1:1: parse error: bad number or duration syntax: \"2.5.\""},
        InvalidCase{"100..4", "1:1: parse error: bad number or duration syntax: \"100..\""},
        InvalidCase{"0deadbeef", "1:1: parse error: bad number or duration syntax: \"0de\""},
        InvalidCase{"1 /", "1:4: parse error: unexpected end of input"},
        InvalidCase{"*1", "1:1: parse error: unexpected <op:*>"},
        InvalidCase{"(1))", "1:5: parse error: unexpected right parenthesis ')'"},
        InvalidCase{"((1)", "1:5: parse error: unclosed left parenthesis"},
        InvalidCase{"(", "1:2: parse error: unclosed left parenthesis"},
        InvalidCase{"()", "1:2: parse error: unexpected \")\""},
        InvalidCase{"1 and 1",
                    "1:1: parse error: set operator \"and\" not allowed in binary scalar "
                    "expression"},
        InvalidCase{"foo or 1",
                    "1:1: parse error: set operator \"or\" not allowed in binary scalar "
                    "expression"},
        InvalidCase{"1 == 1", "1:3: parse error: comparisons between scalars must use BOOL modifier"},
        InvalidCase{"1 !~ 1", "1:3: parse error: unexpected character after '!': '~'"},
        InvalidCase{"1 =~ 1", "1:3: parse error: unexpected character after '=': '~'"},
        InvalidCase{"-\"string\"",
                    "1:1: parse error: unary expression only allowed on expressions of type "
                    "scalar or instant vector, got \"string\""},
        InvalidCase{"-test[5m]",
                    "1:1: parse error: unary expression only allowed on expressions of type "
                    "scalar or instant vector, got \"range vector\""},
        InvalidCase{"@@", "1:1: parse error: unexpected <op:@>"},
        InvalidCase{"1 offset 1d",
                    "1:1: parse error: offset modifier must be preceded by an instant vector "
                    "selector or range vector selector or a subquery"},
        InvalidCase{"foo offset 1s offset 2s",
                    "1:1: parse error: offset may not be set multiple times"},
        InvalidCase{"a - on(b) ignoring(c) d", "1:11: parse error: unexpected <ignoring>"},
        InvalidCase{"foo bar", "1:5: parse error: unexpected identifier \"bar\""},
        InvalidCase{"rate(foo)",
                    "1:6: parse error: expected type range vector in call to function \"rate\", "
                    "got instant vector"},
        InvalidCase{"foo()", "1:1: parse error: unknown function with name \"foo\""},
        InvalidCase{"{}",
                    "1:1: parse error: vector selector must contain at least one non-empty "
                    "matcher"},
        InvalidCase{"{a=~\".*\"}",
                    "1:1: parse error: vector selector must contain at least one non-empty "
                    "matcher"},
        InvalidCase{"foo[5m] + 1",
                    "1:1: parse error: binary expression must contain only scalar and instant "
                    "vector types"},
        InvalidCase{"1 + foo[5m]",
                    "1:5: parse error: binary expression must contain only scalar and instant "
                    "vector types"},
        InvalidCase{"foo +\n  bar[5m]",
                    "2:3: parse error: binary expression must contain only scalar and instant "
                    "vector types"},
        InvalidCase{"sum(foo[5m])",
                    "1:5: parse error: expected type instant vector in aggregation expression, "
                    "got range vector"},
        InvalidCase{"topk(\"a\", foo)",
                    "1:6: parse error: expected type scalar in aggregation parameter, got string"},
        InvalidCase{"count_values(1, foo)",
                    "1:14: parse error: expected type string in aggregation parameter, got "
                    "scalar"},
        InvalidCase{"sum()", "1:1: parse error: no arguments for aggregate expression provided"},
        InvalidCase{"topk(foo)",
                    "1:1: parse error: wrong number of arguments for aggregate expression "
                    "provided, expected 2, got 1"},
        InvalidCase{"foo + bool bar",
                    "1:5: parse error: bool modifier can only be used on comparison operators"},
        InvalidCase{"foo and on(a) group_left bar",
                    "1:1: parse error: no grouping allowed for \"and\" operation"},
        InvalidCase{"foo * on(a) group_left(a) bar",
                    "1:5: parse error: label \"a\" must not occur in ON and GROUP clause at once"},
        InvalidCase{"1 + on(a) foo",
                    "1:1: parse error: vector matching only allowed between instant vectors"},
        InvalidCase{"foo{__name__=\"bar\"}",
                    "1:1: parse error: metric name must not be set twice: \"foo\" or \"bar\""},
        InvalidCase{"(foo)[5m]", "1:6: parse error: ranges only allowed for vector selectors"},
        InvalidCase{"foo offset 5m[5m]",
                    "1:14: parse error: no offset modifiers allowed before range"},
        InvalidCase{"foo @ 1[5m]", "1:8: parse error: no @ modifiers allowed before range"},
        InvalidCase{"foo[0s]", "1:5: parse error: duration must be greater than 0"},
        InvalidCase{"foo[-5m]", "1:5: parse error: duration must be greater than 0"},
        InvalidCase{"foo[5m:0s]", "1:8: parse error: duration must be greater than 0"},
        InvalidCase{"foo[5m][1h:]",
                    "1:1: parse error: subquery is only allowed on instant vector, got matrix "
                    "instead"},
        InvalidCase{"rate(foo[5m],)",
                    "1:13: parse error: trailing commas not allowed in function call args"},
        InvalidCase{"foo @ start",
                    "1:12: parse error: unexpected end of input in @, expected timestamp"},
        InvalidCase{"foo @ bar", "1:7: parse error: unexpected identifier \"bar\" in @, expected "
                                 "timestamp"},
        InvalidCase{"foo offset",
                    "1:11: parse error: unexpected end of input in offset, expected number, "
                    "duration, step(), or range()"},
        InvalidCase{"foo[]",
                    "1:5: parse error: unexpected \"]\" in subquery or range selector, expected "
                    "number, duration, step(), or range()"},
        InvalidCase{"foo[5m 1m]",
                    "1:8: parse error: unexpected duration \"1m\" in subquery or range, expected "
                    "\":\" or \"]\""},
        InvalidCase{"foo[5m:1m 1m]",
                    "1:11: parse error: unexpected duration \"1m\" in subquery selector, expected "
                    "\"]\""},
        InvalidCase{"foo[5m", "1:7: parse error: unclosed left bracket"},
        InvalidCase{"sum(foo) by",
                    "1:12: parse error: unexpected end of input in grouping opts, expected \"(\""},
        InvalidCase{"sum by (foo bar) (x)",
                    "1:13: parse error: unexpected identifier \"bar\" in grouping opts, expected "
                    "\",\" or \")\""},
        InvalidCase{"sum by (,) (x)",
                    "1:9: parse error: unexpected \",\" in grouping opts, expected label"},
        InvalidCase{"sum by (a) foo",
                    "1:12: parse error: unexpected identifier \"foo\" in aggregation"},
        InvalidCase{"sum(foo bar)",
                    "1:9: parse error: unexpected identifier \"bar\" in aggregation"},
        InvalidCase{"foo{a}",
                    "1:6: parse error: unexpected \"}\" in label matching, expected label "
                    "matching operator"},
        InvalidCase{"foo{a=b}",
                    "1:7: parse error: unexpected identifier \"b\" in label matching, expected "
                    "string"},
        InvalidCase{"foo{a=1}", "1:7: parse error: unexpected character inside braces: '1'"},
        InvalidCase{"foo{a=\"b\" c=\"d\"}",
                    "1:11: parse error: unexpected identifier \"c\" in label matching, expected "
                    "\",\" or \"}\""},
        InvalidCase{"foo{,}",
                    "1:5: parse error: unexpected \",\" in label matching, expected identifier "
                    "or \"}\""},
        InvalidCase{"foo{", "1:5: parse error: unexpected end of input inside braces"},
        InvalidCase{"limitk(2, foo)",
                    "1:1: parse error: limitk() is experimental and must be enabled with "
                    "--enable-feature=promql-experimental-functions"},
        InvalidCase{"sort_by_label(foo, \"a\")",
                    "1:1: parse error: function \"sort_by_label\" is not enabled"},
        InvalidCase{"foo @ Inf",
                    "1:1: parse error: timestamp out of bounds for @ modifier: +Inf"},
        InvalidCase{"foo @ 1 @ 2",
                    "1:1: parse error: @ <timestamp> may not be set multiple times"},
        InvalidCase{"sum(foo) @ 1",
                    "1:1: parse error: @ modifier must be preceded by an instant vector selector "
                    "or range vector selector or a subquery"},
        InvalidCase{"label_replace(foo)",
                    "1:1: parse error: expected 5 argument(s) in call to \"label_replace\", got 1"},
        InvalidCase{"label_join(foo)",
                    "1:1: parse error: expected at least 3 argument(s) in call to "
                    "\"label_join\", got 1"},
        InvalidCase{"round(foo, 1, 2)",
                    "1:1: parse error: expected at most 2 argument(s) in call to \"round\", got 3"},
        InvalidCase{"time(1)",
                    "1:1: parse error: expected 0 argument(s) in call to \"time\", got 1"},
        InvalidCase{"\"\\q\"", "1:1: parse error: unknown escape sequence U+0071 'q'"},
        InvalidCase{"1e999",
                    "1:1: parse error: error parsing number: strconv.ParseFloat: parsing "
                    "\"1e999\": value out of range"},
        InvalidCase{"foo[5ms5m]",
                    "1:5: parse error: not a valid duration string: \"5ms5m\""},
        InvalidCase{"foo[1m/0]", "1:7: parse error: division by zero"},
        InvalidCase{"foo[1m:1m%0]", "1:10: parse error: modulo by zero"},
        InvalidCase{"foo[5m+]",
                    "1:8: parse error: unexpected \"]\" in subquery or range selector, expected "
                    "number, duration, step(), or range()"},
        InvalidCase{"foo[1m:-0.5]", "1:8: parse error: duration must be greater than 0"},
        InvalidCase{"foo offset min_of(1m)",
                    "1:21: parse error: unexpected \")\" in offset, expected number, duration, "
                    "step(), or range()"},
        InvalidCase{"foo anchored",
                    "1:1: parse error: anchored modifier is experimental and not enabled"},
        InvalidCase{"foo + fill(0) bar",
                    "1:1: parse error: binop fill modifiers are experimental and not enabled"},
        InvalidCase{"group_left", "1:1: parse error: unexpected <group_left>"}));

TEST(ParserTest, RegexErrorsPointAtTheLabel) {
  absl::StatusOr<ExprPtr> e = ParseExpr("foo{a=~\"(\"}");
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(absl::StartsWith(e.status().message(), "1:5: parse error: error parsing regexp"))
      << e.status();
}

TEST(ParserTest, InfoAcceptsEmptyMatchingLabelSelector) {
  ASSERT_TRUE(ParseExpr("info(foo, {job=~\".*\"})").ok());
  absl::StatusOr<ExprPtr> e = ParseExpr("info(foo, bar)");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(),
            "1:11: parse error: expected label selectors only, got vector selector instead");
}

const BinaryExpr& AsBinary(const Expr& e) { return std::get<BinaryExpr>(e.node); }

TEST(ParserTest, LeftAssociativity) {
  absl::StatusOr<ExprPtr> e = ParseExpr("1 - 2 - 3");
  ASSERT_TRUE(e.ok());
  const BinaryExpr& top = AsBinary(**e);
  EXPECT_EQ(top.lhs->String(), "1 - 2");
  EXPECT_EQ(top.rhs->String(), "3");
}

TEST(ParserTest, PowerIsRightAssociative) {
  absl::StatusOr<ExprPtr> e = ParseExpr("2 ^ 3 ^ 2");
  ASSERT_TRUE(e.ok());
  const BinaryExpr& top = AsBinary(**e);
  EXPECT_EQ(top.lhs->String(), "2");
  EXPECT_EQ(top.rhs->String(), "3 ^ 2");
}

TEST(ParserTest, UnaryMinusBindsLooserThanPower) {
  absl::StatusOr<ExprPtr> e = ParseExpr("-2 ^ 2");
  ASSERT_TRUE(e.ok());
  const auto& unary = std::get<UnaryExpr>((*e)->node);
  EXPECT_TRUE(unary.negate);
  EXPECT_EQ(AsBinary(*unary.expr).op, BinaryOp::kPow);

  // But tighter than multiplication, and a literal operand is folded.
  e = ParseExpr("-2 * 3");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(std::get<NumberLiteral>(AsBinary(**e).lhs->node).value, -2);
  EXPECT_EQ((*e)->pos.start, 0);
}

TEST(ParserTest, SetOperatorPrecedence) {
  absl::StatusOr<ExprPtr> e = ParseExpr("a or b and c");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(AsBinary(**e).op, BinaryOp::kOr);
  EXPECT_EQ(AsBinary(*AsBinary(**e).rhs).op, BinaryOp::kAnd);
  EXPECT_EQ(AsBinary(**e).matching->card, VectorMatchCardinality::kManyToMany);

  e = ParseExpr("a and b or c");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(AsBinary(**e).op, BinaryOp::kOr);
  EXPECT_EQ(AsBinary(*AsBinary(**e).lhs).op, BinaryOp::kAnd);

  e = ParseExpr("a + b * c > d and e");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->String(), "a + b * c > d and e");
  const BinaryExpr& top = AsBinary(**e);
  EXPECT_EQ(top.op, BinaryOp::kAnd);
  EXPECT_EQ(AsBinary(*top.lhs).op, BinaryOp::kGtr);
  EXPECT_EQ(AsBinary(*AsBinary(*top.lhs).lhs).op, BinaryOp::kAdd);
}

TEST(ParserTest, SelectorDetails) {
  absl::StatusOr<ExprPtr> e = ParseExpr("foo{a=\"b\"}[5m] offset -1m @ 10.5");
  ASSERT_TRUE(e.ok()) << e.status();
  const auto& ms = std::get<MatrixSelector>((*e)->node);
  EXPECT_EQ(ms.range_ms, 300000);
  const auto& vs = std::get<VectorSelector>(ms.selector->node);
  EXPECT_EQ(vs.name, "foo");
  ASSERT_EQ(vs.matchers.size(), 2u);
  EXPECT_EQ(vs.matchers[1].name(), "__name__");
  EXPECT_EQ(vs.offset_ms, -60000);
  EXPECT_EQ(vs.at, AtModifier::kTimestamp);
  EXPECT_EQ(vs.at_ms, 10500);
  EXPECT_EQ((*e)->pos.end, 32);

  e = ParseExpr("rate(x[5m])[30m:1m]");
  ASSERT_TRUE(e.ok());
  const auto& sq = std::get<SubqueryExpr>((*e)->node);
  EXPECT_EQ(sq.range_ms, 1800000);
  EXPECT_EQ(sq.step_ms, 60000);
}

TEST(ParserTest, MetricSelector) {
  absl::StatusOr<std::vector<model::LabelMatcher>> m =
      ParseMetricSelector("up{job=\"x\", instance=~\"a.*\"}");
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->size(), 3u);
  EXPECT_EQ((*m)[0].name(), "job");
  EXPECT_EQ((*m)[1].type(), model::MatchType::kRegexMatch);
  EXPECT_EQ((*m)[2].value(), "up");
  ASSERT_TRUE(ParseMetricSelector("{__name__=~\"node_.*\"}").ok());
  EXPECT_EQ(ParseMetricSelector("up + 1").status().message(),
            "1:4: parse error: unexpected <op:+>");
  EXPECT_EQ(ParseMetricSelector("rate(x)").status().message(),
            "1:5: parse error: unexpected \"(\"");
}

TEST(ParserTest, Durations) {
  EXPECT_EQ(*ParseDuration("1h30m"), 5400000);
  EXPECT_EQ(*ParseDuration("10s53ms"), 10053);
  EXPECT_EQ(*ParseDuration("0"), 0);
  EXPECT_EQ(*ParseDuration("1y2w3d"), (365 + 14 + 3) * 86400000LL);
  EXPECT_EQ(ParseDuration("").status().message(), "empty duration string");
  EXPECT_EQ(ParseDuration("1m1h").status().message(), "not a valid duration string: \"1m1h\"");
  EXPECT_EQ(ParseDuration("5x").status().message(), "unknown unit \"x\" in duration \"5x\"");
  EXPECT_EQ(ParseDuration("-5m").status().message(), "not a valid duration string: \"-5m\"");
  EXPECT_EQ(ParseDuration("300y").status().message(), "duration out of range");
}

TEST(ParserTest, FunctionTableIsComplete) {
  for (std::string_view name :
       {"rate", "irate", "increase", "histogram_quantile", "histogram_fraction", "info",
        "double_exponential_smoothing", "sort_by_label", "sort_by_label_desc",
        "ts_of_max_over_time", "ts_of_min_over_time", "ts_of_first_over_time",
        "ts_of_last_over_time", "mad_over_time", "first_over_time", "histogram_avg",
        "histogram_stddev", "histogram_stdvar", "histogram_count", "histogram_sum",
        "label_replace", "label_join", "absent_over_time", "present_over_time", "predict_linear",
        "quantile_over_time", "days_in_month", "timestamp", "vector", "scalar", "sgn", "clamp"}) {
    EXPECT_NE(LookupFunction(name), nullptr) << name;
  }
  EXPECT_EQ(LookupFunction("foo"), nullptr);
  EXPECT_EQ(LookupFunction("RATE"), nullptr);
  const FunctionSignature* round = LookupFunction("round");
  ASSERT_NE(round, nullptr);
  EXPECT_EQ(round->variadic, 1);
  EXPECT_TRUE(LookupFunction("mad_over_time")->experimental);
  EXPECT_FALSE(LookupFunction("rate")->experimental);
}

TEST(ParserTest, DeepNestingIsAnErrorNotACrash) {
  std::string parens(100000, '(');
  EXPECT_FALSE(ParseExpr(parens + "1" + std::string(100000, ')')).ok());
  EXPECT_FALSE(ParseExpr(std::string(100000, '-') + "1").ok());
  std::string chain = "1";
  for (int i = 0; i < 5000; ++i) chain += " + 1";
  EXPECT_FALSE(ParseExpr(chain).ok());
  std::string power = "2";
  for (int i = 0; i < 5000; ++i) power += " ^ 2";
  EXPECT_FALSE(ParseExpr(power).ok());
  std::string subqueries = "foo";
  for (int i = 0; i < 5000; ++i) subqueries += "[1m:]";
  EXPECT_FALSE(ParseExpr(subqueries).ok());
  // Moderate nesting still parses.
  EXPECT_TRUE(ParseExpr(std::string(200, '(') + "1" + std::string(200, ')')).ok());
}

// Mutates valid queries at random: every result must parse or fail cleanly, and whatever parses
// must print to a query that parses back to the same text.
TEST(ParserTest, RandomMutationsNeverCrash) {
  const std::vector<std::string> corpus = {
      "sum by (job) (rate(http_requests_total{code=\"200\"}[5m] offset 1m))",
      "foo * on(a, b) group_left(c) bar{x=~\"y.*\"} @ 100",
      "histogram_quantile(0.9, sum without (i) (rate(b[1m:30s])))",
      "-2 ^ 3 ^ -1 + topk(3, x) / count_values(\"v\", y) or z unless w",
      "label_replace(up, \"a\", \"$1\", 'b', `(.*)`) > bool 0x1f",
      "{\"a.b\"=\"c\", d!=\"e\\n\"}[90d] offset -5m @ end()",
      "1e3 - .5 * Inf atan2 NaN % 1_000 # comment\n + time()",
  };
  const std::string alphabet = "(){}[]\"'`,:=!~<>+-*/%^@# \n0159.exm_abyonfsetwihut";
  std::mt19937 rng(20240601);
  int parsed = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string q = corpus[rng() % corpus.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits && !q.empty(); ++k) {
      const size_t pos = rng() % q.size();
      switch (rng() % 4) {
        case 0: q.erase(pos, 1); break;
        case 1: q.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
        case 2: q[pos] = static_cast<char>(rng() % 256); break;
        default: q.insert(pos, q.substr(rng() % q.size(), rng() % 8)); break;
      }
    }
    absl::StatusOr<ExprPtr> e = ParseExpr(q);
    if (!e.ok()) {
      EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_TRUE(absl::StrContains(e.status().message(), "parse error: ")) << e.status();
      continue;
    }
    ++parsed;
    const std::string printed = (*e)->String();
    absl::StatusOr<ExprPtr> again = ParseExpr(printed);
    ASSERT_TRUE(again.ok()) << q << " -> " << printed << ": " << again.status();
    EXPECT_EQ((*again)->String(), printed) << q;
  }
  EXPECT_GT(parsed, 100);
}

TEST(ParserTest, BinopFillModifiers) {
  ParserOptions options;
  options.enable_binop_fill_modifiers = true;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a + fill(0) b", "a + fill (0) b"},
      {"a + fill_left(1) b", "a + fill_left (1) b"},
      {"a + fill_right(-2.5) b", "a + fill_right (-2.5) b"},
      {"a + fill_left(2) fill_right(2) b", "a + fill (2) b"},
      {"a + fill_right(1m) fill_left(+5) b", "a + fill_left (5) fill_right (60) b"},
      {"a == bool fill(Inf) b", "a == bool fill (+Inf) b"},
      // NaN never equals itself, so the two sides print apart.
      {"a > fill(NaN) b", "a > fill_left (NaN) fill_right (NaN) b"},
      {"a * on(x) group_left(y) fill_right(1) b", "a * on (x) group_left (y) fill_right (1) b"},
      {"a / ignoring(x) FILL(0) b", "a / ignoring (x) fill (0) b"},
      // Without a "(" the fill words are metric names.
      {"fill + fill(0) fill_left", "fill + fill (0) fill_left"},
      {"other + fill", "other + fill"},
  };
  for (const auto& [input, printed] : cases) {
    absl::StatusOr<ExprPtr> e = ParseExpr(input, options);
    ASSERT_TRUE(e.ok()) << input << ": " << e.status();
    EXPECT_EQ((*e)->String(), printed) << input;
    absl::StatusOr<ExprPtr> again = ParseExpr(printed, options);
    ASSERT_TRUE(again.ok()) << printed << ": " << again.status();
    EXPECT_EQ((*again)->String(), printed);
  }

  absl::StatusOr<ExprPtr> e = ParseExpr("a - fill_left(3) fill_right(-4) b", options);
  ASSERT_TRUE(e.ok()) << e.status();
  const auto& bin = std::get<BinaryExpr>((*e)->node);
  ASSERT_TRUE(bin.matching.has_value());
  EXPECT_EQ(bin.matching->fill_lhs, 3);
  EXPECT_EQ(bin.matching->fill_rhs, -4);
  e = ParseExpr("a - b", options);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_FALSE(std::get<BinaryExpr>((*e)->node).matching->fill_lhs.has_value());
  EXPECT_FALSE(std::get<BinaryExpr>((*e)->node).matching->fill_rhs.has_value());
}

TEST(ParserTest, BinopFillModifierErrors) {
  // Off by default, as in Prometheus.
  absl::StatusOr<ExprPtr> e = ParseExpr("x + fill(0) y");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(),
            "1:1: parse error: binop fill modifiers are experimental and not enabled");
  e = ParseExpr("x + fill_right(0) y");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(),
            "1:1: parse error: binop fill modifiers are experimental and not enabled");
  EXPECT_TRUE(ParseExpr("x + fill").ok());

  ParserOptions options;
  options.enable_binop_fill_modifiers = true;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"x + fill(0) 1",
       "1:1: parse error: filling in missing series only allowed between instant vectors"},
      {"1 + fill(0) 2",
       "1:1: parse error: filling in missing series only allowed between instant vectors"},
      {"x and fill(0) y",
       "1:1: parse error: filling in missing series not allowed for set operators"},
      {"x or fill_left(1) y",
       "1:1: parse error: filling in missing series not allowed for set operators"},
  };
  for (const auto& [input, error] : cases) {
    e = ParseExpr(input, options);
    ASSERT_FALSE(e.ok()) << input << " parsed as " << (*e)->String();
    EXPECT_EQ(e.status().message(), error) << input;
  }
  for (const char* input : {"x + fill() y", "x + fill(y) z", "x + fill(1 y", "x + fill(1) (2) y",
                            "x + fill(1) fill_left(2) y", "x + fill_left(1) fill_left(2) y"}) {
    e = ParseExpr(input, options);
    ASSERT_FALSE(e.ok()) << input << " parsed as " << (*e)->String();
    EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument) << input;
  }
}

TEST(ParserTest, ExtendedRangeSelectors) {
  ParserOptions options;
  options.enable_extended_range_selectors = true;
  // Input, then Prometheus's canonical form: after @ on an instant selector, right after the
  // range on a range selector.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"foo anchored", "foo anchored"},
      {"foo smoothed", "foo smoothed"},
      {"foo offset 5m @ 10 smoothed", "foo @ 10.000 smoothed offset 5m"},
      {"rate(foo[5m] anchored)", "rate(foo[5m] anchored)"},
      {"increase(foo[1m] smoothed offset 1m)", "increase(foo[1m] smoothed offset 1m)"},
      {"foo[5m] offset 1m @ 100 anchored", "foo[5m] anchored @ 100.000 offset 1m"},
      {"foo anchored[5m]", "foo[5m] anchored"},
      {"foo anchored anchored", "foo anchored"},
  };
  for (const auto& [input, printed] : cases) {
    absl::StatusOr<ExprPtr> e = ParseExpr(input, options);
    ASSERT_TRUE(e.ok()) << input << ": " << e.status();
    EXPECT_EQ((*e)->String(), printed) << input;
  }
  absl::StatusOr<ExprPtr> e = ParseExpr("rate(foo[5m] smoothed)", options);
  ASSERT_TRUE(e.ok());
  const auto& call = std::get<Call>((*e)->node);
  const auto& ms = std::get<MatrixSelector>(call.args[0]->node);
  const auto& vs = std::get<VectorSelector>(ms.selector->node);
  EXPECT_TRUE(vs.smoothed);
  EXPECT_FALSE(vs.anchored);
  // The modifier leaves the selector's position range as it was.
  e = ParseExpr("foo anchored", options);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->pos.end, 3);
}

TEST(ParserTest, ExtendedRangeSelectorErrors) {
  // Off by default, as in Prometheus; the error points at the expression the modifier follows.
  absl::StatusOr<ExprPtr> e = ParseExpr("rate(foo[5m] smoothed)");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(),
            "1:6: parse error: smoothed modifier is experimental and not enabled");

  ParserOptions options;
  options.enable_extended_range_selectors = true;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"foo anchored smoothed",
       "1:1: parse error: anchored and smoothed modifiers cannot be used together"},
      {"foo[5m] smoothed anchored",
       "1:1: parse error: anchored and smoothed modifiers cannot be used together"},
      {"foo[5m:1m] anchored",
       "1:1: parse error: anchored modifier is not supported for subqueries"},
      {"(foo + bar) smoothed", "1:1: parse error: smoothed modifier not implemented"},
      {"sum(foo) anchored", "1:1: parse error: anchored modifier not implemented"},
  };
  for (const auto& [input, error] : cases) {
    e = ParseExpr(input, options);
    ASSERT_FALSE(e.ok()) << input << " parsed as " << (*e)->String();
    EXPECT_EQ(e.status().message(), error) << input;
  }
}

// Inputs scripts/fuzz-parser.sh found that crashed or tripped a sanitizer, with the answer each
// must get now.
TEST(ParserTest, FuzzerFindings) {
  ParserOptions all;
  all.enable_extended_range_selectors = true;
  all.enable_binop_fill_modifiers = true;
  // NaN as a duration literal converted to an integer (undefined behaviour).
  for (const char* q : {"rate(x[10m] offset NaN)", "x offset -NaN"}) {
    absl::StatusOr<ExprPtr> e = ParseExpr(q, all);
    ASSERT_FALSE(e.ok()) << q;
    EXPECT_TRUE(absl::StrContains(e.status().message(), "duration out of range")) << e.status();
  }
  // An @ time whose milliseconds overflow int64.
  for (const char* q : {"c @ 1111111111111111111", "c @ -1e16", "c[5m] @ 9.3e15"}) {
    absl::StatusOr<ExprPtr> e = ParseExpr(q, all);
    ASSERT_FALSE(e.ok()) << q;
    EXPECT_TRUE(absl::StrContains(e.status().message(), "timestamp out of bounds")) << e.status();
  }
  ASSERT_TRUE(ParseExpr("c @ 9.2e15", all).ok());
  // +Inf on the left of ^ printed with its sign, which parses back as a unary plus.
  EXPECT_EQ((*ParseExpr("inf^v", all))->String(), "Inf ^ v");
  for (const char* q : {"inf^v", "Inf ^ 2", "+Inf ^ 2", "-Inf ^ 2", "(Inf ^ 2)"}) {
    absl::StatusOr<ExprPtr> e = ParseExpr(q, all);
    ASSERT_TRUE(e.ok()) << e.status();
    const std::string printed = (*e)->String();
    absl::StatusOr<ExprPtr> again = ParseExpr(printed, all);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ((*again)->String(), printed);
  }
  // info()'s empty label selector printed as nothing, so format_query's answer did not parse.
  absl::StatusOr<ExprPtr> info = ParseExpr("info(mec, {})", all);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ((*info)->String(), "info(mec, {})");
}

}  // namespace
}  // namespace kura::query
