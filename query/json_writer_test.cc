#include "query/json_writer.h"

#include <cmath>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace kura::query {
namespace {

std::string GoFloat(double v) {
  std::string out;
  AppendGoFloat(v, &out);
  return out;
}

std::string SampleValue(double v) {
  std::string out;
  AppendSampleValue(v, &out);
  return out;
}

std::string Timestamp(int64_t t_ms) {
  std::string out;
  AppendTimestamp(t_ms, &out);
  return out;
}

std::string GoJsonNumber(double v) {
  std::string out;
  AppendGoJsonNumber(v, &out);
  return out;
}

std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

TEST(AppendGoFloatTest, MatchesStrconvFormatFloatF) {
  struct Case {
    double v;
    const char* want;
  };
  const Case cases[] = {
      {1, "1"},
      {0.1, "0.1"},
      {0, "0"},
      {-0.0, "-0"},
      {-1.5, "-1.5"},
      {1e21, "1000000000000000000000"},
      {1e-7, "0.0000001"},
      {123456789, "123456789"},
      {9007199254740993.0, "9007199254740992"},
      {1e23, "100000000000000000000000"},
      {0.30000000000000004, "0.30000000000000004"},
      {1234567.8, "1234567.8"},
      {std::nan(""), "NaN"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(GoFloat(c.v), c.want) << c.want;
  }
  // The extremes: 309 integer digits, and 323 zeros after the point.
  EXPECT_EQ(GoFloat(std::numeric_limits<double>::max()),
            "17976931348623157" + std::string(292, '0'));
  EXPECT_EQ(GoFloat(5e-324), "0." + std::string(323, '0') + "5");
}

TEST(SampleValueTest, UsesExponentFormOutsidePrometheusRange) {
  EXPECT_EQ(SampleValue(1), "1");
  EXPECT_EQ(SampleValue(1.2345678e6), "1234567.8");
  EXPECT_EQ(SampleValue(1.2345678e-6), "0.0000012345678");
  EXPECT_EQ(SampleValue(1.2345678e-67), "1.2345678e-67");
  EXPECT_EQ(SampleValue(1e21), "1e+21");
  EXPECT_EQ(SampleValue(-1e-7), "-1e-07");
  EXPECT_EQ(SampleValue(1e20), "100000000000000000000");
  EXPECT_EQ(SampleValue(0), "0");
  EXPECT_EQ(SampleValue(-0.0), "-0");
  EXPECT_EQ(SampleValue(std::nan("")), "NaN");
  EXPECT_EQ(SampleValue(-std::numeric_limits<double>::infinity()), "-Inf");
}

TEST(TimestampTest, KeepsThreeDecimalsLikePrometheus) {
  EXPECT_EQ(Timestamp(0), "0");
  EXPECT_EQ(Timestamp(1), "0.001");
  EXPECT_EQ(Timestamp(10), "0.010");
  EXPECT_EQ(Timestamp(100), "0.100");
  EXPECT_EQ(Timestamp(1000), "1");
  EXPECT_EQ(Timestamp(1100), "1.100");
  EXPECT_EQ(Timestamp(1435781451781), "1435781451.781");
  EXPECT_EQ(Timestamp(1435781451000), "1435781451");
  EXPECT_EQ(Timestamp(12345678123456555), "12345678123456.555");
  EXPECT_EQ(Timestamp(-1), "-0.001");
  EXPECT_EQ(Timestamp(-1500), "-1.500");
  EXPECT_EQ(Timestamp(std::numeric_limits<int64_t>::min()), "-9223372036854775.808");
}

TEST(GoJsonNumberTest, MatchesEncodingJson) {
  EXPECT_EQ(GoJsonNumber(1435781451.78), "1435781451.78");
  EXPECT_EQ(GoJsonNumber(1435781451), "1435781451");
  EXPECT_EQ(GoJsonNumber(0.001), "0.001");
  EXPECT_EQ(GoJsonNumber(1e-7), "1e-7");
  EXPECT_EQ(GoJsonNumber(1e21), "1e+21");
  EXPECT_EQ(GoJsonNumber(1.5e-300), "1.5e-300");
}

TEST(JsonStringTest, EscapesLikeGo) {
  EXPECT_EQ(Quoted("plain"), "\"plain\"");
  EXPECT_EQ(Quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(Quoted("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(Quoted(std::string("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
  EXPECT_EQ(Quoted(std::string("a\0b", 3)), "\"a\\u0000b\"");
  EXPECT_EQ(Quoted("<a href=\"x\">&</a>"),
            "\"\\u003ca href=\\\"x\\\"\\u003e\\u0026\\u003c/a\\u003e\"");
  EXPECT_EQ(Quoted("\x7f"), "\"\x7f\"");
}

TEST(JsonStringTest, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(Quoted("h\xC3\xA9llo \xE8\x94\xB5 \xF0\x9F\x98\x80"),
            "\"h\xC3\xA9llo \xE8\x94\xB5 \xF0\x9F\x98\x80\"");
  EXPECT_EQ(Quoted("a\xFF" "b"), "\"a\\ufffdb\"");
  // A truncated sequence: each byte becomes one replacement, as Go does.
  EXPECT_EQ(Quoted("\xE8\x94"), "\"\\ufffd\\ufffd\"");
  // Overlong encoding and UTF-16 surrogate are invalid.
  EXPECT_EQ(Quoted("\xC0\xAF"), "\"\\ufffd\\ufffd\"");
  EXPECT_EQ(Quoted("\xED\xA0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");
  EXPECT_EQ(Quoted("\xE2\x80\xA8\xE2\x80\xA9"), "\"\\u2028\\u2029\"");
}

TEST(JsonWriterTest, WritesPrometheusVectorResponse) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("status");
  w.String("success");
  w.Key("data");
  w.BeginObject();
  w.Key("resultType");
  w.String("vector");
  w.Key("result");
  w.BeginArray();
  w.BeginObject();
  w.Key("metric");
  w.Labels(model::Labels::FromUnsorted({{"job", "prometheus"}, {"__name__", "up"}}));
  w.Key("value");
  w.BeginArray();
  w.Timestamp(1435781451781);
  w.SampleValue(1);
  w.EndArray();
  w.EndObject();
  w.EndArray();
  w.EndObject();
  w.EndObject();
  EXPECT_EQ(out,
            "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":"
            "{\"__name__\":\"up\",\"job\":\"prometheus\"},\"value\":[1435781451.781,\"1\"]}]}}");
}

TEST(JsonWriterTest, SeparatesNestedArraysAndScalars) {
  std::string out;
  JsonWriter w(&out);
  w.BeginArray();
  w.BeginArray();
  w.Timestamp(1000);
  w.SampleValue(0.5);
  w.EndArray();
  w.BeginArray();
  w.EndArray();
  w.Int(-42);
  w.Bool(true);
  w.Null();
  w.Raw("{}");
  w.GoFloatString(1e21);
  w.GoJsonNumber(1.5);
  w.BeginObject();
  w.EndObject();
  w.Labels(model::Labels());
  w.EndArray();
  EXPECT_EQ(out, "[[1,\"0.5\"],[],-42,true,null,{},\"1000000000000000000000\",1.5,{},{}]");
}

}  // namespace
}  // namespace kura::query
