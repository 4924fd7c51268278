#include "model/labels.h"

#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "xxhash.h"

namespace kura::model {
namespace {

Labels Up() { return Labels::FromUnsorted({{"job", "api"}, {"__name__", "up"}, {"a", "b"}}); }

TEST(LabelsTest, CanonicalFormAndHash) {
  const Labels labels = Up();
  const std::string expected = "__name__\xffup\xff" "a\xff" "b\xffjob\xff" "api\xff";
  EXPECT_EQ(labels.CanonicalView(), expected);
  EXPECT_EQ(labels.CanonicalBytes(), expected);
  EXPECT_EQ(labels.Hash(), XXH3_64bits(expected.data(), expected.size()));
  EXPECT_EQ(labels.Hash(), Labels::HashCanonical(expected));
}

TEST(LabelsTest, EmptyLabels) {
  const Labels empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_EQ(empty.begin(), empty.end());
  EXPECT_EQ(empty.CanonicalView(), "");
  EXPECT_EQ(empty.Hash(), XXH3_64bits(nullptr, 0));
  EXPECT_EQ(empty, Labels::FromSorted({}));
  EXPECT_NE(empty, Up());
}

TEST(LabelsTest, CopiesShareTheCanonicalForm) {
  const Labels labels = Up();
  const Labels copy = labels;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(copy, labels);
  EXPECT_EQ(copy.CanonicalView().data(), labels.CanonicalView().data());
  EXPECT_EQ(&copy.items(), &labels.items());
}

TEST(LabelsTest, MovedFromIsEmpty) {
  Labels labels = Up();
  Labels moved = std::move(labels);
  EXPECT_EQ(moved.size(), 3u);
  EXPECT_TRUE(labels.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(labels.CanonicalView(), "");
}

TEST(LabelsTest, EqualContentInDifferentRepresentationsIsEqual) {
  EXPECT_EQ(Up(), Up());
  EXPECT_EQ(Up().Hash(), Up().Hash());
  EXPECT_NE(Up(), Up().With("a", "c"));
  EXPECT_EQ(Up().With("a", "c").Get("a"), "c");
  EXPECT_EQ(Up().Get("a"), "b");  // With copies: the original is untouched
}

TEST(LabelsTest, ConcurrentFirstUseComputesOnce) {
  const Labels labels = Up();
  const std::string expected = Up().CanonicalBytes();
  std::vector<std::thread> threads;
  std::vector<std::string_view> seen(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      const Labels copy = labels;
      seen[i] = copy.CanonicalView();
      EXPECT_EQ(copy.Hash(), XXH3_64bits(expected.data(), expected.size()));
    });
  }
  for (std::thread& t : threads) t.join();
  for (std::string_view v : seen) {
    EXPECT_EQ(v, expected);
    EXPECT_EQ(v.data(), seen[0].data());
  }
}

}  // namespace
}  // namespace kura::model
