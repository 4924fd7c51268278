#include "ingest/labels_cache.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace kura::ingest {
namespace {

model::Labels Series(int i) {
  return model::Labels::FromSorted(
      {{"__name__", "node_cpu_seconds_total"}, {"instance", absl::StrCat("10.0.0.", i, ":9100")}});
}

TEST(LabelsCacheTest, HitNeedsTheExactBytes) {
  LabelsCache cache(1 << 20);
  const std::string wire = "\x0a\x05wire1";
  EXPECT_FALSE(cache.Find(wire).has_value());
  cache.Insert(wire, Series(1));
  std::optional<model::Labels> hit = cache.Find(wire);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(*hit, Series(1));
  EXPECT_FALSE(cache.Find("\x0a\x05wire2").has_value());
  EXPECT_FALSE(cache.Find("\x0a\x05wire").has_value());   // a prefix
  EXPECT_FALSE(cache.Find("\x0a\x05wire11").has_value());  // an extension
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.bytes(), LabelsCache::EntryBytes(wire, Series(1)));
}

TEST(LabelsCacheTest, HitSharesTheLabels) {
  LabelsCache cache(1 << 20);
  const model::Labels labels = Series(1);
  cache.Insert("k", labels);
  std::optional<model::Labels> hit = cache.Find("k");
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->CanonicalView().data(), labels.CanonicalView().data());
}

TEST(LabelsCacheTest, StaysWithinItsBudget) {
  const size_t budget = 64 << 10;
  LabelsCache cache(budget);
  for (int i = 0; i < 10000; ++i) cache.Insert(absl::StrCat("wire", i), Series(i));
  EXPECT_LE(cache.bytes(), budget);
  EXPECT_GT(cache.size(), 0u);
  EXPECT_LT(cache.size(), 10000u);
  // The newest are still there; the oldest went.
  EXPECT_TRUE(cache.Find("wire9999").has_value());
  EXPECT_FALSE(cache.Find("wire0").has_value());
}

TEST(LabelsCacheTest, EntriesInUseSurviveRotation) {
  const size_t budget = 64 << 10;
  LabelsCache cache(budget);
  cache.Insert("hot", Series(0));
  for (int i = 0; i < 10000; ++i) {
    cache.Insert(absl::StrCat("wire", i), Series(i));
    ASSERT_TRUE(cache.Find("hot").has_value()) << i;
  }
  EXPECT_LE(cache.bytes(), budget);
}

TEST(LabelsCacheTest, ZeroBytesDisables) {
  LabelsCache cache(0);
  cache.Insert("k", Series(1));
  EXPECT_FALSE(cache.Find("k").has_value());
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(LabelsCacheTest, ConcurrentUse) {
  LabelsCache cache(256 << 10);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache] {
      for (int i = 0; i < 20000; ++i) {
        const int n = i % 700;
        const std::string wire = absl::StrCat("wire", n);
        if (std::optional<model::Labels> hit = cache.Find(wire)) {
          ASSERT_EQ(*hit, Series(n));
        } else {
          cache.Insert(wire, Series(n));
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_LE(cache.bytes(), size_t{256} << 10);
}

}  // namespace
}  // namespace kura::ingest
