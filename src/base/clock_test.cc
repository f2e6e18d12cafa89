#include "base/clock.h"

#include <gtest/gtest.h>

namespace spk {
namespace {

using namespace std::chrono_literals;

TEST(ManualClockTest, SleepAdvancesBothTimes) {
  ManualClock clock;
  auto w = clock.WallNow();
  auto m = clock.MonotonicNow();
  clock.SleepFor(1500ms);
  EXPECT_EQ(clock.WallNow() - w, 1500ms);
  EXPECT_EQ(clock.MonotonicNow() - m, 1500ms);
  EXPECT_EQ(clock.slept(), 1500ms);
  clock.Advance(1s);
  EXPECT_EQ(clock.slept(), 1500ms);
}

TEST(ManualClockTest, SetWallLeavesMonotonicAlone) {
  ManualClock clock;
  auto m = clock.MonotonicNow();
  clock.SetWall(WallTime(std::chrono::seconds(0)));
  EXPECT_EQ(FormatIso8601(clock.WallNow()), "1970-01-01T00:00:00Z");
  EXPECT_EQ(clock.MonotonicNow(), m);
}

TEST(DeadlineTest, ExpiresOnTheClock) {
  ManualClock clock;
  Deadline d(clock, 2s);
  EXPECT_FALSE(d.expired());
  EXPECT_EQ(d.remaining(), 2s);
  clock.Advance(3s);
  EXPECT_TRUE(d.expired());
  EXPECT_EQ(d.remaining(), Duration::zero());
}

TEST(Iso8601Test, FormatAndParseRoundTrip) {
  WallTime t = WallTime(std::chrono::seconds(1440938160)) + 123ms;
  EXPECT_EQ(FormatIso8601(t), "2015-08-30T12:36:00Z");
  EXPECT_EQ(FormatIso8601(t, true), "2015-08-30T12:36:00.123Z");
  WallTime back;
  ASSERT_TRUE(ParseIso8601("2015-08-30T12:36:00.123Z", &back));
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(back - t).count(), 0);
  ASSERT_TRUE(ParseIso8601("2015-08-30T14:36:00+02:00", &back));
  EXPECT_EQ(FormatIso8601(back), "2015-08-30T12:36:00Z");
}

TEST(Iso8601Test, RejectsGarbage) {
  WallTime t;
  EXPECT_FALSE(ParseIso8601("", &t));
  EXPECT_FALSE(ParseIso8601("yesterday", &t));
  EXPECT_FALSE(ParseIso8601("2015-13-30T12:36:00Z", &t));
  EXPECT_FALSE(ParseIso8601("2015-08-30T12:36:00 junk", &t));
}

// Issue 12: each of these once threw (std::stoi on the offset), read an
// uninitialised or NaN value, or overflowed the nanosecond clock.
TEST(Iso8601Test, RejectsMalformedOffsetsFractionsAndRangesWithoutThrowing) {
  WallTime t = WallTime(std::chrono::seconds(7));
  for (const char* bad : {"2030-01-01T00:00:00+ab:cd",
                          "2030-01-01T00:00:00+1:30",
                          "2030-01-01T00:00:00+24:00",
                          "2030-01-01T00:00:00+01:60",
                          "2030-01-01T00:00:00+01:00Z",
                          "2030-01-01T00:00:00Zjunk",
                          "2030-01-01T00:02:nan",
                          "2030-01-01T00:02:inf",
                          "2030-01-01T00:02:1e9",
                          "2030-01-01T00:02:-1",
                          "2030-01-01T00:00:00.",
                          "2030-01-01T00:00:00.Z",
                          "2030-01-01T00:00:00.1234567890123Z",
                          "2030-02-29T00:00:00Z",
                          "2030-04-31T00:00:00Z",
                          "2030-01-01T24:00:00Z",
                          "2030-01-01T00:00:61Z",
                          " 2030-01-01T00:00:00Z",
                          "+030-01-01T00:00:00Z",
                          "0001-01-01T00:00:00Z",
                          "9999-12-31T23:59:59Z",
                          "2030-01-01 00:00:00Z",
                          "2030-01-01T00:00:00+01",
                          "2030-01-01T00:00"}) {
    EXPECT_FALSE(ParseIso8601(bad, &t)) << bad;
  }
  EXPECT_FALSE(ParseIso8601(std::string("2030-01-01T00:00:00\0Z", 21), &t));
  EXPECT_EQ(t, WallTime(std::chrono::seconds(7)));  // untouched on failure
}

TEST(Iso8601Test, AcceptsTheGoodNeighbours) {
  WallTime t;
  ASSERT_TRUE(ParseIso8601("2030-01-01T00:00:00+01:30", &t));
  EXPECT_EQ(FormatIso8601(t), "2029-12-31T22:30:00Z");
  ASSERT_TRUE(ParseIso8601("2030-01-01T00:00:00-00:30", &t));
  EXPECT_EQ(FormatIso8601(t), "2030-01-01T00:30:00Z");
  ASSERT_TRUE(ParseIso8601("2028-02-29T00:02:03.5", &t));
  EXPECT_EQ(FormatIso8601(t, true), "2028-02-29T00:02:03.500Z");
  ASSERT_TRUE(ParseIso8601("2030-01-01t00:00:00.123456789z", &t));
  EXPECT_EQ(t.time_since_epoch().count() % 1000000000, 123456789);
  ASSERT_TRUE(ParseIso8601("1900-01-01T00:00:00.250Z", &t));
  EXPECT_EQ(FormatIso8601(t, true), "1900-01-01T00:00:00.250Z");  // before 1970: floor
  ASSERT_TRUE(ParseIso8601("2200-12-31T23:59:59Z", &t));
  EXPECT_EQ(FormatIso8601(t), "2200-12-31T23:59:59Z");
}

}  // namespace
}  // namespace spk
