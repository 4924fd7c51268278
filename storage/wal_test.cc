#include "storage/wal.h"

#include <stdlib.h>
#include <sys/resource.h>

#include <csignal>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "base/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/sample.h"

namespace kura::storage {
namespace {

TEST(WalRecordTest, RoundTripKeepsEveryBitPattern) {
  std::vector<WalSeriesSamples> in = {
      {1, {{-5, 1.5}, {0, model::StaleNaN()}, {1700000000000, -0.0}}},
      {UINT64_MAX, {}},
      {7, {{INT64_MAX, 1e308}}},
  };
  std::string buf;
  EncodeWalRecord(in, &buf);
  std::vector<WalSeriesSamples> out;
  ASSERT_TRUE(DecodeWalRecord(buf, &out));
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].ref, in[i].ref);
    ASSERT_EQ(out[i].samples.size(), in[i].samples.size());
    for (size_t j = 0; j < in[i].samples.size(); ++j) {
      EXPECT_EQ(out[i].samples[j].timestamp_ms, in[i].samples[j].timestamp_ms);
      EXPECT_EQ(std::bit_cast<uint64_t>(out[i].samples[j].value),
                std::bit_cast<uint64_t>(in[i].samples[j].value));
    }
  }
}

TEST(WalRecordTest, RejectsTruncatedAndTrailingBytes) {
  std::string buf;
  EncodeWalRecord(std::vector<WalSeriesSamples>{{3, {{1, 2.0}, {2, 3.0}}}}, &buf);
  std::vector<WalSeriesSamples> out;
  for (size_t n = 0; n < buf.size(); ++n) {
    EXPECT_FALSE(DecodeWalRecord(std::string_view(buf).substr(0, n), &out)) << n;
  }
  EXPECT_FALSE(DecodeWalRecord(buf + "x", &out));
  EXPECT_FALSE(DecodeWalRecord("\x02", &out));
}

TEST(WalRecordTest, OutOfOrderSamplesMakeAVersionTwoRecord) {
  const std::vector<WalSeriesSamples> in_order = {{1, {{100, 1}}}};
  const std::vector<WalSeriesSamples> out_of_order = {{1, {{50, 2}, {60, 3}}}, {4, {{7, 8}}}};
  std::string buf;
  EncodeWalRecord(in_order, &buf, out_of_order);
  EXPECT_EQ(buf[0], 2);
  std::vector<WalSeriesSamples> got_in_order;
  std::vector<WalSeriesSamples> got_out_of_order;
  ASSERT_TRUE(DecodeWalRecord(buf, &got_in_order, &got_out_of_order));
  ASSERT_EQ(got_in_order.size(), 1u);
  EXPECT_EQ(got_in_order[0].samples[0].timestamp_ms, 100);
  ASSERT_EQ(got_out_of_order.size(), 2u);
  EXPECT_EQ(got_out_of_order[0].samples.size(), 2u);
  EXPECT_EQ(got_out_of_order[1].ref, 4u);
  // A reader that cannot take out-of-order samples refuses the record rather than drop them.
  EXPECT_FALSE(DecodeWalRecord(buf, &got_in_order));
  for (size_t n = 0; n < buf.size(); ++n) {
    EXPECT_FALSE(
        DecodeWalRecord(std::string_view(buf).substr(0, n), &got_in_order, &got_out_of_order))
        << n;
  }
  // Without out-of-order samples the record stays version 1.
  buf.clear();
  EncodeWalRecord(in_order, &buf, {});
  EXPECT_EQ(buf[0], 1);
}

TEST(WalRecordTest, StartTimestampsMakeAVersionThreeRecord) {
  std::vector<WalSeriesSamples> in_order = {
      {1, {{100, 1}, {200, 2}, {300, 3}}}, {2, {{INT64_MIN, 0}, {INT64_MAX, 1}}}, {3, {{5, 5}}}};
  in_order[0].starts = {50, 100, 0};
  in_order[1].starts = {INT64_MAX, INT64_MIN};  // differences that wrap
  std::vector<WalSeriesSamples> out_of_order = {{1, {{60, 9}}}};
  out_of_order[0].starts = {-7};
  for (bool with_out_of_order : {false, true}) {
    SCOPED_TRACE(with_out_of_order);
    std::string buf;
    EncodeWalRecord(in_order, &buf,
                    with_out_of_order ? absl::MakeConstSpan(out_of_order)
                                      : absl::Span<const WalSeriesSamples>());
    EXPECT_EQ(buf[0], 3);
    std::vector<WalSeriesSamples> got;
    std::vector<WalSeriesSamples> got_out_of_order;
    ASSERT_TRUE(DecodeWalRecord(buf, &got, &got_out_of_order));
    ASSERT_EQ(got.size(), 3u);
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].ref, in_order[i].ref);
      EXPECT_EQ(got[i].samples.size(), in_order[i].samples.size());
      EXPECT_EQ(got[i].starts, in_order[i].starts) << i;
    }
    ASSERT_EQ(got_out_of_order.size(), with_out_of_order ? 1u : 0u);
    if (with_out_of_order) {
      EXPECT_EQ(got_out_of_order[0].starts, std::vector<int64_t>{-7});
    }
    // Every record needs a reader that takes out-of-order samples; truncation is caught.
    EXPECT_FALSE(DecodeWalRecord(buf, &got));
    for (size_t n = 0; n < buf.size(); ++n) {
      EXPECT_FALSE(DecodeWalRecord(std::string_view(buf).substr(0, n), &got, &got_out_of_order))
          << n;
    }
    EXPECT_FALSE(DecodeWalRecord(buf + "x", &got, &got_out_of_order));
  }
  // Records of the older versions decode with no starts.
  std::string old;
  EncodeWalRecord(std::vector<WalSeriesSamples>{{3, {{1, 2.0}}}}, &old);
  std::vector<WalSeriesSamples> got;
  ASSERT_TRUE(DecodeWalRecord(old, &got));
  EXPECT_TRUE(got[0].starts.empty());
}

class WalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<base::TempDir> temp = base::TempDir::Create("wal_test");
    ASSERT_TRUE(temp.ok()) << temp.status();
    temp_ = *std::move(temp);
    dir_ = temp_.path();
  }

  std::unique_ptr<Wal> Open() {
    absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(dir_, {});
    EXPECT_TRUE(wal.ok()) << wal.status();
    return wal.ok() ? *std::move(wal) : nullptr;
  }

  // Opens the log and replays it; `status` gets Replay's result.
  std::vector<std::string> Replay(absl::Status* status = nullptr) {
    std::unique_ptr<Wal> wal = Open();
    std::vector<std::string> records;
    absl::Status s = wal->Replay([&](std::string_view r) {
      records.emplace_back(r);
      return absl::OkStatus();
    });
    if (status != nullptr) *status = s;
    return records;
  }

  // Segment files, oldest first.
  std::vector<std::filesystem::path> Segments() const {
    std::vector<std::filesystem::path> out;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) out.push_back(entry.path());
    std::sort(out.begin(), out.end());
    return out;
  }

  base::TempDir temp_;  // destroyed after the members below, which use it
  std::string dir_;
};

TEST_F(WalTest, ReplaysEveryRecordInOrderAcrossRestarts) {
  {
    std::unique_ptr<Wal> wal = Open();
    ASSERT_TRUE(wal->Append("one").ok());
    ASSERT_TRUE(wal->Append("").ok());
    ASSERT_TRUE(wal->Append(std::string(100000, 'x')).ok());
  }
  {
    std::unique_ptr<Wal> wal = Open();
    ASSERT_TRUE(wal->Replay([](std::string_view) { return absl::OkStatus(); }).ok());
    ASSERT_TRUE(wal->Append("two").ok());
  }
  absl::Status status;
  EXPECT_EQ(Replay(&status),
            (std::vector<std::string>{"one", "", std::string(100000, 'x'), "two"}));
  EXPECT_TRUE(status.ok()) << status;
}

TEST_F(WalTest, RotateAndTruncateDropOnlyOlderSegments) {
  std::unique_ptr<Wal> wal = Open();
  ASSERT_TRUE(wal->Append("a").ok());
  absl::StatusOr<uint64_t> second = wal->Rotate();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(wal->bytes_since_rotate(), 0);
  ASSERT_TRUE(wal->Append("b").ok());
  EXPECT_EQ(wal->bytes_since_rotate(), 9);  // 8-byte header
  ASSERT_TRUE(wal->Rotate().ok());
  ASSERT_TRUE(wal->Append("c").ok());
  ASSERT_TRUE(wal->Truncate(*second).ok());
  EXPECT_EQ(wal->num_segments(), 2);
  wal.reset();
  EXPECT_EQ(Replay(), (std::vector<std::string>{"b", "c"}));
}

// A crash in the middle of an append leaves part of a record at the end of the newest segment:
// replay stops before it and cuts it off, so the next start does not see it again.
TEST_F(WalTest, CutsATornTailAtEveryLength) {
  const std::string last = "the record being written when the process died";
  for (size_t keep = 0; keep < 8 + last.size(); ++keep) {
    std::filesystem::remove_all(dir_);
    {
      std::unique_ptr<Wal> wal = Open();
      ASSERT_TRUE(wal->Append("first").ok());
      ASSERT_TRUE(wal->Append(last).ok());
    }
    const std::filesystem::path segment = Segments().front();
    std::filesystem::resize_file(segment, 8 + 5 + keep);
    absl::Status status;
    EXPECT_EQ(Replay(&status), std::vector<std::string>{"first"}) << keep;
    EXPECT_TRUE(status.ok()) << status;
    EXPECT_EQ(std::filesystem::file_size(segment), 13u);
    EXPECT_EQ(Replay(&status), std::vector<std::string>{"first"}) << keep;
    EXPECT_TRUE(status.ok()) << status;
  }
}

TEST_F(WalTest, CorruptionBeforeTheNewestSegmentIsDataLoss) {
  {
    std::unique_ptr<Wal> wal = Open();
    ASSERT_TRUE(wal->Append("first").ok());
    ASSERT_TRUE(wal->Append("second").ok());
    ASSERT_TRUE(wal->Rotate().ok());
    ASSERT_TRUE(wal->Append("third").ok());
  }
  {
    // Flip one payload byte of "first": its checksum no longer matches.
    std::fstream f(Segments().front(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(9);
    f.put('X');
  }
  absl::Status status;
  Replay(&status);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("corrupt WAL record"));
}

// A full disk, simulated with a file size limit: the append fails part way, what it wrote is
// taken back, and the log goes on once there is room again.
TEST_F(WalTest, AFailedAppendIsTakenBackAndLaterAppendsWork) {
  std::unique_ptr<Wal> wal = Open();
  ASSERT_TRUE(wal->Append("before").ok());
  signal(SIGXFSZ, SIG_IGN);  // report EFBIG instead of killing the process
  rlimit old_limit;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  rlimit small = old_limit;
  small.rlim_cur = 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  const absl::Status failed = wal->Append(std::string(10000, 'x'));
  const absl::Status after = wal->Append("after");
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable) << failed;
  EXPECT_THAT(std::string(failed.message()), ::testing::HasSubstr("File too large"));
  EXPECT_TRUE(after.ok()) << after;
  wal.reset();
  EXPECT_EQ(Replay(), (std::vector<std::string>{"before", "after"}));
}

TEST_F(WalTest, ReplayStopsAtTheCallbacksError) {
  {
    std::unique_ptr<Wal> wal = Open();
    ASSERT_TRUE(wal->Append("a").ok());
    ASSERT_TRUE(wal->Append("b").ok());
  }
  std::unique_ptr<Wal> wal = Open();
  int calls = 0;
  absl::Status status = wal->Replay([&](std::string_view) {
    ++calls;
    return absl::DataLossError("bad record");
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace kura::storage
