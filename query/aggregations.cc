#include "query/aggregations.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/utf8.h"
#include "query/eval_evaluator.h"
#include "query/eval_math.h"
#include "query/go_float.h"
#include "query/lexer.h"
#include "xxhash.h"

namespace kura::query {
namespace {

// One group's running state within one step.
struct GroupState {
  bool seen = false;
  double value = 0;
  double kahan_c = 0;
  double mean = 0;
  double count = 0;
  bool incremental_mean = false;
  std::vector<double> values;  // quantile
  std::vector<size_t> heap;    // topk/bottomk/limitk/limit_ratio: indexes into the step's inputs
};

bool IsSelectorOp(AggregateOp op) {
  return op == AggregateOp::kTopk || op == AggregateOp::kBottomk || op == AggregateOp::kLimitk ||
         op == AggregateOp::kLimitRatio;
}

model::Labels GroupingLabels(const model::Labels& l, const std::vector<std::string>& grouping,
                             bool without) {
  if (without) return DropMetricName(l.Drop(grouping));
  return l.Keep(grouping);
}

void Fold(AggregateOp op, GroupState* g, double v) {
  if (!g->seen) {
    g->seen = true;
    g->value = v;
    g->mean = v;
    g->kahan_c = 0;
    g->count = 1;
    g->incremental_mean = false;
    g->values.clear();
    if (op == AggregateOp::kStddev || op == AggregateOp::kStdvar) {
      g->value = (std::isnan(v) || std::isinf(v)) ? std::nan("") : 0;
    }
    if (op == AggregateOp::kQuantile) g->values.push_back(v);
    if (op == AggregateOp::kGroup) g->value = 1;
    return;
  }
  switch (op) {
    case AggregateOp::kSum:
      g->value = KahanSumInc(v, g->value, &g->kahan_c);
      break;
    case AggregateOp::kAvg: {
      g->count++;
      if (!g->incremental_mean) {
        double c = g->kahan_c;
        const double sum = KahanSumInc(v, g->value, &c);
        if (!std::isinf(sum)) {
          g->value = sum;
          g->kahan_c = c;
          break;
        }
        // The sum would overflow: continue with the incremental mean.
        g->incremental_mean = true;
        g->mean = g->value / (g->count - 1);
        g->kahan_c /= g->count - 1;
      }
      if (std::isinf(g->mean)) {
        if (std::isinf(v) && (g->mean > 0) == (v > 0)) break;
        if (!std::isinf(v) && !std::isnan(v)) break;
      }
      const double current = g->mean + g->kahan_c;
      g->mean = KahanSumInc(v / g->count - current / g->count, g->mean, &g->kahan_c);
      break;
    }
    case AggregateOp::kMin:
      if (g->value > v || std::isnan(g->value)) g->value = v;
      break;
    case AggregateOp::kMax:
      if (g->value < v || std::isnan(g->value)) g->value = v;
      break;
    case AggregateOp::kCount:
      g->count++;
      break;
    case AggregateOp::kStddev:
    case AggregateOp::kStdvar: {
      g->count++;
      const double delta = v - g->mean;
      g->mean += delta / g->count;
      g->value += delta * (v - g->mean);
      break;
    }
    case AggregateOp::kQuantile:
      g->values.push_back(v);
      break;
    default:
      break;
  }
}

double Finish(AggregateOp op, GroupState* g, double param) {
  switch (op) {
    case AggregateOp::kSum: return g->value + g->kahan_c;
    case AggregateOp::kAvg:
      if (g->incremental_mean) return g->mean + g->kahan_c;
      return (g->value + g->kahan_c) / g->count;
    case AggregateOp::kCount: return g->count;
    case AggregateOp::kStdvar: return g->value / g->count;
    case AggregateOp::kStddev: return std::sqrt(g->value / g->count);
    case AggregateOp::kQuantile: return Quantile(param, &g->values);
    default: return g->value;
  }
}

// Go's container/heap sift operations over indexes, so ties resolve as Prometheus's do.
template <typename Less>
void HeapUp(std::vector<size_t>* h, size_t j, Less less) {
  while (j > 0) {
    const size_t i = (j - 1) / 2;
    if (!less((*h)[j], (*h)[i])) break;
    std::swap((*h)[i], (*h)[j]);
    j = i;
  }
}

template <typename Less>
bool HeapDown(std::vector<size_t>* h, size_t i0, Less less) {
  const size_t n = h->size();
  size_t i = i0;
  while (true) {
    const size_t j1 = 2 * i + 1;
    if (j1 >= n) break;
    size_t j = j1;
    if (j1 + 1 < n && less((*h)[j1 + 1], (*h)[j1])) j = j1 + 1;
    if (!less((*h)[j], (*h)[i])) break;
    std::swap((*h)[i], (*h)[j]);
    i = j;
  }
  return i > i0;
}

// Prometheus's AddRatioSample: a series' place in [0, 1) is its label hash (XXH64 of the
// canonical bytes, as Prometheus's labels.Hash()).
bool AddRatioSample(double ratio, const model::Labels& labels) {
  const std::string bytes = labels.CanonicalBytes();
  const double offset = static_cast<double>(XXH64(bytes.data(), bytes.size(), 0)) /
                        static_cast<double>(std::numeric_limits<uint64_t>::max());
  return (ratio >= 0 && offset < ratio) || (ratio < 0 && offset >= 1.0 + ratio);
}

struct AggregateInput {
  const AggregateExpr* agg;
  EvalValue param;
  EvalValue in;
  std::vector<std::string> grouping;
};

absl::Status CheckParam(Evaluator& ev, const AggregateInput& a, double p) {
  Annotations& annos = ev.ctx().annotations;
  switch (a.agg->op) {
    case AggregateOp::kTopk:
    case AggregateOp::kBottomk:
    case AggregateOp::kLimitk:
      if (std::isnan(p)) return absl::FailedPreconditionError("Parameter value is NaN");
      if (p >= 9.223372036854775e18 || p < -9.223372036854775e18) {
        return absl::FailedPreconditionError(
            absl::StrCat("Scalar value ", FormatGoG(p), " overflows int64"));
      }
      break;
    case AggregateOp::kLimitRatio:
      if (std::isnan(p)) return absl::FailedPreconditionError("Ratio value is NaN");
      if (p < -1 || p > 1) {
        annos.Warn(absl::StrCat("PromQL warning: ratio value should be between -1 and 1, got ",
                                FormatGoG(p), ", capping to ", p < 0 ? "-1" : "1"));
      }
      break;
    case AggregateOp::kQuantile:
      if (std::isnan(p) || p < 0 || p > 1) {
        annos.Warn(absl::StrCat("PromQL warning: quantile value should be between 0 and 1, got ",
                                FormatGoG(p)));
      }
      break;
    default:
      break;
  }
  return absl::OkStatus();
}

absl::StatusOr<EvalValue> AggregateCountValues(Evaluator& ev, AggregateInput& a) {
  const std::string& label = a.param.str;
  if (label.empty() || !base::IsValidUtf8(label)) {
    return absl::FailedPreconditionError(absl::StrCat("invalid label name ", GoQuote(label)));
  }
  std::vector<std::string> grouping = a.grouping;
  if (!a.agg->without) grouping.push_back(label);
  EvalValue out;
  out.type = ValueType::kVector;
  absl::flat_hash_map<model::Labels, size_t> index;
  std::vector<size_t> cursor(a.in.matrix.size(), 0);
  for (int64_t i = 0; i < ev.num_steps(); ++i) {
    const int64_t ts = ev.StepTime(i);
    std::vector<std::pair<size_t, double>> counts;  // output series, count
    for (size_t j = 0; j < a.in.matrix.size(); ++j) {
      const auto& p = a.in.matrix[j].points;
      while (cursor[j] < p.size() && p[cursor[j]].t < ts) ++cursor[j];
      if (cursor[j] >= p.size() || p[cursor[j]].t != ts) continue;
      model::Labels l = a.in.matrix[j].labels.With(label, FormatGoFloat(p[cursor[j]].v));
      l = GroupingLabels(l, grouping, a.agg->without);
      auto [it, inserted] = index.try_emplace(l, out.matrix.size());
      if (inserted) out.matrix.push_back(Series{std::move(l), {}, false});
      auto& points = out.matrix[it->second].points;
      if (points.empty() || points.back().t != ts) points.push_back({ts, 0});
      points.back().v += 1;
    }
  }
  return out;
}

// The states of the folding operators (all but topk, bottomk, limitk, limit_ratio, quantile's
// values aside, and count_values) for a block of steps: a row of one state per step for each
// group. Inputs fold into it series by series, each series' points in order: a step-major
// loop would touch every input series once per step. Each (group, step) still folds its
// inputs in input order, so sums come out exactly as step by step.
class StepStates {
 public:
  StepStates(Evaluator& ev, const AggregateInput& a) : ev_(ev), a_(a) {}

  // Starts the block of `steps` steps from step `first`, with `groups` rows.
  void Reset(int64_t first, int64_t steps, size_t groups) {
    first_ = first;
    steps_ = static_cast<size_t>(steps);
    states_.assign(groups * steps_, GroupState());
  }
  void AddRow() { states_.resize(states_.size() + steps_); }

  // Folds the points of `p` from *next on that fall in the block into `group`'s row.
  void FoldPoints(size_t group, const std::vector<FloatPoint>& p, size_t* next) {
    GroupState* row = &states_[group * steps_];
    const int64_t last_ts = ev_.StepTime(first_ + static_cast<int64_t>(steps_) - 1);
    for (size_t& c = *next; c < p.size() && p[c].t <= last_ts; ++c) {
      const int64_t since = p[c].t - ev_.start_ms();
      if (since < 0 || since % ev_.interval_ms() != 0) continue;  // not at a step
      Fold(a_.agg->op, &row[since / ev_.interval_ms() - first_], p[c].v);
    }
  }

  // Appends every group's value at each step of the block where it has one.
  absl::Status Emit(std::vector<Series>* groups) {
    for (size_t k = 0; k < steps_; ++k) {
      const int64_t i = first_ + static_cast<int64_t>(k);
      const double param = a_.param.type == ValueType::kScalar
                               ? a_.param.matrix[0].points[static_cast<size_t>(i)].v
                               : 0;
      RETURN_IF_ERROR(CheckParam(ev_, a_, param));
      for (size_t g = 0; g < groups->size(); ++g) {
        GroupState& state = states_[g * steps_ + k];
        if (!state.seen) continue;
        (*groups)[g].points.push_back({ev_.StepTime(i), Finish(a_.agg->op, &state, param)});
      }
    }
    return absl::OkStatus();
  }

 private:
  Evaluator& ev_;
  const AggregateInput& a_;
  int64_t first_ = 0;
  size_t steps_ = 0;
  std::vector<GroupState> states_;
};

EvalValue GroupsValue(std::vector<Series> groups) {
  EvalValue out;
  out.type = ValueType::kVector;
  for (Series& s : groups) {
    if (!s.points.empty()) out.matrix.push_back(std::move(s));
  }
  return out;
}

// A folding aggregation over its collected input, in blocks of steps so that at most about
// 64K states exist at once however many groups there are.
absl::StatusOr<EvalValue> FoldGroups(Evaluator& ev, const AggregateInput& a,
                                     const std::vector<size_t>& group_of,
                                     std::vector<Series> group_series) {
  const int64_t block = std::clamp<int64_t>(
      int64_t{1 << 16} / static_cast<int64_t>(std::max<size_t>(group_series.size(), 1)), 1, 256);
  StepStates states(ev, a);
  std::vector<size_t> next(a.in.matrix.size(), 0);
  for (int64_t first = 0; first < ev.num_steps(); first += block) {
    RETURN_IF_ERROR(ev.ctx().CheckDeadline());
    states.Reset(first, std::min(block, ev.num_steps() - first), group_series.size());
    for (size_t j = 0; j < a.in.matrix.size(); ++j) {
      states.FoldPoints(group_of[j], a.in.matrix[j].points, &next[j]);
    }
    RETURN_IF_ERROR(states.Emit(&group_series));
  }
  return GroupsValue(std::move(group_series));
}

// A folding aggregation over input series as they are evaluated, none of them held: one
// block of every step. Add() refuses a series once the states would pass kMaxStates; the
// caller then collects the input and uses FoldGroups.
class StreamingFold {
 public:
  static constexpr size_t kMaxStates = size_t{1} << 18;

  StreamingFold(Evaluator& ev, const AggregateInput& a) : a_(a), states_(ev, a) {
    states_.Reset(0, ev.num_steps(), 0);
    steps_ = static_cast<size_t>(ev.num_steps());
  }

  bool Add(const Series& s) {
    model::Labels key = GroupingLabels(s.labels, a_.grouping, a_.agg->without);
    auto [it, inserted] = index_.try_emplace(key, groups_.size());
    if (inserted) {
      if ((groups_.size() + 1) * steps_ > kMaxStates) return false;
      groups_.push_back(Series{std::move(key), {}, false});
      states_.AddRow();
    }
    const size_t g = it->second;
    // Under delayed name removal a group keeping __name__ drops it if any member does.
    if (s.drop_name && groups_[g].labels.Has("__name__")) groups_[g].drop_name = true;
    size_t next = 0;
    states_.FoldPoints(g, s.points, &next);
    return true;
  }

  absl::StatusOr<EvalValue> Result() {
    RETURN_IF_ERROR(states_.Emit(&groups_));
    return GroupsValue(std::move(groups_));
  }

 private:
  const AggregateInput& a_;
  StepStates states_;
  size_t steps_ = 0;
  absl::flat_hash_map<model::Labels, size_t> index_;
  std::vector<Series> groups_;
};

}  // namespace

absl::StatusOr<EvalValue> EvalAggregate(Evaluator& ev, const AggregateExpr& agg) {
  AggregateInput a{&agg, {}, {}, agg.grouping};
  if (agg.param != nullptr) {
    ASSIGN_OR_RETURN(a.param, ev.Eval(*agg.param));
  }
  std::sort(a.grouping.begin(), a.grouping.end());
  const bool selector_op = IsSelectorOp(agg.op);
  // quantile keeps every value of a group's step; the others fold into a few numbers.
  if (!selector_op && agg.op != AggregateOp::kCountValues && agg.op != AggregateOp::kQuantile) {
    StreamingFold fold(ev, a);
    bool fits = true;
    const int64_t held = ev.ctx().current_samples;
    const int64_t queryable = ev.ctx().total_queryable_samples;
    absl::StatusOr<bool> streamed = ev.ForEachSeries(*agg.expr, [&](Series& s) {
      fits = fold.Add(s);
      return fits ? absl::OkStatus() : absl::ResourceExhaustedError("too many groups to stream");
    });
    if (fits) {
      if (!streamed.ok()) return streamed.status();
      if (*streamed) return fold.Result();
    } else {
      // What the abandoned pass accounted for is read again below.
      ev.ctx().current_samples = held;
      ev.ctx().total_queryable_samples = queryable;
    }
  }
  ASSIGN_OR_RETURN(a.in, ev.Eval(*agg.expr));
  if (agg.op == AggregateOp::kCountValues) return AggregateCountValues(ev, a);

  const size_t n = a.in.matrix.size();
  // Assign each input series its group once.
  std::vector<size_t> group_of(n);
  std::vector<Series> group_series;
  {
    absl::flat_hash_map<model::Labels, size_t> index;
    for (size_t j = 0; j < n; ++j) {
      const Series& s = a.in.matrix[j];
      model::Labels key = GroupingLabels(s.labels, a.grouping, agg.without);
      auto [it, inserted] = index.try_emplace(key, group_series.size());
      if (inserted) group_series.push_back(Series{std::move(key), {}, false});
      group_of[j] = it->second;
      // Under delayed name removal a group keeping __name__ drops it if any member does.
      if (s.drop_name && group_series[it->second].labels.Has("__name__")) {
        group_series[it->second].drop_name = true;
      }
    }
  }
  if (!selector_op) return FoldGroups(ev, a, group_of, std::move(group_series));
  std::vector<GroupState> groups(group_series.size());
  std::vector<size_t> cursor(n, 0);
  std::vector<double> step_values(n);
  std::vector<size_t> out_index(n, SIZE_MAX);  // selector ops: output series per input
  EvalValue out;
  out.type = ValueType::kVector;
  for (int64_t i = 0; i < ev.num_steps(); ++i) {
    if (i % 64 == 63) RETURN_IF_ERROR(ev.ctx().CheckDeadline());
    const int64_t ts = ev.StepTime(i);
    const double param =
        a.param.type == ValueType::kScalar ? a.param.matrix[0].points[static_cast<size_t>(i)].v : 0;
    RETURN_IF_ERROR(CheckParam(ev, a, param));
    int64_t k = 0;
    double ratio = 0;
    if (agg.op == AggregateOp::kTopk || agg.op == AggregateOp::kBottomk ||
        agg.op == AggregateOp::kLimitk) {
      k = static_cast<int64_t>(param);
      if (k > static_cast<int64_t>(n)) k = static_cast<int64_t>(n);
      if (k < 1) continue;
    } else if (agg.op == AggregateOp::kLimitRatio) {
      ratio = std::clamp(param, -1.0, 1.0);
    }
    for (auto& g : groups) {
      g.seen = false;
      g.heap.clear();
    }
    auto topk_less = [&](size_t x, size_t y) {
      return std::isnan(step_values[x]) || step_values[x] < step_values[y];
    };
    auto bottomk_less = [&](size_t x, size_t y) {
      return std::isnan(step_values[x]) || step_values[x] > step_values[y];
    };
    for (size_t j = 0; j < n; ++j) {
      const auto& p = a.in.matrix[j].points;
      while (cursor[j] < p.size() && p[cursor[j]].t < ts) ++cursor[j];
      if (cursor[j] >= p.size() || p[cursor[j]].t != ts) continue;
      const double v = p[cursor[j]].v;
      step_values[j] = v;
      GroupState& g = groups[group_of[j]];
      g.seen = true;
      auto& h = g.heap;
      switch (agg.op) {
        case AggregateOp::kTopk:
          if (static_cast<int64_t>(h.size()) < k) {
            h.push_back(j);
            HeapUp(&h, h.size() - 1, topk_less);
          } else if (step_values[h[0]] < v || (std::isnan(step_values[h[0]]) && !std::isnan(v))) {
            h[0] = j;
            if (k > 1 && !HeapDown(&h, 0, topk_less)) HeapUp(&h, 0, topk_less);
          }
          break;
        case AggregateOp::kBottomk:
          if (static_cast<int64_t>(h.size()) < k) {
            h.push_back(j);
            HeapUp(&h, h.size() - 1, bottomk_less);
          } else if (step_values[h[0]] > v || (std::isnan(step_values[h[0]]) && !std::isnan(v))) {
            h[0] = j;
            if (k > 1 && !HeapDown(&h, 0, bottomk_less)) HeapUp(&h, 0, bottomk_less);
          }
          break;
        case AggregateOp::kLimitk:
          if (static_cast<int64_t>(h.size()) < k) {
            h.push_back(j);
            HeapUp(&h, h.size() - 1, topk_less);
          }
          break;
        case AggregateOp::kLimitRatio:
          if (AddRatioSample(ratio, a.in.matrix[j].labels)) h.push_back(j);
          break;
        default:
          break;
      }
    }
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      GroupState& g = groups[gi];
      if (!g.seen) continue;
      auto& h = g.heap;
      if (agg.op == AggregateOp::kTopk) {
        std::stable_sort(h.begin(), h.end(), [&](size_t x, size_t y) {
          const double vx = step_values[x], vy = step_values[y];
          return (std::isnan(vy) && !std::isnan(vx)) || vy < vx;
        });
      } else if (agg.op == AggregateOp::kBottomk) {
        std::stable_sort(h.begin(), h.end(), [&](size_t x, size_t y) {
          const double vx = step_values[x], vy = step_values[y];
          return (std::isnan(vy) && !std::isnan(vx)) || vy > vx;
        });
      }
      for (size_t j : h) {
        if (out_index[j] == SIZE_MAX) {
          out_index[j] = out.matrix.size();
          const Series& s = a.in.matrix[j];
          out.matrix.push_back(Series{s.labels, {}, s.drop_name});
        }
        out.matrix[out_index[j]].points.push_back({ts, step_values[j]});
      }
    }
  }
  return out;
}

}  // namespace kura::query
