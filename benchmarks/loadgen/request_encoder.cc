#include "benchmarks/loadgen/request_encoder.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>

#include "proto/remote.pb.h"
#include "snappy.h"

namespace kura::loadgen {
namespace {

// Protobuf wire format pieces for the per-sample part; labels come from the generated code.
constexpr char kTimeseriesTag = 0x0a;  // WriteRequest.timeseries = 1, length-delimited.
constexpr char kSamplesTag = 0x12;     // TimeSeries.samples = 2, length-delimited.
constexpr char kValueTag = 0x09;       // Sample.value = 1, fixed64.
constexpr char kTimestampTag = 0x10;   // Sample.timestamp = 2, varint.

void AppendVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

std::string EncodeLabels(const model::Labels& labels) {
  prometheus::TimeSeries ts;
  for (const model::Label& l : labels) {
    prometheus::Label* label = ts.add_labels();
    label->set_name(l.name);
    label->set_value(l.value);
  }
  return ts.SerializeAsString();
}

void AppendSample(double value, int64_t timestamp_ms, std::string* out) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  std::string sample;
  sample.push_back(kValueTag);
  for (int i = 0; i < 8; ++i) sample.push_back(static_cast<char>(bits >> (8 * i)));
  sample.push_back(kTimestampTag);
  AppendVarint(static_cast<uint64_t>(timestamp_ms), &sample);
  out->push_back(kSamplesTag);
  AppendVarint(sample.size(), out);
  out->append(sample);
}

}  // namespace

RequestEncoder::RequestEncoder(const std::vector<SeriesSpec>& series, int samples_per_request)
    : series_(series), samples_per_request_(samples_per_request) {
  label_bytes_.reserve(series.size());
  for (const SeriesSpec& s : series) label_bytes_.push_back(EncodeLabels(s.labels));
}

std::vector<EncodedRequest> RequestEncoder::Encode(const Step& step) {
  for (int i : step.relabeled_series) label_bytes_[i] = EncodeLabels(series_[i].labels);
  std::vector<EncodedRequest> requests;
  std::string raw;
  std::string series;
  for (size_t begin = 0; begin < label_bytes_.size(); begin += samples_per_request_) {
    const size_t end = std::min(label_bytes_.size(), begin + samples_per_request_);
    raw.clear();
    for (size_t i = begin; i < end; ++i) {
      series.assign(label_bytes_[i]);
      AppendSample(step.values[i], step.timestamps_ms[i], &series);
      raw.push_back(kTimeseriesTag);
      AppendVarint(series.size(), &raw);
      raw.append(series);
    }
    EncodedRequest request;
    request.samples = static_cast<int>(end - begin);
    snappy::Compress(raw.data(), raw.size(), &request.body);
    // Snappy sizes the string for the worst case first; without this every held body would
    // keep that capacity, ten times its size.
    request.body.shrink_to_fit();
    requests.push_back(std::move(request));
  }
  return requests;
}

}  // namespace kura::loadgen
