#include "storage/postings.h"

#include <algorithm>
#include <cstddef>
#include <utility>

namespace kura::storage {
namespace {

// Above this size ratio a merge step costs more than a search per element of the small list.
constexpr size_t kGallopRatio = 16;

// Returns the first position in [begin, end) whose ref is >= target, probing 1, 2, 4, ...
// elements ahead before a binary search, so nearby targets cost O(log distance).
PostingsList::const_iterator Gallop(PostingsList::const_iterator begin,
                                    PostingsList::const_iterator end, uint64_t target) {
  size_t step = 1;
  auto lo = begin;
  while (true) {
    const size_t left = static_cast<size_t>(end - lo);
    if (step >= left) return std::lower_bound(lo, end, target);
    auto probe = lo + static_cast<ptrdiff_t>(step);
    if (*probe >= target) return std::lower_bound(lo, probe + 1, target);
    lo = probe + 1;
    step *= 2;
  }
}

// Keeps the refs of *small that are in `large`. REQUIRES: small->size() <= large.size().
void IntersectInto(PostingsList* small, const PostingsList& large) {
  auto out = small->begin();
  auto it = large.cbegin();
  const bool gallop = small->size() * kGallopRatio < large.size();
  for (uint64_t ref : *small) {
    if (gallop) {
      it = Gallop(it, large.cend(), ref);
    } else {
      while (it != large.cend() && *it < ref) ++it;
    }
    if (it == large.cend()) break;
    if (*it == ref) *out++ = ref;
  }
  small->erase(out, small->end());
}

void MergeUnion(const PostingsList& a, const PostingsList& b, PostingsList* out) {
  out->clear();
  out->reserve(a.size() + b.size());
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(*out));
}

bool GetUvarint(std::string_view* in, uint64_t* value) {
  uint64_t result = 0;
  for (int shift = 0; shift < 70 && !in->empty(); shift += 7) {
    const auto byte = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    if (shift == 63 && byte > 1) return false;
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *value = result;
      return true;
    }
  }
  return false;
}

void PutUvarint(std::string* dst, uint64_t value) {
  while (value >= 0x80) {
    dst->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  dst->push_back(static_cast<char>(value));
}

}  // namespace

PostingsList IntersectPostings(std::vector<const PostingsList*> lists) {
  if (lists.empty()) return {};
  for (const PostingsList* list : lists) {
    if (list == nullptr || list->empty()) return {};
  }
  std::sort(lists.begin(), lists.end(),
            [](const PostingsList* a, const PostingsList* b) { return a->size() < b->size(); });
  PostingsList result = *lists[0];
  for (size_t i = 1; i < lists.size() && !result.empty(); ++i) IntersectInto(&result, *lists[i]);
  return result;
}

PostingsList UnionPostings(std::vector<const PostingsList*> lists) {
  std::erase_if(lists, [](const PostingsList* l) { return l == nullptr || l->empty(); });
  if (lists.empty()) return {};
  if (lists.size() == 1) return *lists[0];
  // Rounds of pairwise merges: each ref is copied log2(k) times, by sequential merges that beat
  // a heap's per-ref branching.
  std::vector<PostingsList> merged((lists.size() + 1) / 2);
  for (size_t i = 0; i < merged.size(); ++i) {
    if (2 * i + 1 < lists.size()) {
      MergeUnion(*lists[2 * i], *lists[2 * i + 1], &merged[i]);
    } else {
      merged[i] = *lists[2 * i];
    }
  }
  while (merged.size() > 1) {
    std::vector<PostingsList> next((merged.size() + 1) / 2);
    for (size_t i = 0; i < next.size(); ++i) {
      if (2 * i + 1 < merged.size()) {
        MergeUnion(merged[2 * i], merged[2 * i + 1], &next[i]);
      } else {
        next[i] = std::move(merged[2 * i]);
      }
    }
    merged = std::move(next);
  }
  return std::move(merged[0]);
}

PostingsList SubtractPostings(const PostingsList& a, const PostingsList& b) {
  PostingsList result;
  result.reserve(a.size());
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(result));
  return result;
}

void EncodePostings(const PostingsList& list, std::string* dst) {
  PutUvarint(dst, list.size());
  uint64_t prev = 0;
  for (uint64_t ref : list) {
    PutUvarint(dst, ref - prev);
    prev = ref;
  }
}

bool DecodePostings(std::string_view in, PostingsList* out) {
  out->clear();
  uint64_t size;
  // Each ref takes at least one byte, which bounds the reservation on corrupt input.
  if (!GetUvarint(&in, &size) || size > in.size()) return false;
  out->reserve(size);
  uint64_t prev = 0;
  for (uint64_t i = 0; i < size; ++i) {
    uint64_t delta;
    if (!GetUvarint(&in, &delta)) return false;
    const uint64_t ref = prev + delta;
    // Strictly increasing, without wrapping around.
    if (i > 0 && (delta == 0 || ref < prev)) return false;
    out->push_back(ref);
    prev = ref;
  }
  return in.empty();
}

}  // namespace kura::storage
