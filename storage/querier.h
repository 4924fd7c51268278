#pragma once

// Querier: resolves label matchers to series refs through the per-partition postings, and
// lists label names and values. Reads only disk; the node adds the head's chunks.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "model/labels.h"
#include "model/matcher.h"
#include "storage/postings.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class Iterator;
}  // namespace rocksdb

namespace kura::storage {

// Thread-safe: every call reads the DB through its own iterators.
class Querier {
 public:
  // With at most this many series left by a selector's first exact matcher (the metric name's
  // when it has one), its other matchers are checked against those series' labels instead of
  // being resolved through the postings.
  static constexpr size_t kMaxRefsMatchedOnLabels = 2048;

  // The label sets of series refs, in order, in canonical form: the node reads them from its
  // head where it can, else from the index.
  using LabelsLookup = std::function<absl::StatusOr<std::vector<model::CanonicalLabels>>(
      absl::Span<const uint64_t> refs)>;

  // The DB and family are not owned and must outlive the querier.
  Querier(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* postings, LabelsLookup labels_of,
          int64_t partition_length_ms)
      : db_(db),
        postings_(postings),
        labels_of_(std::move(labels_of)),
        partition_length_ms_(partition_length_ms) {}

  // The partitions with postings that overlap [min_time_ms, max_time_ms], ascending.
  absl::StatusOr<std::vector<int64_t>> Partitions(int64_t min_time_ms, int64_t max_time_ms) const;

  // Refs of the series matching every matcher in any of `partitions`. A matcher that matches
  // the empty string also selects series without its label.
  absl::StatusOr<PostingsList> SelectRefs(absl::Span<const model::LabelMatcher> matchers,
                                          absl::Span<const int64_t> partitions) const;

  // Sorted, unique label names / values of the series in `partitions` matching `matchers`
  // (every series when `matchers` is empty).
  absl::StatusOr<std::vector<std::string>> LabelNames(
      absl::Span<const model::LabelMatcher> matchers, absl::Span<const int64_t> partitions) const;
  absl::StatusOr<std::vector<std::string>> LabelValues(
      std::string_view name, absl::Span<const model::LabelMatcher> matchers,
      absl::Span<const int64_t> partitions) const;

 private:
  absl::StatusOr<PostingsList> MatcherPostings(rocksdb::Iterator* it, int64_t partition,
                                               const model::LabelMatcher& matcher) const;
  // The refs matching every one of `matchers` in `partition`; all its refs when there is none.
  absl::StatusOr<PostingsList> PartitionRefs(
      rocksdb::Iterator* it, int64_t partition,
      absl::Span<const model::LabelMatcher* const> matchers) const;
  // The refs among `refs` whose labels match every one of `matchers`.
  absl::StatusOr<PostingsList> MatchOnLabels(
      PostingsList refs, absl::Span<const model::LabelMatcher* const> matchers) const;


  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* postings_;
  const LabelsLookup labels_of_;
  int64_t partition_length_ms_;
};

}  // namespace kura::storage
