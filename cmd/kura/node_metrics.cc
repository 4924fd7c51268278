#include "cmd/kura/node_metrics.h"

#include <cstdint>
#include <utility>

namespace kura::cmd {

void RegisterNodeMetrics(storage::Node* node, base::Registry* registry) {
  registry->AddGaugeFunc("kura_storage_active_series", "Series with an open head chunk.",
                         [node] { return static_cast<double>(node->stats().active_series); });
  registry->AddCounterFunc("kura_storage_samples_appended_total", "Samples appended.",
                           [node] { return static_cast<double>(node->stats().samples_appended); });
  registry->AddCounterFunc("kura_storage_series_created_total", "Series created.",
                           [node] { return static_cast<double>(node->stats().series_created); });
  registry->AddCounterFunc("kura_storage_chunks_written_total", "Chunks written.",
                           [node] { return static_cast<double>(node->stats().chunks_written); });
  registry->AddCounterFunc(
      "kura_storage_out_of_order_samples_total", "Samples rejected as out of order.",
      [node] { return static_cast<double>(node->stats().out_of_order_samples); });
  registry->AddCounterFunc("kura_storage_out_of_order_accepted_total",
                           "Samples accepted within the out-of-order window.", [node] {
                             return static_cast<double>(node->stats().out_of_order_accepted);
                           });
  registry->AddGaugeFunc("kura_storage_memory_budget_bytes", "The memory budget.",
                         [node] { return static_cast<double>(node->stats().memory_budget_bytes); });
  const std::pair<const char*, int64_t storage::NodeStats::*> components[] = {
      {"head", &storage::NodeStats::head_memory_bytes},
      {"block_cache", &storage::NodeStats::block_cache_bytes},
      {"memtables", &storage::NodeStats::memtable_bytes}};
  for (const auto& [component, field] : components) {
    registry->AddGaugeFunc(
        "kura_storage_memory_bytes", "Memory the budget accounts, by component.",
        [node, field = field] { return static_cast<double>(node->stats().*field); },
        {{"component", component}});
  }
  registry->AddCounterFunc(
      "kura_storage_memory_pressure_flushes_total", "Times the head wrote its chunks out early.",
      [node] { return static_cast<double>(node->stats().memory_pressure_flushes); });
  registry->AddCounterFunc(
      "kura_storage_memory_rejected_writes_total", "Writes refused by the memory budget.",
      [node] { return static_cast<double>(node->stats().memory_rejected_writes); });
  registry->AddCounterFunc(
      "kura_storage_partitions_dropped_total", "Partitions dropped by retention.",
      [node] { return static_cast<double>(node->stats().partitions_dropped); });
  registry->AddCounterFunc(
      "kura_storage_partitions_compacted_total", "Closed partitions merged per series.",
      [node] { return static_cast<double>(node->stats().partitions_compacted); });
  registry->AddGaugeFunc(
      "kura_storage_tombstoned_series", "Series with deletions not yet cleaned.",
      [node] { return static_cast<double>(node->stats().active_tombstoned_series); });
}

}  // namespace kura::cmd
