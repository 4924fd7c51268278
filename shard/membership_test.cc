#include "shard/membership.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kura::shard {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;

TEST(MembershipTest, StaticListIsSortedAndUnique) {
  absl::StatusOr<std::unique_ptr<Membership>> m =
      Membership::Create({.nodes = " b:9301, a:9301,b:9301 "});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_THAT(*(*m)->Snapshot(), ElementsAre("a:9301", "b:9301"));
}

TEST(MembershipTest, MalformedSpecsAreInvalidArgument) {
  for (const char* spec : {"", "a", "a:", "a:x", "dns+name", "dns+:9301", ","}) {
    EXPECT_EQ(Membership::Create({.nodes = spec}).status().code(),
              absl::StatusCode::kInvalidArgument)
        << spec;
  }
}

TEST(MembershipTest, DnsNameResolvesToAddressesWithThePort) {
  absl::StatusOr<std::unique_ptr<Membership>> m =
      Membership::Create({.nodes = "dns+localhost:9301", .refresh_interval = absl::Seconds(1)});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_THAT(*(*m)->Snapshot(), Contains("127.0.0.1:9301"));
  std::shared_ptr<const std::vector<std::string>> before = (*m)->Snapshot();
  ASSERT_TRUE((*m)->Refresh().ok());
  EXPECT_EQ((*m)->Snapshot(), before) << "an unchanged answer keeps the snapshot";
}

TEST(MembershipTest, UnresolvableNameGivesAnEmptyListAndAnError) {
  absl::StatusOr<std::unique_ptr<Membership>> m =
      Membership::Create({.nodes = "dns+no-such-host.invalid:9301"});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE((*m)->Snapshot()->empty());
  EXPECT_FALSE((*m)->Refresh().ok());
}

}  // namespace
}  // namespace kura::shard
