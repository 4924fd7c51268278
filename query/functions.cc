#include "query/functions.h"

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "query/eval_evaluator.h"
#include "query/eval_info.h"
#include "query/eval_math.h"
#include "query/eval_vector_functions.h"
#include "query/lexer.h"

namespace kura::query {
namespace {

using Opt = std::optional<double>;

absl::CivilSecond CivilOf(double v) {
  int64_t secs = 0;
  if (std::isnan(v) || v >= 9.2e18 || v <= -9.2e18) {
    secs = 0;
  } else {
    secs = static_cast<int64_t>(v);
  }
  return absl::ToCivilSecond(absl::FromUnixSeconds(secs), absl::UTCTimeZone());
}

int DaysInMonth(const absl::CivilSecond& c) {
  const absl::CivilMonth m(c);
  return static_cast<int>(absl::CivilDay(m + 1) - absl::CivilDay(m));
}

Opt Sgn(double v, const double*) { return v > 0 ? 1.0 : (v < 0 ? -1.0 : v); }
Opt Round(double v, const double* p) {
  const double inverse = 1.0 / p[0];
  return std::floor(v * inverse + 0.5) / inverse;
}

const absl::flat_hash_map<std::string_view, ElementFunction>& ElementTable() {
  static const auto* const kTable = new absl::flat_hash_map<std::string_view, ElementFunction>{
      {"abs", [](double v, const double*) -> Opt { return std::fabs(v); }},
      {"ceil", [](double v, const double*) -> Opt { return std::ceil(v); }},
      {"floor", [](double v, const double*) -> Opt { return std::floor(v); }},
      {"exp", [](double v, const double*) -> Opt { return std::exp(v); }},
      {"ln", [](double v, const double*) -> Opt { return std::log(v); }},
      {"log2", [](double v, const double*) -> Opt { return std::log2(v); }},
      {"log10", [](double v, const double*) -> Opt { return std::log10(v); }},
      {"sqrt", [](double v, const double*) -> Opt { return std::sqrt(v); }},
      {"sgn", Sgn},
      {"round", Round},
      {"clamp",
       [](double v, const double* p) -> Opt {
         if (p[1] < p[0]) return std::nullopt;
         return GoMax(p[0], GoMin(p[1], v));
       }},
      {"clamp_min", [](double v, const double* p) -> Opt { return GoMax(p[0], v); }},
      {"clamp_max", [](double v, const double* p) -> Opt { return GoMin(p[0], v); }},
      {"acos", [](double v, const double*) -> Opt { return std::acos(v); }},
      {"acosh", [](double v, const double*) -> Opt { return std::acosh(v); }},
      {"asin", [](double v, const double*) -> Opt { return std::asin(v); }},
      {"asinh", [](double v, const double*) -> Opt { return std::asinh(v); }},
      {"atan", [](double v, const double*) -> Opt { return std::atan(v); }},
      {"atanh", [](double v, const double*) -> Opt { return std::atanh(v); }},
      {"cos", [](double v, const double*) -> Opt { return std::cos(v); }},
      {"cosh", [](double v, const double*) -> Opt { return std::cosh(v); }},
      {"sin", [](double v, const double*) -> Opt { return std::sin(v); }},
      {"sinh", [](double v, const double*) -> Opt { return std::sinh(v); }},
      {"tan", [](double v, const double*) -> Opt { return std::tan(v); }},
      {"tanh", [](double v, const double*) -> Opt { return std::tanh(v); }},
      {"deg", [](double v, const double*) -> Opt { return v * 180 / std::numbers::pi; }},
      {"rad", [](double v, const double*) -> Opt { return v * std::numbers::pi / 180; }},
      {"days_in_month",
       [](double v, const double*) -> Opt { return DaysInMonth(CivilOf(v)); }},
      {"day_of_month", [](double v, const double*) -> Opt { return CivilOf(v).day(); }},
      {"day_of_week",
       [](double v, const double*) -> Opt {
         // absl::Weekday starts at Monday; Go's time.Weekday at Sunday = 0.
         return (static_cast<int>(absl::GetWeekday(CivilOf(v))) + 1) % 7;
       }},
      {"day_of_year", [](double v, const double*) -> Opt { return absl::GetYearDay(CivilOf(v)); }},
      {"hour", [](double v, const double*) -> Opt { return CivilOf(v).hour(); }},
      {"minute", [](double v, const double*) -> Opt { return CivilOf(v).minute(); }},
      {"month", [](double v, const double*) -> Opt { return CivilOf(v).month(); }},
      {"year", [](double v, const double*) -> Opt { return static_cast<double>(CivilOf(v).year()); }},
  };
  return *kTable;
}

bool IsDateFunction(std::string_view name) {
  return name == "days_in_month" || name == "day_of_month" || name == "day_of_week" ||
         name == "day_of_year" || name == "hour" || name == "minute" || name == "month" ||
         name == "year";
}

// Whether a range-vector function keeps the metric name.
bool KeepsName(const Call& call) {
  return call.name == "last_over_time" || call.name == "first_over_time";
}

// Index of the range-vector argument, or -1.
int RangeArgIndex(const Call& call) {
  for (size_t i = 0; i < call.args.size(); ++i) {
    const Expr& a = UnwrapParens(*call.args[i]);
    if (std::holds_alternative<MatrixSelector>(a.node) ||
        std::holds_alternative<SubqueryExpr>(a.node)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// The scalar arguments of `call` other than `skip`, evaluated over every step.
absl::StatusOr<std::vector<EvalValue>> EvalScalarArgs(Evaluator& ev, const Call& call,
                                                      size_t skip) {
  std::vector<EvalValue> out;
  for (size_t i = 0; i < call.args.size(); ++i) {
    if (i == skip) continue;
    ASSIGN_OR_RETURN(EvalValue v, ev.Eval(*call.args[i]));
    if (v.type != ValueType::kScalar) {
      return absl::InvalidArgumentError(
          absl::StrCat("expected scalar argument to ", call.name));
    }
    out.push_back(std::move(v));
  }
  return out;
}

bool MightBeCounter(std::string_view name) {
  for (std::string_view suffix : {"_total", "_sum", "_count", "_bucket"}) {
    if (name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix) {
      return true;
    }
  }
  return false;
}

absl::Status CheckRangeParams(const Call& call, const double* params, Annotations* annos) {
  if (call.name == "quantile_over_time") {
    const double q = params[0];
    if (std::isnan(q) || q < 0 || q > 1) {
      annos->Warn(absl::StrCat(
          "PromQL warning: quantile value should be between 0 and 1, got ", FormatGoG(q)));
    }
  } else if (call.name == "double_exponential_smoothing") {
    if (!(params[0] > 0 && params[0] < 1)) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "invalid smoothing factor. Expected: 0 < sf < 1, got: %f", params[0]));
    }
    if (!(params[1] > 0 && params[1] < 1)) {
      return absl::FailedPreconditionError(
          absl::StrFormat("invalid trend factor. Expected: 0 < tf < 1, got: %f", params[1]));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<EvalValue> EvalAbsentOverTime(Evaluator& ev, const Call& call,
                                             const Evaluator::RangeInput& in) {
  const Expr& arg = UnwrapParens(*call.args[0]);
  model::Labels labels;
  if (const auto* ms = std::get_if<MatrixSelector>(&arg.node)) {
    labels = AbsentLabels(*ms->selector);
  }
  std::vector<size_t> lo(in.series.size(), 0), hi(in.series.size(), 0);
  Series out;
  out.labels = std::move(labels);
  for (int64_t i = 0; i < ev.num_steps(); ++i) {
    const int64_t ts = ev.StepTime(i);
    const int64_t ref = ev.WindowEnd(ts, in.at, in.at_ms, in.offset_ms);
    bool present = false;
    for (size_t j = 0; j < in.series.size(); ++j) {
      const auto& p = in.series[j].points;
      while (hi[j] < p.size() && p[hi[j]].t <= ref) ++hi[j];
      while (lo[j] < hi[j] && p[lo[j]].t <= ref - in.range_ms) ++lo[j];
      if (hi[j] > lo[j]) present = true;
    }
    if (!present) out.points.push_back({ts, 1});
  }
  EvalValue v;
  v.type = ValueType::kVector;
  if (!out.points.empty()) v.matrix.push_back(std::move(out));
  return v;
}

// Prometheus's AnchoredSafeFunctions / SmoothedSafeFunctions: the functions that understand
// samples outside the window, which those modifiers hand them.
absl::Status CheckExtendedModifier(const Call& call, const Expr& range_arg) {
  const auto* ms = std::get_if<MatrixSelector>(&UnwrapParens(range_arg).node);
  if (ms == nullptr) return absl::OkStatus();
  const auto* vs = std::get_if<VectorSelector>(&UnwrapParens(*ms->selector).node);
  if (vs == nullptr || !(vs->anchored || vs->smoothed)) return absl::OkStatus();
  const std::string_view name = call.name;
  const bool rate_like = name == "rate" || name == "increase" || name == "delta";
  if (vs->anchored && !(rate_like || name == "changes" || name == "resets")) {
    return absl::FailedPreconditionError(absl::StrCat(
        "anchored modifier can only be used with: changes, delta, increase, rate, resets - "
        "not with ",
        call.name));
  }
  if (vs->smoothed && !rate_like) {
    return absl::FailedPreconditionError(absl::StrCat(
        "smoothed modifier can only be used with: delta, increase, rate - not with ", call.name));
  }
  return absl::OkStatus();
}

// A range-vector function's result series, one at a time in input order (not absent_over_time).
absl::Status ForEachRangeCallSeries(Evaluator& ev, const Call& call, size_t range_arg,
                                    absl::FunctionRef<absl::Status(Series& series)> emit) {
  RETURN_IF_ERROR(CheckExtendedModifier(call, *call.args[range_arg]));
  const RangeFunction fn = FindRangeFunction(call.name);
  if (fn == nullptr) {
    return absl::UnimplementedError(absl::StrCat("function ", call.name, " is not supported"));
  }
  ASSIGN_OR_RETURN(std::vector<EvalValue> scalars, EvalScalarArgs(ev, call, range_arg));
  std::vector<double> params(scalars.size());
  const bool keep_name = KeepsName(call);
  const bool counter_check = call.name == "rate" || call.name == "increase";
  bool params_checked = false;
  std::vector<uint32_t> resets;  // RangeWindow::resets of the series at hand
  Series r;
  Evaluator::RangeInput in;
  in.with_starts = ev.ctx().options->use_start_timestamps &&
                   (counter_check || call.name == "irate" || call.name == "resets");
  // Each series' points are dropped (their buffer reused) once its steps are computed.
  return ev.ForEachRangeSeries(*call.args[range_arg], &in, [&](Series& series) {
    if (!params_checked) {
      // Only when there is a series, as Prometheus checks them.
      for (int64_t i = 0; i < ev.num_steps(); ++i) {
        for (size_t k = 0; k < scalars.size(); ++k) {
          params[k] = scalars[k].matrix[0].points[static_cast<size_t>(i)].v;
        }
        RETURN_IF_ERROR(CheckRangeParams(call, params.data(), &ev.ctx().annotations));
      }
      params_checked = true;
    }
    RETURN_IF_ERROR(ev.ctx().CheckDeadline());
    r.points.clear();
    const auto& p = series.points;
    const std::vector<int64_t>& starts = series.starts;
    if (counter_check) {
      resets.resize(p.size());
      uint32_t n = 0;
      for (size_t i = 0; i < p.size(); ++i) {
        if (i > 0 && (p[i].v < p[i - 1].v ||
                      (!starts.empty() && IsStartTimestampReset(starts[i - 1], p[i - 1].t,
                                                                starts[i], p[i].t)))) {
          ++n;
        }
        resets[i] = n;
      }
    }
    bool start_overlap = false;
    r.points.reserve(ev.MaxPoints(p.size(), in.range_ms + in.before_ms + in.after_ms));
    // What every window of the series shares.
    RangeWindow w;
    w.range_ms = in.range_ms;
    w.range_seconds = static_cast<double>(in.range_ms) / 1000;
    w.params = params.data();
    if (!starts.empty()) w.start_overlap = &start_overlap;
    if (in.selector != nullptr) {
      w.anchored = in.selector->anchored;
      w.smoothed = in.selector->smoothed;
    }
    size_t lo = 0, hi = 0;
    for (int64_t i = 0; i < ev.num_steps(); ++i) {
      const int64_t ts = ev.StepTime(i);
      const int64_t ref = ev.WindowEnd(ts, in.at, in.at_ms, in.offset_ms);
      while (hi < p.size() && p[hi].t <= ref + in.after_ms) ++hi;
      while (lo < hi && p[lo].t <= ref - in.range_ms - in.before_ms) ++lo;
      if (hi == lo) continue;
      for (size_t k = 0; k < scalars.size(); ++k) {
        params[k] = scalars[k].matrix[0].points[static_cast<size_t>(i)].v;
      }
      w.points = absl::MakeConstSpan(p.data() + lo, hi - lo);
      w.range_start_ms = ref - in.range_ms;
      w.range_end_ms = ref;
      w.step_ms = ts;
      if (counter_check) w.resets = absl::MakeConstSpan(resets.data() + lo, hi - lo);
      if (!starts.empty()) w.starts = absl::MakeConstSpan(starts.data() + lo, hi - lo);
      if (std::optional<double> v = fn(w)) r.points.push_back({ts, *v});
    }
    if (start_overlap) {
      ev.ctx().annotations.Warn(absl::StrCat(
          "PromQL warning: sample has start time that overlaps with previous sample timestamp "
          "for metric ",
          GoQuote(series.labels.Get("__name__"))));
    }
    if (r.points.empty()) return absl::OkStatus();
    if (counter_check) {
      const std::string_view name = series.labels.Get("__name__");
      if (!name.empty() && !MightBeCounter(name)) {
        ev.ctx().annotations.Info(absl::StrCat(
            "PromQL info: metric might not be a counter, name does not end in "
            "_total/_sum/_count/_bucket: ",
            GoQuote(name)));
      }
    }
    r.labels = std::move(series.labels);
    r.drop_name = series.drop_name;
    if (!keep_name) ev.DropName(&r.labels, &r.drop_name);
    return emit(r);
  });
}

absl::StatusOr<EvalValue> EvalRangeCall(Evaluator& ev, const Call& call, size_t range_arg) {
  if (call.name == "absent_over_time") {
    RETURN_IF_ERROR(CheckExtendedModifier(call, *call.args[range_arg]));
    ASSIGN_OR_RETURN(Evaluator::RangeInput in, ev.EvalRangeInput(*call.args[range_arg]));
    return EvalAbsentOverTime(ev, call, in);
  }
  EvalValue out;
  out.type = ValueType::kVector;
  RETURN_IF_ERROR(ForEachRangeCallSeries(ev, call, range_arg, [&](Series& r) {
    out.matrix.push_back(std::move(r));
    return absl::OkStatus();
  }));
  if (!ev.delayed_name_removal() && !KeepsName(call)) RETURN_IF_ERROR(MergeSameLabels(&out.matrix));
  return out;
}

absl::StatusOr<EvalValue> EvalElementCall(Evaluator& ev, const Call& call, ElementFunction fn) {
  EvalValue in;
  if (call.args.empty()) {
    // The date functions default to vector(time()).
    in = ev.ScalarValue([](int64_t ts) { return static_cast<double>(ts / 1000); });
    in.type = ValueType::kVector;
  } else {
    ASSIGN_OR_RETURN(in, ev.Eval(*call.args[0]));
  }
  ASSIGN_OR_RETURN(std::vector<EvalValue> scalars, EvalScalarArgs(ev, call, 0));
  std::vector<double> params(scalars.size());
  if (call.name == "round" && scalars.empty()) params.push_back(1);
  EvalValue out;
  out.type = ValueType::kVector;
  for (auto& s : in.matrix) {
    Series r;
    for (const auto& p : s.points) {
      const auto step = static_cast<size_t>((p.t - ev.start_ms()) / ev.interval_ms());
      for (size_t k = 0; k < scalars.size(); ++k) params[k] = scalars[k].matrix[0].points[step].v;
      if (std::optional<double> v = fn(p.v, params.data())) r.points.push_back({p.t, *v});
    }
    if (r.points.empty()) continue;
    r.labels = std::move(s.labels);
    r.drop_name = s.drop_name;
    ev.DropName(&r.labels, &r.drop_name);
    out.matrix.push_back(std::move(r));
  }
  if (!ev.delayed_name_removal()) RETURN_IF_ERROR(MergeSameLabels(&out.matrix));
  return out;
}

absl::StatusOr<EvalValue> EvalTimestamp(Evaluator& ev, const Call& call) {
  const Expr& arg = UnwrapParens(*call.args[0]);
  EvalValue v;
  if (const auto* vs = std::get_if<VectorSelector>(&arg.node)) {
    ASSIGN_OR_RETURN(v, ev.EvalVectorSelector(*vs, /*timestamps=*/true));
  } else {
    ASSIGN_OR_RETURN(v, ev.Eval(arg));
    for (auto& s : v.matrix) {
      for (auto& p : s.points) p.v = static_cast<double>(p.t) / 1000;
    }
  }
  for (auto& s : v.matrix) ev.DropName(&s.labels, &s.drop_name);
  if (!ev.delayed_name_removal()) RETURN_IF_ERROR(MergeSameLabels(&v.matrix));
  return v;
}

absl::StatusOr<EvalValue> EvalScalarFunction(Evaluator& ev, const Call& call) {
  ASSIGN_OR_RETURN(EvalValue in, ev.Eval(*call.args[0]));
  std::vector<size_t> cursor(in.matrix.size(), 0);
  return ev.ScalarValue([&](int64_t ts) {
    int found = 0;
    double value = 0;
    for (size_t j = 0; j < in.matrix.size(); ++j) {
      const auto& p = in.matrix[j].points;
      while (cursor[j] < p.size() && p[cursor[j]].t < ts) ++cursor[j];
      if (cursor[j] < p.size() && p[cursor[j]].t == ts) {
        ++found;
        value = p[cursor[j]].v;
      }
    }
    return found == 1 ? value : std::nan("");
  });
}

}  // namespace

ElementFunction FindElementFunction(std::string_view name) {
  const auto& table = ElementTable();
  auto it = table.find(name);
  return it == table.end() ? nullptr : it->second;
}

absl::StatusOr<bool> ForEachCallSeries(Evaluator& ev, const Call& call,
                                       absl::FunctionRef<absl::Status(Series& series)> fn) {
  const int r = RangeArgIndex(call);
  if (r < 0 || call.name == "absent_over_time" || FindRangeFunction(call.name) == nullptr) {
    return false;
  }
  const auto* ms = std::get_if<MatrixSelector>(&UnwrapParens(*call.args[r]).node);
  if (ms == nullptr) return false;
  const auto* vs = std::get_if<VectorSelector>(&UnwrapParens(*ms->selector).node);
  if (vs == nullptr) return false;
  // Results that drop the name at once could collide (EvalRangeCall then merges or fails).
  bool one_metric = false;
  for (const model::LabelMatcher& m : vs->matchers) {
    one_metric |= m.name() == "__name__" && m.type() == model::MatchType::kEqual;
  }
  if (!KeepsName(call) && !ev.delayed_name_removal() && !one_metric) return false;
  RETURN_IF_ERROR(ForEachRangeCallSeries(ev, call, static_cast<size_t>(r), fn));
  return true;
}

absl::StatusOr<EvalValue> EvalCall(Evaluator& ev, const Call& call) {
  const std::string& name = call.name;
  if (name == "time") {
    return ev.ScalarValue([](int64_t ts) { return static_cast<double>(ts) / 1000; });
  }
  if (name == "pi") return ev.ScalarValue([](int64_t) { return std::numbers::pi; });
  if (call.args.empty() &&
      (name == "step" || name == "range" || name == "start" || name == "end")) {
    const QueryContext& q = ev.ctx();
    double v = static_cast<double>(q.query_step_ms) / 1000;
    if (name == "range") v = static_cast<double>(q.query_end_ms - q.query_start_ms) / 1000;
    if (name == "start") v = static_cast<double>(q.query_start_ms) / 1000;
    if (name == "end") v = static_cast<double>(q.query_end_ms) / 1000;
    return ev.ScalarValue([v](int64_t) { return v; });
  }
  if ((name == "min_of" || name == "max_of") && call.args.size() == 2) {
    ASSIGN_OR_RETURN(std::vector<EvalValue> s, EvalScalarArgs(ev, call, SIZE_MAX));
    const bool min = name == "min_of";
    auto& points = s[0].matrix[0].points;
    for (size_t i = 0; i < points.size(); ++i) {
      const double b = s[1].matrix[0].points[i].v;
      points[i].v = min ? GoMin(points[i].v, b) : GoMax(points[i].v, b);
    }
    return std::move(s[0]);
  }
  if (name == "info") return EvalInfo(ev, call);
  if (name == "scalar" && call.args.size() == 1) return EvalScalarFunction(ev, call);
  if (name == "timestamp" && call.args.size() == 1) return EvalTimestamp(ev, call);
  if (const int r = RangeArgIndex(call); r >= 0) {
    return EvalRangeCall(ev, call, static_cast<size_t>(r));
  }
  if (ElementFunction fn = FindElementFunction(name)) {
    if (call.args.empty() && !IsDateFunction(name)) {
      return absl::InvalidArgumentError(absl::StrCat("missing argument to ", name));
    }
    return EvalElementCall(ev, call, fn);
  }
  VectorFunction fn = FindVectorFunction(name);
  if (fn == nullptr) {
    return absl::UnimplementedError(absl::StrCat("function ", name, " is not supported"));
  }
  if ((name == "sort" || name == "sort_desc" || name == "sort_by_label" ||
       name == "sort_by_label_desc") &&
      ev.ctx().query_start_ms != ev.ctx().query_end_ms) {
    ev.ctx().annotations.Warn(
        "PromQL warning: sort is ineffective for range queries since results are always "
        "ordered by labels");
  }
  std::vector<EvalValue> args;
  args.reserve(call.args.size());
  for (const auto& a : call.args) {
    ASSIGN_OR_RETURN(EvalValue v, ev.Eval(*a));
    args.push_back(std::move(v));
  }
  std::vector<const EvalValue*> ptrs;
  for (const auto& a : args) ptrs.push_back(&a);
  return ev.RangeEval(ptrs, [&](absl::Span<const StepArg> step_args, int64_t ts, Vector* out) {
    return fn(VectorCall{step_args, ts, &call, &ev, out});
  });
}

}  // namespace kura::query
