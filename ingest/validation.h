#pragma once

// The rules a remote-write series must follow before anything of its request is written.
// Each failure is InvalidArgument naming the series (Prometheus text form) and the rule, so the
// sender's log says what to fix:
//
//   invalid series up{job="a", Instance="b"}: label names not sorted ascending: "Instance"
//   comes after "job"
//
// Rules, per series:
//   - at least one label, and a metric name (__name__) matching [a-zA-Z_:][a-zA-Z0-9_:]*;
//   - label names match [a-zA-Z_][a-zA-Z0-9_]*, are unique and sorted ascending (bytewise);
//   - label values are non-empty (Prometheus treats an empty value as an absent label, so a
//     sender that sends one has a bug worth seeing) and valid UTF-8;
//   - sample timestamps strictly ascending, none later than now + max_future_skew.
//   Any float value is accepted, NaN and the stale marker included.
// Metadata entries need a family name and valid UTF-8 (ValidateMetadata).

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "model/labels.h"
#include "model/write_batch.h"

namespace kura::ingest {

// Returns the first rule `series` breaks, or OK. `now` is the receiver's clock, passed in so
// callers and tests decide what time it is; samples later than now + max_future_skew are
// rejected as clock errors.
absl::Status ValidateSeries(const model::TimeSeries& series, absl::Time now,
                            absl::Duration max_future_skew);

// The label rules alone.
absl::Status ValidateLabels(const model::Labels& labels);

// A metric family's metadata: a non-empty family name, and valid UTF-8 throughout (it is
// served as JSON).
absl::Status ValidateMetadata(const model::MetricMetadata& metadata);

// Validates every series and every metadata entry; returns the first failure. Where
// `labels_valid` (null, or parallel to batch.series) is true, the series' labels are known to
// pass and only its samples are checked.
absl::Status ValidateWriteBatch(const model::WriteBatch& batch, absl::Time now,
                                absl::Duration max_future_skew,
                                const std::vector<bool>* labels_valid = nullptr);

// `labels` in Prometheus text form for error messages, in the order given. Bytes that are not
// valid UTF-8 are shown as \xNN so the message itself stays valid UTF-8.
std::string DescribeSeries(const model::Labels& labels);

}  // namespace kura::ingest
