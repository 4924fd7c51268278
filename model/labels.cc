#include "model/labels.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "xxhash.h"

namespace kura::model {
namespace {

constexpr char kSep = '\xff';

// Go's strconv.Quote for the characters label values can hold: escapes quotes, backslashes and
// control characters; UTF-8 passes through.
void AppendQuoted(std::string* out, std::string_view s) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\t': out->append("\\t"); break;
      case '\r': out->append("\\r"); break;
      default:
        if (c < 0x20 || c == 0x7f) {
          absl::StrAppend(out, "\\x", absl::Hex(c, absl::kZeroPad2));
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

}  // namespace

const std::vector<Label> Labels::kEmpty;

Labels Labels::FromSorted(std::vector<Label> sorted) {
  Labels l;
  if (sorted.empty()) return l;
  auto* rep = new Rep(/*from_canonical=*/false);
  rep->labels = std::move(sorted);
  l.rep_ = rep;
  return l;
}

Labels Labels::FromCanonical(CanonicalLabels canonical) {
  Labels l;
  if (canonical.bytes().empty()) return l;
  auto* rep = new Rep(/*from_canonical=*/true);
  rep->canonical = std::move(canonical);
  l.rep_ = rep;
  return l;
}

Labels Labels::FromUnsorted(std::vector<Label> labels) {
  std::stable_sort(labels.begin(), labels.end(),
                   [](const Label& a, const Label& b) { return a.name < b.name; });
  std::vector<Label> out;
  out.reserve(labels.size());
  for (auto& l : labels) {
    if (!out.empty() && out.back().name == l.name) {
      out.back() = std::move(l);
    } else {
      out.push_back(std::move(l));
    }
  }
  return FromSorted(std::move(out));
}

std::string_view Labels::Get(std::string_view name) const {
  if (rep_ != nullptr && rep_->from_canonical) return GetCanonical(rep_->canonical.bytes(), name);
  for (const auto& l : items()) {
    if (l.name == name) return l.value;
  }
  return {};
}

bool Labels::Has(std::string_view name) const {
  return std::any_of(items().begin(), items().end(),
                     [&](const Label& l) { return l.name == name; });
}

Labels Labels::With(std::string_view name, std::string_view value) const {
  std::vector<Label> out;
  out.reserve(items().size() + 1);
  bool placed = false;
  for (const auto& l : items()) {
    if (!placed && l.name >= name) {
      placed = true;
      if (!value.empty()) out.push_back({std::string(name), std::string(value)});
      if (l.name == name) continue;
    }
    out.push_back(l);
  }
  if (!placed && !value.empty()) out.push_back({std::string(name), std::string(value)});
  return FromSorted(std::move(out));
}

Labels Labels::Without(std::string_view name) const { return With(name, ""); }

Labels Labels::Keep(absl::Span<const std::string> names) const {
  std::vector<Label> out;
  for (const auto& l : items()) {
    if (std::find(names.begin(), names.end(), l.name) != names.end()) out.push_back(l);
  }
  return FromSorted(std::move(out));
}

Labels Labels::Drop(absl::Span<const std::string> names) const {
  std::vector<Label> out;
  for (const auto& l : items()) {
    if (std::find(names.begin(), names.end(), l.name) == names.end()) out.push_back(l);
  }
  return FromSorted(std::move(out));
}

const Labels::Rep& Labels::ComputedRep() const {
  if (rep_->from_canonical) return *rep_;
  absl::call_once(rep_->canonical_once, [rep = rep_] {
    size_t n = 0;
    for (const auto& l : rep->labels) n += l.name.size() + l.value.size() + 2;
    char* data = nullptr;
    CanonicalLabels canonical = CanonicalLabels::Allocate(n, &data);
    char* p = data;
    for (const auto& l : rep->labels) {
      p = std::copy(l.name.begin(), l.name.end(), p);
      *p++ = kSep;
      p = std::copy(l.value.begin(), l.value.end(), p);
      *p++ = kSep;
    }
    canonical.SetHash(HashCanonical(std::string_view(data, n)));
    rep->canonical = std::move(canonical);
  });
  return *rep_;
}

std::string_view Labels::CanonicalView() const {
  if (rep_ == nullptr) return {};
  return ComputedRep().canonical.bytes();
}

CanonicalLabels Labels::Canonical() const {
  if (rep_ == nullptr) return {};
  return ComputedRep().canonical;
}

const Labels::Rep& Labels::ParsedRep() const {
  absl::call_once(rep_->labels_once, [rep = rep_] {
    // Well-formed, as FromCanonical requires: the result needs no check.
    ParseItems(rep->canonical.bytes(), &rep->labels);
  });
  return *rep_;
}

bool Labels::ForEachCanonical(
    std::string_view bytes,
    absl::FunctionRef<void(std::string_view name, std::string_view value)> fn) {
  while (!bytes.empty()) {
    const size_t a = bytes.find(kSep);
    if (a == std::string_view::npos) return false;
    const size_t b = bytes.find(kSep, a + 1);
    if (b == std::string_view::npos) return false;
    fn(bytes.substr(0, a), bytes.substr(a + 1, b - a - 1));
    bytes.remove_prefix(b + 1);
  }
  return true;
}

bool Labels::ParseItems(std::string_view bytes, std::vector<Label>* out) {
  // Two separators per label: one allocation instead of one per doubling. Every query parses
  // the labels of each series it selects.
  out->reserve(static_cast<size_t>(std::count(bytes.begin(), bytes.end(), kSep)) / 2);
  return ForEachCanonical(bytes, [out](std::string_view name, std::string_view value) {
    out->push_back({std::string(name), std::string(value)});
  });
}

bool Labels::ParseCanonical(std::string_view bytes, Labels* out) {
  std::vector<Label> labels;
  if (!ParseItems(bytes, &labels)) return false;
  *out = FromSorted(std::move(labels));
  return true;
}

std::string_view Labels::GetCanonical(std::string_view bytes, std::string_view name) {
  while (!bytes.empty()) {
    const size_t a = bytes.find(kSep);
    if (a == std::string_view::npos) return {};
    const size_t b = bytes.find(kSep, a + 1);
    if (b == std::string_view::npos) return {};
    if (bytes.substr(0, a) == name) return bytes.substr(a + 1, b - a - 1);
    bytes.remove_prefix(b + 1);
  }
  return {};
}

uint64_t Labels::HashCanonical(std::string_view canonical) {
  return XXH3_64bits(canonical.data(), canonical.size());
}

uint64_t Labels::Hash() const {
  if (rep_ == nullptr) return XXH3_64bits(nullptr, 0);
  return ComputedRep().canonical.hash();
}

std::string Labels::ToString() const {
  std::string out;
  std::string_view name = Get(kMetricNameLabel);
  out.append(name);
  bool first = true;
  out.push_back('{');
  for (const auto& l : items()) {
    if (l.name == kMetricNameLabel) continue;
    if (!first) out.append(", ");
    first = false;
    out.append(l.name);
    out.push_back('=');
    AppendQuoted(&out, l.value);
  }
  out.push_back('}');
  if (!name.empty() && first) out.resize(out.size() - 2);
  return out;
}

int Labels::Compare(const Labels& a, const Labels& b) {
  size_t n = std::min(a.items().size(), b.items().size());
  for (size_t i = 0; i < n; ++i) {
    const Label& x = a.items()[i];
    const Label& y = b.items()[i];
    if (int c = x.name.compare(y.name); c != 0) return c < 0 ? -1 : 1;
    if (int c = x.value.compare(y.value); c != 0) return c < 0 ? -1 : 1;
  }
  if (a.items().size() == b.items().size()) return 0;
  return a.items().size() < b.items().size() ? -1 : 1;
}

}  // namespace kura::model
