#pragma once

// Postings: sorted lists of series refs, their set operations and their byte encoding.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kura::storage {

// A sorted list of unique series refs.
using PostingsList = std::vector<uint64_t>;

// Intersection of all lists, smallest first; empty input -> empty list. A null pointer counts as
// an empty list. Walks a much longer list by galloping (exponential then binary search), so
// `job="api"` AND `__name__="up"` costs about |small| * log(|large| / |small|).
PostingsList IntersectPostings(std::vector<const PostingsList*> lists);

// Union of all lists; empty input -> empty list. A null pointer counts as an empty list.
PostingsList UnionPostings(std::vector<const PostingsList*> lists);

// Refs in `a` not in `b`.
PostingsList SubtractPostings(const PostingsList& a, const PostingsList& b);

// Appends `list` to *dst as uvarint(size) followed by uvarint deltas: the first ref itself, then
// each ref minus its predecessor. Dense refs, as series indexes assign them, take ~1 byte each.
// REQUIRES: `list` is sorted and unique.
void EncodePostings(const PostingsList& list, std::string* dst);

// Replaces *out with the list encoded in all of `in`. Returns false if `in` is truncated, has
// trailing bytes, or does not hold a sorted unique list; *out is then unspecified.
bool DecodePostings(std::string_view in, PostingsList* out);

}  // namespace kura::storage
