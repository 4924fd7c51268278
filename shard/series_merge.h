#pragma once

// Merging the series that several storage nodes stream for one Select: replicas hold the same
// series, and a series written while a node was out of rotation lives on others as well. Series
// with equal labels become one, whose samples are the union of every node's in time order,
// with a duplicate timestamp (the same sample on two replicas) kept once. The merge is a k-way
// merge by labels that holds one series per node at a time: memory does not grow with the
// answer.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "model/series_set.h"
#include "shard/encoded_series.h"
#include "shard/select_stream.h"

namespace kura::shard {

// Called once for each stream when it ends, with its status: OK for a complete answer. Returns
// OK to go on without the rest of the stream (after appending a warning to `*warnings` when the
// answer is incomplete), or the error the merged set fails with.
using StreamEndFn = absl::AnyInvocable<absl::Status(size_t stream, const absl::Status& status,
                                                    std::vector<std::string>* warnings)>;

// Merges `streams` (null entries are skipped). The set's iterators yield samples in
// [min_time_ms, max_time_ms]; its warnings() start as `warnings` and gain those of `on_end`.
std::unique_ptr<model::SeriesSet> MergeSelectStreams(
    std::vector<std::unique_ptr<SelectStream>> streams, int64_t min_time_ms, int64_t max_time_ms,
    std::vector<std::string> warnings, StreamEndFn on_end);

}  // namespace kura::shard
