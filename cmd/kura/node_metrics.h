#pragma once

// A storage node's counters on /metrics, for the roles that run one (standalone, store).

#include "base/metrics.h"
#include "storage/node.h"

namespace kura::cmd {

// `node` must outlive `registry`'s scrapes.
void RegisterNodeMetrics(storage::Node* node, base::Registry* registry);

}  // namespace kura::cmd
