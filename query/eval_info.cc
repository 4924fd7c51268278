#include "query/eval_info.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "model/labels.h"
#include "model/matcher.h"
#include "model/sample.h"
#include "query/lexer.h"
#include "re2/re2.h"

namespace kura::query {
namespace {

using model::LabelMatcher;
using model::MatchType;

constexpr std::string_view kTargetInfo = "target_info";
// Hard-coded as in Prometheus, so that no knowledge of individual info metrics is needed.
constexpr std::array<std::string_view, 2> kIdentifyingLabels = {"instance", "job"};

absl::StatusOr<LabelMatcher> NameMatcher(MatchType type, std::string_view value) {
  return LabelMatcher::Create(type, std::string(model::kMetricNameLabel), std::string(value));
}

// The second argument's matchers. `names` are the __name__ matchers that pick the info
// metrics; an input series whose name they all accept is an info series itself and stays
// unenriched. `data` restricts, by label name, which info labels are added.
struct InfoSelector {
  std::vector<LabelMatcher> names;
  std::map<std::string, std::vector<LabelMatcher>, std::less<>> data;

  bool AllDataMatchEmpty() const {
    for (const auto& [name, ms] : data) {
      for (const auto& m : ms) {
        if (!m.MatchesEmpty()) return false;
      }
    }
    return true;
  }
  // Whether info label `name` may be added: any label when there are no data matchers.
  bool Wants(std::string_view name) const { return data.empty() || data.contains(name); }
};

// Without __name__ matchers the info metric is target_info. With only negated ones, the info
// metrics are the `*_info` ones they do not exclude: a negated matcher alone would pick every
// other metric.
absl::StatusOr<InfoSelector> ReadSelector(const Call& call) {
  InfoSelector sel;
  if (call.args.size() >= 2) {
    const auto* vs = std::get_if<VectorSelector>(&UnwrapParens(*call.args[1]).node);
    if (vs == nullptr) return absl::InvalidArgumentError("expected label selectors only");
    for (const auto& m : vs->matchers) {
      if (m.name() == model::kMetricNameLabel) {
        sel.names.push_back(m);
      } else {
        sel.data[m.name()].push_back(m);
      }
    }
  }
  const bool positive = std::any_of(sel.names.begin(), sel.names.end(), [](const auto& m) {
    return m.type() == MatchType::kEqual || m.type() == MatchType::kRegexMatch;
  });
  if (positive) return sel;
  if (sel.names.empty()) {
    ASSIGN_OR_RETURN(LabelMatcher m, NameMatcher(MatchType::kEqual, kTargetInfo));
    sel.names.push_back(std::move(m));
  } else {
    ASSIGN_OR_RETURN(LabelMatcher m, NameMatcher(MatchType::kRegexMatch, ".+_info"));
    sel.names.insert(sel.names.begin(), std::move(m));
  }
  return sel;
}

// Info series are never enriched.
bool IsInfoSeries(const model::Labels& labels, const InfoSelector& sel) {
  const std::string_view name = labels.Get(model::kMetricNameLabel);
  return std::all_of(sel.names.begin(), sel.names.end(),
                     [&](const LabelMatcher& m) { return m.Matches(name); });
}

// The first vector selector of `expr` in pre-order: its offset and @ place the info lookup.
const VectorSelector* FirstSelector(const Expr& expr) {
  const auto& node = expr.node;
  if (const auto* vs = std::get_if<VectorSelector>(&node)) return vs;
  std::vector<const Expr*> children;
  if (const auto* ms = std::get_if<MatrixSelector>(&node)) {
    children = {ms->selector.get()};
  } else if (const auto* sq = std::get_if<SubqueryExpr>(&node)) {
    children = {sq->expr.get()};
  } else if (const auto* c = std::get_if<Call>(&node)) {
    for (const auto& a : c->args) children.push_back(a.get());
  } else if (const auto* a = std::get_if<AggregateExpr>(&node)) {
    children = {a->expr.get(), a->param.get()};
  } else if (const auto* b = std::get_if<BinaryExpr>(&node)) {
    children = {b->lhs.get(), b->rhs.get()};
  } else if (const auto* u = std::get_if<UnaryExpr>(&node)) {
    children = {u->expr.get()};
  } else if (const auto* p = std::get_if<ParenExpr>(&node)) {
    children = {p->expr.get()};
  }
  for (const Expr* child : children) {
    if (child == nullptr) continue;
    if (const VectorSelector* vs = FirstSelector(*child)) return vs;
  }
  return nullptr;
}

// Matchers selecting the info series that can join the non-ignored base series, or an empty
// list when no base series has an identifying label.
absl::StatusOr<std::vector<LabelMatcher>> InfoMatchers(const Matrix& base,
                                                       const std::vector<bool>& ignored,
                                                       const InfoSelector& sel) {
  std::vector<LabelMatcher> out;
  for (std::string_view id : kIdentifyingLabels) {
    std::set<std::string, std::less<>> values;
    for (size_t i = 0; i < base.size(); ++i) {
      if (ignored[i]) continue;
      const std::string_view v = base[i].labels.Get(id);
      if (!v.empty()) values.emplace(v);
    }
    if (values.empty()) continue;
    std::vector<std::string> quoted;
    for (const auto& v : values) quoted.push_back(re2::RE2::QuoteMeta(v));
    ASSIGN_OR_RETURN(LabelMatcher m, LabelMatcher::Create(MatchType::kRegexMatch, std::string(id),
                                                          absl::StrJoin(quoted, "|")));
    out.push_back(std::move(m));
  }
  if (out.empty()) return out;
  for (const auto& [name, ms] : sel.data) out.insert(out.end(), ms.begin(), ms.end());
  out.insert(out.end(), sel.names.begin(), sel.names.end());
  return out;
}

// The info series at every step. A point's value is the timestamp of the sample it stands
// for, so that the newest of several series with equal identifying labels can win. Samples
// are read over the window the first argument's first selector looks at (its offset and @),
// but looked up at the step times themselves.
absl::StatusOr<Matrix> EvalInfoSeries(Evaluator& ev, const Call& call,
                                      absl::Span<const LabelMatcher> matchers) {
  const int64_t lookback = absl::ToInt64Milliseconds(ev.ctx().options->lookback_delta);
  int64_t start = ev.start_ms(), end = ev.end_ms(), offset = 0;
  if (const VectorSelector* vs = FirstSelector(*call.args[0])) {
    offset = vs->offset_ms;
    if (vs->at != AtModifier::kNone) {
      start = end = ev.WindowEnd(0, vs->at, vs->at_ms, 0);
    }
  }
  ASSIGN_OR_RETURN(
      auto set, ev.ctx().reader->Select(matchers, start - (lookback - 1) - offset, end - offset));
  Matrix out;
  std::vector<model::Sample> buf;
  int64_t series_count = 0;
  while (set->Next()) {
    if (++series_count % 256 == 0) RETURN_IF_ERROR(ev.ctx().CheckDeadline());
    const model::Series& series = set->At();
    RETURN_IF_ERROR(ReadSamples(series, &buf));
    Series s;
    s.labels = series.labels();
    size_t next = 0;  // first sample newer than the step time
    for (int64_t i = 0; i < ev.num_steps(); ++i) {
      const int64_t ts = ev.StepTime(i);
      while (next < buf.size() && buf[next].timestamp_ms <= ts) ++next;
      if (next == 0) continue;
      const model::Sample& newest = buf[next - 1];
      if (newest.timestamp_ms <= ts - lookback || model::IsStaleNaN(newest.value)) continue;
      s.points.push_back({ts, static_cast<double>(newest.timestamp_ms)});
    }
    if (s.points.empty()) continue;
    RETURN_IF_ERROR(ev.ctx().AddSamples(static_cast<int64_t>(s.points.size())));
    out.push_back(std::move(s));
  }
  RETURN_IF_ERROR(set->status());
  for (std::string& warning : set->warnings()) ev.ctx().annotations.Warn(std::move(warning));
  return out;
}

// The join key of `labels` with info metric `name`: the name and the identifying labels the
// series has.
std::string Signature(std::string_view name, const model::Labels& labels) {
  std::string sig(name);
  for (std::string_view id : kIdentifyingLabels) {
    const std::string_view v = labels.Get(id);
    if (v.empty()) continue;
    absl::StrAppend(&sig, "\xff", Av(id), "\xff", Av(v));
  }
  return sig;
}

// Prometheus's labels.String(): every label, __name__ included, inside the braces.
std::string LabelsString(const model::Labels& labels) {
  std::vector<std::string> parts;
  for (const auto& l : labels) parts.push_back(absl::StrCat(l.name, "=", GoQuote(l.value)));
  return absl::StrCat("{", absl::StrJoin(parts, ", "), "}");
}

// Joins base and info series step by step.
class InfoJoin {
 public:
  InfoJoin(Evaluator& ev, Matrix base, std::vector<bool> ignored, Matrix info,
           const InfoSelector& sel)
      : ev_(ev),
        base_(std::move(base)),
        ignored_(std::move(ignored)),
        info_(std::move(info)),
        sel_(sel) {
    std::set<std::string> names;
    for (const auto& s : info_) names.emplace(s.labels.Get(model::kMetricNameLabel));
    info_names_.assign(names.begin(), names.end());
    for (const auto& s : info_) {
      info_sigs_.push_back(Signature(s.labels.Get(model::kMetricNameLabel), s.labels));
    }
    for (const auto& s : base_) {
      std::vector<std::string> sigs;
      for (const auto& name : info_names_) sigs.push_back(Signature(name, s.labels));
      base_sigs_.push_back(std::move(sigs));
    }
  }

  absl::StatusOr<EvalValue> Run() {
    std::vector<size_t> base_cursor(base_.size(), 0), info_cursor(info_.size(), 0);
    for (int64_t i = 0; i < ev_.num_steps(); ++i) {
      RETURN_IF_ERROR(ev_.ctx().CheckDeadline());
      const int64_t ts = ev_.StepTime(i);
      RETURN_IF_ERROR(PickNewest(ts, &info_cursor));
      int64_t added = 0;
      for (size_t b = 0; b < base_.size(); ++b) {
        const auto& points = base_[b].points;
        size_t& c = base_cursor[b];
        while (c < points.size() && points[c].t < ts) ++c;
        if (c == points.size() || points[c].t != ts) continue;
        ASSIGN_OR_RETURN(std::optional<model::Labels> labels, Enrich(b));
        if (!labels.has_value()) continue;
        RETURN_IF_ERROR(Emit(*std::move(labels), {ts, points[c].v}));
        ++added;
      }
      RETURN_IF_ERROR(ev_.ctx().AddSamples(added));
    }
    EvalValue v;
    v.type = ValueType::kVector;
    v.matrix = std::move(out_);
    return v;
  }

 private:
  // Fills newest_ with the info series to join at `ts` per signature: the one whose sample is
  // the newest; two samples of equal time are a conflict.
  absl::Status PickNewest(int64_t ts, std::vector<size_t>* cursors) {
    newest_.clear();
    for (size_t k = 0; k < info_.size(); ++k) {
      const auto& points = info_[k].points;
      size_t& c = (*cursors)[k];
      while (c < points.size() && points[c].t < ts) ++c;
      if (c == points.size() || points[c].t != ts) continue;
      const auto orig_t = static_cast<int64_t>(points[c].v);
      auto [it, inserted] = newest_.try_emplace(info_sigs_[k], Picked{k, orig_t});
      if (inserted || it->second.orig_t > orig_t) continue;
      if (it->second.orig_t < orig_t) {
        it->second = Picked{k, orig_t};
        continue;
      }
      return absl::FailedPreconditionError(
          absl::StrCat("found duplicate series for info metric: existing ",
                       LabelsString(info_[it->second.series].labels), " @ ", it->second.orig_t,
                       ", new ", LabelsString(info_[k].labels), " @ ", orig_t));
    }
    return absl::OkStatus();
  }

  // The labels of base series `b` at the current step, or nullopt when its sample is dropped:
  // no info series joins it and a data matcher rejects the empty value.
  absl::StatusOr<std::optional<model::Labels>> Enrich(size_t b) {
    const model::Labels& base = base_[b].labels;
    if (ignored_[b]) return std::optional<model::Labels>(base);
    std::vector<model::Label> added;
    bool joined = false;
    for (const std::string& sig : base_sigs_[b]) {
      auto it = newest_.find(sig);
      if (it == newest_.end()) continue;
      joined = true;
      for (const auto& l : info_[it->second.series].labels) {
        if (l.name == model::kMetricNameLabel || !sel_.Wants(l.name)) continue;
        auto prev = std::find_if(added.begin(), added.end(),
                                 [&](const model::Label& a) { return a.name == l.name; });
        if (prev != added.end()) {
          if (prev->value != l.value) {
            return absl::FailedPreconditionError(absl::StrCat("conflicting label: ", l.name));
          }
          continue;
        }
        if (base.Has(l.name)) continue;  // the base series' own value wins
        added.push_back(l);
      }
    }
    if (!joined && !sel_.AllDataMatchEmpty()) return std::optional<model::Labels>();
    if (added.empty()) return std::optional<model::Labels>(base);
    std::vector<model::Label> all(base.begin(), base.end());
    all.insert(all.end(), added.begin(), added.end());
    return std::optional<model::Labels>(model::Labels::FromUnsorted(std::move(all)));
  }

  absl::Status Emit(model::Labels labels, FloatPoint p) {
    auto [it, inserted] = out_index_.try_emplace(std::move(labels), out_.size());
    if (inserted) {
      // The result carries no delayed name removal: info() keeps the base series' name.
      out_.push_back(Series{it->first, {}, /*drop_name=*/false});
    } else if (out_[it->second].points.back().t == p.t) {
      return absl::FailedPreconditionError("vector cannot contain metrics with the same labelset");
    }
    out_[it->second].points.push_back(p);
    return absl::OkStatus();
  }

  struct Picked {
    size_t series = 0;
    int64_t orig_t = 0;
  };

  Evaluator& ev_;
  Matrix base_;
  std::vector<bool> ignored_;
  Matrix info_;
  const InfoSelector& sel_;
  std::vector<std::string> info_names_;              // sorted, unique
  std::vector<std::string> info_sigs_;               // per info series
  std::vector<std::vector<std::string>> base_sigs_;  // per base series, per info name
  absl::flat_hash_map<std::string, Picked> newest_;  // per signature, this step
  absl::flat_hash_map<model::Labels, size_t> out_index_;
  Matrix out_;
};

}  // namespace

absl::StatusOr<EvalValue> EvalInfo(Evaluator& ev, const Call& call) {
  if (call.args.empty()) return absl::InvalidArgumentError("missing argument to info");
  ASSIGN_OR_RETURN(InfoSelector sel, ReadSelector(call));
  ASSIGN_OR_RETURN(EvalValue base, ev.Eval(*call.args[0]));
  if (base.type != ValueType::kVector) {
    return absl::InvalidArgumentError("expected instant vector argument to info");
  }
  std::vector<bool> ignored;
  ignored.reserve(base.matrix.size());
  for (const auto& s : base.matrix) ignored.push_back(IsInfoSeries(s.labels, sel));
  ASSIGN_OR_RETURN(std::vector<LabelMatcher> matchers, InfoMatchers(base.matrix, ignored, sel));
  Matrix info;
  if (!matchers.empty()) {
    ASSIGN_OR_RETURN(info, EvalInfoSeries(ev, call, matchers));
  }
  InfoJoin join(ev, std::move(base.matrix), std::move(ignored), std::move(info), sel);
  return join.Run();
}

}  // namespace kura::query
