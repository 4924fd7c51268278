#include "shard/health.h"

#include "gtest/gtest.h"

namespace kura::shard {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);
absl::Time At(int ms) { return kT0 + absl::Milliseconds(ms); }

TEST(HealthTest, EjectsAfterConsecutiveFailuresOnly) {
  Health health(HealthOptions{.failures_to_eject = 3});
  EXPECT_TRUE(health.IsHealthy());
  EXPECT_FALSE(health.ReportFailure(At(0)));
  EXPECT_FALSE(health.ReportFailure(At(1)));
  health.ReportSuccess(At(2));  // resets the count
  EXPECT_FALSE(health.ReportFailure(At(3)));
  EXPECT_FALSE(health.ReportFailure(At(4)));
  EXPECT_TRUE(health.IsHealthy());
  EXPECT_TRUE(health.ReportFailure(At(5)));
  EXPECT_FALSE(health.IsHealthy());
  EXPECT_EQ(health.ejections(), 1);
}

TEST(HealthTest, ReadmitsOnTheFirstSuccessAfterTheBackoff) {
  Health health(HealthOptions{.failures_to_eject = 2, .initial_backoff = absl::Milliseconds(500)});
  (void)health.ReportFailure(At(0));
  ASSERT_TRUE(health.ReportFailure(At(10)));
  health.ReportSuccess(At(300));  // too early
  EXPECT_FALSE(health.IsHealthy());
  health.ReportSuccess(At(510));
  EXPECT_TRUE(health.IsHealthy());
}

TEST(HealthTest, FailuresWhileEjectedRestartTheBackoff) {
  Health health(HealthOptions{.failures_to_eject = 1, .initial_backoff = absl::Milliseconds(500)});
  ASSERT_TRUE(health.ReportFailure(At(0)));
  EXPECT_FALSE(health.ReportFailure(At(400)));  // a failed probe: not before 900 ms
  health.ReportSuccess(At(600));
  EXPECT_FALSE(health.IsHealthy());
  health.ReportSuccess(At(900));
  EXPECT_TRUE(health.IsHealthy());
}

TEST(HealthTest, FlappingDoublesTheBackoffUpToTheMaximumAndStabilityResetsIt) {
  Health health(HealthOptions{.failures_to_eject = 1,
                              .initial_backoff = absl::Milliseconds(500),
                              .max_backoff = absl::Seconds(2),
                              .stable_after = absl::Seconds(30)});
  int t = 0;
  std::vector<absl::Duration> backoffs;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(health.ReportFailure(At(t)));
    backoffs.push_back(health.backoff());
    t += static_cast<int>(absl::ToInt64Milliseconds(health.backoff()));
    health.ReportSuccess(At(t));
    ASSERT_TRUE(health.IsHealthy());
    t += 100;
  }
  EXPECT_EQ(backoffs, (std::vector<absl::Duration>{absl::Milliseconds(500), absl::Seconds(1),
                                                   absl::Seconds(2), absl::Seconds(2)}));
  t += 31'000;  // stable for longer than stable_after
  ASSERT_TRUE(health.ReportFailure(At(t)));
  EXPECT_EQ(health.backoff(), absl::Milliseconds(500));
}

}  // namespace
}  // namespace kura::shard
