#pragma once

// RequestEncoder: turns one scrape of a Dataset into snappy-compressed remote-write bodies.
//
// Each body is a prometheus.WriteRequest (Prometheus remote write 1.0) holding up to
// `samples_per_request` series with one sample each, the way Prometheus's queue manager batches
// a scrape. Label bytes are encoded once per series, so encoding a step costs little more than
// the samples and the compression.

#include <string>
#include <vector>

#include "benchmarks/loadgen/dataset.h"

namespace kura::loadgen {

struct EncodedRequest {
  std::string body;  // Snappy block format.
  int samples = 0;
};

class RequestEncoder {
 public:
  // `series` must outlive the encoder: labels of relabeled series are read again from it.
  // REQUIRES: samples_per_request > 0.
  RequestEncoder(const std::vector<SeriesSpec>& series, int samples_per_request);

  // REQUIRES: step holds one value per series given to the constructor, and steps come in order.
  std::vector<EncodedRequest> Encode(const Step& step);

 private:
  const std::vector<SeriesSpec>& series_;
  // Per series: its labels as repeated TimeSeries.labels fields, ready to be framed.
  std::vector<std::string> label_bytes_;
  int samples_per_request_;
};

}  // namespace kura::loadgen
