#include "storage/rocksdb_status.h"

#include "gtest/gtest.h"
#include "rocksdb/status.h"

namespace kura::storage {
namespace {

TEST(RocksDBStatusTest, MapsCodes) {
  EXPECT_TRUE(FromRocksDB(rocksdb::Status::OK(), "x").ok());
  EXPECT_EQ(FromRocksDB(rocksdb::Status::NotFound("k"), "x").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(FromRocksDB(rocksdb::Status::Corruption("bad block"), "x").code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(FromRocksDB(rocksdb::Status::NoSpace("disk full"), "x").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(FromRocksDB(rocksdb::Status::IOError("reading block 7"), "x").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(FromRocksDB(rocksdb::Status::Busy(), "x").code(), absl::StatusCode::kUnavailable);
}

TEST(RocksDBStatusTest, HeldLockIsFailedPrecondition) {
  absl::Status s = FromRocksDB(
      rocksdb::Status::IOError("While lock file: /d/LOCK", "Resource temporarily unavailable"),
      "opening /d");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("opening /d"), absl::string_view::npos);
  EXPECT_NE(s.message().find("in use"), absl::string_view::npos);
}

}  // namespace
}  // namespace kura::storage
