#pragma once

// Internal values of the evaluator. Every expression of instant-vector or scalar type evaluates
// to a Matrix over the evaluation steps (a scalar is one series without labels); per step, the
// step-wise operators see a Vector of Samples. `drop_name` carries Prometheus's delayed
// __name__ removal: the name is removed when the query's result is produced.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "model/labels.h"
#include "query/ast.h"
#include "query/value.h"

namespace kura::query {

struct Sample {
  model::Labels labels;
  int64_t t = 0;
  double v = 0;
  bool drop_name = false;
};
using Vector = std::vector<Sample>;

struct Series {
  model::Labels labels;
  std::vector<FloatPoint> points;  // ascending t
  bool drop_name = false;
  // Empty, or one per point: its start timestamp (0 if unknown). Only a matrix selector's
  // series read for a function that uses them have them; any other expression's results lose
  // them, as in Prometheus.
  std::vector<int64_t> starts;
};
using Matrix = std::vector<Series>;

// The value of one evaluated expression.
//   kVector: `matrix` holds a point per step where the series has a value.
//   kScalar: `matrix` holds exactly one series without labels, with a point per step.
//   kMatrix: `matrix` holds the raw points of a range selector or subquery (instant only).
//   kString: `str`.
struct EvalValue {
  ValueType type = ValueType::kNone;
  Matrix matrix;
  std::string str;
};

// Annotations collected while evaluating one query, deduplicated in first-seen order.
struct Annotations {
  std::vector<std::string> warnings;
  std::vector<std::string> infos;

  void Warn(std::string text);
  void Info(std::string text);
};

// This Abseil's string_view is its own type, not std::string_view; convert at Abseil calls.
inline absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Removes __name__ (and __type__, __unit__, which Prometheus drops with it).
model::Labels DropMetricName(const model::Labels& labels);

}  // namespace kura::query
