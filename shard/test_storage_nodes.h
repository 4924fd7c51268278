#pragma once

// For shard's tests only: real storage nodes (storage::Node on RocksDB in a temp dir) behind
// real gRPC servers on 127.0.0.1, which a test can stop (connection refused afterwards),
// restart on the same port, or replace by a listener that accepts connections and never
// answers (a hung node: the one fault a real node cannot produce on cue in-process).

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/temp_dir.h"
#include "gtest/gtest.h"
#include "storage/node.h"
#include "storage/node_service.h"

namespace kura::shard {

class TestStorageNodes {
 public:
  explicit TestStorageNodes(int n) {
    absl::StatusOr<base::TempDir> dir = base::TempDir::Create("shard_test");
    EXPECT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
    nodes_.resize(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) Start(i, 0);
  }
  ~TestStorageNodes() {
    for (size_t i = 0; i < nodes_.size(); ++i) Stop(static_cast<int>(i));
  }

  std::string address(int i) const { return absl::StrCat("127.0.0.1:", nodes_[i].port); }
  std::string addresses() const {
    std::string out;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      absl::StrAppend(&out, i == 0 ? "" : ",", address(static_cast<int>(i)));
    }
    return out;
  }
  storage::Node* node(int i) { return nodes_[i].node.get(); }

  // Starts node i on `port` (0: a free one), reopening its data.
  void Start(int i, int port) {
    Entry& e = nodes_[static_cast<size_t>(i)];
    absl::StatusOr<std::unique_ptr<storage::Node>> node = storage::Node::Open(
        {.data_dir = absl::StrCat(dir_.path(), "/node", i), .checkpoint_wal_bytes = 1 << 20});
    ASSERT_TRUE(node.ok()) << node.status();
    e.node = *std::move(node);
    e.service = std::make_unique<storage::NodeService>(
        e.node.get(),
        storage::NodeServiceOptions{.listen_address = absl::StrCat("127.0.0.1:", port)});
    ASSERT_TRUE(e.service->Start().ok());
    e.port = e.service->port();
  }
  void Restart(int i) { Start(i, nodes_[static_cast<size_t>(i)].port); }

  // Stops node i: its port refuses connections afterwards.
  void Stop(int i) {
    Entry& e = nodes_[static_cast<size_t>(i)];
    e.service.reset();
    e.node.reset();
    if (e.hung_fd >= 0) close(e.hung_fd);
    e.hung_fd = -1;
  }

  // Stops node i and listens on its port without ever answering.
  void Hang(int i) {
    Stop(i);
    Entry& e = nodes_[static_cast<size_t>(i)];
    e.hung_fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(e.hung_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(e.hung_fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(e.port));
    ASSERT_EQ(bind(e.hung_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    // The kernel completes handshakes into the backlog; nobody ever reads.
    ASSERT_EQ(listen(e.hung_fd, 64), 0);
  }

 private:
  struct Entry {
    std::unique_ptr<storage::Node> node;
    std::unique_ptr<storage::NodeService> service;
    int port = 0;
    int hung_fd = -1;
  };
  base::TempDir dir_;
  std::vector<Entry> nodes_;
};

}  // namespace kura::shard
