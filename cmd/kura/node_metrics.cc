#include "cmd/kura/node_metrics.h"

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
}

}  // namespace kura::cmd
