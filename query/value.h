#pragma once

// Values a PromQL query evaluates to, as the engine hands them to the API.

#include <cstdint>
#include <string>
#include <vector>

#include "model/labels.h"
#include "query/ast.h"

namespace kura::query {

struct FloatPoint {
  int64_t t = 0;  // ms
  double v = 0;
};

// One sample of an instant vector.
struct VectorElement {
  model::Labels labels;
  int64_t t = 0;  // ms
  double v = 0;
};

// One series of a range vector / matrix.
struct MatrixSeries {
  model::Labels labels;
  std::vector<FloatPoint> points;  // ascending t
};

// What /api/v1/query's `stats` parameter reports.
struct QueryStats {
  // Samples read by selectors: one per step for instant selectors, each sample in range once.
  int64_t total_queryable_samples = 0;
  int64_t peak_samples = 0;        // most samples held at once, as counted against max_samples
  double preparation_seconds = 0;  // parsing and duration expressions
  double inner_eval_seconds = 0;
  double result_sort_seconds = 0;
  double exec_total_seconds = 0;
};

struct QueryResult {
  ValueType type = ValueType::kNone;
  FloatPoint scalar;                  // type == kScalar
  std::string string_value;           // type == kString (time in scalar.t)
  std::vector<VectorElement> vector;  // type == kVector, in the engine's output order
  std::vector<MatrixSeries> matrix;   // type == kMatrix, sorted by labels
  // Annotation texts without position, e.g. "PromQL info: metric might not be a counter, ..."
  std::vector<std::string> warnings;
  std::vector<std::string> infos;
  QueryStats stats;
};

}  // namespace kura::query
