#pragma once

// Remote write 1.0 wire format -> WriteBatch: a snappy block (not the framed format) holding a
// prometheus.WriteRequest protobuf. The decoder checks the format only; the label and sample
// rules are validation.h's.

#include <cstddef>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ingest/labels_cache.h"
#include "model/write_batch.h"

namespace kura::ingest {

// Checks a request's Content-Type. Empty, `application/x-protobuf` and
// `application/x-protobuf;proto=prometheus.WriteRequest` are remote write 1.0. Returns
// Unimplemented, with a message naming the type, for anything else, notably remote write 2.0
// (`proto=io.prometheus.write.v2.Request`): the handler answers 415 so the sender can fall
// back to 1.0.
absl::Status CheckContentType(std::string_view content_type);

// Decodes a remote write 1.0 body. `content_encoding` is the request's Content-Encoding header
// and must be `snappy`. The decoded length is read from the snappy header and checked against
// `max_decoded_bytes` before anything is decompressed.
//
// Every error is InvalidArgument with a reason a person can act on: wrong encoding, corrupt
// snappy or protobuf, a too-large body, or a series carrying native histograms (not supported
// yet; refused rather than silently dropped).
//
// Labels keep the order they were sent in, so validation can insist on sorted names. Series that
// carry no samples (e.g. exemplars only) are left out; exemplars are discarded. Metadata goes
// to WriteBatch::metadata, in the order sent.
absl::StatusOr<model::WriteBatch> DecodeRemoteWrite(std::string_view content_encoding,
                                                    std::string_view body,
                                                    size_t max_decoded_bytes);

// A decoded body, and which of its series' labels are known to pass validation.
struct DecodedWrite {
  model::WriteBatch batch;
  std::vector<bool> labels_valid;  // parallel to batch.series
};

// The same, consulting and filling `cache` (may be null): series whose label bytes it holds get
// their labels from it, and labels that pass validation on a miss are added. The outcome is the
// same as without a cache, errors included: invalid labels are left for validation to report,
// so a body that is also corrupt further on still reports the corruption.
absl::Status DecodeRemoteWrite(std::string_view content_encoding, std::string_view body,
                               size_t max_decoded_bytes, LabelsCache* cache, DecodedWrite* out);

}  // namespace kura::ingest
