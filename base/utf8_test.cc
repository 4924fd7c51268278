#include "base/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace kura::base {
namespace {

TEST(Utf8Test, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("node_cpu_seconds_total"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88"));  // é € 📈
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));                           // U+10FFFF
}

TEST(Utf8Test, RefusesWhatGoRefuses) {
  EXPECT_FALSE(IsValidUtf8("\x80"));              // lone continuation byte
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong, three bytes
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // UTF-16 surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xff"));
}

// The ASCII fast path reads 8 bytes at a time: a bad byte must be found at every position and
// after every length of ASCII run, and a good sequence must pass across word boundaries.
TEST(Utf8Test, FindsBadBytesAtEveryPosition) {
  for (size_t length = 1; length <= 40; ++length) {
    for (size_t pos = 0; pos < length; ++pos) {
      std::string text(length, 'a');
      text[pos] = '\xc3';  // needs a continuation byte; 'a' is none
      EXPECT_FALSE(IsValidUtf8(text)) << length << " " << pos;
      if (pos + 1 < length) {
        text[pos + 1] = '\xa9';
        EXPECT_TRUE(IsValidUtf8(text)) << length << " " << pos;
      }
    }
  }
}

}  // namespace
}  // namespace kura::base
