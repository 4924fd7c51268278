#pragma once

// Labels: a series' identity, a set of name/value pairs sorted by name with unique names.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"

namespace kura::model {

inline constexpr std::string_view kMetricNameLabel = "__name__";

struct Label {
  std::string name;
  std::string value;

  friend bool operator==(const Label& a, const Label& b) {
    return a.name == b.name && a.value == b.value;
  }
};

// An immutable-by-convention, sorted, duplicate-free list of labels. Cheap to move; copying
// copies the strings. Thread-compatible.
class Labels {
 public:
  Labels() = default;
  // REQUIRES: `sorted` is sorted by name and names are unique (as remote write requires).
  static Labels FromSorted(std::vector<Label> sorted);
  // Sorts by name; for duplicate names the last one wins.
  static Labels FromUnsorted(std::vector<Label> labels);

  const std::vector<Label>& items() const { return labels_; }
  size_t size() const { return labels_.size(); }
  bool empty() const { return labels_.empty(); }
  std::vector<Label>::const_iterator begin() const { return labels_.begin(); }
  std::vector<Label>::const_iterator end() const { return labels_.end(); }

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
  std::string CanonicalBytes() const;
  // Parses CanonicalBytes() output; false on malformed input.
  static bool ParseCanonical(std::string_view bytes, Labels* out);
  // 64-bit xxHash3 of CanonicalBytes(), for sharding and hash maps.
  uint64_t Hash() const;

  // Prometheus's text form: `name{a="b", c="d"}`, or `{a="b"}` without a metric name.
  std::string ToString() const;

  friend bool operator==(const Labels& a, const Labels& b) { return a.labels_ == b.labels_; }
  friend bool operator!=(const Labels& a, const Labels& b) { return !(a == b); }
  // Prometheus's labels.Compare: pairwise by name then value, a proper prefix first.
  friend bool operator<(const Labels& a, const Labels& b) { return Compare(a, b) < 0; }
  static int Compare(const Labels& a, const Labels& b);

  template <typename H>
  friend H AbslHashValue(H h, const Labels& labels) {
    return H::combine(std::move(h), labels.Hash());
  }

 private:
  std::vector<Label> labels_;
};

}  // namespace kura::model
