#pragma once

// Numeric helpers shared by functions and aggregations, each reproducing the float behaviour
// of its Prometheus counterpart so results agree to the last bit where tests compare exactly.

#include <cmath>
#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "query/value.h"

namespace kura::query {

// Kahan-Neumaier summation step: returns the new sum, updates the compensation `c`.
inline double KahanSumInc(double inc, double sum, double* c) {
  const double t = sum + inc;
  if (std::isinf(t)) {
    *c = 0;
  } else if (std::fabs(sum) >= std::fabs(inc)) {
    *c += (sum - t) + inc;
  } else {
    *c += (inc - t) + sum;
  }
  return t;
}

// Go's math.Max / math.Min: NaN wins, +0 beats -0.
inline double GoMax(double a, double b) {
  if (std::isinf(a) && a > 0) return a;
  if (std::isinf(b) && b > 0) return b;
  if (std::isnan(a) || std::isnan(b)) return std::nan("");
  if (a == 0 && a == b) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}
inline double GoMin(double a, double b) {
  if (std::isinf(a) && a < 0) return a;
  if (std::isinf(b) && b < 0) return b;
  if (std::isnan(a) || std::isnan(b)) return std::nan("");
  if (a == 0 && a == b) return std::signbit(a) ? a : b;
  return a < b ? a : b;
}

// Prometheus's quantile(): φ-quantile of `values` (sorted in place, NaN first), interpolating
// between neighbours; NaN for no values or a NaN φ, ±Inf for φ outside [0, 1].
double Quantile(double q, std::vector<double>* values);

// Least-squares fit of points against (t - intercept_time_ms) in seconds.
void LinearRegression(absl::Span<const FloatPoint> points, int64_t intercept_time_ms,
                      double* slope, double* intercept);

// Prometheus's interpolate() for the smoothed modifier: the value at `t` on the line from p1 to
// p2. For a counter that reset between them, the line starts from zero instead of p1's value.
inline double Interpolate(const FloatPoint& p1, const FloatPoint& p2, int64_t t,
                          bool is_counter) {
  double y1 = p1.v;
  const double y2 = p2.v;
  if (is_counter && y2 < y1) y1 = 0;
  return y1 + (y2 - y1) * static_cast<double>(t - p1.t) / static_cast<double>(p2.t - p1.t);
}

// Go's strconv.FormatFloat(v, 'g', -1, 64), which %v prints for floats in messages.
std::string FormatGoG(double v);

}  // namespace kura::query
