#include "storage/postings.h"

#include <algorithm>
#include <iterator>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace kura::storage {
namespace {

PostingsList RandomList(std::mt19937_64& rng, size_t max_size, uint64_t universe) {
  std::set<uint64_t> refs;
  const size_t n = max_size == 0 ? 0 : rng() % (max_size + 1);
  for (size_t i = 0; i < n; ++i) refs.insert(rng() % universe);
  return {refs.begin(), refs.end()};
}

std::vector<const PostingsList*> Pointers(const std::vector<PostingsList>& lists) {
  std::vector<const PostingsList*> out;
  for (const PostingsList& l : lists) out.push_back(&l);
  return out;
}

PostingsList ReferenceIntersect(const std::vector<PostingsList>& lists) {
  if (lists.empty()) return {};
  std::set<uint64_t> acc(lists[0].begin(), lists[0].end());
  for (size_t i = 1; i < lists.size(); ++i) {
    std::set<uint64_t> next;
    for (uint64_t r : lists[i]) {
      if (acc.count(r) != 0) next.insert(r);
    }
    acc = std::move(next);
  }
  return {acc.begin(), acc.end()};
}

PostingsList ReferenceUnion(const std::vector<PostingsList>& lists) {
  std::set<uint64_t> acc;
  for (const PostingsList& l : lists) acc.insert(l.begin(), l.end());
  return {acc.begin(), acc.end()};
}

TEST(PostingsTest, EmptyInputs) {
  EXPECT_TRUE(IntersectPostings({}).empty());
  EXPECT_TRUE(UnionPostings({}).empty());
  const PostingsList a = {1, 2, 3};
  const PostingsList empty;
  EXPECT_TRUE(IntersectPostings({&a, &empty}).empty());
  EXPECT_TRUE(IntersectPostings({&a, nullptr}).empty());
  EXPECT_EQ(UnionPostings({&a, nullptr, &empty}), a);
  EXPECT_EQ(IntersectPostings({&a}), a);
  EXPECT_EQ(SubtractPostings(a, empty), a);
  EXPECT_TRUE(SubtractPostings(empty, a).empty());
}

TEST(PostingsTest, SmallExamples) {
  const PostingsList a = {1, 3, 5, 7, 9};
  const PostingsList b = {3, 4, 5, 6, 7};
  const PostingsList c = {0, 5, 7, 100};
  EXPECT_EQ(IntersectPostings({&a, &b, &c}), (PostingsList{5, 7}));
  EXPECT_EQ(UnionPostings({&a, &b, &c}), (PostingsList{0, 1, 3, 4, 5, 6, 7, 9, 100}));
  EXPECT_EQ(SubtractPostings(a, b), (PostingsList{1, 9}));
}

TEST(PostingsTest, RandomIntersectAndUnionMatchStdSet) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 500; ++round) {
    SCOPED_TRACE(round);
    std::vector<PostingsList> lists;
    const size_t k = 1 + rng() % 5;
    const uint64_t universe = 1 + rng() % 5000;
    for (size_t i = 0; i < k; ++i) {
      // Sizes spread over orders of magnitude so both merging and galloping run.
      const size_t max_size = size_t{1} << (rng() % 13);
      lists.push_back(RandomList(rng, max_size, universe));
    }
    EXPECT_EQ(IntersectPostings(Pointers(lists)), ReferenceIntersect(lists));
    EXPECT_EQ(UnionPostings(Pointers(lists)), ReferenceUnion(lists));
  }
}

TEST(PostingsTest, GallopingFindsEveryPositionInALongList) {
  PostingsList large;
  for (uint64_t r = 0; r < 100000; r += 3) large.push_back(r);
  for (uint64_t start : {uint64_t{0}, uint64_t{1}, uint64_t{50000}, uint64_t{99999}}) {
    PostingsList small = {start, start + 3, start + 999, start + 1000, 99999, 200000};
    std::vector<PostingsList> lists = {small, large};
    EXPECT_EQ(IntersectPostings({&small, &large}), ReferenceIntersect(lists)) << start;
  }
}

TEST(PostingsTest, RandomSubtractMatchesStdSet) {
  std::mt19937_64 rng(12);
  for (int round = 0; round < 300; ++round) {
    const PostingsList a = RandomList(rng, 1 + rng() % 2000, 3000);
    const PostingsList b = RandomList(rng, 1 + rng() % 2000, 3000);
    std::set<uint64_t> want(a.begin(), a.end());
    for (uint64_t r : b) want.erase(r);
    EXPECT_EQ(SubtractPostings(a, b), PostingsList(want.begin(), want.end()));
  }
}

TEST(PostingsTest, EncodeDecodeRoundTrips) {
  std::mt19937_64 rng(13);
  for (int round = 0; round < 200; ++round) {
    PostingsList list = RandomList(rng, 1 + rng() % 1000, round % 2 == 0 ? 5000 : UINT64_MAX);
    if (round == 0) list = {0, 1, UINT64_MAX - 1, UINT64_MAX};
    if (round == 1) list.clear();
    std::string buf = "prefix";
    EncodePostings(list, &buf);
    PostingsList got = {42};
    ASSERT_TRUE(DecodePostings(std::string_view(buf).substr(6), &got));
    EXPECT_EQ(got, list);
  }
}

TEST(PostingsTest, DenseRefsTakeAboutOneBytePerRef) {
  PostingsList list;
  for (uint64_t r = 1000; r < 2000; ++r) list.push_back(r);
  std::string buf;
  EncodePostings(list, &buf);
  EXPECT_LE(buf.size(), 1010u);
}

TEST(PostingsTest, DecodeRejectsCorruptInput) {
  const PostingsList list = {5, 300, 70000, 1ULL << 40};
  std::string buf;
  EncodePostings(list, &buf);
  PostingsList out;
  for (size_t len = 0; len < buf.size(); ++len) {
    EXPECT_FALSE(DecodePostings(std::string_view(buf).substr(0, len), &out)) << len;
  }
  EXPECT_FALSE(DecodePostings(buf + "x", &out));
  // A zero delta after the first ref would repeat a ref.
  EXPECT_FALSE(DecodePostings(std::string("\x02\x05\x00", 3), &out));
  // A delta that wraps past 2^64.
  std::string wrap = "\x02";
  wrap += std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10);
  wrap += "\x05";
  EXPECT_FALSE(DecodePostings(wrap, &out));
  // A huge count with no bytes behind it must not reserve memory for it.
  EXPECT_FALSE(DecodePostings(std::string("\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 9), &out));
}

TEST(PostingsTest, RandomBytesNeverDecodeToUnsortedLists) {
  std::mt19937_64 rng(14);
  for (int round = 0; round < 2000; ++round) {
    std::string junk(rng() % 20, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    PostingsList out;
    if (DecodePostings(junk, &out)) {
      EXPECT_TRUE(std::adjacent_find(out.begin(), out.end(), std::greater_equal<>()) == out.end());
    }
  }
}

}  // namespace
}  // namespace kura::storage
