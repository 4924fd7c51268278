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

TEST(LabelsTest, GetCanonicalFindsWhatGetFinds) {
  const Labels labels = Up();
  const std::string bytes = labels.CanonicalBytes();
  for (const char* name : {"__name__", "a", "job", "missing", "", "jo", "b"}) {
    EXPECT_EQ(Labels::GetCanonical(bytes, name), labels.Get(name)) << name;
  }
  // An empty value, a value equal to another label's name, malformed bytes.
  EXPECT_EQ(Labels::GetCanonical("a\xff\xff" "b\xff" "a\xff", "a"), "");
  EXPECT_EQ(Labels::GetCanonical("a\xff\xff" "b\xff" "a\xff", "b"), "a");
  EXPECT_EQ(Labels::GetCanonical("a\xffno-end", "a"), "");
  EXPECT_EQ(Labels::GetCanonical("", "a"), "");
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

TEST(LabelsTest, CanonicalIsSharedNotCopied) {
  const Labels labels = Up();
  const CanonicalLabels canonical = labels.Canonical();
  EXPECT_EQ(canonical.bytes(), labels.CanonicalView());
  EXPECT_EQ(canonical.bytes().data(), labels.CanonicalView().data());
  EXPECT_EQ(canonical.hash(), labels.Hash());
  // It outlives the labels.
  CanonicalLabels kept;
  {
    const Labels temporary = Labels::FromSorted({{"a", "1"}});
    kept = temporary.Canonical();
  }
  EXPECT_EQ(kept.bytes(), "a\xff" "1\xff");
  EXPECT_EQ(kept.hash(), Labels::HashCanonical("a\xff" "1\xff"));
  EXPECT_EQ(Labels().Canonical().bytes(), "");
  EXPECT_EQ(Labels().Canonical().hash(), Labels().Hash());
}

TEST(CanonicalLabelsTest, CopyAndShare) {
  const std::string bytes = "__name__\xffup\xff";
  const CanonicalLabels a = CanonicalLabels::Copy(bytes, Labels::HashCanonical(bytes));
  EXPECT_EQ(a.bytes(), bytes);
  EXPECT_NE(a.bytes().data(), bytes.data());
  EXPECT_EQ(a.hash(), Labels::HashCanonical(bytes));
  CanonicalLabels b = a;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(b.bytes().data(), a.bytes().data());
  CanonicalLabels c = std::move(b);
  EXPECT_EQ(c.bytes().data(), a.bytes().data());
  EXPECT_EQ(b.bytes(), "");  // NOLINT(bugprone-use-after-move)
  c = CanonicalLabels();
  EXPECT_EQ(c.bytes(), "");
  EXPECT_EQ(a.bytes(), bytes);
  EXPECT_EQ(CanonicalLabels::Copy("", Labels::HashCanonical("")).bytes(), "");
}

TEST(CanonicalLabelsTest, SharedAcrossThreads) {
  const Labels labels = Up();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&labels] {
      for (int i = 0; i < 10000; ++i) {
        const CanonicalLabels c = labels.Canonical();
        ASSERT_EQ(c.hash(), labels.Hash());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(labels.Canonical().bytes(), labels.CanonicalView());
}

TEST(LabelsTest, FromCanonicalIsTheSameLabelSet) {
  const Labels original = Up();
  const Labels labels = Labels::FromCanonical(original.Canonical());
  // The canonical form is shared, not copied, and read without parsing.
  EXPECT_EQ(labels.CanonicalView().data(), original.CanonicalView().data());
  EXPECT_EQ(labels.Hash(), original.Hash());
  EXPECT_EQ(labels.Get("job"), "api");
  EXPECT_EQ(labels.Get("missing"), "");
  EXPECT_FALSE(labels.empty());
  // The list, parsed on first use, is the original's.
  EXPECT_EQ(labels.items(), original.items());
  EXPECT_EQ(labels.size(), 3u);
  EXPECT_TRUE(labels.Has("a"));
  EXPECT_EQ(labels, original);
  EXPECT_EQ(Labels::Compare(labels, original), 0);
  EXPECT_LT(labels, Up().With("job", "web"));
  EXPECT_EQ(labels.ToString(), original.ToString());
  EXPECT_EQ(labels.With("a", "c"), original.With("a", "c"));
  // Copies share the parsed list.
  const Labels copy = labels;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(&copy.items(), &labels.items());
  EXPECT_TRUE(Labels::FromCanonical(CanonicalLabels()).empty());
  EXPECT_EQ(Labels::FromCanonical(CanonicalLabels()), Labels());
}

TEST(LabelsTest, FromCanonicalParsesOnceAcrossThreads) {
  const Labels labels = Labels::FromCanonical(Up().Canonical());
  std::vector<std::thread> threads;
  std::vector<const std::vector<Label>*> seen(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      const Labels copy = labels;
      seen[i] = &copy.items();
      EXPECT_EQ(copy.Get("__name__"), "up");
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::vector<Label>* items : seen) {
    EXPECT_EQ(items, seen[0]);
    EXPECT_EQ(*items, Up().items());
  }
}

TEST(LabelsTest, ForEachCanonicalWalksNamesAndValues) {
  std::vector<Label> seen;
  auto collect = [&seen](std::string_view name, std::string_view value) {
    seen.push_back({std::string(name), std::string(value)});
  };
  EXPECT_TRUE(Labels::ForEachCanonical(Up().CanonicalView(), collect));
  EXPECT_EQ(seen, Up().items());
  seen.clear();
  EXPECT_TRUE(Labels::ForEachCanonical("", collect));
  EXPECT_TRUE(seen.empty());
  // Malformed: the labels before the fault are walked, then false.
  EXPECT_FALSE(Labels::ForEachCanonical("a\xff" "1\xff" "b\xffno-end", collect));
  EXPECT_EQ(seen, (std::vector<Label>{{"a", "1"}}));
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
