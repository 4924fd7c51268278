#pragma once

// FanOut: the cluster's SeriesReader (`kura query`). Every call goes to every storage node in
// parallel, each under the node client's deadline. Select streams: every node's series arrive
// in parallel into a bounded read-ahead (shard/read_ahead.h) and are merged one series at a
// time (shard/series_merge.h: replicas' series joined, duplicate timestamps dropped), so memory
// does not grow with the answer. A node that is out of rotation or fails, even mid-stream, is
// left out and named in a warning of the returned set (Prometheus's partial response), or, with
// partial_response = false, fails the set with Unavailable.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/metrics.h"
#include "model/series_reader.h"
#include "shard/node_pool.h"
#include "shard/read_ahead.h"
#include "shard/series_merge.h"

namespace kura::shard {

struct FanOutOptions {
  // Answer with the nodes that did answer (and a warning) when some did not.
  bool partial_response = true;
  // What Select buffers per node ahead of the merge.
  ReadAheadOptions read_ahead;
};

// Thread-safe. `pool` and `metrics` must outlive the fan-out.
class FanOut : public model::SeriesReader {
 public:
  FanOut(NodePool* pool, FanOutOptions options, base::Registry* metrics);

  absl::StatusOr<std::unique_ptr<model::SeriesSet>> Select(
      absl::Span<const model::LabelMatcher> matchers, int64_t min_time_ms,
      int64_t max_time_ms) override;
  // Label calls have no warnings channel: with partial responses allowed they answer from the
  // nodes that answered.
  absl::StatusOr<std::vector<std::string>> LabelNames(
      absl::Span<const model::LabelMatcher> matchers, int64_t min_time_ms,
      int64_t max_time_ms) override;
  absl::StatusOr<std::vector<std::string>> LabelValues(
      std::string_view name, absl::Span<const model::LabelMatcher> matchers, int64_t min_time_ms,
      int64_t max_time_ms) override;
  absl::StatusOr<std::vector<model::MetricMetadata>> Metadata(std::string_view metric) override;

 private:
  // Runs `call` on every node in parallel (`call(node, i)` for node i). Returns the warnings for
  // nodes that were skipped or failed, or Unavailable when partial responses are off or no node
  // answered.
  absl::StatusOr<std::vector<std::string>> OnEveryNode(
      const NodePool::Nodes& nodes, const std::function<absl::Status(PoolNode*, size_t)>& call);
  // `call`'s answers from every node, sorted and each once.
  template <typename T>
  absl::StatusOr<std::vector<T>> MergeSorted(
      const std::function<absl::StatusOr<std::vector<T>>(NodeClient*)>& call);

  NodePool* pool_;
  const FanOutOptions options_;
  base::Histogram& select_latency_;
  base::Counter& partial_responses_;
  base::Counter& node_failures_;
};

}  // namespace kura::shard
