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

}  // namespace
}  // namespace spk
