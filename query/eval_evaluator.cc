#include "query/eval_evaluator.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "model/sample.h"
#include "query/aggregations.h"
#include "query/binary_ops.h"
#include "query/decode_ahead.h"
#include "query/eval_math.h"
#include "query/functions.h"

namespace kura::query {
namespace {

struct LabelsPtrHash {
  size_t operator()(const model::Labels* l) const { return l->Hash(); }
};
struct LabelsPtrEq {
  bool operator()(const model::Labels* a, const model::Labels* b) const { return *a == *b; }
};

// Prometheus's extendFloats, what a bare anchored or smoothed range selector returns: the
// samples strictly inside (mint, maxt), framed by the values at mint and at maxt (the edge
// samples when anchored, interpolated when smoothed). `floats` is not empty.
std::vector<FloatPoint> ExtendFloats(const std::vector<FloatPoint>& floats, int64_t mint,
                                     int64_t maxt, bool smoothed) {
  const auto search = [&](int64_t n, auto pred) {
    return std::partition_point(floats.begin(), floats.begin() + n,
                                [&](const FloatPoint& p) { return !pred(p); }) -
           floats.begin();
  };
  int64_t last = static_cast<int64_t>(floats.size()) - 1;
  int64_t first =
      std::max<int64_t>(0, search(last, [&](const FloatPoint& p) { return p.t > mint; }) - 1);
  if (smoothed) last = search(last, [&](const FloatPoint& p) { return p.t >= maxt; });
  if (floats[last].t <= mint) return {};
  // Smoothed range selectors interpolate as for gauges: the type of a series is unknown here.
  const double left = (smoothed && floats[first].t < mint)
                          ? Interpolate(floats[first], floats[first + 1], mint, false)
                          : floats[first].v;
  const double right = (smoothed && last > 0 && floats[last].t > maxt)
                           ? Interpolate(floats[last - 1], floats[last], maxt, false)
                           : floats[last].v;
  if (floats[first].t <= mint) ++first;
  if (floats[last].t >= maxt) --last;
  std::vector<FloatPoint> out;
  out.reserve(static_cast<size_t>(std::max<int64_t>(last - first + 1, 0)) + 2);
  out.push_back({mint, left});
  for (int64_t i = first; i <= last; ++i) out.push_back(floats[i]);
  out.push_back({maxt, right});
  return out;
}

int64_t CountPoints(const EvalValue& v) {
  int64_t n = 0;
  for (const auto& s : v.matrix) n += static_cast<int64_t>(s.points.size());
  return n;
}

}  // namespace

// Prometheus's wording: its evaluator checks its context as contextDone(ctx, "expression
// evaluation").
absl::Status QueryContext::CheckDeadline() const {
  if (options->cancelled && options->cancelled()) {
    return absl::CancelledError("query was canceled in expression evaluation");
  }
  // `>=` so that a zero timeout always expires, as an expired Go context does.
  if (absl::Now() >= deadline) {
    return absl::DeadlineExceededError("query timed out in expression evaluation");
  }
  return absl::OkStatus();
}

absl::Status QueryContext::AddSamples(int64_t n) {
  current_samples += n;
  peak_samples = std::max(peak_samples, current_samples);
  if (current_samples > options->max_samples) {
    return absl::FailedPreconditionError(
        "query processing would load too many samples into memory in query execution");
  }
  return absl::OkStatus();
}

absl::Status ReadSamples(const model::Series& series, std::vector<model::Sample>* samples) {
  samples->clear();
  return series.NewIterator()->AppendRemaining(samples);
}

absl::Status MergeSameLabels(Matrix* matrix) {
  if (matrix->size() < 2) return absl::OkStatus();
  {
    absl::flat_hash_set<const model::Labels*, LabelsPtrHash, LabelsPtrEq> seen;
    bool duplicate = false;
    for (const auto& s : *matrix) {
      if (!seen.insert(&s.labels).second) {
        duplicate = true;
        break;
      }
    }
    if (!duplicate) return absl::OkStatus();
  }
  absl::flat_hash_map<model::Labels, size_t> index;
  Matrix out;
  for (auto& s : *matrix) {
    auto [it, inserted] = index.try_emplace(s.labels, out.size());
    if (inserted) {
      out.push_back(std::move(s));
      continue;
    }
    Series& into = out[it->second];
    std::vector<FloatPoint> merged;
    merged.reserve(into.points.size() + s.points.size());
    std::merge(into.points.begin(), into.points.end(), s.points.begin(), s.points.end(),
               std::back_inserter(merged),
               [](const FloatPoint& a, const FloatPoint& b) { return a.t < b.t; });
    for (size_t i = 1; i < merged.size(); ++i) {
      if (merged[i].t == merged[i - 1].t) {
        return absl::FailedPreconditionError(
            "vector cannot contain metrics with the same labelset");
      }
    }
    into.points = std::move(merged);
  }
  *matrix = std::move(out);
  return absl::OkStatus();
}

const Expr& UnwrapParens(const Expr& expr) {
  const Expr* e = &expr;
  while (const auto* p = std::get_if<ParenExpr>(&e->node)) e = p->expr.get();
  return *e;
}

Evaluator::Evaluator(QueryContext* ctx, int64_t start_ms, int64_t end_ms, int64_t interval_ms)
    : ctx_(ctx), start_ms_(start_ms), end_ms_(end_ms), interval_ms_(interval_ms) {}

void Evaluator::DropName(model::Labels* labels, bool* drop_name) const {
  if (delayed_name_removal()) {
    *drop_name = true;
  } else {
    *labels = DropMetricName(*labels);
  }
}

EvalValue Evaluator::ScalarValue(absl::FunctionRef<double(int64_t ts)> fn) const {
  EvalValue out;
  out.type = ValueType::kScalar;
  out.matrix.resize(1);
  auto& points = out.matrix[0].points;
  points.reserve(num_steps());
  for (int64_t i = 0; i < num_steps(); ++i) {
    const int64_t ts = StepTime(i);
    points.push_back({ts, fn(ts)});
  }
  return out;
}

absl::StatusOr<EvalValue> Evaluator::Eval(const Expr& expr) {
  RETURN_IF_ERROR(ctx_->CheckDeadline());
  const int64_t samples_before = ctx_->current_samples;
  absl::StatusOr<EvalValue> result;
  const auto& node = expr.node;
  if (const auto* n = std::get_if<NumberLiteral>(&node)) {
    const double v = n->value;
    result = ScalarValue([v](int64_t) { return v; });
  } else if (const auto* s = std::get_if<StringLiteral>(&node)) {
    EvalValue out;
    out.type = ValueType::kString;
    out.str = s->value;
    result = std::move(out);
  } else if (const auto* vs = std::get_if<VectorSelector>(&node)) {
    result = vs->smoothed ? EvalSmoothedSelector(*vs) : EvalVectorSelector(*vs, false);
  } else if (std::holds_alternative<MatrixSelector>(node) ||
             std::holds_alternative<SubqueryExpr>(node)) {
    result = EvalTopLevelRange(expr);
  } else if (const auto* c = std::get_if<Call>(&node)) {
    result = EvalCall(*this, *c);
  } else if (const auto* a = std::get_if<AggregateExpr>(&node)) {
    result = EvalAggregate(*this, *a);
  } else if (const auto* b = std::get_if<BinaryExpr>(&node)) {
    result = EvalBinary(*this, *b);
  } else if (const auto* u = std::get_if<UnaryExpr>(&node)) {
    result = EvalUnary(*u);
  } else if (const auto* p = std::get_if<ParenExpr>(&node)) {
    result = Eval(*p->expr);
  } else {
    return absl::UnimplementedError("unsupported expression");
  }
  if (!result.ok()) return result.status();
  ctx_->current_samples = samples_before;
  RETURN_IF_ERROR(ctx_->AddSamples(CountPoints(*result)));
  return result;
}

absl::StatusOr<EvalValue> Evaluator::EvalUnary(const UnaryExpr& u) {
  ASSIGN_OR_RETURN(EvalValue v, Eval(*u.expr));
  if (!u.negate) return v;
  for (auto& s : v.matrix) {
    for (auto& p : s.points) p.v = -p.v;
    if (v.type == ValueType::kVector) DropName(&s.labels, &s.drop_name);
  }
  if (v.type == ValueType::kVector && !delayed_name_removal()) {
    RETURN_IF_ERROR(MergeSameLabels(&v.matrix));
  }
  return v;
}

int64_t Evaluator::WindowEnd(int64_t ts, AtModifier at, int64_t at_ms, int64_t offset_ms) const {
  switch (at) {
    case AtModifier::kNone: return ts - offset_ms;
    case AtModifier::kTimestamp: return at_ms - offset_ms;
    case AtModifier::kStart: return ctx_->query_start_ms - offset_ms;
    case AtModifier::kEnd: return ctx_->query_end_ms - offset_ms;
  }
  return ts - offset_ms;
}

namespace {

// Passes a set through and adds its warnings to `annotations` once it is exhausted: a storage
// node that fails mid-stream is known only then (model/series_set.h).
class WarningsAtEnd : public model::SeriesSet {
 public:
  WarningsAtEnd(std::unique_ptr<model::SeriesSet> set, Annotations* annotations)
      : set_(std::move(set)), annotations_(annotations) {}
  bool Next() override {
    if (set_->Next()) return true;
    if (annotations_ != nullptr) {
      for (std::string& warning : set_->warnings()) annotations_->Warn(std::move(warning));
    }
    annotations_ = nullptr;
    return false;
  }
  const model::Series& At() const override { return set_->At(); }
  absl::Status status() const override { return set_->status(); }
  std::vector<std::string> warnings() const override { return set_->warnings(); }

 private:
  std::unique_ptr<model::SeriesSet> set_;
  Annotations* annotations_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<model::SeriesSet>> Evaluator::Select(const VectorSelector& vs,
                                                                    int64_t mint, int64_t maxt) {
  ASSIGN_OR_RETURN(std::unique_ptr<model::SeriesSet> set,
                   ctx_->reader->Select(vs.matchers, mint, maxt));
  return std::make_unique<WarningsAtEnd>(std::move(set), &ctx_->annotations);
}

absl::Status Evaluator::ForEachSelectorSeries(const VectorSelector& vs, bool timestamps,
                                              absl::FunctionRef<absl::Status(Series&)> fn) {
  const int64_t lookback = absl::ToInt64Milliseconds(ctx_->options->lookback_delta);
  const int64_t first_ref = WindowEnd(start_ms_, vs.at, vs.at_ms, vs.offset_ms);
  const int64_t last_ref = WindowEnd(end_ms_, vs.at, vs.at_ms, vs.offset_ms);
  ASSIGN_OR_RETURN(auto set, Select(vs, first_ref - lookback + 1, last_ref));
  DecodeAhead series(std::move(set), ctx_->options->decode_pool);
  int64_t series_count = 0;
  Series s;
  while (series.Next()) {
    if (++series_count % 256 == 0) RETURN_IF_ERROR(ctx_->CheckDeadline());
    const std::vector<model::Sample>& buf = series.samples();
    s.points.clear();
    s.points.reserve(MaxPoints(buf.size(), lookback));
    size_t next = 0;  // first sample newer than the current window end
    for (int64_t i = 0; i < num_steps(); ++i) {
      const int64_t ts = StepTime(i);
      const int64_t ref = WindowEnd(ts, vs.at, vs.at_ms, vs.offset_ms);
      while (next < buf.size() && buf[next].timestamp_ms <= ref) ++next;
      if (next == 0) continue;
      const model::Sample& newest = buf[next - 1];
      if (newest.timestamp_ms <= ref - lookback || model::IsStaleNaN(newest.value)) continue;
      s.points.push_back(
          {ts, timestamps ? static_cast<double>(newest.timestamp_ms) / 1000.0 : newest.value});
    }
    if (s.points.empty()) continue;
    s.labels = series.labels();
    s.drop_name = false;
    ctx_->total_queryable_samples += static_cast<int64_t>(s.points.size());
    RETURN_IF_ERROR(ctx_->AddSamples(static_cast<int64_t>(s.points.size())));
    RETURN_IF_ERROR(fn(s));
  }
  return series.status();
}

absl::StatusOr<EvalValue> Evaluator::EvalVectorSelector(const VectorSelector& vs,
                                                        bool timestamps) {
  EvalValue out;
  out.type = ValueType::kVector;
  RETURN_IF_ERROR(ForEachSelectorSeries(vs, timestamps, [&](Series& s) {
    out.matrix.push_back(std::move(s));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<bool> Evaluator::ForEachSeries(const Expr& expr,
                                              absl::FunctionRef<absl::Status(Series&)> fn) {
  const Expr& e = UnwrapParens(expr);
  if (const auto* vs = std::get_if<VectorSelector>(&e.node); vs != nullptr && !vs->smoothed) {
    RETURN_IF_ERROR(ForEachSelectorSeries(*vs, false, fn));
    return true;
  }
  if (const auto* call = std::get_if<Call>(&e.node)) return ForEachCallSeries(*this, *call, fn);
  return false;
}

absl::StatusOr<EvalValue> Evaluator::EvalSmoothedSelector(const VectorSelector& vs) {
  const int64_t lookback = absl::ToInt64Milliseconds(ctx_->options->lookback_delta);
  const int64_t first_ref = WindowEnd(start_ms_, vs.at, vs.at_ms, vs.offset_ms);
  const int64_t last_ref = WindowEnd(end_ms_, vs.at, vs.at_ms, vs.offset_ms);
  ASSIGN_OR_RETURN(auto set, Select(vs, first_ref - lookback + 1, last_ref + lookback));
  EvalValue out;
  out.type = ValueType::kVector;
  std::vector<FloatPoint> buf;
  while (set->Next()) {
    RETURN_IF_ERROR(ctx_->CheckDeadline());
    const model::Series& series = set->At();
    buf.clear();
    auto it = series.NewIterator();
    while (it->Next()) {
      const model::Sample sample = it->At();
      if (!model::IsStaleNaN(sample.value)) buf.push_back({sample.timestamp_ms, sample.value});
    }
    RETURN_IF_ERROR(it->status());
    Series s;
    s.labels = series.labels();
    for (int64_t i = 0; i < num_steps(); ++i) {
      const int64_t ref = WindowEnd(StepTime(i), vs.at, vs.at_ms, vs.offset_ms);
      // The samples in (ref - lookback, ref + lookback]; `next` is the first at or after ref.
      const auto lo = std::partition_point(buf.begin(), buf.end(), [&](const FloatPoint& p) {
        return p.t <= ref - lookback;
      });
      const auto next = std::partition_point(lo, buf.end(),
                                             [&](const FloatPoint& p) { return p.t < ref; });
      const bool has_next = next != buf.end() && next->t <= ref + lookback;
      double v = 0;
      if (has_next && next->t == ref) {
        v = next->v;
      } else if (next != lo && has_next) {
        v = Interpolate(*(next - 1), *next, ref, false);
      } else if (next != lo) {
        v = (next - 1)->v;  // nothing after ref yet: carry the last value forward
      } else {
        continue;
      }
      s.points.push_back({StepTime(i), v});
    }
    if (s.points.empty()) continue;
    ctx_->total_queryable_samples += static_cast<int64_t>(s.points.size());
    RETURN_IF_ERROR(ctx_->AddSamples(static_cast<int64_t>(s.points.size())));
    out.matrix.push_back(std::move(s));
  }
  RETURN_IF_ERROR(set->status());
  return out;
}

absl::StatusOr<Evaluator::RangeInput> Evaluator::EvalRangeInput(const Expr& expr) {
  RangeInput in;
  Matrix series;
  RETURN_IF_ERROR(ForEachRangeSeries(expr, &in, [&](Series& s) {
    series.push_back(std::move(s));
    return absl::OkStatus();
  }));
  in.series = std::move(series);
  return in;
}

absl::Status Evaluator::ForEachRangeSeries(const Expr& expr, RangeInput* in,
                                           absl::FunctionRef<absl::Status(Series& series)> fn) {
  const Expr& e = UnwrapParens(expr);
  if (const auto* ms = std::get_if<MatrixSelector>(&e.node)) {
    const auto* vs = std::get_if<VectorSelector>(&UnwrapParens(*ms->selector).node);
    if (vs == nullptr) return absl::InvalidArgumentError("range selector without a selector");
    in->range_ms = ms->range_ms;
    in->offset_ms = vs->offset_ms;
    in->at = vs->at;
    in->at_ms = vs->at_ms;
    in->selector = vs;
    const int64_t lookback = absl::ToInt64Milliseconds(ctx_->options->lookback_delta);
    if (vs->anchored || vs->smoothed) in->before_ms = lookback;
    if (vs->smoothed) in->after_ms = lookback;
    const int64_t first_ref = WindowEnd(start_ms_, vs->at, vs->at_ms, vs->offset_ms);
    const int64_t last_ref = WindowEnd(end_ms_, vs->at, vs->at_ms, vs->offset_ms);
    ASSIGN_OR_RETURN(auto set, Select(*vs, first_ref - ms->range_ms - in->before_ms + 1,
                                      last_ref + in->after_ms));
    DecodeAhead series(std::move(set), ctx_->options->decode_pool, in->with_starts);
    Series s;
    while (series.Next()) {
      RETURN_IF_ERROR(ctx_->CheckDeadline());
      s.labels = series.labels();
      s.drop_name = false;
      s.points.clear();
      s.starts.clear();
      const std::vector<model::Sample>& samples = series.samples();
      if (const std::vector<int64_t>& starts = series.starts(); !starts.empty()) {
        for (size_t i = 0; i < samples.size(); ++i) {
          if (model::IsStaleNaN(samples[i].value)) continue;
          s.points.push_back({samples[i].timestamp_ms, samples[i].value});
          s.starts.push_back(i < starts.size() ? starts[i] : 0);
        }
      } else {
        // Every sample is written and a stale marker overwritten by the next: no branch per
        // sample, and no capacity check.
        s.points.resize(samples.size());
        FloatPoint* out = s.points.data();
        for (const model::Sample& sample : samples) {
          *out = {sample.timestamp_ms, sample.value};
          out += model::IsStaleNaN(sample.value) ? 0 : 1;
        }
        s.points.resize(static_cast<size_t>(out - s.points.data()));
      }
      ctx_->total_queryable_samples += static_cast<int64_t>(s.points.size());
      RETURN_IF_ERROR(ctx_->AddSamples(static_cast<int64_t>(s.points.size())));
      RETURN_IF_ERROR(fn(s));
    }
    return series.status();
  }
  if (const auto* sq = std::get_if<SubqueryExpr>(&e.node)) {
    in->offset_ms = sq->offset_ms;
    in->at = sq->at;
    in->at_ms = sq->at_ms;
    ASSIGN_OR_RETURN(EvalValue v, EvalSubqueryMatrix(*sq, &in->range_ms));
    for (Series& s : v.matrix) RETURN_IF_ERROR(fn(s));
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError("expected a range vector argument");
}

absl::StatusOr<EvalValue> Evaluator::EvalSubqueryMatrix(const SubqueryExpr& sq,
                                                        int64_t* range_ms) {
  *range_ms = sq.range_ms;
  int64_t step = sq.step_ms;
  if (step <= 0) step = absl::ToInt64Milliseconds(ctx_->options->default_subquery_step);
  if (step <= 0) return absl::InvalidArgumentError("subquery step must be positive");
  const int64_t first_ref = WindowEnd(start_ms_, sq.at, sq.at_ms, sq.offset_ms);
  const int64_t last_ref = WindowEnd(end_ms_, sq.at, sq.at_ms, sq.offset_ms);
  // The first step after (first_ref - range) aligned to an absolute multiple of the step;
  // integer division truncates toward zero as Go's does.
  const int64_t lower = first_ref - sq.range_ms;
  int64_t sub_start = step * (lower / step);
  if (sub_start <= lower) sub_start += step;
  EvalValue out;
  out.type = ValueType::kMatrix;
  if (sub_start > last_ref) return out;
  Evaluator sub(ctx_, sub_start, last_ref, step);
  ASSIGN_OR_RETURN(EvalValue v, sub.Eval(*sq.expr));
  out.matrix = std::move(v.matrix);
  if (v.type == ValueType::kScalar && !out.matrix.empty()) out.matrix[0].labels = {};
  return out;
}

absl::StatusOr<EvalValue> Evaluator::EvalTopLevelRange(const Expr& expr) {
  ASSIGN_OR_RETURN(RangeInput in, EvalRangeInput(expr));
  EvalValue out;
  out.type = ValueType::kMatrix;
  const int64_t ref = WindowEnd(start_ms_, in.at, in.at_ms, in.offset_ms);
  const bool extended = in.selector != nullptr && (in.selector->anchored || in.selector->smoothed);
  for (auto& s : in.series) {
    Series r;
    r.labels = std::move(s.labels);
    r.drop_name = s.drop_name;
    for (const auto& p : s.points) {
      if (p.t > ref - in.range_ms - in.before_ms && p.t <= ref + in.after_ms) {
        r.points.push_back(p);
      }
    }
    if (extended && !r.points.empty()) {
      r.points = ExtendFloats(r.points, ref - in.range_ms, ref, in.selector->smoothed);
    }
    if (!r.points.empty()) out.matrix.push_back(std::move(r));
  }
  return out;
}

absl::StatusOr<EvalValue> Evaluator::RangeEval(absl::Span<const EvalValue* const> args,
                                               StepFunction fn) {
  EvalValue out;
  out.type = ValueType::kVector;
  const size_t nargs = args.size();
  std::vector<std::vector<size_t>> cursors(nargs);
  for (size_t a = 0; a < nargs; ++a) cursors[a].assign(args[a]->matrix.size(), 0);
  std::vector<Vector> vectors(nargs);
  std::vector<StepArg> step_args(nargs);
  absl::flat_hash_map<model::Labels, std::pair<size_t, int64_t>> index;  // series, last ts
  Vector result;
  for (int64_t i = 0; i < num_steps(); ++i) {
    if (i % 64 == 63) RETURN_IF_ERROR(ctx_->CheckDeadline());
    const int64_t ts = StepTime(i);
    for (size_t a = 0; a < nargs; ++a) {
      const EvalValue& v = *args[a];
      StepArg& sa = step_args[a];
      sa.type = v.type;
      if (v.type == ValueType::kString) {
        sa.str = v.str;
        continue;
      }
      if (v.type == ValueType::kScalar) {
        const auto& points = v.matrix[0].points;
        sa.scalar = points[static_cast<size_t>(i)].v;
        continue;
      }
      Vector& vec = vectors[a];
      vec.clear();
      for (size_t j = 0; j < v.matrix.size(); ++j) {
        const Series& s = v.matrix[j];
        size_t& c = cursors[a][j];
        while (c < s.points.size() && s.points[c].t < ts) ++c;
        if (c < s.points.size() && s.points[c].t == ts) {
          vec.push_back({s.labels, ts, s.points[c].v, s.drop_name});
        }
      }
      sa.vector = &vec;
    }
    result.clear();
    RETURN_IF_ERROR(fn(step_args, ts, &result));
    for (auto& sample : result) {
      auto [it, inserted] = index.try_emplace(sample.labels, out.matrix.size(), ts);
      if (!inserted) {
        if (it->second.second == ts) {
          return absl::FailedPreconditionError(
              "vector cannot contain metrics with the same labelset");
        }
        it->second.second = ts;
      } else {
        Series s;
        s.labels = sample.labels;
        s.drop_name = sample.drop_name;
        out.matrix.push_back(std::move(s));
      }
      out.matrix[it->second.first].points.push_back({ts, sample.v});
    }
  }
  return out;
}

}  // namespace kura::query
