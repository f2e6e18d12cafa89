#include "base/strings.h"

#include <gtest/gtest.h>

namespace spk {
namespace {

TEST(StringsTest, Trim) {
  EXPECT_EQ(Trim("  a b \t\r\n"), "a b");
  EXPECT_EQ(Trim(""), "");
  EXPECT_EQ(Trim(" \n "), "");
}

TEST(StringsTest, AsciiLower) {
  EXPECT_EQ(AsciiLower("X-Amz-Date"), "x-amz-date");
  EXPECT_EQ(AsciiLower("\xc3\x89t\xc3\xa9"), "\xc3\x89t\xc3\xa9");  // non-ASCII untouched
}

}  // namespace
}  // namespace spk
