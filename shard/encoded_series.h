#pragma once

#include <string>
#include <vector>

#include "model/labels.h"

namespace kura::shard {

// One series as a node's Select stream carries it: encoded chunks in time order.
struct EncodedSeries {
  model::Labels labels;
  std::vector<std::string> chunks;
};

}  // namespace kura::shard
