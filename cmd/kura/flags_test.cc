#include "cmd/kura/flags.h"

#include <stdlib.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace kura::cmd {
namespace {

CommandLine Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "kura");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  return ParseCommandLine(static_cast<int>(argv.size()), argv.data());
}

TEST(FlagsTest, StoreFlagsParse) {
  CommandLine c = Parse({"store", "--grpc.listen-address=127.0.0.1:1", "--http.listen-address=:2",
                         "--storage.path=/d", "--drain.delay=1s", "--drain.timeout=3s"});
  ASSERT_FALSE(c.exit_code.has_value());
  EXPECT_EQ(c.command, Command::kStore);
  EXPECT_EQ(c.store.grpc_listen_address, "127.0.0.1:1");
  EXPECT_EQ(c.store.server.listen_address, ":2");
  EXPECT_EQ(c.store.node.data_dir, "/d");
  EXPECT_EQ(c.store.server.drain_delay, absl::Seconds(1));
  EXPECT_EQ(c.store.server.drain_timeout, absl::Seconds(3));
}

TEST(FlagsTest, ReceiveFlagsParse) {
  CommandLine c =
      Parse({"receive", "--store.nodes=a:1,b:2", "--replication.factor=2", "--store.timeout=2s",
             "--store.dns-refresh-interval=30s", "--store.max-in-flight-bytes=1MiB"});
  ASSERT_FALSE(c.exit_code.has_value());
  EXPECT_EQ(c.command, Command::kReceive);
  EXPECT_EQ(c.receive.pool.membership.nodes, "a:1,b:2");
  EXPECT_EQ(c.receive.router.replication_factor, 2);
  EXPECT_EQ(c.receive.pool.client.timeout, absl::Seconds(2));
  EXPECT_EQ(c.receive.pool.membership.refresh_interval, absl::Seconds(30));
  EXPECT_EQ(c.receive.router.max_in_flight_bytes_per_node, size_t{1} << 20);
}

TEST(FlagsTest, LabelsCacheSize) {
  EXPECT_EQ(Parse({"standalone"}).standalone.remote_write.labels_cache_bytes, size_t{256} << 20);
  EXPECT_EQ(Parse({"standalone", "--remote-write.labels-cache-size=1GiB"})
                .standalone.remote_write.labels_cache_bytes,
            size_t{1} << 30);
  EXPECT_EQ(Parse({"receive", "--store.nodes=a:1", "--remote-write.labels-cache-size=0"})
                .receive.remote_write.labels_cache_bytes,
            0u);
}

TEST(FlagsTest, QueryFlagsParse) {
  CommandLine c = Parse({"query", "--store.nodes=a:1", "--store.timeout=2s",
                         "--query.partial-response=false", "--query.timeout=30s",
                         "--query.decode-threads=3"});
  ASSERT_FALSE(c.exit_code.has_value());
  EXPECT_EQ(c.command, Command::kQuery);
  EXPECT_EQ(c.query.pool.membership.nodes, "a:1");
  EXPECT_EQ(c.query.pool.client.timeout, absl::Seconds(2));
  EXPECT_FALSE(c.query.fan_out.partial_response);
  EXPECT_EQ(c.query.engine.timeout, absl::Seconds(30));
  EXPECT_EQ(c.query.pool.client.select_timeout, absl::Seconds(30));
  EXPECT_EQ(c.query.query_decode_threads, 3);
  EXPECT_EQ(Parse({"standalone"}).standalone.query_decode_threads, DefaultDecodeThreads());
}

TEST(FlagsTest, EnvironmentFallback) {
  setenv("KURA_STORE_NODES", "env:1", 1);
  setenv("KURA_REPLICATION_FACTOR", "3", 1);
  CommandLine c = Parse({"receive"});
  unsetenv("KURA_STORE_NODES");
  unsetenv("KURA_REPLICATION_FACTOR");
  ASSERT_FALSE(c.exit_code.has_value());
  EXPECT_EQ(c.receive.pool.membership.nodes, "env:1");
  EXPECT_EQ(c.receive.router.replication_factor, 3);
}

TEST(FlagsTest, ABadValueExitsWith2) {
  EXPECT_EQ(Parse({"receive", "--store.nodes=a:1", "--replication.factor=zero"}).exit_code, 2);
  EXPECT_EQ(Parse({"store", "--drain.delay=soon"}).exit_code, 2);
  EXPECT_EQ(Parse({"query", "--no.such-flag=1"}).exit_code, 2);
}

}  // namespace
}  // namespace kura::cmd
