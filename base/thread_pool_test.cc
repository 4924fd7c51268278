#include "base/thread_pool.h"

#include <atomic>

#include "absl/synchronization/blocking_counter.h"
#include "gtest/gtest.h"

namespace kura::base {
namespace {

TEST(ThreadPoolTest, RunsEveryScheduledClosure) {
  std::atomic<int> sum{0};
  absl::BlockingCounter left(1000);
  ThreadPool pool(3);
  for (int i = 1; i <= 1000; ++i) {
    pool.Schedule([&, i] {
      sum += i;
      left.DecrementCount();
    });
  }
  left.Wait();
  EXPECT_EQ(sum.load(), 500500);
}

TEST(ThreadPoolTest, TheDestructorRunsWhatIsStillQueued) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool(0);
    for (int i = 0; i < 10; ++i) pool.Schedule([&] { ++ran; });
    EXPECT_EQ(ran.load(), 0);
  }
  EXPECT_EQ(ran.load(), 10);
}

}  // namespace
}  // namespace kura::base
