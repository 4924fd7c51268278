#include "query/function_signatures.h"

#include <algorithm>

namespace kura::query {
namespace {

constexpr ValueType kS = ValueType::kScalar;
constexpr ValueType kV = ValueType::kVector;
constexpr ValueType kM = ValueType::kMatrix;
constexpr ValueType kStr = ValueType::kString;

// Prometheus 3.x functions.go, plus start_timestamp, min_of and max_of that later 3.x releases
// added (the conformance scripts of v3.14 use them).
std::vector<FunctionSignature> BuildTable() {
  std::vector<FunctionSignature> t = {
      {"abs", {kV}},
      {"absent", {kV}},
      {"absent_over_time", {kM}},
      {"acos", {kV}},
      {"acosh", {kV}},
      {"asin", {kV}},
      {"asinh", {kV}},
      {"atan", {kV}},
      {"atanh", {kV}},
      {"avg_over_time", {kM}},
      {"ceil", {kV}},
      {"changes", {kM}},
      {"clamp", {kV, kS, kS}},
      {"clamp_max", {kV, kS}},
      {"clamp_min", {kV, kS}},
      {"cos", {kV}},
      {"cosh", {kV}},
      {"count_over_time", {kM}},
      {"days_in_month", {kV}, 1},
      {"day_of_month", {kV}, 1},
      {"day_of_week", {kV}, 1},
      {"day_of_year", {kV}, 1},
      {"deg", {kV}},
      {"delta", {kM}},
      {"deriv", {kM}},
      {"double_exponential_smoothing", {kM, kS, kS}, 0, kV, true},
      {"end", {}, 0, kS, true},
      {"exp", {kV}},
      {"first_over_time", {kM}, 0, kV, true},
      {"floor", {kV}},
      {"histogram_avg", {kV}},
      {"histogram_count", {kV}},
      {"histogram_fraction", {kS, kS, kV}},
      {"histogram_quantile", {kS, kV}},
      {"histogram_quantiles", {kV, kStr, kS, kS}, 9, kV, true},
      {"histogram_stddev", {kV}},
      {"histogram_stdvar", {kV}},
      {"histogram_sum", {kV}},
      {"hour", {kV}, 1},
      {"idelta", {kM}},
      {"increase", {kM}},
      {"info", {kV, kV}, 1, kV, true},
      {"integral", {kM, kS}, 1, kV, true},
      {"irate", {kM}},
      {"label_join", {kV, kStr, kStr, kStr}, -1},
      {"label_replace", {kV, kStr, kStr, kStr, kStr}},
      {"last_over_time", {kM}},
      {"ln", {kV}},
      {"log10", {kV}},
      {"log2", {kV}},
      {"mad_over_time", {kM}, 0, kV, true},
      {"max_of", {kS, kS}, 0, kS, true},
      {"max_over_time", {kM}},
      {"min_of", {kS, kS}, 0, kS, true},
      {"min_over_time", {kM}},
      {"minute", {kV}, 1},
      {"month", {kV}, 1},
      {"pi", {}, 0, kS},
      {"predict_linear", {kM, kS}},
      {"present_over_time", {kM}},
      {"quantile_over_time", {kS, kM}},
      {"rad", {kV}},
      {"range", {}, 0, kS, true},
      {"rate", {kM}},
      {"resets", {kM}},
      {"round", {kV, kS}, 1},
      {"scalar", {kV}, 0, kS},
      {"sgn", {kV}},
      {"sin", {kV}},
      {"sinh", {kV}},
      {"sort", {kV}},
      {"sort_by_label", {kV, kStr}, -1, kV, true},
      {"sort_by_label_desc", {kV, kStr}, -1, kV, true},
      {"sort_desc", {kV}},
      {"sqrt", {kV}},
      {"start", {}, 0, kS, true},
      {"start_timestamp", {kV}, 0, kV, true},
      {"stddev_over_time", {kM}},
      {"stdvar_over_time", {kM}},
      {"step", {}, 0, kS, true},
      {"sum_over_time", {kM}},
      {"tan", {kV}},
      {"tanh", {kV}},
      {"time", {}, 0, kS},
      {"timestamp", {kV}},
      {"ts_of_first_over_time", {kM}, 0, kV, true},
      {"ts_of_last_over_time", {kM}, 0, kV, true},
      {"ts_of_max_over_time", {kM}, 0, kV, true},
      {"ts_of_min_over_time", {kM}, 0, kV, true},
      {"vector", {kS}},
      {"year", {kV}, 1},
  };
  std::sort(t.begin(), t.end(), [](const FunctionSignature& a, const FunctionSignature& b) {
    return a.name < b.name;
  });
  return t;
}

}  // namespace

const std::vector<FunctionSignature>& AllFunctions() {
  static const std::vector<FunctionSignature>* const kTable =
      new std::vector<FunctionSignature>(BuildTable());
  return *kTable;
}

const FunctionSignature* LookupFunction(std::string_view name) {
  const std::vector<FunctionSignature>& table = AllFunctions();
  auto it = std::lower_bound(
      table.begin(), table.end(), name,
      [](const FunctionSignature& f, std::string_view n) { return f.name < n; });
  if (it == table.end() || it->name != name) return nullptr;
  return &*it;
}

}  // namespace kura::query
