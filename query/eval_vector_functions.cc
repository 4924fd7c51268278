#include "query/eval_vector_functions.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/utf8.h"
#include "query/eval_math.h"
#include "query/go_float.h"
#include "re2/re2.h"

namespace kura::query {
namespace {

bool ValidLabelName(std::string_view name) {
  // Prometheus 3.x accepts any non-empty UTF-8 label name.
  return !name.empty() && base::IsValidUtf8(name);
}

// NaN sorts first for sort(); sort_desc() reverses the comparison, putting NaN last.
absl::Status SortAsc(const VectorCall& c) {
  *c.out = *c.args[0].vector;
  std::stable_sort(c.out->begin(), c.out->end(), [](const Sample& a, const Sample& b) {
    if (std::isnan(a.v)) return !std::isnan(b.v);
    return a.v < b.v;
  });
  return absl::OkStatus();
}

absl::Status SortDesc(const VectorCall& c) {
  *c.out = *c.args[0].vector;
  std::stable_sort(c.out->begin(), c.out->end(), [](const Sample& a, const Sample& b) {
    if (std::isnan(b.v)) return !std::isnan(a.v);
    return a.v > b.v;
  });
  return absl::OkStatus();
}

// Natural order: digit runs compare as numbers, everything else byte-wise.
bool NatLess(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const bool da = std::isdigit(static_cast<unsigned char>(a[i]));
    const bool db = std::isdigit(static_cast<unsigned char>(b[j]));
    if (da && db) {
      size_t ie = i, je = j;
      while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
      while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
      std::string_view na = a.substr(i, ie - i), nb = b.substr(j, je - j);
      while (na.size() > 1 && na[0] == '0') na.remove_prefix(1);
      while (nb.size() > 1 && nb[0] == '0') nb.remove_prefix(1);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = ie;
      j = je;
      continue;
    }
    if (a[i] != b[j]) return a[i] < b[j];
    ++i;
    ++j;
  }
  return a.size() - i < b.size() - j;
}

absl::Status SortByLabelImpl(const VectorCall& c, bool desc) {
  std::vector<std::string_view> names;
  for (size_t i = 1; i < c.args.size(); ++i) names.push_back(c.args[i].str);
  *c.out = *c.args[0].vector;
  auto less = [&](const Sample& a, const Sample& b) {
    for (auto name : names) {
      const auto va = a.labels.Get(name), vb = b.labels.Get(name);
      if (va == vb) continue;
      return NatLess(va, vb);
    }
    return model::Labels::Compare(a.labels, b.labels) < 0;
  };
  std::stable_sort(c.out->begin(), c.out->end(), [&](const Sample& a, const Sample& b) {
    return desc ? less(b, a) : less(a, b);
  });
  return absl::OkStatus();
}
absl::Status SortByLabel(const VectorCall& c) { return SortByLabelImpl(c, false); }
absl::Status SortByLabelDesc(const VectorCall& c) { return SortByLabelImpl(c, true); }

// Go's regexp.Expand: $1, ${1}, $name, ${name}; `$$` is a literal `$`.
std::string ExpandTemplate(std::string_view tmpl, const RE2& re,
                           const std::vector<re2::StringPiece>& groups) {
  std::string out;
  const auto& named = re.NamedCapturingGroups();
  for (size_t i = 0; i < tmpl.size();) {
    if (tmpl[i] != '$' || i + 1 >= tmpl.size()) {
      out.push_back(tmpl[i++]);
      continue;
    }
    if (tmpl[i + 1] == '$') {
      out.push_back('$');
      i += 2;
      continue;
    }
    std::string_view name;
    size_t next = 0;
    if (tmpl[i + 1] == '{') {
      const size_t close = tmpl.find('}', i + 2);
      if (close == std::string_view::npos) {
        out.push_back(tmpl[i++]);
        continue;
      }
      name = tmpl.substr(i + 2, close - i - 2);
      next = close + 1;
    } else {
      size_t e = i + 1;
      while (e < tmpl.size() &&
             (std::isalnum(static_cast<unsigned char>(tmpl[e])) || tmpl[e] == '_')) {
        ++e;
      }
      name = tmpl.substr(i + 1, e - i - 1);
      next = e;
    }
    if (name.empty()) {
      out.push_back(tmpl[i++]);
      continue;
    }
    int index = -1;
    if (std::all_of(name.begin(), name.end(),
                    [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); })) {
      if (!absl::SimpleAtoi(Av(name), &index)) index = -1;
    } else if (auto it = named.find(std::string(name)); it != named.end()) {
      index = it->second;
    }
    if (index >= 0 && static_cast<size_t>(index) < groups.size() &&
        groups[static_cast<size_t>(index)].data() != nullptr) {
      out.append(groups[static_cast<size_t>(index)].data(),
                 groups[static_cast<size_t>(index)].size());
    }
    i = next;
  }
  return out;
}

absl::Status LabelReplace(const VectorCall& c) {
  const std::string_view dst = c.args[1].str, repl = c.args[2].str, src = c.args[3].str;
  const std::string_view regex = c.args[4].str;
  RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_dot_nl(true);
  RE2 re(absl::StrCat("^(?s:", Av(regex), ")$"), opts);
  if (!re.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("invalid regular expression in label_replace(): ", Av(regex)));
  }
  if (!ValidLabelName(dst)) {
    return absl::FailedPreconditionError(
        absl::StrCat("invalid destination label name in label_replace(): ", Av(dst)));
  }
  std::vector<re2::StringPiece> groups(static_cast<size_t>(re.NumberOfCapturingGroups()) + 1);
  for (Sample s : *c.args[0].vector) {
    const std::string_view value = s.labels.Get(src);
    if (re.Match(value, 0, value.size(), RE2::ANCHOR_BOTH, groups.data(),
                 static_cast<int>(groups.size()))) {
      s.labels = s.labels.With(dst, ExpandTemplate(repl, re, groups));
      if (dst == "__name__") s.drop_name = false;
    }
    c.out->push_back(std::move(s));
  }
  return absl::OkStatus();
}

absl::Status LabelJoin(const VectorCall& c) {
  const std::string_view dst = c.args[1].str, sep = c.args[2].str;
  if (!ValidLabelName(dst)) {
    return absl::FailedPreconditionError(
        absl::StrCat("invalid destination label name in label_join(): ", Av(dst)));
  }
  for (size_t i = 3; i < c.args.size(); ++i) {
    if (!ValidLabelName(c.args[i].str)) {
      return absl::FailedPreconditionError(
          absl::StrCat("invalid source label name in label_join(): ", Av(c.args[i].str)));
    }
  }
  for (Sample s : *c.args[0].vector) {
    std::vector<absl::string_view> values;
    for (size_t i = 3; i < c.args.size(); ++i) values.push_back(Av(s.labels.Get(c.args[i].str)));
    s.labels = s.labels.With(dst, absl::StrJoin(values, Av(sep)));
    if (dst == "__name__") s.drop_name = false;
    c.out->push_back(std::move(s));
  }
  return absl::OkStatus();
}

absl::Status VectorFn(const VectorCall& c) {
  c.out->push_back({model::Labels(), c.ts, c.args[0].scalar, false});
  return absl::OkStatus();
}

absl::Status Absent(const VectorCall& c) {
  if (!c.args[0].vector->empty()) return absl::OkStatus();
  c.out->push_back({AbsentLabels(*c.call->args[0]), c.ts, 1, false});
  return absl::OkStatus();
}

struct Bucket {
  double upper_bound;
  double count;
};

bool AlmostEqual(double a, double b, double epsilon) {
  constexpr double kMinNormal = 2.2250738585072014e-308;
  if (std::isnan(a) && std::isnan(b)) return true;
  if (a == b) return true;
  const double abs_sum = std::fabs(a) + std::fabs(b);
  const double diff = std::fabs(a - b);
  if (a == 0 || b == 0 || abs_sum < kMinNormal) return diff < epsilon * kMinNormal;
  return diff / std::min(abs_sum, 1.7976931348623157e308) < epsilon;
}

// Prometheus's BucketQuantile over classic `le` buckets. Sets *forced when the counts had to
// be made monotonic.
// Sorts by bound, merges equal bounds and makes the counts monotonic. False when the buckets
// lack a +Inf bucket.
bool NormalizeBuckets(std::vector<Bucket>* buckets, bool* forced) {
  auto& b = *buckets;
  std::stable_sort(b.begin(), b.end(),
                   [](const Bucket& x, const Bucket& y) { return x.upper_bound < y.upper_bound; });
  if (!std::isinf(b.back().upper_bound) || b.back().upper_bound < 0) return false;
  // Coalesce equal bounds.
  size_t n = 0;
  for (size_t i = 1; i < b.size(); ++i) {
    if (b[i].upper_bound == b[n].upper_bound) {
      b[n].count += b[i].count;
    } else {
      b[++n] = b[i];
    }
  }
  b.resize(n + 1);
  double prev = b[0].count;
  for (size_t i = 1; i < b.size(); ++i) {
    const double cur = b[i].count;
    if (cur == prev) continue;
    if (AlmostEqual(prev, cur, 1e-12)) {
      b[i].count = prev;
      continue;
    }
    if (cur < prev) {
      b[i].count = prev;
      *forced = true;
      continue;
    }
    prev = cur;
  }
  return true;
}

double BucketQuantile(double q, std::vector<Bucket>* buckets, bool* forced) {
  if (std::isnan(q)) return std::nan("");
  if (q < 0) return -INFINITY;
  if (q > 1) return INFINITY;
  if (!NormalizeBuckets(buckets, forced)) return std::nan("");
  const auto& b = *buckets;
  if (b.size() < 2) return std::nan("");
  const double observations = b.back().count;
  if (observations == 0) return std::nan("");
  double rank = q * observations;
  size_t idx = 0;
  while (idx < b.size() - 1 && !(b[idx].count >= rank)) ++idx;
  if (idx == b.size() - 1) return b[b.size() - 2].upper_bound;
  if (idx == 0 && b[0].upper_bound <= 0) return b[0].upper_bound;
  double start = 0;
  const double end = b[idx].upper_bound;
  double count = b[idx].count;
  if (idx > 0) {
    start = b[idx - 1].upper_bound;
    count -= b[idx - 1].count;
    rank -= b[idx - 1].count;
  }
  return start + (end - start) * (rank / count);
}

// The fraction of observations in [lower, upper], interpolating linearly inside a bucket; an
// infinitely wide bucket holds its observations at its finite end.
double BucketFraction(double lower, double upper, std::vector<Bucket>* buckets, bool* forced) {
  if (!NormalizeBuckets(buckets, forced)) return std::nan("");
  const auto& b = *buckets;
  const double count = b.back().count;
  if (count == 0 || std::isnan(lower) || std::isnan(upper)) return std::nan("");
  if (lower >= upper) return 0;
  double rank = 0, lower_rank = 0, upper_rank = 0;
  bool lower_set = false, upper_set = false;
  for (size_t i = 0; i < b.size(); ++i) {
    double lower_bound = -INFINITY;
    if (i > 0) {
      lower_bound = b[i - 1].upper_bound;
    } else if (b[i].upper_bound > 0) {
      lower_bound = 0;
    }
    const double upper_bound = b[i].upper_bound;
    auto interpolate = [&](double v) {
      if (std::isinf(lower_bound)) return b[i].count;
      if (std::isinf(upper_bound)) return rank;
      return rank + (b[i].count - rank) * (v - lower_bound) / (upper_bound - lower_bound);
    };
    if (!lower_set && lower_bound >= lower) {
      lower_rank = rank;
      lower_set = true;
    }
    if (!upper_set && lower_bound >= upper) {
      upper_rank = rank;
      upper_set = true;
    }
    if (lower_set && upper_set) break;
    if (!lower_set && lower_bound < lower && upper_bound > lower) {
      lower_rank = interpolate(lower);
      lower_set = true;
    }
    if (!upper_set && lower_bound < upper && upper_bound > upper) {
      upper_rank = interpolate(upper);
      upper_set = true;
    }
    if (lower_set && upper_set) break;
    rank = b[i].count;
  }
  if (!lower_set || lower_rank > count) lower_rank = count;
  if (!upper_set || upper_rank > count) upper_rank = count;
  return (upper_rank - lower_rank) / count;
}

bool ParseGoFloat(std::string_view s, double* out) {
  if (s.empty()) return false;
  std::string lower(s);
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  std::string_view body = lower;
  bool neg = false;
  if (body[0] == '+' || body[0] == '-') {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == "inf" || body == "infinity") {
    *out = neg ? -INFINITY : INFINITY;
    return true;
  }
  if (body == "nan") {
    *out = std::nan("");
    return true;
  }
  return absl::SimpleAtod(Av(s), out) && s.find_first_of(" \t") == std::string_view::npos;
}

struct BucketGroup {
  model::Labels labels;  // without `le`
  std::vector<Bucket> buckets;
};

// Groups the classic `le` buckets of `input` by their other labels, in first-seen order.
std::vector<BucketGroup> GroupBuckets(const Vector& input, Annotations* annos) {
  std::vector<BucketGroup> groups;
  absl::flat_hash_map<model::Labels, size_t> index;
  for (const Sample& s : input) {
    double upper = 0;
    const std::string_view le = s.labels.Get("le");
    if (!ParseGoFloat(le, &upper)) {
      annos->Warn(absl::StrCat("PromQL warning: bucket label \"le\" is missing or has a ",
                               "malformed value of \"", Av(le), "\" for metric name \"",
                               Av(s.labels.Get("__name__")), "\""));
      continue;
    }
    model::Labels key = s.labels.Without("le");
    auto [it, inserted] = index.try_emplace(key, groups.size());
    if (inserted) groups.push_back(BucketGroup{std::move(key), {}});
    groups[it->second].buckets.push_back({upper, s.v});
  }
  return groups;
}

void WarnBadQuantile(double q, Annotations* annos) {
  if (std::isnan(q) || q < 0 || q > 1) {
    annos->Warn(absl::StrCat("PromQL warning: quantile value should be between 0 and 1, got ",
                             FormatGoG(q)));
  }
}

void EmitQuantile(const VectorCall& c, double q, BucketGroup g, const std::string* label,
                  const std::string& label_value) {
  bool forced = false;
  const double v = BucketQuantile(q, &g.buckets, &forced);
  if (forced) {
    c.ev->ctx().annotations.Info(absl::StrCat(
        "PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see "
        "https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) "
        "for metric name \"",
        Av(g.labels.Get("__name__")), "\""));
  }
  Sample out{std::move(g.labels), c.ts, v, false};
  if (label != nullptr) out.labels = out.labels.With(*label, label_value);
  c.ev->DropName(&out.labels, &out.drop_name);
  c.out->push_back(std::move(out));
}

absl::Status HistogramQuantile(const VectorCall& c) {
  const double q = c.args[0].scalar;
  Annotations& annos = c.ev->ctx().annotations;
  WarnBadQuantile(q, &annos);
  for (auto& g : GroupBuckets(*c.args[1].vector, &annos)) {
    EmitQuantile(c, q, std::move(g), nullptr, "");
  }
  return absl::OkStatus();
}

// A float as a label value the way Prometheus writes bucket bounds: integers get ".0".
std::string BoundLabelValue(double v) {
  std::string s = FormatGoFloat(v);
  if (s.find_first_of(".eIN") == std::string::npos) s += ".0";
  return s;
}

absl::Status HistogramQuantiles(const VectorCall& c) {
  Annotations& annos = c.ev->ctx().annotations;
  const std::string label(c.args[1].str);
  const std::vector<BucketGroup> groups = GroupBuckets(*c.args[0].vector, &annos);
  for (size_t i = 2; i < c.args.size(); ++i) {
    const double q = c.args[i].scalar;
    WarnBadQuantile(q, &annos);
    for (const auto& g : groups) EmitQuantile(c, q, g, &label, BoundLabelValue(q));
  }
  return absl::OkStatus();
}

absl::Status HistogramFraction(const VectorCall& c) {
  for (auto& g : GroupBuckets(*c.args[2].vector, &c.ev->ctx().annotations)) {
    bool forced = false;
    const double v = BucketFraction(c.args[0].scalar, c.args[1].scalar, &g.buckets, &forced);
    Sample out{std::move(g.labels), c.ts, v, false};
    c.ev->DropName(&out.labels, &out.drop_name);
    c.out->push_back(std::move(out));
  }
  return absl::OkStatus();
}

}  // namespace

model::Labels AbsentLabels(const Expr& arg) {
  const Expr& e = UnwrapParens(arg);
  const VectorSelector* vs = std::get_if<VectorSelector>(&e.node);
  if (const auto* ms = std::get_if<MatrixSelector>(&e.node)) {
    vs = std::get_if<VectorSelector>(&UnwrapParens(*ms->selector).node);
  }
  if (vs == nullptr) return {};
  model::Labels out;
  std::vector<std::string> has;
  for (const auto& m : vs->matchers) {
    if (m.name() == "__name__") continue;
    const bool seen = std::find(has.begin(), has.end(), m.name()) != has.end();
    if (m.type() == model::MatchType::kEqual && !seen) {
      out = out.With(m.name(), m.value());
      has.push_back(m.name());
    } else {
      out = out.Without(m.name());
    }
  }
  return out;
}

VectorFunction FindVectorFunction(std::string_view name) {
  static const auto* const kTable = new absl::flat_hash_map<std::string_view, VectorFunction>{
      {"sort", SortAsc},
      {"sort_desc", SortDesc},
      {"sort_by_label", SortByLabel},
      {"sort_by_label_desc", SortByLabelDesc},
      {"label_replace", LabelReplace},
      {"label_join", LabelJoin},
      {"vector", VectorFn},
      {"absent", Absent},
      {"histogram_quantile", HistogramQuantile},
      {"histogram_fraction", HistogramFraction},
      {"histogram_quantiles", HistogramQuantiles},
  };
  auto it = kTable->find(name);
  return it == kTable->end() ? nullptr : it->second;
}

}  // namespace kura::query
