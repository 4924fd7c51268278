#include "storage/wal.h"

#include <bit>
#include <string>
#include <vector>

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

}  // namespace
}  // namespace kura::storage
