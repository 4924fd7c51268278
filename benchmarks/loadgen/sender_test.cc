#include "benchmarks/loadgen/sender.h"

#include "gtest/gtest.h"

namespace kura::loadgen {
namespace {

TEST(ParseUrlTest, SplitsHostPortAndPath) {
  absl::StatusOr<Url> url = ParseUrl("http://127.0.0.1:9090/api/v1/write");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, "9090");
  EXPECT_EQ(url->path, "/api/v1/write");
}

TEST(ParseUrlTest, DefaultsPortAndPath) {
  absl::StatusOr<Url> url = ParseUrl("http://localhost");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->port, "80");
  EXPECT_EQ(url->path, "/");
}

TEST(ParseUrlTest, RejectsOtherSchemesAndBadPorts) {
  EXPECT_FALSE(ParseUrl("https://127.0.0.1:9090/api/v1/write").ok());
  EXPECT_FALSE(ParseUrl("http://127.0.0.1:99999/").ok());
  EXPECT_FALSE(ParseUrl("http://:80/").ok());
}

TEST(SenderTest, ConnectFailsWhenNothingListens) {
  // Port 1 is privileged and unused on test machines; connecting is refused.
  absl::StatusOr<Url> url = ParseUrl("http://127.0.0.1:1/api/v1/write");
  ASSERT_TRUE(url.ok());
  EXPECT_FALSE(Sender::Connect(*url, 1).ok());
}

}  // namespace
}  // namespace kura::loadgen
