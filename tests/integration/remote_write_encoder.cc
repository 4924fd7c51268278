#include "tests/integration/remote_write_encoder.h"

#include <snappy.h>

#include "proto/remote.pb.h"

namespace kura::integration {

std::string EncodeWriteRequest(const std::vector<WireSeries>& series) {
  prometheus::WriteRequest request;
  for (const WireSeries& one : series) {
    prometheus::TimeSeries* ts = request.add_timeseries();
    for (const auto& [name, value] : one.labels) {
      prometheus::Label* label = ts->add_labels();
      label->set_name(name);
      label->set_value(value);
    }
    for (const auto& [timestamp_ms, value] : one.samples) {
      prometheus::Sample* sample = ts->add_samples();
      sample->set_timestamp(timestamp_ms);
      sample->set_value(value);
    }
  }
  return SnappyCompress(request.SerializeAsString());
}

std::string SnappyCompress(const std::string& raw) {
  std::string compressed;
  snappy::Compress(raw.data(), raw.size(), &compressed);
  return compressed;
}

std::vector<std::pair<std::string, std::string>> RemoteWriteHeaders() {
  return {{"Content-Type", "application/x-protobuf"},
          {"Content-Encoding", "snappy"},
          {"X-Prometheus-Remote-Write-Version", "0.1.0"},
          {"User-Agent", "kura-integration-test"}};
}

}  // namespace kura::integration
