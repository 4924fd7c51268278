#pragma once

// Merging the series that several storage nodes return for one Select: replicas hold the same
// series, and a series written while a node was out of rotation lives on others as well. Series
// with equal labels become one, whose samples are the union of every node's in time order,
// with a duplicate timestamp (the same sample on two replicas) kept once.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/labels.h"
#include "model/series_set.h"

namespace kura::shard {

// One series as a node's Select stream carries it: encoded chunks in time order.
struct EncodedSeries {
  model::Labels labels;
  std::vector<std::string> chunks;
};

// `per_node[i]` is node i's answer, sorted by labels. The set's iterators yield samples in
// [min_time_ms, max_time_ms]; `warnings` is what the set's warnings() returns.
std::unique_ptr<model::SeriesSet> MergeNodeSeries(std::vector<std::vector<EncodedSeries>> per_node,
                                                  int64_t min_time_ms, int64_t max_time_ms,
                                                  std::vector<std::string> warnings);

}  // namespace kura::shard
