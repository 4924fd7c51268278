#include "shard/router.h"

#include <thread>

#include "gtest/gtest.h"
#include "shard/test_storage_nodes.h"

namespace kura::shard {
namespace {

model::WriteBatch Batch(int num_series, int64_t t) {
  model::WriteBatch batch;
  for (int i = 0; i < num_series; ++i) {
    batch.series.push_back(
        {model::Labels::FromUnsorted({{"__name__", "m"}, {"i", std::to_string(i)}}),
         {{t, static_cast<double>(i)}}});
  }
  return batch;
}

// How many of `nodes` hold each of the series m{i="0"} .. m{i="n-1"} at time t.
std::vector<int> Copies(TestStorageNodes& nodes, int num_nodes, int num_series, int64_t t) {
  std::vector<int> copies(static_cast<size_t>(num_series));
  for (int n = 0; n < num_nodes; ++n) {
    if (nodes.node(n) == nullptr) continue;
    auto set = nodes.node(n)->Select(
        {*model::LabelMatcher::Create(model::MatchType::kEqual, "__name__", "m")}, t, t);
    EXPECT_TRUE(set.ok());
    while ((*set)->Next()) {
      std::unique_ptr<model::SampleIterator> it = (*set)->At().NewIterator();
      if (!it->Next()) continue;
      ++copies[static_cast<size_t>(std::stoi(std::string((*set)->At().labels().Get("i"))))];
    }
  }
  return copies;
}

// The pool's entry for test node i (the pool sorts by address).
PoolNode* Find(NodePool& pool, const TestStorageNodes& nodes, int i) {
  for (const std::shared_ptr<PoolNode>& node : *pool.Snapshot()) {
    if (node->client.address() == nodes.address(i)) return node.get();
  }
  return nullptr;
}

// Waits (bounded) until the pool has taken node i out of rotation; returns how long it took.
absl::Duration WaitForEjection(NodePool& pool, const TestStorageNodes& nodes, int i) {
  const absl::Time start = absl::Now();
  for (int k = 0; k < 500 && Find(pool, nodes, i)->healthy(); ++k) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  return absl::Now() - start;
}

std::unique_ptr<NodePool> Pool(const TestStorageNodes& nodes, base::Registry* registry,
                               HealthOptions health = {}) {
  absl::StatusOr<std::unique_ptr<NodePool>> pool =
      NodePool::Create({.membership = {.nodes = nodes.addresses()},
                        .client = {.timeout = absl::Seconds(10)},
                        .health = health},
                       registry);
  EXPECT_TRUE(pool.ok()) << pool.status();
  return *std::move(pool);
}

TEST(RouterTest, EverySeriesGoesToReplicationFactorNodes) {
  TestStorageNodes nodes(3);
  base::Registry registry;
  std::unique_ptr<NodePool> pool = Pool(nodes, &registry);
  Router router(pool.get(), {.replication_factor = 2}, &registry);
  ASSERT_TRUE(router.Write(Batch(300, 1000)).ok());
  std::vector<int> per_node(3);
  for (int n = 0; n < 3; ++n) {
    auto set = nodes.node(n)->Select(
        {*model::LabelMatcher::Create(model::MatchType::kEqual, "__name__", "m")}, 0, 2000);
    while ((*set)->Next()) ++per_node[static_cast<size_t>(n)];
  }
  for (int c : Copies(nodes, 3, 300, 1000)) EXPECT_EQ(c, 2);
  for (int c : per_node) EXPECT_NEAR(c, 200, 40) << "each node holds about 2/3 of the series";
  // A retry of the same batch is acknowledged and stores nothing twice.
  ASSERT_TRUE(router.Write(Batch(300, 1000)).ok());
  for (int c : Copies(nodes, 3, 300, 1000)) EXPECT_EQ(c, 2);
}

TEST(RouterTest, AStoppedNodeIsSkippedForTheNextInThePreferenceList) {
  TestStorageNodes nodes(3);
  base::Registry registry;
  std::unique_ptr<NodePool> pool = Pool(nodes, &registry);
  Router router(pool.get(), {.replication_factor = 2}, &registry);
  ASSERT_TRUE(router.Write(Batch(100, 1000)).ok());
  nodes.Stop(1);
  // The first write after the stop finds out, reroutes and is still acknowledged.
  absl::Status status = router.Write(Batch(100, 2000));
  ASSERT_TRUE(status.ok()) << status;
  for (int c : Copies(nodes, 3, 100, 2000)) EXPECT_EQ(c, 2);
  EXPECT_LT(WaitForEjection(*pool, nodes, 1), absl::Seconds(1));
  // Two stopped nodes leave one: RF=2 cannot be met.
  nodes.Stop(2);
  EXPECT_EQ(router.Write(Batch(100, 3000)).code(), absl::StatusCode::kUnavailable);
}

TEST(RouterTest, AHungNodeIsEjectedAndItsWritesMoveOnWithinTheGoal) {
  TestStorageNodes nodes(3);
  base::Registry registry;
  std::unique_ptr<NodePool> pool = Pool(nodes, &registry);
  Router router(pool.get(), {.replication_factor = 2}, &registry);
  ASSERT_TRUE(router.Write(Batch(100, 1000)).ok());
  nodes.Hang(0);
  const absl::Time start = absl::Now();
  absl::Status status = router.Write(Batch(100, 2000));
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_LT(absl::Now() - start, absl::Seconds(2)) << "ejection cancels the hung calls";
  // Its probes time out (no HTTP/2 handshake ever comes back) and take it out of rotation.
  EXPECT_LT(absl::Now() - start + WaitForEjection(*pool, nodes, 0), absl::Seconds(2));
  for (int c : Copies(nodes, 3, 100, 2000)) EXPECT_EQ(c, 2);
}

TEST(RouterTest, ARejectedSampleIsInvalidArgumentAndNotRerouted) {
  TestStorageNodes nodes(2);
  base::Registry registry;
  std::unique_ptr<NodePool> pool = Pool(nodes, &registry);
  Router router(pool.get(), {.replication_factor = 1}, &registry);
  ASSERT_TRUE(router.Write(Batch(10, 1000)).ok());
  model::WriteBatch old = Batch(10, 500);
  EXPECT_EQ(router.Write(old).code(), absl::StatusCode::kInvalidArgument);
  for (int c : Copies(nodes, 2, 10, 500)) EXPECT_EQ(c, 0);
  EXPECT_TRUE(Find(*pool, nodes, 0)->healthy());
  EXPECT_TRUE(Find(*pool, nodes, 1)->healthy());
}

TEST(RouterTest, WritesBeyondTheInFlightBoundAreRefusedNotQueued) {
  TestStorageNodes nodes(1);
  base::Registry registry;
  // Never ejected, so the first write stays in flight on the hung node until its deadline.
  std::unique_ptr<NodePool> pool = Pool(nodes, &registry, {.failures_to_eject = 1000});
  Router router(pool.get(), {.replication_factor = 1, .max_in_flight_bytes_per_node = 100},
                &registry);
  nodes.Hang(0);
  std::thread first([&] { (void)router.Write(Batch(10, 1000)); });
  absl::Status second;
  for (int i = 0; i < 100; ++i) {
    if ((*pool->Snapshot())[0]->in_flight_bytes.load() > 0) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  second = router.Write(Batch(10, 1000));
  EXPECT_EQ(second.code(), absl::StatusCode::kResourceExhausted) << second;
  (*pool->Snapshot())[0]->client.CancelInFlight();
  first.join();
}

}  // namespace
}  // namespace kura::shard
