#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "model/matcher.h"
#include "model/metadata.h"
#include "model/series_set.h"

namespace kura::model {

// Reads series by label matchers. Implemented by storage::Node (standalone) and shard::FanOut
// (cluster). The PromQL engine and the HTTP API see only this interface. Thread-safe.
class SeriesReader {
 public:
  virtual ~SeriesReader() = default;

  // Series matching every matcher that have at least one sample in [min_time_ms, max_time_ms]
  // (both inclusive), sorted by labels; their iterators yield only samples in that range.
  // REQUIRES: at least one matcher that does not match the empty string.
  virtual absl::StatusOr<std::unique_ptr<SeriesSet>> Select(
      absl::Span<const LabelMatcher> matchers, int64_t min_time_ms, int64_t max_time_ms) = 0;

  // Sorted, unique label names of the series matching `matchers` (all series when empty)
  // with samples in the range.
  virtual absl::StatusOr<std::vector<std::string>> LabelNames(
      absl::Span<const LabelMatcher> matchers, int64_t min_time_ms, int64_t max_time_ms) = 0;

  // Sorted, unique values of label `name` over the matching series with samples in the range.
  virtual absl::StatusOr<std::vector<std::string>> LabelValues(
      std::string_view name, absl::Span<const LabelMatcher> matchers, int64_t min_time_ms,
      int64_t max_time_ms) = 0;

  // The metadata of every metric family, or of the family `metric` names when not empty,
  // sorted by family; a family described differently by different storage nodes (or senders)
  // has an entry for each description.
  virtual absl::StatusOr<std::vector<MetricMetadata>> Metadata(std::string_view metric) = 0;
};

}  // namespace kura::model
