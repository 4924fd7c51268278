// Range-vector functions over one window of float samples, as in Prometheus's functions.go.

#include <algorithm>
#include <cmath>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "query/eval_math.h"
#include "query/functions.h"

namespace kura::query {
namespace {

using Window = RangeWindow;

// Prometheus's extrapolatedRate: the increase over the window, extrapolated to the window's
// edges when the samples reach close enough to them. With start timestamps, a counter whose
// first sample in the window started inside it is taken to have been 0 at that start instead
// of being extrapolated to the left, which also gives one sample a rate.
std::optional<double> ExtrapolatedRate(const Window& w, bool is_counter, bool is_rate) {
  const auto& p = w.points;
  const auto& st = w.starts;
  const bool starts_inside = is_counter && !st.empty() && st[0] != 0 &&
                             st[0] > w.range_start_ms && st[0] < p[0].t;
  if (p.size() < 2 && !starts_inside) return std::nullopt;
  const size_t last = p.size() - 1;
  double result = p[last].v - p[0].v;
  if (is_counter && (w.resets.empty() || w.resets.front() != w.resets.back())) {
    double prev = p[0].v;
    for (size_t i = 1; i < p.size(); ++i) {
      if (p[i].v < prev ||
          (!st.empty() && IsStartTimestampReset(st[i - 1], p[i - 1].t, st[i], p[i].t))) {
        result += prev;
      }
      prev = p[i].v;
    }
  }
  if (is_counter && !st.empty() && w.start_overlap != nullptr && !*w.start_overlap) {
    for (size_t i = 1; i < p.size(); ++i) {
      if (StartOverlaps(st[i - 1], p[i - 1].t, st[i])) {
        *w.start_overlap = true;
        break;
      }
    }
  }
  double duration_to_start = static_cast<double>(p[0].t - w.range_start_ms) / 1000;
  double duration_to_end = static_cast<double>(w.range_end_ms - p[last].t) / 1000;
  double sampled_interval = static_cast<double>(p[last].t - p[0].t) / 1000;
  const double avg_between = last > 0 ? sampled_interval / static_cast<double>(last) : 0;
  const double threshold = avg_between * 1.1;
  if (starts_inside) {
    duration_to_start = 0;
    sampled_interval = static_cast<double>(p[last].t - st[0]) / 1000;
    result += p[0].v;
  } else {
    if (duration_to_start >= threshold) duration_to_start = avg_between / 2;
    if (is_counter && result > 0 && p[0].v >= 0) {
      // A counter cannot go below zero: do not extrapolate past the zero point.
      const double duration_to_zero = sampled_interval * (p[0].v / result);
      if (duration_to_zero < duration_to_start) duration_to_start = duration_to_zero;
    }
  }
  if (duration_to_end >= threshold) duration_to_end = avg_between / 2;
  double factor = 1;
  if (sampled_interval != 0) {
    factor = (sampled_interval + duration_to_start + duration_to_end) / sampled_interval;
  }
  if (is_rate) factor /= w.range_seconds;
  return result * factor;
}

// Go's sort.Search(n, pred) over the first n points: the first index whose point satisfies
// `pred`, or n.
template <typename Pred>
int64_t SearchPoints(absl::Span<const FloatPoint> p, int64_t n, Pred pred) {
  return std::partition_point(p.begin(), p.begin() + n,
                              [&](const FloatPoint& x) { return !pred(x); }) -
         p.begin();
}

// Prometheus's extendedRate, rate/increase/delta over an anchored or smoothed window: the
// difference between the values at the window's edges (the sample at or before the start when
// anchored; values interpolated at the start and end when smoothed), plus counter resets.
std::optional<double> ExtendedRate(const Window& w, bool is_counter, bool is_rate) {
  const auto& f = w.points;
  const int64_t start = w.range_start_ms, end = w.range_end_ms;
  int64_t last = static_cast<int64_t>(f.size()) - 1;
  const int64_t after_start =
      SearchPoints(f, last, [&](const FloatPoint& x) { return x.t > start; });
  int64_t first = std::max<int64_t>(0, after_start - 1);
  if (w.smoothed) last = SearchPoints(f, last, [&](const FloatPoint& x) { return x.t >= end; });
  if (f[last].t <= start) return std::nullopt;
  if (w.smoothed && f[first].t > end) return std::nullopt;
  const double left = (w.smoothed && f[first].t < start)
                          ? Interpolate(f[first], f[first + 1], start, is_counter)
                          : f[first].v;
  const double right = (w.smoothed && last > 0 && f[last].t > end)
                           ? Interpolate(f[last - 1], f[last], end, is_counter)
                           : f[last].v;
  double result = right - left;
  if (is_counter) {
    // Only samples strictly inside the window: the edges already account for their resets.
    if (f[first].t <= start) ++first;
    if (f[last].t >= end) --last;
    double correction = 0, prev = left;
    for (int64_t i = first; i <= last; ++i) {
      if (f[i].v < prev) correction += prev;
      prev = f[i].v;
    }
    if (right < prev) correction += prev;
    result += correction;
  }
  if (is_rate) result /= w.range_seconds;
  return result;
}

// Prometheus's pickFirstSampleIndex for resets/changes: an anchored window starts at its last
// sample at or before the range start; nullopt when no sample lies after the range start.
std::optional<size_t> FirstSampleIndex(const Window& w) {
  if (!w.anchored) return 0;
  const auto& f = w.points;
  if (f.empty() || f.back().t <= w.range_start_ms) return std::nullopt;
  const int64_t after = SearchPoints(f, static_cast<int64_t>(f.size()) - 1,
                                     [&](const FloatPoint& x) { return x.t > w.range_start_ms; });
  return static_cast<size_t>(std::max<int64_t>(0, after - 1));
}

std::optional<double> InstantValue(const Window& w, bool is_rate) {
  const auto& p = w.points;
  if (p.size() < 2) return std::nullopt;
  const size_t n = p.size();
  const FloatPoint& last = p[n - 1];
  const FloatPoint& prev = p[n - 2];
  const bool reset =
      last.v < prev.v ||
      (!w.starts.empty() && IsStartTimestampReset(w.starts[n - 2], prev.t, w.starts[n - 1], last.t));
  double result = (is_rate && reset) ? last.v : last.v - prev.v;
  const int64_t interval = last.t - prev.t;
  if (interval == 0) return std::nullopt;
  if (is_rate) result /= static_cast<double>(interval) / 1000;
  return result;
}

std::optional<double> RateLike(const Window& w, bool is_counter, bool is_rate) {
  if (w.anchored || w.smoothed) return ExtendedRate(w, is_counter, is_rate);
  return ExtrapolatedRate(w, is_counter, is_rate);
}

std::optional<double> Rate(const Window& w) { return RateLike(w, true, true); }
std::optional<double> Increase(const Window& w) { return RateLike(w, true, false); }
std::optional<double> Delta(const Window& w) { return RateLike(w, false, false); }
std::optional<double> Irate(const Window& w) { return InstantValue(w, true); }
std::optional<double> Idelta(const Window& w) { return InstantValue(w, false); }

std::optional<double> Deriv(const Window& w) {
  if (w.points.size() < 2) return std::nullopt;
  double slope, intercept;
  LinearRegression(w.points, w.points[0].t, &slope, &intercept);
  return slope;
}

std::optional<double> PredictLinear(const Window& w) {
  if (w.points.size() < 2) return std::nullopt;
  double slope, intercept;
  LinearRegression(w.points, w.step_ms, &slope, &intercept);
  return slope * w.params[0] + intercept;
}

std::optional<double> Resets(const Window& w) {
  const std::optional<size_t> first = FirstSampleIndex(w);
  if (!first) return std::nullopt;
  const auto& p = w.points;
  const auto& st = w.starts;
  int n = 0;
  for (size_t i = *first + 1; i < p.size(); ++i) {
    if (p[i].v < p[i - 1].v ||
        (!st.empty() && IsStartTimestampReset(st[i - 1], p[i - 1].t, st[i], p[i].t))) {
      ++n;
    }
  }
  return n;
}

std::optional<double> Changes(const Window& w) {
  const std::optional<size_t> first = FirstSampleIndex(w);
  if (!first) return std::nullopt;
  int n = 0;
  for (size_t i = *first + 1; i < w.points.size(); ++i) {
    const double cur = w.points[i].v, prev = w.points[i - 1].v;
    if (cur != prev && !(std::isnan(cur) && std::isnan(prev))) ++n;
  }
  return n;
}

std::optional<double> AvgOverTime(const Window& w) {
  const auto& p = w.points;
  double sum = p[0].v, count = 1, mean = 0, c = 0;
  bool incremental = false;
  for (size_t i = 1; i < p.size(); ++i) {
    count = static_cast<double>(i + 1);
    if (!incremental) {
      double nc = c;
      const double ns = KahanSumInc(p[i].v, sum, &nc);
      if (!std::isinf(ns)) {
        sum = ns;
        c = nc;
        continue;
      }
      // The sum would overflow: continue with the incremental mean.
      incremental = true;
      mean = sum / (count - 1);
      c /= count - 1;
    }
    const double q = (count - 1) / count;
    double qc = q * c;
    mean = KahanSumInc(p[i].v / count, q * mean, &qc);
    c = qc;
  }
  if (incremental) return mean + c;
  return sum / count + c / count;
}

std::optional<double> SumOverTime(const Window& w) {
  double sum = 0, c = 0;
  for (const auto& p : w.points) sum = KahanSumInc(p.v, sum, &c);
  if (std::isinf(sum)) return sum;
  return sum + c;
}

std::optional<double> CountOverTime(const Window& w) {
  return static_cast<double>(w.points.size());
}

std::optional<double> MinOverTime(const Window& w) {
  double v = w.points[0].v;
  for (const auto& p : w.points) {
    if (p.v < v || std::isnan(v)) v = p.v;
  }
  return v;
}

std::optional<double> MaxOverTime(const Window& w) {
  double v = w.points[0].v;
  for (const auto& p : w.points) {
    if (p.v > v || std::isnan(v)) v = p.v;
  }
  return v;
}

double VarianceOverTime(const Window& w) {
  double count = 0, mean = 0, c_mean = 0, aux = 0, c_aux = 0;
  for (const auto& p : w.points) {
    count++;
    const double delta = p.v - (mean + c_mean);
    mean = KahanSumInc(delta / count, mean, &c_mean);
    aux = KahanSumInc(delta * (p.v - (mean + c_mean)), aux, &c_aux);
  }
  return (aux + c_aux) / count;
}

std::optional<double> StdvarOverTime(const Window& w) { return VarianceOverTime(w); }
std::optional<double> StddevOverTime(const Window& w) { return std::sqrt(VarianceOverTime(w)); }

std::optional<double> LastOverTime(const Window& w) { return w.points.back().v; }
std::optional<double> FirstOverTime(const Window& w) { return w.points.front().v; }
std::optional<double> PresentOverTime(const Window&) { return 1.0; }

std::optional<double> TsOfLastOverTime(const Window& w) {
  return static_cast<double>(w.points.back().t) / 1000;
}
std::optional<double> TsOfFirstOverTime(const Window& w) {
  return static_cast<double>(w.points.front().t) / 1000;
}
std::optional<double> TsOfMinOverTime(const Window& w) {
  FloatPoint best = w.points[0];
  for (const auto& p : w.points) {
    if (p.v <= best.v || std::isnan(best.v)) best = p;
  }
  return static_cast<double>(best.t) / 1000;
}
std::optional<double> TsOfMaxOverTime(const Window& w) {
  FloatPoint best = w.points[0];
  for (const auto& p : w.points) {
    if (p.v >= best.v || std::isnan(best.v)) best = p;
  }
  return static_cast<double>(best.t) / 1000;
}

std::optional<double> QuantileOverTime(const Window& w) {
  std::vector<double> values;
  values.reserve(w.points.size());
  for (const auto& p : w.points) values.push_back(p.v);
  return Quantile(w.params[0], &values);
}

std::optional<double> MadOverTime(const Window& w) {
  std::vector<double> values;
  values.reserve(w.points.size());
  for (const auto& p : w.points) {
    if (std::isnan(p.v)) return std::nan("");
    values.push_back(p.v);
  }
  const double median = Quantile(0.5, &values);
  for (auto& v : values) v = std::fabs(v - median);
  return Quantile(0.5, &values);
}

// Holt's linear trend method (formerly holt_winters).
std::optional<double> DoubleExponentialSmoothing(const Window& w) {
  const double sf = w.params[0], tf = w.params[1];
  const auto& p = w.points;
  if (p.size() < 2) return std::nullopt;
  double s0 = 0, s1 = p[0].v, b = p[1].v - p[0].v;
  for (size_t i = 1; i < p.size(); ++i) {
    const double x = sf * p[i].v;
    if (i > 1) b = tf * (s1 - s0) + (1 - tf) * b;
    const double y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  return s1;
}

}  // namespace

RangeFunction FindRangeFunction(std::string_view name) {
  static const auto* const kTable = new absl::flat_hash_map<std::string_view, RangeFunction>{
      {"rate", Rate},
      {"increase", Increase},
      {"delta", Delta},
      {"irate", Irate},
      {"idelta", Idelta},
      {"deriv", Deriv},
      {"predict_linear", PredictLinear},
      {"resets", Resets},
      {"changes", Changes},
      {"avg_over_time", AvgOverTime},
      {"sum_over_time", SumOverTime},
      {"count_over_time", CountOverTime},
      {"min_over_time", MinOverTime},
      {"max_over_time", MaxOverTime},
      {"stddev_over_time", StddevOverTime},
      {"stdvar_over_time", StdvarOverTime},
      {"last_over_time", LastOverTime},
      {"first_over_time", FirstOverTime},
      {"present_over_time", PresentOverTime},
      {"quantile_over_time", QuantileOverTime},
      {"mad_over_time", MadOverTime},
      {"ts_of_last_over_time", TsOfLastOverTime},
      {"ts_of_first_over_time", TsOfFirstOverTime},
      {"ts_of_min_over_time", TsOfMinOverTime},
      {"ts_of_max_over_time", TsOfMaxOverTime},
      {"double_exponential_smoothing", DoubleExponentialSmoothing},
  };
  auto it = kTable->find(name);
  return it == kTable->end() ? nullptr : it->second;
}

}  // namespace kura::query
