#include "query/api_params.h"

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace kura::query {
namespace {

int64_t TimeMs(std::string_view s) {
  absl::StatusOr<int64_t> t = ParseTimeMs(s);
  EXPECT_TRUE(t.ok()) << s << ": " << t.status();
  return t.value_or(-1);
}

absl::Duration Duration(std::string_view s) {
  absl::StatusOr<absl::Duration> d = ParseApiDuration(s);
  EXPECT_TRUE(d.ok()) << s << ": " << d.status();
  return d.value_or(absl::InfiniteDuration());
}

TEST(ParseTimeMsTest, UnixSeconds) {
  EXPECT_EQ(TimeMs("0"), 0);
  EXPECT_EQ(TimeMs("1435781451"), 1435781451000);
  EXPECT_EQ(TimeMs("1435781451.781"), 1435781451781);
  EXPECT_EQ(TimeMs("1435781451.7815"), 1435781451782);  // rounded to ms
  EXPECT_EQ(TimeMs("+1.5"), 1500);
  EXPECT_EQ(TimeMs("-1.5"), -1500);
  EXPECT_EQ(TimeMs("1e3"), 1000000);
  EXPECT_EQ(TimeMs(".5"), 500);
}

TEST(ParseTimeMsTest, Rfc3339) {
  EXPECT_EQ(TimeMs("2015-07-01T20:10:51Z"), 1435781451000);
  EXPECT_EQ(TimeMs("2015-07-01T20:10:51.781Z"), 1435781451781);
  EXPECT_EQ(TimeMs("2015-07-01T20:10:51.7819999Z"), 1435781451781);  // truncated, not rounded
  EXPECT_EQ(TimeMs("2015-07-01T22:10:51.781+02:00"), 1435781451781);
  EXPECT_EQ(TimeMs("2015-07-01T15:40:51-04:30"), 1435781451000);
  EXPECT_EQ(TimeMs("1969-12-31T23:59:59.999Z"), -1);
  EXPECT_EQ(TimeMs("2024-02-29T00:00:00Z"), 1709164800000);
}

TEST(ParseTimeMsTest, PrometheusSentinels) {
  EXPECT_EQ(TimeMs(kMinTimeFormatted), kMinTimeMs);
  EXPECT_EQ(TimeMs(kMaxTimeFormatted), kMaxTimeMs);
}

TEST(ParseTimeMsTest, Errors) {
  for (std::string_view bad :
       {"", "abc", "2015-07-01", "2015-07-01T20:10:51", "2015-13-01T00:00:00Z",
        "2023-02-29T00:00:00Z", "2015-07-01T24:00:00Z", "2015-07-01T20:10:51.Z",
        "2015-07-01 20:10:51Z", "2015-07-01T20:10:51+0200", "NaN", "Inf", "1e400",
        "2015-07-01T20:10:51Zjunk", "++1"}) {
    absl::StatusOr<int64_t> t = ParseTimeMs(bad);
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ParseTimeMs("abc").status().message(), "cannot parse \"abc\" to a valid timestamp");
}

TEST(ParseApiDurationTest, PrometheusDurationsAndSeconds) {
  EXPECT_EQ(Duration("0"), absl::ZeroDuration());
  EXPECT_EQ(Duration("15"), absl::Seconds(15));
  EXPECT_EQ(Duration("0.5"), absl::Milliseconds(500));
  EXPECT_EQ(Duration("5m"), absl::Minutes(5));
  EXPECT_EQ(Duration("1h30m"), absl::Minutes(90));
  EXPECT_EQ(Duration("10s53ms"), absl::Milliseconds(10053));
  EXPECT_EQ(Duration("1y2w3d"), absl::Hours(24 * (365 + 14 + 3)));
  EXPECT_EQ(Duration("100ms"), absl::Milliseconds(100));
  EXPECT_EQ(Duration("-1"), absl::Seconds(-1));
}

TEST(ParseApiDurationTest, Errors) {
  for (std::string_view bad : {"", "5", "m", "5x", "1m1h", "1m1m", "1.5m", "-5m", "5 m", "1ms1s"}) {
    if (bad == "5") continue;  // plain numbers are seconds
    absl::StatusOr<absl::Duration> d = ParseApiDuration(bad);
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ParseApiDuration("5x").status().message(), "cannot parse \"5x\" to a valid duration");
  EXPECT_EQ(ParseApiDuration("1e10").status().message(),
            "cannot parse \"1e10\" to a valid duration. It overflows int64");
  EXPECT_FALSE(ParseApiDuration("300000y").ok());
}

TEST(ParseLimitTest, NonNegativeIntegers) {
  EXPECT_EQ(ParseLimit("").value(), 0);
  EXPECT_EQ(ParseLimit("10").value(), 10);
  EXPECT_EQ(ParseLimit("0").value(), 0);
  EXPECT_EQ(ParseLimit("-1").status().message(), "limit must be non-negative");
  EXPECT_EQ(ParseLimit("x").status().message(), "strconv.Atoi: parsing \"x\": invalid syntax");
}

TEST(PercentDecodeTest, DecodesEscapesAndPlus) {
  EXPECT_EQ(PercentDecode("up%7Bjob%3D%22a%20b%22%7D").value(), "up{job=\"a b\"}");
  EXPECT_EQ(PercentDecode("a+b").value(), "a b");
  EXPECT_EQ(PercentDecode("a+b", /*plus_is_space=*/false).value(), "a+b");
  EXPECT_EQ(PercentDecode("%e8%94%b5").value(), "\xE8\x94\xB5");
  EXPECT_EQ(PercentDecode("%zz1").status().message(), "invalid URL escape \"%zz\"");
  EXPECT_EQ(PercentDecode("ab%4").status().message(), "invalid URL escape \"%4\"");
}

TEST(ApiParamsTest, ReadsQueryStringAndFormBodyWithBodyFirst) {
  base::HttpRequest request;
  request.method = "POST";
  request.query = "match[]=up&time=2";
  request.headers = {{"content-type", "application/x-www-form-urlencoded; charset=utf-8"}};
  request.body = "match%5B%5D=%7B__name__%3D~%22a.%2B%22%7D&time=1&&empty=";
  absl::StatusOr<ApiParams> params = ApiParams::FromRequest(request);
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_EQ(params->Get("time"), "1");
  EXPECT_EQ(params->Get("empty"), "");
  EXPECT_EQ(params->Get("absent"), "");
  EXPECT_EQ(params->GetAll("match[]"),
            (std::vector<std::string>{"{__name__=~\"a.+\"}", "up"}));
}

TEST(ApiParamsTest, IgnoresBodiesThatAreNotForms) {
  base::HttpRequest request;
  request.method = "POST";
  request.headers = {{"content-type", "application/json"}};
  request.body = "time=1";
  absl::StatusOr<ApiParams> params = ApiParams::FromRequest(request);
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(params->Get("time"), "");
}

TEST(ApiParamsTest, RejectsBadEscapesAndSemicolons) {
  base::HttpRequest request;
  request.method = "GET";
  request.query = "query=%G1";
  EXPECT_EQ(ApiParams::FromRequest(request).status().message(), "invalid URL escape \"%G1\"");
  request.query = "a=1;b=2";
  EXPECT_EQ(ApiParams::FromRequest(request).status().message(),
            "invalid semicolon separator in query");
}

}  // namespace
}  // namespace kura::query
