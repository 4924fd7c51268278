#pragma once

// Labels: a series' identity, a set of name/value pairs sorted by name with unique names.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/functional/function_ref.h"
#include "absl/types/span.h"
#include "model/canonical_labels.h"

namespace kura::model {

inline constexpr std::string_view kMetricNameLabel = "__name__";

struct Label {
  std::string name;
  std::string value;

  friend bool operator==(const Label& a, const Label& b) {
    return a.name == b.name && a.value == b.value;
  }
};

// An immutable, sorted, duplicate-free list of labels. Copies share one immutable
// representation, so copying is a reference count, not the strings: ingest hands the same label
// set to every request that carries it. The canonical form and its hash are computed once per
// representation, on first use; a label set made from its canonical form (FromCanonical) parses
// its list on first use instead. Thread-safe for const use.
class Labels {
 public:
  Labels() = default;
  Labels(const Labels& other) noexcept : rep_(other.rep_) { Ref(rep_); }
  Labels(Labels&& other) noexcept : rep_(other.rep_) { other.rep_ = nullptr; }
  Labels& operator=(const Labels& other) noexcept {
    Ref(other.rep_);
    Unref(rep_);
    rep_ = other.rep_;
    return *this;
  }
  Labels& operator=(Labels&& other) noexcept {
    if (this != &other) {
      Unref(rep_);
      rep_ = other.rep_;
      other.rep_ = nullptr;
    }
    return *this;
  }
  ~Labels() { Unref(rep_); }
  // REQUIRES: `sorted` is sorted by name and names are unique (as remote write requires).
  static Labels FromSorted(std::vector<Label> sorted);
  // Sorts by name; for duplicate names the last one wins.
  static Labels FromUnsorted(std::vector<Label> labels);
  // The labels whose canonical form is `canonical`, which they share rather than copy. Their
  // list is parsed on first use of items() (or of what walks it); Get, Hash and the canonical
  // form read `canonical` as it is. For holders that mostly need the canonical form: ingest's
  // labels cache keeps one per series, and a write to a series storage already has reads only
  // the canonical form. REQUIRES: `canonical` is the canonical form of labels whose names and
  // values hold no 0xff byte (valid labels are UTF-8, which never holds it).
  static Labels FromCanonical(CanonicalLabels canonical);

  const std::vector<Label>& items() const {
    if (rep_ == nullptr) return kEmpty;
    return rep_->from_canonical ? ParsedRep().labels : rep_->labels;
  }
  size_t size() const { return items().size(); }
  // The empty set has no representation (see rep_).
  bool empty() const { return rep_ == nullptr; }
  std::vector<Label>::const_iterator begin() const { return items().begin(); }
  std::vector<Label>::const_iterator end() const { return items().end(); }

  // The value of label `name`, or "" when absent (Prometheus treats both the same).
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;

  // Returns a copy with `name` set to `value`; an empty value removes the label.
  Labels With(std::string_view name, std::string_view value) const;
  Labels Without(std::string_view name) const;
  // Keeps only / drops the given names (order of `names` is irrelevant).
  Labels Keep(absl::Span<const std::string> names) const;
  Labels Drop(absl::Span<const std::string> names) const;

  // Canonical byte form: name 0xff value 0xff ... Used as the key of the series index.
  std::string CanonicalBytes() const { return std::string(CanonicalView()); }
  // The same without a copy; valid as long as this Labels or a copy of it lives.
  std::string_view CanonicalView() const;
  // The same bytes and Hash(), shared with this Labels rather than copied.
  CanonicalLabels Canonical() const;
  // Parses CanonicalBytes() output; false on malformed input.
  static bool ParseCanonical(std::string_view bytes, Labels* out);
  // Calls `fn` with each name and value of CanonicalBytes() output, in order, without building
  // a label set; false (after the labels before it) on malformed input.
  static bool ForEachCanonical(
      std::string_view bytes,
      absl::FunctionRef<void(std::string_view name, std::string_view value)> fn);
  // The value of label `name` in CanonicalBytes() output, as Get: "" when it has none (or the
  // bytes are malformed). Spares building a label set to look at one label.
  static std::string_view GetCanonical(std::string_view bytes, std::string_view name);
  // 64-bit xxHash3 of CanonicalBytes(), for sharding and hash maps.
  uint64_t Hash() const;
  // The same hash of canonical bytes at hand: HashCanonical(l.CanonicalView()) == l.Hash().
  static uint64_t HashCanonical(std::string_view canonical);

  // Prometheus's text form: `name{a="b", c="d"}`, or `{a="b"}` without a metric name.
  std::string ToString() const;

  friend bool operator==(const Labels& a, const Labels& b) {
    return a.rep_ == b.rep_ || a.items() == b.items();
  }
  friend bool operator!=(const Labels& a, const Labels& b) { return !(a == b); }
  // Prometheus's labels.Compare: pairwise by name then value, a proper prefix first.
  friend bool operator<(const Labels& a, const Labels& b) { return Compare(a, b) < 0; }
  static int Compare(const Labels& a, const Labels& b);

  template <typename H>
  friend H AbslHashValue(H h, const Labels& labels) {
    return H::combine(std::move(h), labels.Hash());
  }

 private:
  // Reference-counted by hand rather than through shared_ptr: one pointer per Labels and one
  // allocation per set.
  struct Rep {
    mutable std::atomic<int64_t> refs{1};
    // Set at creation, except for a Rep made FromCanonical: then filled once, under
    // `labels_once`, by the first items().
    const bool from_canonical;
    mutable absl::once_flag labels_once;
    mutable std::vector<Label> labels;
    // Set at creation by FromCanonical; otherwise filled once, under `canonical_once`, by the
    // first CanonicalView(), Canonical() or Hash().
    mutable absl::once_flag canonical_once;
    mutable CanonicalLabels canonical;

    explicit Rep(bool from_canonical) : from_canonical(from_canonical) {}
  };

  static const std::vector<Label> kEmpty;

  // The representation with its canonical form, or its list, computed.
  const Rep& ComputedRep() const;
  const Rep& ParsedRep() const;
  // Appends the labels of CanonicalBytes() output to *out; false on malformed input.
  static bool ParseItems(std::string_view bytes, std::vector<Label>* out);
  static void Ref(const Rep* rep) {
    if (rep != nullptr) rep->refs.fetch_add(1, std::memory_order_relaxed);
  }
  static void Unref(const Rep* rep) {
    if (rep != nullptr && rep->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete rep;
  }

  // Null for the empty set, so that default-constructed and moved-from Labels cost nothing.
  const Rep* rep_ = nullptr;
};

}  // namespace kura::model
