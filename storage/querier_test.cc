// Selector resolution through a real node: the same series whether the matchers after the first
// exact one are resolved through the postings (many candidates) or on the candidates' labels
// (few).

#include <memory>
#include <string>
#include <vector>

#include "base/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/matcher.h"
#include "storage/node.h"
#include "storage/querier.h"

namespace kura::storage {
namespace {

using model::MatchType;

model::LabelMatcher M(MatchType type, std::string name, std::string value) {
  absl::StatusOr<model::LabelMatcher> m =
      model::LabelMatcher::Create(type, std::move(name), std::move(value));
  EXPECT_TRUE(m.ok()) << m.status();
  return *m;
}

class QuerierTest : public ::testing::TestWithParam<int> {
 protected:
  // `series` series of metric "m" over instances i0..i9, every third with a "zone" label, and
  // one series of metric "other".
  void SetUp() override {
    absl::StatusOr<base::TempDir> temp = base::TempDir::Create("querier_test");
    ASSERT_TRUE(temp.ok()) << temp.status();
    temp_ = *std::move(temp);
    NodeOptions options;
    options.data_dir = temp_.path() + "/data";
    absl::StatusOr<std::unique_ptr<Node>> node = Node::Open(options);
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = *std::move(node);
    model::WriteBatch batch;
    for (int i = 0; i < GetParam(); ++i) {
      std::vector<model::Label> labels = {{"__name__", "m"},
                                          {"instance", "i" + std::to_string(i % 10)},
                                          {"id", std::to_string(i)}};
      if (i % 3 == 0) labels.push_back({"zone", "z" + std::to_string(i % 2)});
      batch.series.push_back({model::Labels::FromUnsorted(std::move(labels)), {{1000, 1}}});
    }
    batch.series.push_back({model::Labels::FromUnsorted({{"__name__", "other"}, {"instance", "i1"}}),
                            {{1000, 1}}});
    ASSERT_TRUE(node_->Write(batch).ok());
  }

  // How many series match.
  size_t Count(std::vector<model::LabelMatcher> matchers) {
    absl::StatusOr<std::unique_ptr<model::SeriesSet>> set = node_->Select(matchers, 0, 10'000);
    EXPECT_TRUE(set.ok()) << set.status();
    size_t n = 0;
    while ((*set)->Next()) ++n;
    return n;
  }

  base::TempDir temp_;
  std::unique_ptr<Node> node_;
};

TEST_P(QuerierTest, ExactMatchersWithOthersSelectTheSameSeriesEitherWay) {
  const size_t n = static_cast<size_t>(GetParam());
  const auto name = M(MatchType::kEqual, "__name__", "m");
  auto count_if = [&](auto pred) {
    size_t c = 0;
    for (size_t i = 0; i < n; ++i) c += pred(i) ? 1 : 0;
    return c;
  };
  EXPECT_EQ(Count({name, M(MatchType::kRegexMatch, "instance", "i[1-3]")}),
            count_if([](size_t i) { return i % 10 >= 1 && i % 10 <= 3; }));
  EXPECT_EQ(Count({name, M(MatchType::kNotEqual, "instance", "i1")}),
            count_if([](size_t i) { return i % 10 != 1; }));
  // Matchers that match "" also select the series without the label.
  EXPECT_EQ(Count({name, M(MatchType::kEqual, "zone", "")}),
            count_if([](size_t i) { return i % 3 != 0; }));
  EXPECT_EQ(Count({name, M(MatchType::kRegexNoMatch, "zone", "z1")}),
            count_if([](size_t i) { return i % 3 != 0 || i % 2 == 0; }));
  EXPECT_EQ(Count({name, M(MatchType::kRegexMatch, "zone", ".+")}),
            count_if([](size_t i) { return i % 3 == 0; }));
  EXPECT_EQ(Count({name, M(MatchType::kRegexMatch, "zone", ".+"),
                   M(MatchType::kNotEqual, "instance", "i0")}),
            count_if([](size_t i) { return i % 3 == 0 && i % 10 != 0; }));
  EXPECT_EQ(Count({name, M(MatchType::kEqual, "instance", "i1"),
                   M(MatchType::kRegexMatch, "id", "1.*")}),
            count_if([](size_t i) { return i % 10 == 1 && std::to_string(i)[0] == '1'; }));
  EXPECT_EQ(Count({M(MatchType::kEqual, "instance", "i1"), M(MatchType::kNotEqual, "__name__", "m")}),
            1u);
  EXPECT_EQ(Count({name, M(MatchType::kRegexMatch, "instance", "nope")}), 0u);
  // Exact matchers only, the metric name's first or not, or none at all.
  EXPECT_EQ(Count({M(MatchType::kEqual, "instance", "i1"), name}),
            count_if([](size_t i) { return i % 10 == 1; }));
  EXPECT_EQ(Count({M(MatchType::kEqual, "instance", "i1"), M(MatchType::kEqual, "zone", "z1")}),
            count_if([](size_t i) { return i % 10 == 1 && i % 3 == 0 && i % 2 == 1; }));
  EXPECT_EQ(Count({M(MatchType::kEqual, "instance", "i1")}),
            count_if([](size_t i) { return i % 10 == 1; }) + 1);
  EXPECT_EQ(Count({name, M(MatchType::kEqual, "instance", "nope")}), 0u);
}

// Below and above Querier::kMaxRefsMatchedOnLabels candidates.
INSTANTIATE_TEST_SUITE_P(Candidates, QuerierTest,
                         ::testing::Values(300, static_cast<int>(
                                                    Querier::kMaxRefsMatchedOnLabels) + 500));

}  // namespace
}  // namespace kura::storage
