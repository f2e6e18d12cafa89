#include "cli/duration_setting.h"

#include <gtest/gtest.h>

namespace spk::cli {
namespace {

using std::chrono::milliseconds;

TEST(ParseDurationSettingTest, ReadsSecondsMillisecondsAndMinutes) {
  Duration d{};
  ASSERT_TRUE(ParseDurationSetting("250ms", &d));
  EXPECT_EQ(d, milliseconds(250));
  ASSERT_TRUE(ParseDurationSetting("1.5s", &d));
  EXPECT_EQ(d, milliseconds(1500));
  ASSERT_TRUE(ParseDurationSetting("2m", &d));
  EXPECT_EQ(d, std::chrono::minutes(2));
  ASSERT_TRUE(ParseDurationSetting("20", &d));
  EXPECT_EQ(d, std::chrono::seconds(20));
  ASSERT_TRUE(ParseDurationSetting("43200m", &d));  // 30 days: the cap itself
  EXPECT_EQ(d, kMaxDurationSetting);
}

// Issue 12: std::stod accepted all of these (nan and inf became undefined
// behaviour in the conversion to nanoseconds, 1e300 overflowed it).
TEST(ParseDurationSettingTest, RejectsNanInfHugeAndMalformedWithoutThrowing) {
  Duration d = milliseconds(7);
  for (const char* bad : {"",
                          "nan",
                          "inf",
                          "-inf",
                          "NaN",
                          "infinity",
                          "1e300",
                          "1e3",
                          "0x10",
                          "-1",
                          "+1",
                          "1.5.5s",
                          ".",
                          "s",
                          "10 s",
                          "10h",
                          "43201m",
                          "1e-3ms",
                          "99999999999999999999999999999999999",
                          "5sec",
                          " 5"}) {
    EXPECT_FALSE(ParseDurationSetting(bad, &d)) << bad;
  }
  EXPECT_FALSE(ParseDurationSetting(std::string("5\0s", 3), &d));
  EXPECT_EQ(d, milliseconds(7));  // untouched
}

}  // namespace
}  // namespace spk::cli
