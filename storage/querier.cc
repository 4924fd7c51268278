#include "storage/querier.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/container/btree_set.h"
#include "absl/functional/function_ref.h"
#include "base/status_macros.h"
#include "rocksdb/db.h"
#include "storage/keys.h"
#include "storage/rocksdb_status.h"

namespace kura::storage {
namespace {

// Past every posting key that starts with `prefix` followed by a value and a ref (neither of
// which can be nine 0xff bytes long).
std::string PastPrefix(std::string prefix) {
  prefix.append(10, kSeparator);
  return prefix;
}

// Appends the refs of the keys starting with `pair_prefix`, from the iterator's position on.
// Leaves the iterator on the first key past them.
absl::Status CollectRefs(rocksdb::Iterator* it, std::string_view pair_prefix, PostingsList* out) {
  for (; it->Valid() && it->key().starts_with(rocksdb::Slice(pair_prefix)); it->Next()) {
    const std::string_view key = it->key().ToStringView();
    if (key.size() != pair_prefix.size() + 8) return absl::DataLossError("malformed posting key");
    out->push_back(DecodeUint64BE(key.substr(pair_prefix.size())));
  }
  return FromRocksDB(it->status(), "reading postings");
}

absl::StatusOr<PostingsList> ReadPairRefs(rocksdb::Iterator* it, const std::string& pair_prefix) {
  PostingsList refs;
  it->Seek(pair_prefix);
  RETURN_IF_ERROR(CollectRefs(it, pair_prefix, &refs));
  return refs;
}

// Visits each distinct value of label `name` in `partition`. Refs are read only for values
// that `want` accepts; `fn` gets them.
absl::Status ForEachValue(rocksdb::Iterator* it, int64_t partition, std::string_view name,
                          absl::FunctionRef<bool(std::string_view value)> want,
                          absl::FunctionRef<void(PostingsList refs)> fn) {
  const std::string prefix = LabelNamePrefix(partition, name);
  it->Seek(prefix);
  while (it->Valid() && it->key().starts_with(prefix)) {
    const std::string_view key = it->key().ToStringView();
    if (key.size() < prefix.size() + 9) return absl::DataLossError("malformed posting key");
    const std::string value(key.substr(prefix.size(), key.size() - prefix.size() - 9));
    const std::string pair_prefix = LabelPairPrefix(partition, name, value);
    if (want(value)) {
      PostingsList refs;
      RETURN_IF_ERROR(CollectRefs(it, pair_prefix, &refs));
      fn(std::move(refs));
    } else {
      it->Seek(PastPrefix(pair_prefix));
    }
  }
  return FromRocksDB(it->status(), "reading label values");
}

// The intersection and union of postings lists, each list once.
PostingsList Intersect(const std::vector<PostingsList>& lists) {
  std::vector<const PostingsList*> pointers;
  for (const PostingsList& list : lists) pointers.push_back(&list);
  std::sort(pointers.begin(), pointers.end(),
            [](const PostingsList* a, const PostingsList* b) { return a->size() < b->size(); });
  return IntersectPostings(std::move(pointers));
}
PostingsList Union(const std::vector<PostingsList>& lists) {
  if (lists.size() == 1) return lists[0];
  std::vector<const PostingsList*> pointers;
  for (const PostingsList& list : lists) pointers.push_back(&list);
  return UnionPostings(std::move(pointers));
}

std::vector<std::string> ToVector(absl::btree_set<std::string> set) {
  return std::vector<std::string>(std::make_move_iterator(set.begin()),
                                  std::make_move_iterator(set.end()));
}

}  // namespace

absl::StatusOr<std::vector<int64_t>> Querier::Partitions(int64_t min_time_ms,
                                                         int64_t max_time_ms) const {
  std::vector<int64_t> partitions;
  if (min_time_ms > max_time_ms) return partitions;
  const int64_t last = PartitionOf(max_time_ms, partition_length_ms_);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), postings_));
  it->Seek(PartitionPrefix(PartitionOf(min_time_ms, partition_length_ms_)));
  while (it->Valid()) {
    if (it->key().size() < 8) return absl::DataLossError("malformed posting key");
    const int64_t partition = DecodeInt64BE(it->key().ToStringView());
    if (partition > last) break;
    partitions.push_back(partition);
    if (partition == INT64_MAX) break;
    it->Seek(PartitionPrefix(partition + 1));
  }
  RETURN_IF_ERROR(FromRocksDB(it->status(), "listing partitions"));
  return partitions;
}

absl::StatusOr<PostingsList> Querier::MatcherPostings(rocksdb::Iterator* it, int64_t partition,
                                                      const model::LabelMatcher& matcher) const {
  if (matcher.type() == model::MatchType::kEqual && !matcher.value().empty()) {
    return ReadPairRefs(it, LabelPairPrefix(partition, matcher.name(), matcher.value()));
  }
  // Series without the label have the value "". When "" matches, the result is every series
  // minus those whose value does not match; otherwise the union of those whose value matches.
  const bool matches_empty = matcher.MatchesEmpty();
  std::vector<PostingsList> lists;
  RETURN_IF_ERROR(ForEachValue(
      it, partition, matcher.name(),
      [&](std::string_view value) { return matcher.Matches(value) != matches_empty; },
      [&](PostingsList refs) { lists.push_back(std::move(refs)); }));
  std::vector<const PostingsList*> pointers;
  for (const PostingsList& list : lists) pointers.push_back(&list);
  PostingsList selected = UnionPostings(std::move(pointers));
  if (!matches_empty) return selected;
  ASSIGN_OR_RETURN(PostingsList all, ReadPairRefs(it, LabelPairPrefix(partition, "", "")));
  return SubtractPostings(all, selected);
}

absl::StatusOr<PostingsList> Querier::PartitionRefs(
    rocksdb::Iterator* it, int64_t partition,
    absl::Span<const model::LabelMatcher* const> matchers) const {
  if (matchers.empty()) return ReadPairRefs(it, LabelPairPrefix(partition, "", ""));
  std::vector<PostingsList> lists;
  for (const model::LabelMatcher* matcher : matchers) {
    ASSIGN_OR_RETURN(PostingsList list, MatcherPostings(it, partition, *matcher));
    if (list.empty()) return PostingsList();
    lists.push_back(std::move(list));
  }
  return Intersect(lists);
}

absl::StatusOr<PostingsList> Querier::SelectRefs(absl::Span<const model::LabelMatcher> matchers,
                                                 absl::Span<const int64_t> partitions) const {
  // An exact matcher is the cheapest to resolve, one posting key per series; the metric name's
  // usually leaves the fewest series, so it goes first. Every posting read is a RocksDB step,
  // so the others are resolved through the postings only when that leaves many series.
  std::vector<const model::LabelMatcher*> exact, rest;
  for (const model::LabelMatcher& m : matchers) {
    const bool is_exact = m.type() == model::MatchType::kEqual && !m.value().empty();
    (is_exact ? exact : rest).push_back(&m);
  }
  std::stable_partition(exact.begin(), exact.end(), [](const model::LabelMatcher* m) {
    return m->name() == model::kMetricNameLabel;
  });
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), postings_));
  if (exact.empty()) {
    std::vector<PostingsList> lists;
    for (int64_t partition : partitions) {
      ASSIGN_OR_RETURN(PostingsList refs, PartitionRefs(it.get(), partition, rest));
      lists.push_back(std::move(refs));
    }
    return Union(lists);
  }
  rest.insert(rest.begin(), exact.begin() + 1, exact.end());
  std::vector<PostingsList> first_refs;
  for (int64_t partition : partitions) {
    ASSIGN_OR_RETURN(PostingsList refs, PartitionRefs(it.get(), partition, {exact[0]}));
    first_refs.push_back(std::move(refs));
  }
  PostingsList candidates = Union(first_refs);
  if (rest.empty()) return candidates;
  if (candidates.size() <= kMaxRefsMatchedOnLabels) {
    // Reading the other matchers' postings would take a step per series of each value they
    // accept (every series of an instance, say), and more for a regex; the few candidates'
    // own labels tell the same.
    return MatchOnLabels(std::move(candidates), rest);
  }
  std::vector<PostingsList> lists;
  for (size_t i = 0; i < partitions.size(); ++i) {
    if (first_refs[i].empty()) continue;
    ASSIGN_OR_RETURN(PostingsList refs, PartitionRefs(it.get(), partitions[i], rest));
    lists.push_back(Intersect({std::move(first_refs[i]), std::move(refs)}));
  }
  return Union(lists);
}

absl::StatusOr<PostingsList> Querier::MatchOnLabels(
    PostingsList refs, absl::Span<const model::LabelMatcher* const> matchers) const {
  ASSIGN_OR_RETURN(std::vector<model::CanonicalLabels> labels, labels_of_(refs));
  size_t kept = 0;
  for (size_t i = 0; i < refs.size(); ++i) {
    // A label the series lacks has the value "", as for the postings.
    const bool match =
        std::all_of(matchers.begin(), matchers.end(), [&](const model::LabelMatcher* m) {
          return m->Matches(model::Labels::GetCanonical(labels[i].bytes(), m->name()));
        });
    if (match) refs[kept++] = refs[i];
  }
  refs.resize(kept);
  return refs;
}

absl::StatusOr<std::vector<std::string>> Querier::LabelNames(
    absl::Span<const model::LabelMatcher> matchers, absl::Span<const int64_t> partitions) const {
  absl::btree_set<std::string> names;
  if (!matchers.empty()) {
    ASSIGN_OR_RETURN(PostingsList refs, SelectRefs(matchers, partitions));
    ASSIGN_OR_RETURN(std::vector<model::CanonicalLabels> canonical, labels_of_(refs));
    for (const model::CanonicalLabels& c : canonical) {
      model::Labels l;
      if (!model::Labels::ParseCanonical(c.bytes(), &l)) {
        return absl::DataLossError("malformed labels in the series index");
      }
      for (const model::Label& label : l) names.insert(label.name);
    }
    return ToVector(std::move(names));
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), postings_));
  for (int64_t partition : partitions) {
    const std::string prefix = PartitionPrefix(partition);
    it->Seek(prefix);
    while (it->Valid() && it->key().starts_with(prefix)) {
      PostingKeyParts parts;
      if (!ParsePostingKey(it->key().ToStringView(), &parts)) {
        return absl::DataLossError("malformed posting key");
      }
      const std::string name(parts.name);
      if (!name.empty()) names.insert(name);
      it->Seek(PastPrefix(LabelNamePrefix(partition, name)));
    }
    RETURN_IF_ERROR(FromRocksDB(it->status(), "reading label names"));
  }
  return ToVector(std::move(names));
}

absl::StatusOr<std::vector<std::string>> Querier::LabelValues(
    std::string_view name, absl::Span<const model::LabelMatcher> matchers,
    absl::Span<const int64_t> partitions) const {
  absl::btree_set<std::string> values;
  if (!matchers.empty()) {
    ASSIGN_OR_RETURN(PostingsList refs, SelectRefs(matchers, partitions));
    ASSIGN_OR_RETURN(std::vector<model::CanonicalLabels> labels, labels_of_(refs));
    for (const model::CanonicalLabels& l : labels) {
      const std::string_view value = model::Labels::GetCanonical(l.bytes(), name);
      if (!value.empty()) values.emplace(value);
    }
    return ToVector(std::move(values));
  }
  if (name.empty()) return std::vector<std::string>();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), postings_));
  for (int64_t partition : partitions) {
    RETURN_IF_ERROR(ForEachValue(
        it.get(), partition, name,
        [&](std::string_view value) {
          if (!value.empty()) values.emplace(value);
          return false;
        },
        [](PostingsList) {}));
  }
  return ToVector(std::move(values));
}

}  // namespace kura::storage
