#include "ingest/remote_write_decoder.h"

#include <bit>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/sample.h"
#include "proto/remote.pb.h"
#include "snappy.h"

namespace kura::ingest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr size_t kLimit = 1 << 20;

std::string Snappy(const std::string& raw) {
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

std::string Body(const prometheus::WriteRequest& request) {
  return Snappy(request.SerializeAsString());
}

prometheus::TimeSeries* AddSeries(
    prometheus::WriteRequest* request,
    std::initializer_list<std::pair<const char*, const char*>> labels) {
  prometheus::TimeSeries* ts = request->add_timeseries();
  for (const auto& [name, value] : labels) {
    prometheus::Label* l = ts->add_labels();
    l->set_name(name);
    l->set_value(value);
  }
  return ts;
}

void AddSample(prometheus::TimeSeries* ts, int64_t timestamp_ms, double value) {
  prometheus::Sample* s = ts->add_samples();
  s->set_timestamp(timestamp_ms);
  s->set_value(value);
}

std::vector<std::string> Names(const model::Labels& labels) {
  std::vector<std::string> names;
  for (const auto& l : labels) names.push_back(l.name);
  return names;
}

TEST(RemoteWriteDecoderTest, DecodesSeriesAndSamples) {
  prometheus::WriteRequest request;
  auto* up = AddSeries(&request, {{"__name__", "up"}, {"instance", "a:9100"}, {"job", "node"}});
  AddSample(up, 1000, 1);
  AddSample(up, 16000, 0);
  auto* temp = AddSeries(&request, {{"__name__", "temp_celsius"}, {"room", "lab"}});
  AddSample(temp, 2000, -3.5);
  AddSample(temp, 3000, model::StaleNaN());

  absl::StatusOr<model::WriteBatch> batch = DecodeRemoteWrite("snappy", Body(request), kLimit);
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->series.size(), 2u);
  EXPECT_EQ(batch->series[0].labels.ToString(), R"(up{instance="a:9100", job="node"})");
  ASSERT_EQ(batch->series[0].samples.size(), 2u);
  EXPECT_EQ(batch->series[0].samples[1].timestamp_ms, 16000);
  EXPECT_EQ(batch->series[0].samples[1].value, 0);
  EXPECT_EQ(batch->series[1].samples[0].value, -3.5);
  EXPECT_TRUE(model::IsStaleNaN(batch->series[1].samples[1].value));
  EXPECT_EQ(batch->NumSamples(), 4u);
}

TEST(RemoteWriteDecoderTest, KeepsLabelOrderAsSent) {
  prometheus::WriteRequest request;
  AddSample(AddSeries(&request, {{"job", "x"}, {"__name__", "up"}, {"az", "1"}}), 1, 1);
  absl::StatusOr<model::WriteBatch> batch = DecodeRemoteWrite("snappy", Body(request), kLimit);
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_THAT(Names(batch->series[0].labels), ElementsAre("job", "__name__", "az"));
}

TEST(RemoteWriteDecoderTest, LeavesOutSeriesWithoutSamplesAndIgnoresMetadata) {
  prometheus::WriteRequest request;
  auto* exemplar_only = AddSeries(&request, {{"__name__", "a"}});
  exemplar_only->add_exemplars()->set_value(1);
  AddSample(AddSeries(&request, {{"__name__", "b"}}), 5, 5);
  auto* metadata = request.add_metadata();
  metadata->set_metric_family_name("b");
  metadata->set_type(prometheus::MetricMetadata::GAUGE);
  absl::StatusOr<model::WriteBatch> batch = DecodeRemoteWrite("snappy", Body(request), kLimit);
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->series.size(), 1u);
  EXPECT_EQ(batch->series[0].labels.ToString(), "b");
}

TEST(RemoteWriteDecoderTest, EmptyRequestIsAnEmptyBatch) {
  absl::StatusOr<model::WriteBatch> batch =
      DecodeRemoteWrite("snappy", Body(prometheus::WriteRequest()), kLimit);
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_TRUE(batch->series.empty());
}

TEST(RemoteWriteDecoderTest, RejectsMissingOrWrongEncoding) {
  prometheus::WriteRequest request;
  AddSample(AddSeries(&request, {{"__name__", "up"}}), 1, 1);
  std::string body = Body(request);

  absl::StatusOr<model::WriteBatch> missing = DecodeRemoteWrite("", body, kLimit);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("missing Content-Encoding"));

  absl::StatusOr<model::WriteBatch> gzip = DecodeRemoteWrite("gzip", body, kLimit);
  EXPECT_EQ(gzip.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(gzip.status().message(),
            "unsupported Content-Encoding \"gzip\"; remote write bodies are snappy-compressed");

  EXPECT_TRUE(DecodeRemoteWrite(" Snappy ", body, kLimit).ok());
}

TEST(RemoteWriteDecoderTest, RejectsCorruptSnappy) {
  // A length header that never ends (every byte has the continuation bit).
  absl::StatusOr<model::WriteBatch> no_header =
      DecodeRemoteWrite("snappy", std::string(8, '\xff'), kLimit);
  EXPECT_EQ(no_header.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(no_header.status().message(), HasSubstr("corrupt snappy"));

  // A valid header, then a body truncated in the middle of a literal.
  prometheus::WriteRequest request;
  AddSample(AddSeries(&request, {{"__name__", "up"}, {"job", "a-long-enough-value"}}), 1, 1);
  std::string body = Body(request);
  body.resize(body.size() / 2);
  absl::StatusOr<model::WriteBatch> truncated = DecodeRemoteWrite("snappy", body, kLimit);
  EXPECT_EQ(truncated.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(truncated.status().message(), HasSubstr("corrupt snappy"));

  // The framed format's stream identifier chunk is not a block.
  absl::StatusOr<model::WriteBatch> framed =
      DecodeRemoteWrite("snappy", std::string("\xff\x06\x00\x00sNaPpY", 10), kLimit);
  EXPECT_EQ(framed.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RemoteWriteDecoderTest, RejectsCorruptProtobuf) {
  // Field 1 (timeseries), length-delimited, claiming 100 bytes that are not there.
  absl::StatusOr<model::WriteBatch> batch =
      DecodeRemoteWrite("snappy", Snappy(std::string("\x0a\x64\x01\x02", 4)), kLimit);
  EXPECT_EQ(batch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(batch.status().message(), "corrupt protobuf: body is not a prometheus.WriteRequest");
}

TEST(RemoteWriteDecoderTest, RejectsDecodedLengthOverLimitBeforeDecompressing) {
  prometheus::WriteRequest request;
  AddSample(AddSeries(&request, {{"__name__", "up"}}), 1, 1);
  std::string raw = request.SerializeAsString();
  absl::StatusOr<model::WriteBatch> over = DecodeRemoteWrite("snappy", Snappy(raw), raw.size() - 1);
  EXPECT_EQ(over.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(over.status().message(),
            absl::StrCat("decoded body of ", raw.size(), " bytes exceeds the limit of ",
                         raw.size() - 1, " bytes"));
  EXPECT_TRUE(DecodeRemoteWrite("snappy", Snappy(raw), raw.size()).ok());

  // Only a header claiming 1 GiB: refused by length, so nothing that size is allocated.
  std::string header = "\x80\x80\x80\x80\x04";
  absl::StatusOr<model::WriteBatch> huge = DecodeRemoteWrite("snappy", header, kLimit);
  EXPECT_THAT(huge.status().message(), HasSubstr("decoded body of 1073741824 bytes exceeds"));
}

TEST(RemoteWriteDecoderTest, RejectsLengthHeaderSnappyCannotProduce) {
  // 1 MiB claimed (within the limit) by a 4-byte body.
  std::string body("\x80\x80\x40\x00", 4);
  absl::StatusOr<model::WriteBatch> batch = DecodeRemoteWrite("snappy", body, 2 << 20);
  EXPECT_EQ(batch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(batch.status().message(),
            "corrupt snappy body: 4 bytes cannot decode to 1048576 bytes");
}

TEST(RemoteWriteDecoderTest, DecodesHighlyCompressibleBodies) {
  prometheus::WriteRequest request;
  AddSample(AddSeries(&request, {{"__name__", "up"}, {"job", std::string(100000, 'a').c_str()}}), 1,
            1);
  std::string body = Body(request);
  ASSERT_GT(request.ByteSizeLong() / body.size(), 15u);
  absl::StatusOr<model::WriteBatch> batch = DecodeRemoteWrite("snappy", body, kLimit);
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(batch->series[0].labels.Get("job").size(), 100000u);
}

TEST(RemoteWriteDecoderTest, RejectsNativeHistograms) {
  prometheus::WriteRequest request;
  AddSample(AddSeries(&request, {{"__name__", "ok"}}), 1, 1);
  auto* ts = AddSeries(&request, {{"__name__", "http_request_duration_seconds"}, {"job", "api"}});
  prometheus::Histogram* h = ts->add_histograms();
  h->set_count_int(3);
  h->set_schema(3);
  h->set_timestamp(1000);
  absl::StatusOr<model::WriteBatch> batch = DecodeRemoteWrite("snappy", Body(request), kLimit);
  EXPECT_EQ(batch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(batch.status().message(),
            "series http_request_duration_seconds{job=\"api\"}: native histograms are not "
            "supported yet");
}

TEST(RemoteWriteDecoderTest, InvalidUtf8ReachesValidationInsteadOfFailingTheParse) {
  prometheus::WriteRequest request;
  AddSample(AddSeries(&request, {{"__name__", "up"}, {"job", "\xc3\x28"}}), 1, 1);
  absl::StatusOr<model::WriteBatch> batch = DecodeRemoteWrite("snappy", Body(request), kLimit);
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(batch->series[0].labels.Get("job"), "\xc3\x28");
}

TEST(CheckContentTypeTest, AcceptsRemoteWrite1) {
  EXPECT_TRUE(CheckContentType("").ok());
  EXPECT_TRUE(CheckContentType("application/x-protobuf").ok());
  EXPECT_TRUE(CheckContentType("Application/X-Protobuf; charset=binary").ok());
  EXPECT_TRUE(CheckContentType("application/x-protobuf;proto=prometheus.WriteRequest").ok());
  EXPECT_TRUE(CheckContentType("application/x-protobuf; proto=\"prometheus.WriteRequest\"").ok());
}

TEST(CheckContentTypeTest, RefusesRemoteWrite2AndOtherTypes) {
  absl::Status v2 = CheckContentType("application/x-protobuf;proto=io.prometheus.write.v2.Request");
  EXPECT_EQ(v2.code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(v2.message(),
            "remote write 2.0 (io.prometheus.write.v2.Request) is not supported; send remote "
            "write 1.0 (prometheus.WriteRequest)");

  absl::Status json = CheckContentType("application/json");
  EXPECT_EQ(json.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(json.message(), HasSubstr("unsupported Content-Type \"application/json\""));

  absl::Status other = CheckContentType("application/x-protobuf;proto=foo.Bar");
  EXPECT_EQ(other.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(other.message(), HasSubstr("\"foo.Bar\""));
}

// The batch the generated parser sees in `raw`, built the way the decoder promises: series
// without samples left out, labels as sent.
std::vector<std::string> ViaGeneratedParser(const prometheus::WriteRequest& request) {
  std::vector<std::string> out;
  for (const prometheus::TimeSeries& ts : request.timeseries()) {
    if (ts.samples_size() == 0) continue;
    std::string line;
    for (const prometheus::Label& l : ts.labels()) line += l.name() + "=" + l.value() + ",";
    for (const prometheus::Sample& s : ts.samples()) {
      line += " " + std::to_string(s.timestamp()) + ":" +
              std::to_string(std::bit_cast<uint64_t>(s.value()));
    }
    out.push_back(line);
  }
  return out;
}

std::vector<std::string> ViaDecoder(const model::WriteBatch& batch) {
  std::vector<std::string> out;
  for (const model::TimeSeries& ts : batch.series) {
    std::string line;
    for (const model::Label& l : ts.labels) line += l.name + "=" + l.value + ",";
    for (const model::Sample& s : ts.samples) {
      line += " " + std::to_string(s.timestamp_ms) + ":" +
              std::to_string(std::bit_cast<uint64_t>(s.value));
    }
    out.push_back(line);
  }
  return out;
}

// The decoder reads the wire format itself; the generated parser is the reference. Random
// requests (with exemplars, metadata and unknown fields the decoder must skip) decode to the
// same series; randomly corrupted ones either fail or decode to what the generated parser
// reads, never anything else.
TEST(RemoteWriteDecoderTest, AgreesWithTheGeneratedParser) {
  std::mt19937_64 rng(42);
  int agreed_on_corrupt = 0;
  for (int iteration = 0; iteration < 2000; ++iteration) {
    prometheus::WriteRequest request;
    const int num_series = static_cast<int>(rng() % 5);
    for (int i = 0; i < num_series; ++i) {
      prometheus::TimeSeries* ts = request.add_timeseries();
      for (int l = 0, n = static_cast<int>(rng() % 4); l < n; ++l) {
        prometheus::Label* label = ts->add_labels();
        label->set_name(std::string(1 + rng() % 20, static_cast<char>('a' + rng() % 26)));
        label->set_value(std::string(rng() % 40, static_cast<char>(rng() % 256)));
      }
      for (int k = 0, n = static_cast<int>(rng() % 3); k < n; ++k) {
        AddSample(ts, static_cast<int64_t>(rng()), std::bit_cast<double>(rng()));
      }
      if (rng() % 4 == 0) {
        prometheus::Exemplar* e = ts->add_exemplars();
        e->set_value(1.5);
        e->add_labels()->set_name("trace_id");
      }
      if (rng() % 5 == 0) {  // A field from a newer schema: skipped.
        ts->GetReflection()->MutableUnknownFields(ts)->AddVarint(101, rng());
        ts->GetReflection()->MutableUnknownFields(ts)->AddFixed32(102, 7);
      }
    }
    if (rng() % 3 == 0) request.add_metadata()->set_help("help text");
    std::string raw = request.SerializeAsString();
    const bool corrupt = iteration % 2 == 1 && !raw.empty();
    if (corrupt) {
      for (int flips = 1 + static_cast<int>(rng() % 3); flips > 0; --flips) {
        raw[rng() % raw.size()] = static_cast<char>(rng() % 256);
      }
    }
    prometheus::WriteRequest reference;
    const bool reference_ok = reference.ParseFromString(raw);
    absl::StatusOr<model::WriteBatch> batch = DecodeRemoteWrite("snappy", Snappy(raw), kLimit);
    if (!corrupt) {
      ASSERT_TRUE(batch.ok()) << batch.status();
      EXPECT_EQ(ViaDecoder(*batch), ViaGeneratedParser(request));
    } else if (batch.ok()) {
      ASSERT_TRUE(reference_ok) << "decoded a body the generated parser refuses: "
                                << request.DebugString();
      EXPECT_EQ(ViaDecoder(*batch), ViaGeneratedParser(reference));
      ++agreed_on_corrupt;
    }
  }
  EXPECT_GT(agreed_on_corrupt, 0);  // some corruptions stay well-formed protobuf
}

}  // namespace
}  // namespace kura::ingest
