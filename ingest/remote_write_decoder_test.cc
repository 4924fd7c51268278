#include "ingest/remote_write_decoder.h"

#include <bit>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ingest/labels_cache.h"
#include "ingest/validation.h"
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

TEST(RemoteWriteDecoderTest, LeavesOutSeriesWithoutSamplesAndDecodesMetadata) {
  prometheus::WriteRequest request;
  auto* exemplar_only = AddSeries(&request, {{"__name__", "a"}});
  exemplar_only->add_exemplars()->set_value(1);
  AddSample(AddSeries(&request, {{"__name__", "b"}}), 5, 5);
  auto* metadata = request.add_metadata();
  metadata->set_metric_family_name("b");
  metadata->set_type(prometheus::MetricMetadata::GAUGE);
  metadata->set_help("What b is.");
  metadata->set_unit("seconds");
  auto* histogram = request.add_metadata();
  histogram->set_metric_family_name("h");
  histogram->set_type(prometheus::MetricMetadata::GAUGEHISTOGRAM);
  // A type from a newer sender than this decoder.
  request.add_metadata()->set_metric_family_name("new");
  std::string raw = request.SerializeAsString();
  raw += std::string("\x1a\x07\x08\x63\x12\x03new", 9);  // metadata {type: 99, family: "new"}
  absl::StatusOr<model::WriteBatch> batch = DecodeRemoteWrite("snappy", Snappy(raw), kLimit);
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->series.size(), 1u);
  EXPECT_EQ(batch->series[0].labels.ToString(), "b");
  using model::MetricMetadata;
  EXPECT_THAT(batch->metadata,
              ElementsAre(MetricMetadata{"b", "gauge", "What b is.", "seconds"},
                          MetricMetadata{"h", "gaugehistogram", "", ""},
                          MetricMetadata{"new", "unknown", "", ""},
                          MetricMetadata{"new", "unknown", "", ""}));
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


absl::Status DecodeCached(const std::string& body, LabelsCache* cache, DecodedWrite* out) {
  *out = DecodedWrite();
  return DecodeRemoteWrite("snappy", body, kLimit, cache, out);
}

TEST(RemoteWriteDecoderCacheTest, RepeatedLabelsComeFromTheCache) {
  LabelsCache cache(1 << 20);
  prometheus::WriteRequest request;
  AddSample(AddSeries(&request, {{"__name__", "up"}, {"job", "node"}}), 1000, 1);
  AddSample(AddSeries(&request, {{"__name__", "up"}, {"job", "api"}}), 1000, 0);
  DecodedWrite first;
  ASSERT_TRUE(DecodeCached(Body(request), &cache, &first).ok());
  EXPECT_THAT(first.labels_valid, ElementsAre(true, true));
  EXPECT_EQ(cache.size(), 2u);

  request.mutable_timeseries(0)->mutable_samples(0)->set_timestamp(16000);
  DecodedWrite second;
  ASSERT_TRUE(DecodeCached(Body(request), &cache, &second).ok());
  EXPECT_THAT(second.labels_valid, ElementsAre(true, true));
  EXPECT_EQ(cache.size(), 2u);
  ASSERT_EQ(second.batch.series.size(), 2u);
  EXPECT_EQ(second.batch.series[0].labels.ToString(), R"(up{job="node"})");
  EXPECT_EQ(second.batch.series[1].labels.ToString(), R"(up{job="api"})");
  EXPECT_EQ(second.batch.series[0].samples[0].timestamp_ms, 16000);
  // The very same representation: nothing was decoded again.
  EXPECT_EQ(second.batch.series[0].labels.CanonicalView().data(),
            first.batch.series[0].labels.CanonicalView().data());
}

TEST(RemoteWriteDecoderCacheTest, InvalidLabelsAreNeverCached) {
  LabelsCache cache(1 << 20);
  prometheus::WriteRequest request;
  AddSample(AddSeries(&request, {{"job", "node"}, {"__name__", "up"}}), 1000, 1);  // unsorted
  AddSample(AddSeries(&request, {{"__name__", "up"}, {"job", ""}}), 1000, 1);      // empty value
  AddSample(AddSeries(&request, {{"job", "node"}}), 1000, 1);                     // no name
  for (int round = 0; round < 2; ++round) {
    DecodedWrite decoded;
    ASSERT_TRUE(DecodeCached(Body(request), &cache, &decoded).ok());
    EXPECT_THAT(decoded.labels_valid, ElementsAre(false, false, false));
    EXPECT_EQ(cache.size(), 0u);
    absl::Status status =
        ValidateWriteBatch(decoded.batch, absl::Now(), absl::Minutes(10), &decoded.labels_valid);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), HasSubstr("not sorted"));
  }
}

TEST(RemoteWriteDecoderCacheTest, InterleavedLabelFieldsDecodeUncached) {
  LabelsCache cache(1 << 20);
  // TimeSeries{label, sample, label}: field order a sender is free to use.
  prometheus::Label name;
  name.set_name("__name__");
  name.set_value("up");
  prometheus::Label job;
  job.set_name("job");
  job.set_value("node");
  prometheus::Sample sample;
  sample.set_timestamp(1000);
  sample.set_value(1);
  auto field = [](int number, const std::string& bytes) {
    std::string out(1, static_cast<char>(number << 3 | 2));
    out.push_back(static_cast<char>(bytes.size()));
    return out + bytes;
  };
  const std::string ts = field(1, name.SerializeAsString()) + field(2, sample.SerializeAsString()) +
                         field(1, job.SerializeAsString());
  const std::string raw = field(1, ts);
  for (int round = 0; round < 2; ++round) {
    DecodedWrite decoded;
    ASSERT_TRUE(DecodeCached(Snappy(raw), &cache, &decoded).ok());
    ASSERT_EQ(decoded.batch.series.size(), 1u);
    EXPECT_EQ(decoded.batch.series[0].labels.ToString(), R"(up{job="node"})");
    EXPECT_THAT(decoded.labels_valid, ElementsAre(false));
    EXPECT_EQ(cache.size(), 0u);
  }
}

TEST(RemoteWriteDecoderCacheTest, CorruptionAfterACachedSeriesStillFails) {
  LabelsCache cache(1 << 20);
  prometheus::WriteRequest request;
  AddSample(AddSeries(&request, {{"__name__", "up"}, {"job", "node"}}), 1000, 1);
  DecodedWrite decoded;
  ASSERT_TRUE(DecodeCached(Body(request), &cache, &decoded).ok());
  std::string raw = request.SerializeAsString() + "\x0a\x7f";  // a truncated second series
  absl::Status status = DecodeCached(Snappy(raw), &cache, &decoded);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("corrupt protobuf"));
}

// As AgreesWithTheGeneratedParser, with one cache across all requests and label sets from a
// small pool, valid and not, so most series hit: cached or not, a body decodes to what the
// generated parser reads, and labels marked valid pass validation.
TEST(RemoteWriteDecoderCacheTest, WithACacheAgreesWithTheGeneratedParser) {
  const std::vector<std::vector<std::pair<std::string, std::string>>> pool = {
      {{"__name__", "up"}, {"job", "node"}},
      {{"__name__", "up"}, {"job", "api"}},
      {{"__name__", "node_cpu_seconds_total"}, {"cpu", "0"}, {"mode", "idle"}},
      {{"__name__", "node_cpu_seconds_total"}, {"cpu", "0"}, {"mode", "user"}},
      {{"job", "node"}, {"__name__", "up"}},        // unsorted
      {{"__name__", "up"}, {"job", "\xff\xfe"}},  // not UTF-8
      {{"__name__", "up"}, {"job", "node"}, {"job", "api"}},
  };
  LabelsCache cache(1 << 20);
  std::mt19937_64 rng(7);
  int hits = 0;
  for (int iteration = 0; iteration < 2000; ++iteration) {
    prometheus::WriteRequest request;
    const int num_series = static_cast<int>(rng() % 5);
    for (int i = 0; i < num_series; ++i) {
      prometheus::TimeSeries* ts = request.add_timeseries();
      for (const auto& [n, v] : pool[rng() % pool.size()]) {
        prometheus::Label* label = ts->add_labels();
        label->set_name(n);
        label->set_value(v);
      }
      for (int k = 0, n = static_cast<int>(rng() % 3); k < n; ++k) {
        AddSample(ts, static_cast<int64_t>(rng()), std::bit_cast<double>(rng()));
      }
    }
    std::string raw = request.SerializeAsString();
    const bool corrupt = iteration % 2 == 1 && !raw.empty();
    if (corrupt) raw[rng() % raw.size()] = static_cast<char>(rng() % 256);
    prometheus::WriteRequest reference;
    const bool reference_ok = reference.ParseFromString(raw);
    const size_t entries_before = cache.size();
    DecodedWrite decoded;
    absl::Status status = DecodeCached(Snappy(raw), &cache, &decoded);
    if (!corrupt) {
      ASSERT_TRUE(status.ok()) << status;
    }
    if (!status.ok()) continue;
    ASSERT_TRUE(reference_ok);
    EXPECT_EQ(ViaDecoder(decoded.batch), ViaGeneratedParser(corrupt ? reference : request));
    ASSERT_EQ(decoded.labels_valid.size(), decoded.batch.series.size());
    for (size_t i = 0; i < decoded.batch.series.size(); ++i) {
      if (decoded.labels_valid[i]) {
        EXPECT_TRUE(ValidateLabels(decoded.batch.series[i].labels).ok())
            << decoded.batch.series[i].labels.ToString();
      }
    }
    if (cache.size() == entries_before && !decoded.batch.series.empty()) ++hits;
  }
  EXPECT_GT(hits, 100);
}

}  // namespace
}  // namespace kura::ingest
