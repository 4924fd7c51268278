#pragma once

// The Storage service's wire format (proto/storage.proto) <-> model types, shared by the server
// (storage::NodeService) and its client (shard::NodeClient). Includes the generated proto
// header: include it only from the .cc files that translate.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "model/matcher.h"
#include "model/series_set.h"
#include "model/write_batch.h"
#include "proto/storage.pb.h"

namespace kura::storage {

// Fills `request` with `batch`; samples keep their order, timestamps (and start timestamps,
// when a series has one that is nonzero) as zigzag deltas.
void EncodeWriteRequest(const model::WriteBatch& batch, v1::WriteRequest* request);
// Appends one series to `request`; `canonical_labels` is series.labels.CanonicalBytes(), which
// a caller that already has it passes instead of computing it again.
void EncodeWriteSeries(const model::TimeSeries& series, const std::string& canonical_labels,
                       v1::WriteRequest* request);
// Appends one metric family's metadata to `request`.
void EncodeMetadata(const model::MetricMetadata& metadata, v1::MetricMetadata* out);
model::MetricMetadata DecodeMetadata(const v1::MetricMetadata& in);
// InvalidArgument when labels are malformed or timestamps, values and start timestamps (when
// present) differ in count.
absl::StatusOr<model::WriteBatch> DecodeWriteRequest(const v1::WriteRequest& request);

void EncodeMatcher(const model::LabelMatcher& matcher, v1::LabelMatcher* out);
// InvalidArgument for a regex that does not compile.
absl::StatusOr<std::vector<model::LabelMatcher>> DecodeMatchers(
    const google::protobuf::RepeatedPtrField<v1::LabelMatcher>& matchers);

// Encodes the samples of `it` into chunks of at most `max_samples_per_chunk` samples each,
// appended to `chunks`, with their start timestamps (version 3 from the first nonzero one on).
// Returns the iterator's status.
absl::Status EncodeChunks(model::SampleIterator* it, int max_samples_per_chunk,
                          std::vector<std::string>* chunks);

}  // namespace kura::storage
