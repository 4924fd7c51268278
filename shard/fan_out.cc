#include "shard/fan_out.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kura::shard {

FanOut::FanOut(NodePool* pool, FanOutOptions options, base::Registry* metrics)
    : pool_(pool),
      options_(options),
      select_latency_(metrics->AddHistogram("kura_fan_out_select_duration_seconds",
                                            "Time to select series from every storage node.",
                                            base::DefaultLatencyBuckets())),
      partial_responses_(metrics->AddCounter(
          "kura_fan_out_partial_responses_total",
          "Reads answered without some storage node (or failed when partial responses are off).")),
      node_failures_(metrics->AddCounter("kura_fan_out_node_failures_total",
                                         "Storage node reads that failed or were skipped.")) {}

absl::StatusOr<std::vector<std::string>> FanOut::OnEveryNode(
    const NodePool::Nodes& nodes, const std::function<absl::Status(PoolNode*, size_t)>& call) {
  if (nodes.empty()) return absl::UnavailableError("no storage nodes known");
  std::vector<absl::Status> statuses(nodes.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < nodes.size(); ++i) {
    PoolNode* node = nodes[i].get();
    if (!node->healthy()) {
      statuses[i] = absl::UnavailableError("out of rotation");
      continue;
    }
    threads.emplace_back([&call, &statuses, node, i] {
      statuses[i] = call(node, i);
      node->Report(statuses[i]);
    });
  }
  for (std::thread& thread : threads) thread.join();

  std::vector<std::string> warnings;
  size_t answered = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (statuses[i].ok()) {
      ++answered;
      continue;
    }
    // The request's own errors (a bad regex, a limit) are the answer, not a partial one.
    if (statuses[i].code() == absl::StatusCode::kInvalidArgument ||
        statuses[i].code() == absl::StatusCode::kResourceExhausted) {
      return statuses[i];
    }
    node_failures_.Inc();
    warnings.push_back(absl::StrCat("partial response: storage node ", nodes[i]->client.address(),
                                    " did not answer: ", statuses[i].message()));
  }
  if (warnings.empty()) return warnings;
  partial_responses_.Inc();
  if (!options_.partial_response || answered == 0) {
    return absl::UnavailableError(absl::StrJoin(warnings, "; "));
  }
  return warnings;
}

absl::StatusOr<std::unique_ptr<model::SeriesSet>> FanOut::Select(
    absl::Span<const model::LabelMatcher> matchers, int64_t min_time_ms, int64_t max_time_ms) {
  std::shared_ptr<const NodePool::Nodes> nodes = pool_->Snapshot();
  if (nodes->empty()) return absl::UnavailableError("no storage nodes known");
  std::vector<std::string> warnings;
  std::vector<std::unique_ptr<SelectStream>> streams(nodes->size());
  size_t open = 0;
  for (size_t i = 0; i < nodes->size(); ++i) {
    PoolNode* node = (*nodes)[i].get();
    if (!node->healthy()) {
      node_failures_.Inc();
      warnings.push_back(absl::StrCat("partial response: storage node ", node->client.address(),
                                      " did not answer: out of rotation"));
      continue;
    }
    streams[i] = std::make_unique<ReadAhead>(
        node->client.OpenSelect(matchers, min_time_ms, max_time_ms), options_.read_ahead);
    ++open;
  }
  if (!warnings.empty()) {
    partial_responses_.Inc();
    if (!options_.partial_response || open == 0) {
      return absl::UnavailableError(absl::StrJoin(warnings, "; "));
    }
  }
  // Decides, as each node's stream ends, whether the set goes on without it.
  struct Ends {
    size_t open = 0;
    size_t answered = 0;
    bool partial = false;
    absl::Time start = absl::Now();
  };
  auto on_end = [this, nodes, ends = Ends{.open = open, .partial = !warnings.empty()}](
                    size_t i, const absl::Status& status,
                    std::vector<std::string>* warnings) mutable -> absl::Status {
    PoolNode* node = (*nodes)[i].get();
    if (--ends.open == 0) select_latency_.Observe(absl::ToDoubleSeconds(absl::Now() - ends.start));
    // The request's own errors (a bad regex, a limit) are the answer, not a partial one.
    if (status.code() == absl::StatusCode::kInvalidArgument ||
        status.code() == absl::StatusCode::kResourceExhausted) {
      return status;
    }
    node->Report(status);
    if (status.ok()) {
      ++ends.answered;
      return absl::OkStatus();
    }
    node_failures_.Inc();
    std::string warning = absl::StrCat("partial response: storage node ", node->client.address(),
                                       " did not answer: ", status.message());
    if (!ends.partial) partial_responses_.Inc();
    ends.partial = true;
    if (!options_.partial_response || (ends.open == 0 && ends.answered == 0)) {
      return absl::UnavailableError(warning);
    }
    warnings->push_back(std::move(warning));
    return absl::OkStatus();
  };
  return MergeSelectStreams(std::move(streams), min_time_ms, max_time_ms, std::move(warnings),
                            std::move(on_end));
}

template <typename T>
absl::StatusOr<std::vector<T>> FanOut::MergeSorted(
    const std::function<absl::StatusOr<std::vector<T>>(NodeClient*)>& call) {
  std::shared_ptr<const NodePool::Nodes> nodes = pool_->Snapshot();
  std::vector<std::vector<T>> per_node(nodes->size());
  absl::StatusOr<std::vector<std::string>> warnings =
      OnEveryNode(*nodes, [&](PoolNode* node, size_t i) {
        absl::StatusOr<std::vector<T>> values = call(&node->client);
        if (!values.ok()) return values.status();
        per_node[i] = *std::move(values);
        return absl::OkStatus();
      });
  if (!warnings.ok()) return warnings.status();
  std::vector<T> merged;
  for (std::vector<T>& values : per_node) {
    merged.insert(merged.end(), std::make_move_iterator(values.begin()),
                  std::make_move_iterator(values.end()));
  }
  std::sort(merged.begin(), merged.end());
  merged.erase(std::unique(merged.begin(), merged.end()), merged.end());
  return merged;
}

absl::StatusOr<std::vector<std::string>> FanOut::LabelNames(
    absl::Span<const model::LabelMatcher> matchers, int64_t min_time_ms, int64_t max_time_ms) {
  return MergeSorted<std::string>(
      [&](NodeClient* client) { return client->LabelNames(matchers, min_time_ms, max_time_ms); });
}

absl::StatusOr<std::vector<std::string>> FanOut::LabelValues(
    std::string_view name, absl::Span<const model::LabelMatcher> matchers, int64_t min_time_ms,
    int64_t max_time_ms) {
  return MergeSorted<std::string>([&](NodeClient* client) {
    return client->LabelValues(name, matchers, min_time_ms, max_time_ms);
  });
}

absl::StatusOr<std::vector<model::MetricMetadata>> FanOut::Metadata(std::string_view metric) {
  // Each family's metadata is on the replication factor's nodes; one that missed an update
  // (rerouted while down) may still hold an older description, which comes out beside it.
  return MergeSorted<model::MetricMetadata>(
      [&](NodeClient* client) { return client->Metadata(metric); });
}

}  // namespace kura::shard
