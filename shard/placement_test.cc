#include "shard/placement.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "model/labels.h"

namespace kura::shard {
namespace {

uint64_t SeriesHash(int i) {
  return model::Labels::FromUnsorted({{"__name__", "m"}, {"i", std::to_string(i)}}).Hash();
}

TEST(PlacementTest, PreferenceListIsAPermutation) {
  Placement placement({"a:1", "b:1", "c:1"});
  std::vector<int> order;
  placement.PreferenceList(SeriesHash(7), &order);
  ASSERT_EQ(order.size(), 3u);
  std::vector<int> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<int>{0, 1, 2}));
  EXPECT_GT(placement.Score(SeriesHash(7), order[0]), placement.Score(SeriesHash(7), order[1]));
}

TEST(PlacementTest, FirstChoicesAreEvenlySpread) {
  Placement placement({"10.0.0.1:9301", "10.0.0.2:9301", "10.0.0.3:9301"});
  std::vector<int> counts(3), order;
  constexpr int kSeries = 30'000;
  for (int i = 0; i < kSeries; ++i) {
    placement.PreferenceList(SeriesHash(i), &order);
    ++counts[static_cast<size_t>(order[0])];
  }
  for (int c : counts) {
    EXPECT_NEAR(c, kSeries / 3, kSeries / 30) << "within 10% of an even share";
  }
}

TEST(PlacementTest, AddingANodeMovesOnlySeriesToTheNewNode) {
  std::vector<std::string> ids = {"s0:9301", "s1:9301", "s2:9301"};
  Placement before(ids);
  ids.push_back("s3:9301");
  Placement after(ids);
  std::vector<int> a, b;
  int moved = 0;
  constexpr int kSeries = 20'000;
  for (int i = 0; i < kSeries; ++i) {
    before.PreferenceList(SeriesHash(i), &a);
    after.PreferenceList(SeriesHash(i), &b);
    // Without the new node, the order of the old nodes is unchanged.
    std::vector<int> b_old;
    for (int n : b) {
      if (n != 3) b_old.push_back(n);
    }
    ASSERT_EQ(a, b_old);
    if (b[0] != a[0]) {
      EXPECT_EQ(b[0], 3);
      ++moved;
    }
  }
  EXPECT_NEAR(moved, kSeries / 4, kSeries / 40);
}

TEST(PlacementTest, SameIdsGiveTheSameOrderInEveryProcess) {
  Placement placement({"x:1", "y:1"});
  std::vector<int> order;
  placement.PreferenceList(0x0123456789abcdefULL, &order);
  const uint64_t s0 = placement.Score(0x0123456789abcdefULL, 0);
  const uint64_t s1 = placement.Score(0x0123456789abcdefULL, 1);
  EXPECT_EQ(order[0], s0 > s1 ? 0 : 1);
}

}  // namespace
}  // namespace kura::shard
