#pragma once

// Encodes a Prometheus remote write 1.0 request body the way a sender does: a prompb
// WriteRequest, serialized, then snappy block-compressed. Kept apart from the model types on
// purpose: the tests speak the wire format, as Prometheus does.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace kura::integration {

struct WireSeries {
  std::vector<std::pair<std::string, std::string>> labels;  // including __name__
  std::vector<std::pair<int64_t, double>> samples;          // (timestamp ms, value)
};

// The snappy-compressed serialized WriteRequest.
std::string EncodeWriteRequest(const std::vector<WireSeries>& series);

// Snappy block compression of arbitrary bytes, for malformed-request tests.
std::string SnappyCompress(const std::string& raw);

// The headers remote write 1.0 requires on POST /api/v1/write.
std::vector<std::pair<std::string, std::string>> RemoteWriteHeaders();

}  // namespace kura::integration
