#include "query/eval_math.h"

#include <algorithm>
#include <charconv>
#include <string>

#include "absl/strings/str_cat.h"

namespace kura::query {

double Quantile(double q, std::vector<double>* values) {
  if (values->empty() || std::isnan(q)) return std::nan("");
  if (q < 0) return -INFINITY;
  if (q > 1) return INFINITY;
  std::stable_sort(values->begin(), values->end(), [](double a, double b) {
    if (std::isnan(a)) return !std::isnan(b);
    return a < b;
  });
  const double n = static_cast<double>(values->size());
  const double rank = q * (n - 1);
  const double lower = std::max(0.0, std::floor(rank));
  const double upper = std::min(n - 1, lower + 1);
  const double weight = rank - std::floor(rank);
  return (*values)[static_cast<size_t>(lower)] * (1 - weight) +
         (*values)[static_cast<size_t>(upper)] * weight;
}

void LinearRegression(absl::Span<const FloatPoint> points, int64_t intercept_time_ms,
                      double* slope, double* intercept) {
  double n = 0, sum_x = 0, c_x = 0, sum_y = 0, c_y = 0, sum_xy = 0, c_xy = 0, sum_x2 = 0,
         c_x2 = 0;
  const double init_y = points[0].v;
  bool const_y = true;
  for (size_t i = 0; i < points.size(); ++i) {
    const FloatPoint& p = points[i];
    if (const_y && i > 0 && p.v != init_y) const_y = false;
    n += 1.0;
    const double x = static_cast<double>(p.t - intercept_time_ms) / 1e3;
    sum_x = KahanSumInc(x, sum_x, &c_x);
    sum_y = KahanSumInc(p.v, sum_y, &c_y);
    sum_xy = KahanSumInc(x * p.v, sum_xy, &c_xy);
    sum_x2 = KahanSumInc(x * x, sum_x2, &c_x2);
  }
  if (const_y) {
    if (std::isinf(init_y)) {
      *slope = *intercept = std::nan("");
      return;
    }
    *slope = 0;
    *intercept = init_y;
    return;
  }
  sum_x += c_x;
  sum_y += c_y;
  sum_xy += c_xy;
  sum_x2 += c_x2;
  const double cov_xy = sum_xy - sum_x * sum_y / n;
  const double var_x = sum_x2 - sum_x * sum_x / n;
  *slope = cov_xy / var_x;
  *intercept = sum_y / n - *slope * sum_x / n;
}

std::string FormatGoG(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Shortest digits first, then Go's rule: exponent form when exp < -4 || exp >= 21 (the
  // shortest-precision 'g' uses an exponent threshold of 21 digits).
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  const size_t e = sci.find('e');
  const int exp = std::stoi(sci.substr(e + 1));
  if (exp < -4 || exp >= 21) {
    std::string mant = sci.substr(0, e);
    const std::string sign = exp < 0 ? "-" : "+";
    const int aexp = exp < 0 ? -exp : exp;
    return absl::StrCat(mant, "e", sign, aexp < 10 ? "0" : "", aexp);
  }
  res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  return std::string(buf, res.ptr);
}

}  // namespace kura::query
