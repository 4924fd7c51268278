#include "shard/router.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "xxhash.h"

namespace kura::shard {
namespace {

// What a series costs in flight: its label bytes, 16 bytes per sample and 8 per start timestamp,
// about its size on the wire before compression.
size_t ApproximateBytes(const model::TimeSeries& series) {
  size_t bytes = 16 * series.samples.size() + 8 * series.start_timestamps_ms.size();
  // The canonical form's size is the labels' strings and a separator after each.
  return bytes + series.labels.CanonicalView().size();
}

// What a metadata entry costs in flight: its strings.
size_t ApproximateBytes(const model::MetricMetadata& metadata) {
  return metadata.family.size() + metadata.type.size() + metadata.help.size() +
         metadata.unit.size() + 8;
}

// Where each series (or metadata entry) stands: its healthy candidates in preference order,
// the next to try and how many acknowledgements it still needs.
struct SeriesState {
  std::vector<int> candidates;
  size_t next = 0;
  int needed = 0;
};

// One node's part of a round.
struct NodeWrite {
  int node = 0;
  // Indices into the batch's series, then past them into its metadata.
  std::vector<size_t> items;
  size_t bytes = 0;
  absl::Status status;
};

void RunNodeWrite(const model::WriteBatch& batch, const std::vector<std::string>& canonical,
                  PoolNode* node, NodeWrite* write) {
  std::vector<SeriesToWrite> series;
  std::vector<const model::MetricMetadata*> metadata;
  series.reserve(write->items.size());
  for (size_t i : write->items) {
    if (i < batch.series.size()) {
      series.push_back({&batch.series[i], &canonical[i]});
    } else {
      metadata.push_back(&batch.metadata[i - batch.series.size()]);
    }
  }
  const absl::Time start = absl::Now();
  write->status = node->client.Write(series, metadata);
  node->write_latency.Observe(absl::ToDoubleSeconds(absl::Now() - start));
  if (!write->status.ok()) node->write_errors.Inc();
  node->Report(write->status);
}

}  // namespace

Router::Router(NodePool* pool, RouterOptions options, base::Registry* metrics)
    : pool_(pool),
      options_(options),
      rerouted_series_(metrics->AddCounter(
          "kura_router_rerouted_series_total",
          "Series written to a later node of their preference list after a node failed.")),
      refused_batches_(metrics->AddCounter(
          "kura_router_refused_batches_total",
          "Batches refused because a storage node had too many bytes in flight.")) {}

std::shared_ptr<const Router::Layout> Router::CurrentLayout() {
  std::shared_ptr<const NodePool::Nodes> nodes = pool_->Snapshot();
  absl::MutexLock lock(&mu_);
  if (layout_ == nullptr || layout_->nodes != nodes) {
    std::vector<std::string> ids;
    for (const std::shared_ptr<PoolNode>& node : *nodes) ids.push_back(node->client.address());
    auto layout = std::make_shared<Layout>();
    layout->nodes = std::move(nodes);
    layout->placement = std::make_unique<Placement>(ids);
    layout_ = std::move(layout);
  }
  return layout_;
}

absl::Status Router::Write(const model::WriteBatch& batch) {
  std::shared_ptr<const Layout> layout = CurrentLayout();
  const NodePool::Nodes& nodes = *layout->nodes;
  if (nodes.empty()) return absl::UnavailableError("no storage nodes known");
  std::vector<bool> healthy(nodes.size());
  for (size_t n = 0; n < nodes.size(); ++n) healthy[n] = nodes[n]->healthy();

  // Series and metadata entries alike go to the first healthy nodes of their preference list:
  // a series by its labels' hash, an entry by its family name's.
  const size_t num_series = batch.series.size();
  std::vector<SeriesState> states(num_series + batch.metadata.size());
  // Computed once: the series hash (Labels::Hash() is xxHash3 of these bytes) and every
  // replica's request need them.
  std::vector<std::string> canonical(batch.series.size());
  std::vector<int> order;
  auto place = [&](size_t i, std::string_view key) {
    layout->placement->PreferenceList(XXH3_64bits(key.data(), key.size()), &order);
    for (int n : order) {
      if (healthy[static_cast<size_t>(n)]) states[i].candidates.push_back(n);
    }
    states[i].needed = options_.replication_factor;
  };
  for (size_t i = 0; i < num_series; ++i) {
    canonical[i] = batch.series[i].labels.CanonicalBytes();
    place(i, canonical[i]);
  }
  for (size_t i = num_series; i < states.size(); ++i) {
    place(i, batch.metadata[i - num_series].family);
  }

  absl::Status rejected;  // a node's InvalidArgument: the batch's own fault
  absl::Status last_failure = absl::UnavailableError("no healthy storage node");
  // Each round sends every series that still needs acknowledgements to its next candidates;
  // a series never returns to a node, so there are at most as many rounds as nodes.
  for (size_t round = 0; round <= nodes.size(); ++round) {
    std::vector<NodeWrite> writes(nodes.size());
    bool any = false;
    for (size_t i = 0; i < states.size(); ++i) {
      SeriesState& state = states[i];
      for (int k = 0; k < state.needed; ++k) {
        if (state.next == state.candidates.size()) {
          return absl::UnavailableError(absl::StrCat(
              "fewer than ", options_.replication_factor, " healthy storage nodes could take ",
              i < num_series
                  ? absl::StrCat("series ", batch.series[i].labels.ToString())
                  : absl::StrCat("the metadata of ", batch.metadata[i - num_series].family),
              "; last error: ", last_failure.message()));
        }
        NodeWrite& write = writes[static_cast<size_t>(state.candidates[state.next++])];
        write.items.push_back(i);
        write.bytes += i < num_series ? ApproximateBytes(batch.series[i])
                                      : ApproximateBytes(batch.metadata[i - num_series]);
        any = true;
      }
    }
    if (!any) break;

    // Reserve in-flight bytes for every part before sending any of them.
    std::vector<size_t> reserved;
    absl::Cleanup release = [&] {
      for (size_t n : reserved) {
        const int64_t bytes = static_cast<int64_t>(writes[n].bytes);
        nodes[n]->in_flight_bytes.fetch_sub(bytes);
        nodes[n]->in_flight_gauge.Add(-static_cast<double>(bytes));
      }
    };
    for (size_t n = 0; n < nodes.size(); ++n) {
      if (writes[n].items.empty()) continue;
      writes[n].node = static_cast<int>(n);
      const int64_t bytes = static_cast<int64_t>(writes[n].bytes);
      const int64_t before = nodes[n]->in_flight_bytes.fetch_add(bytes);
      reserved.push_back(n);
      nodes[n]->in_flight_gauge.Add(static_cast<double>(bytes));
      if (before > 0 &&
          static_cast<size_t>(before + bytes) > options_.max_in_flight_bytes_per_node) {
        refused_batches_.Inc();
        return absl::ResourceExhaustedError(
            absl::StrCat("storage node ", nodes[n]->client.address(), " has ", before,
                         " bytes of writes in flight; retry later"));
      }
    }

    // In parallel: a thread per node but the last, which runs here.
    std::vector<std::thread> threads;
    for (size_t r = 0; r + 1 < reserved.size(); ++r) {
      NodeWrite* write = &writes[reserved[r]];
      threads.emplace_back([&batch, &canonical, node = nodes[reserved[r]].get(), write] {
        RunNodeWrite(batch, canonical, node, write);
      });
    }
    RunNodeWrite(batch, canonical, nodes[reserved.back()].get(), &writes[reserved.back()]);
    for (std::thread& thread : threads) thread.join();

    for (size_t n : reserved) {
      const NodeWrite& write = writes[n];
      if (write.status.ok()) {
        for (size_t i : write.items) --states[i].needed;
      } else if (write.status.code() == absl::StatusCode::kInvalidArgument) {
        rejected = write.status;
        for (size_t i : write.items) --states[i].needed;  // retrying elsewhere cannot help
      } else {
        last_failure =
            absl::Status(write.status.code(),
                         absl::StrCat(nodes[n]->client.address(), ": ", write.status.message()));
        rerouted_series_.Inc(static_cast<double>(
            std::count_if(write.items.begin(), write.items.end(),
                          [&](size_t i) { return i < num_series; })));
      }
    }
  }
  return rejected;
}

}  // namespace kura::shard
