#include <string>
#include <variant>

#include "gtest/gtest.h"
#include "query/parser.h"
#include "query/parser_duration_eval.h"

namespace kura::query {
namespace {

ExprPtr MustParse(const std::string& input) {
  absl::StatusOr<ExprPtr> e = ParseExpr(input);
  EXPECT_TRUE(e.ok()) << input << ": " << e.status();
  return e.ok() ? *std::move(e) : nullptr;
}

const MatrixSelector& MatrixArg(const Expr& call) {
  return std::get<MatrixSelector>(std::get<Call>(call.node).args[0]->node);
}

struct PrintCase {
  std::string input;
  std::string printed;
};

class DurationPrintTest : public testing::TestWithParam<PrintCase> {};

TEST_P(DurationPrintTest, PrintsAsPrometheus) {
  const PrintCase& c = GetParam();
  ExprPtr e = MustParse(c.input);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->String(), c.printed) << c.input;
}

INSTANTIATE_TEST_SUITE_P(
    Queries, DurationPrintTest,
    testing::Values(
        PrintCase{"rate(x[26m+4m])", "rate(x[26m + 4m])"},
        PrintCase{"rate(x[1800])", "rate(x[30m])"}, PrintCase{"rate(x[60*30])", "rate(x[60 * 30])"},
        PrintCase{"rate(x[2m*(10+5)])", "rate(x[2m * (10 + 5)])"},
        PrintCase{"rate(x[-5m+35m])", "rate(x[-5m + 35m])"},
        PrintCase{"rate(x[(1m)])", "rate(x[(1m)])"},
        PrintCase{"rate(x[STep()+1ms])", "rate(x[step() + 1ms])"},
        PrintCase{"rate(x[max_of(min_of(step()+1,1h),1ms)])",
                  "rate(x[max_of(min_of(step() + 1, 1h), 1ms)])"},
        PrintCase{"x[5m:step()*2]", "x[5m:step() * 2]"},
        PrintCase{"x[29s+1s:5s+5s] offset (1m)", "x[29s + 1s:5s + 5s] offset (1m)"},
        PrintCase{"x offset -(1m)", "x offset -(1m)"},
        PrintCase{"x offset -step()", "x offset -step()"},
        PrintCase{"x offset min_of(step(), 1s)", "x offset min_of(step(), 1s)"},
        PrintCase{"x offset range()", "x offset range()"},
        PrintCase{"x[1m] offset (2 ^ 2)", "x[1m] offset (2 ^ 2)"},
        // After `offset` a single term ends the duration; operators belong to the query.
        PrintCase{"x offset 100 + 2", "x offset 1m40s + 2"},
        PrintCase{"x offset -2 ^ 2", "x offset -2s ^ 2"},
        PrintCase{"x offset step()*0", "x offset step() * 0"},
        PrintCase{"x offset -min_of(step(), 1s)+8000", "x offset -min_of(step(), 1s) + 8000"}));

TEST(DurationExprTest, ConstantExpressionsFoldWhileParsing) {
  ExprPtr e = MustParse("changes(x[24m+((1.5*2m)+2m)])");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(MatrixArg(*e).range_ms, 29 * 60 * 1000);
  ExprPtr sq = MustParse("x[29s+1s:((((8 - 2) / 3) * 7s) % 4) + 8000ms] offset -(20*2s)");
  ASSERT_NE(sq, nullptr);
  const auto& s = std::get<SubqueryExpr>(sq->node);
  EXPECT_EQ(s.range_ms, 30000);
  EXPECT_EQ(s.step_ms, 10000);
  EXPECT_EQ(s.offset_ms, -40000);
}

TEST(DurationExprTest, OffsetTakesOneTermOnly) {
  ExprPtr e = MustParse("x offset -2 ^ 2");
  ASSERT_NE(e, nullptr);
  const auto& bin = std::get<BinaryExpr>(e->node);
  EXPECT_EQ(bin.op, BinaryOp::kPow);
  EXPECT_EQ(std::get<VectorSelector>(bin.lhs->node).offset_ms, -2000);
  ExprPtr paren = MustParse("x offset (-2 ^ 2)");
  ASSERT_NE(paren, nullptr);
  EXPECT_EQ(std::get<VectorSelector>(paren->node).offset_ms, -4000);
}

TEST(DurationExprTest, StepAndRangeResolvePerQuery) {
  ExprPtr e = MustParse("count_over_time(x[1+(STep()-5)*2] offset min_of(range(), 8s))");
  ASSERT_NE(e, nullptr);
  ASSERT_TRUE(ResolveDurationExprs(*e, /*step_ms=*/10000, /*range_ms=*/5000).ok());
  const MatrixSelector& ms = MatrixArg(*e);
  EXPECT_EQ(ms.range_ms, 11000);
  EXPECT_EQ(std::get<VectorSelector>(ms.selector->node).offset_ms, 5000);
  // Truncated to whole milliseconds, as Prometheus does.
  ExprPtr ms_expr = MustParse("count_over_time(x[step()+1ms])");
  ASSERT_NE(ms_expr, nullptr);
  ASSERT_TRUE(ResolveDurationExprs(*ms_expr, 10000, 0).ok());
  EXPECT_EQ(MatrixArg(*ms_expr).range_ms, 10001);
}

TEST(DurationExprTest, ResolutionErrors) {
  ExprPtr instant = MustParse("x[5m:step()]");
  ASSERT_NE(instant, nullptr);
  EXPECT_EQ(ResolveDurationExprs(*instant, 0, 0).message(), "duration must be greater than 0");
  ExprPtr negative = MustParse("rate(x[1m-2m])");
  ASSERT_NE(negative, nullptr);
  EXPECT_EQ(ResolveDurationExprs(*negative, 0, 0).message(), "duration must be greater than 0");
  ExprPtr div = MustParse("rate(x[1m/(step()-step())])");
  ASSERT_NE(div, nullptr);
  EXPECT_EQ(ResolveDurationExprs(*div, 1000, 0).message(), "division by zero");
  // A negative offset is fine.
  ExprPtr offset = MustParse("x offset -step()");
  ASSERT_NE(offset, nullptr);
  ASSERT_TRUE(ResolveDurationExprs(*offset, 5000, 0).ok());
  EXPECT_EQ(std::get<VectorSelector>(offset->node).offset_ms, -5000);
}

}  // namespace
}  // namespace kura::query
