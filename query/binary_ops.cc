#include "query/binary_ops.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "query/eval_evaluator.h"

namespace kura::query {
namespace {

bool IsArithmetic(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd: case BinaryOp::kSub: case BinaryOp::kMul: case BinaryOp::kDiv:
    case BinaryOp::kMod: case BinaryOp::kPow: case BinaryOp::kAtan2:
      return true;
    default:
      return false;
  }
}

bool IsComparison(BinaryOp op) {
  switch (op) {
    case BinaryOp::kEql: case BinaryOp::kNeq: case BinaryOp::kGtr: case BinaryOp::kLss:
    case BinaryOp::kGte: case BinaryOp::kLte:
      return true;
    default:
      return false;
  }
}

// Prometheus's vectorElemBinop for floats: the value, and whether a comparison holds.
bool Apply(BinaryOp op, double l, double r, double* out) {
  *out = l;
  switch (op) {
    case BinaryOp::kAdd: *out = l + r; return true;
    case BinaryOp::kSub: *out = l - r; return true;
    case BinaryOp::kMul: *out = l * r; return true;
    case BinaryOp::kDiv: *out = l / r; return true;
    case BinaryOp::kPow: *out = std::pow(l, r); return true;
    case BinaryOp::kMod: *out = std::fmod(l, r); return true;
    case BinaryOp::kAtan2: *out = std::atan2(l, r); return true;
    case BinaryOp::kEql: return l == r;
    case BinaryOp::kNeq: return l != r;
    case BinaryOp::kGtr: return l > r;
    case BinaryOp::kLss: return l < r;
    case BinaryOp::kGte: return l >= r;
    case BinaryOp::kLte: return l <= r;
    default: return false;
  }
}

// Output series keyed by labels; a second value for one label set at one step is an error.
class OutputBuilder {
 public:
  size_t SeriesFor(const model::Labels& labels, bool drop_name) {
    auto [it, inserted] = index_.try_emplace(labels, out_.matrix.size());
    if (inserted) out_.matrix.push_back(Series{labels, {}, drop_name});
    return it->second;
  }
  absl::Status Add(size_t series, int64_t ts, double v) {
    auto& points = out_.matrix[series].points;
    if (!points.empty() && points.back().t == ts) {
      return absl::FailedPreconditionError("vector cannot contain metrics with the same labelset");
    }
    points.push_back({ts, v});
    return absl::OkStatus();
  }
  EvalValue Take() {
    out_.type = ValueType::kVector;
    return std::move(out_);
  }

 private:
  absl::flat_hash_map<model::Labels, size_t> index_;
  EvalValue out_;
};

VectorMatching MatchingOf(const BinaryExpr& e) {
  if (e.matching.has_value()) return *e.matching;
  VectorMatching m;
  if (IsSetOp(e.op)) m.card = VectorMatchCardinality::kManyToMany;
  return m;
}

model::Labels SignatureLabels(const model::Labels& l, const VectorMatching& m) {
  if (m.on) return l.Keep(m.matching_labels);
  // Only __name__ is ignored implicitly; __type__ and __unit__ still take part in matching.
  return l.Drop(m.matching_labels).Without("__name__");
}

// Assigns each series of both sides a signature id.
void ComputeSignatures(const Matrix& lhs, const Matrix& rhs, const VectorMatching& m,
                       std::vector<size_t>* lsig, std::vector<size_t>* rsig,
                       std::vector<model::Labels>* sig_labels) {
  absl::flat_hash_map<model::Labels, size_t> ids;
  auto id_of = [&](const model::Labels& l) {
    model::Labels key = SignatureLabels(l, m);
    auto [it, inserted] = ids.try_emplace(key, sig_labels->size());
    if (inserted) sig_labels->push_back(std::move(key));
    return it->second;
  };
  for (const auto& s : lhs) lsig->push_back(id_of(s.labels));
  for (const auto& s : rhs) rsig->push_back(id_of(s.labels));
}

// Walks the series present at each step: calls fn(step index, ts, present lhs, present rhs).
class StepWalker {
 public:
  explicit StepWalker(const Matrix& m) : m_(m), cursor_(m.size(), 0) {}
  // Indexes of series with a point at ts, and their values.
  void At(int64_t ts, std::vector<std::pair<size_t, double>>* present) {
    present->clear();
    for (size_t j = 0; j < m_.size(); ++j) {
      const auto& p = m_[j].points;
      size_t& c = cursor_[j];
      while (c < p.size() && p[c].t < ts) ++c;
      if (c < p.size() && p[c].t == ts) present->push_back({j, p[c].v});
    }
  }

 private:
  const Matrix& m_;
  std::vector<size_t> cursor_;
};

absl::StatusOr<EvalValue> SetOperation(Evaluator& ev, const BinaryExpr& e, const EvalValue& lhs,
                                       const EvalValue& rhs) {
  const VectorMatching m = MatchingOf(e);
  std::vector<size_t> lsig, rsig;
  std::vector<model::Labels> sig_labels;
  ComputeSignatures(lhs.matrix, rhs.matrix, m, &lsig, &rsig, &sig_labels);
  OutputBuilder out;
  std::vector<size_t> lout(lhs.matrix.size(), SIZE_MAX), rout(rhs.matrix.size(), SIZE_MAX);
  auto emit = [&](const Matrix& side, std::vector<size_t>& cache, size_t j, int64_t ts,
                  double v) {
    if (cache[j] == SIZE_MAX) cache[j] = out.SeriesFor(side[j].labels, side[j].drop_name);
    return out.Add(cache[j], ts, v);
  };
  StepWalker lw(lhs.matrix), rw(rhs.matrix);
  std::vector<std::pair<size_t, double>> lp, rp;
  std::vector<int64_t> sig_seen(sig_labels.size(), INT64_MIN);
  for (int64_t i = 0; i < ev.num_steps(); ++i) {
    const int64_t ts = ev.StepTime(i);
    lw.At(ts, &lp);
    rw.At(ts, &rp);
    if (e.op == BinaryOp::kOr) {
      for (auto [j, v] : lp) {
        sig_seen[lsig[j]] = ts;
        RETURN_IF_ERROR(emit(lhs.matrix, lout, j, ts, v));
      }
      for (auto [j, v] : rp) {
        if (sig_seen[rsig[j]] != ts) RETURN_IF_ERROR(emit(rhs.matrix, rout, j, ts, v));
      }
      continue;
    }
    for (auto [j, v] : rp) sig_seen[rsig[j]] = ts;
    const bool want_match = e.op == BinaryOp::kAnd;
    for (auto [j, v] : lp) {
      if ((sig_seen[lsig[j]] == ts) == want_match) {
        RETURN_IF_ERROR(emit(lhs.matrix, lout, j, ts, v));
      }
    }
  }
  return out.Take();
}

model::Labels ResultLabels(const model::Labels& lhs, const model::Labels& rhs,
                           const BinaryExpr& e, const VectorMatching& m, bool delayed) {
  model::Labels l = lhs;
  if (!delayed && (IsArithmetic(e.op) || e.return_bool)) l = DropMetricName(l);
  if (m.card == VectorMatchCardinality::kOneToOne) {
    l = m.on ? l.Keep(m.matching_labels) : l.Drop(m.matching_labels);
  }
  for (const auto& name : m.include) {
    const std::string_view v = rhs.Get(name);
    l = v.empty() ? l.Without(name) : l.With(name, v);
  }
  return l;
}

// Prometheus's VectorBinop, step by step. Signatures index the match groups; after the
// group_right swap `lhs` is the "many" side and `rhs` the "one" side.
//
// fill_rhs stands in for a missing right-hand sample of a left-hand series, and fill_lhs (in a
// second pass over the groups nothing matched) for a missing left-hand sample of a right-hand
// series. A stand-in's labels are the group's signature labels. As in Prometheus, the fill
// values follow the swapped sides, while the operator still sees the written operand order.
absl::StatusOr<EvalValue> VectorVector(Evaluator& ev, const BinaryExpr& e, const EvalValue& lv,
                                       const EvalValue& rv) {
  const VectorMatching m = MatchingOf(e);
  if (m.card == VectorMatchCardinality::kManyToMany) {
    return absl::InvalidArgumentError("many-to-many only allowed for set operators");
  }
  const bool swap = m.card == VectorMatchCardinality::kOneToMany;
  const Matrix& lhs = swap ? rv.matrix : lv.matrix;  // the "many" side
  const Matrix& rhs = swap ? lv.matrix : rv.matrix;  // the "one" side
  std::vector<size_t> lsig, rsig;
  std::vector<model::Labels> sig_labels;
  ComputeSignatures(lhs, rhs, m, &lsig, &rsig, &sig_labels);
  const bool delayed = ev.delayed_name_removal();
  const bool drop = IsArithmetic(e.op) || e.return_bool;
  OutputBuilder out;
  constexpr size_t kNone = SIZE_MAX;
  // Output series per (lhs index, rhs index); kNone stands for a filled-in side.
  absl::flat_hash_map<std::pair<size_t, size_t>, size_t> pair_out;
  StepWalker lw(lhs), rw(rhs);
  std::vector<std::pair<size_t, double>> lp, rp;
  std::vector<size_t> rhs_at_sig(sig_labels.size(), kNone);
  std::vector<int64_t> rhs_sig_ts(sig_labels.size(), INT64_MIN);
  std::vector<double> rhs_val_at_sig(sig_labels.size(), 0);
  std::vector<int64_t> matched_ts(sig_labels.size(), INT64_MIN);
  absl::flat_hash_map<size_t, absl::flat_hash_set<size_t>> inserted;

  // One matched (or filled) pair at `ts`: the duplicate-match checks, then the value.
  auto binop = [&](size_t lj, size_t rj, size_t sig, int64_t ts, double fl,
                   double fr) -> absl::Status {
    auto [it, fresh] = pair_out.try_emplace(std::make_pair(lj, rj), kNone);
    if (fresh) {
      const model::Labels& ll = lj == kNone ? sig_labels[sig] : lhs[lj].labels;
      const model::Labels& rl = rj == kNone ? sig_labels[sig] : rhs[rj].labels;
      const bool l_drop_name = lj != kNone && lhs[lj].drop_name;
      it->second = out.SeriesFor(ResultLabels(ll, rl, e, m, delayed),
                                 l_drop_name || (delayed && drop));
    }
    if (m.card == VectorMatchCardinality::kOneToOne) {
      if (matched_ts[sig] == ts) {
        return absl::FailedPreconditionError(
            "multiple matches for labels: many-to-one matching must be explicit "
            "(group_left/group_right)");
      }
      matched_ts[sig] = ts;
    } else if (!inserted[sig].insert(it->second).second) {
      return absl::FailedPreconditionError(
          "multiple matches for labels: grouping labels must ensure unique matches");
    }
    if (swap) std::swap(fl, fr);
    double value = 0;
    const bool keep = Apply(e.op, fl, fr, &value);
    if (e.return_bool) {
      value = keep ? 1.0 : 0.0;
    } else if (!keep) {
      return absl::OkStatus();
    }
    return out.Add(it->second, ts, value);
  };

  for (int64_t i = 0; i < ev.num_steps(); ++i) {
    if (i % 64 == 63) RETURN_IF_ERROR(ev.ctx().CheckDeadline());
    const int64_t ts = ev.StepTime(i);
    lw.At(ts, &lp);
    rw.At(ts, &rp);
    for (auto [j, v] : rp) {
      const size_t sig = rsig[j];
      if (rhs_sig_ts[sig] == ts) {
        return absl::FailedPreconditionError(absl::StrCat(
            "found duplicate series for the match group ", sig_labels[sig].ToString(),
            " on the ", swap ? "left" : "right", " hand-side of the operation: [",
            rhs[j].labels.ToString(), ", ", rhs[rhs_at_sig[sig]].labels.ToString(),
            "];many-to-many matching not allowed: matching labels must be unique on one side"));
      }
      rhs_sig_ts[sig] = ts;
      rhs_at_sig[sig] = j;
      rhs_val_at_sig[sig] = v;
    }
    if (rp.empty() && !m.fill_rhs.has_value()) continue;
    inserted.clear();
    for (auto [j, lval] : lp) {
      const size_t sig = lsig[j];
      if (rhs_sig_ts[sig] == ts) {
        RETURN_IF_ERROR(binop(j, rhs_at_sig[sig], sig, ts, lval, rhs_val_at_sig[sig]));
      } else if (m.fill_rhs.has_value()) {
        RETURN_IF_ERROR(binop(j, kNone, sig, ts, lval, *m.fill_rhs));
      }
    }
    if (!m.fill_lhs.has_value()) continue;
    for (auto [j, rval] : rp) {
      const size_t sig = rsig[j];
      const bool matched = m.card == VectorMatchCardinality::kOneToOne
                               ? matched_ts[sig] == ts
                               : inserted.contains(sig);
      if (!matched) RETURN_IF_ERROR(binop(kNone, j, sig, ts, *m.fill_lhs, rval));
    }
  }
  EvalValue result = out.Take();
  std::erase_if(result.matrix, [](const Series& s) { return s.points.empty(); });
  return result;
}

absl::StatusOr<EvalValue> VectorScalar(Evaluator& ev, const BinaryExpr& e, EvalValue vec,
                                       const EvalValue& scalar, bool scalar_on_left) {
  const auto& sp = scalar.matrix[0].points;
  const bool drop = IsArithmetic(e.op) || e.return_bool;
  EvalValue out;
  out.type = ValueType::kVector;
  for (auto& s : vec.matrix) {
    Series r;
    for (const auto& p : s.points) {
      const auto step = static_cast<size_t>((p.t - ev.start_ms()) / ev.interval_ms());
      double l = p.v, rv = sp[step].v;
      if (scalar_on_left) std::swap(l, rv);
      double value = 0;
      bool keep = Apply(e.op, l, rv, &value);
      // A comparison keeps the vector's value, whichever side it is on.
      if (IsComparison(e.op) && scalar_on_left) value = rv;
      if (e.return_bool) {
        value = keep ? 1.0 : 0.0;
        keep = true;
      }
      if (keep) r.points.push_back({p.t, value});
    }
    if (r.points.empty()) continue;
    r.labels = std::move(s.labels);
    r.drop_name = s.drop_name;
    if (drop) ev.DropName(&r.labels, &r.drop_name);
    out.matrix.push_back(std::move(r));
  }
  if (drop && !ev.delayed_name_removal()) RETURN_IF_ERROR(MergeSameLabels(&out.matrix));
  return out;
}

}  // namespace

absl::StatusOr<EvalValue> EvalBinary(Evaluator& ev, const BinaryExpr& e) {
  ASSIGN_OR_RETURN(EvalValue lhs, ev.Eval(*e.lhs));
  ASSIGN_OR_RETURN(EvalValue rhs, ev.Eval(*e.rhs));
  const bool ls = lhs.type == ValueType::kScalar, rs = rhs.type == ValueType::kScalar;
  if (ls && rs) {
    auto& lp = lhs.matrix[0].points;
    const auto& rp = rhs.matrix[0].points;
    for (size_t i = 0; i < lp.size(); ++i) {
      double value = 0;
      const bool keep = Apply(e.op, lp[i].v, rp[i].v, &value);
      lp[i].v = IsComparison(e.op) ? (keep ? 1.0 : 0.0) : value;
    }
    return lhs;
  }
  if (lhs.type != ValueType::kVector && !ls) {
    return absl::InvalidArgumentError("binary expression must contain only scalar and instant "
                                      "vector types");
  }
  if (rhs.type != ValueType::kVector && !rs) {
    return absl::InvalidArgumentError("binary expression must contain only scalar and instant "
                                      "vector types");
  }
  if (ls) return VectorScalar(ev, e, std::move(rhs), lhs, /*scalar_on_left=*/true);
  if (rs) return VectorScalar(ev, e, std::move(lhs), rhs, /*scalar_on_left=*/false);
  if (IsSetOp(e.op)) return SetOperation(ev, e, lhs, rhs);
  return VectorVector(ev, e, lhs, rhs);
}

}  // namespace kura::query
