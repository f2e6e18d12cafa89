#include "controller/recent_keys.h"

#include <gtest/gtest.h>

namespace spk::controller {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const WallTime kT0 = WallTime(seconds(1'800'000'000));

TEST(RecentKeysTest, RemembersWhatWasInserted) {
  RecentKeys keys(10, minutes(60));
  EXPECT_FALSE(keys.Contains("a", kT0));
  keys.Insert("a", kT0);
  EXPECT_TRUE(keys.Contains("a", kT0 + minutes(59)));
  EXPECT_FALSE(keys.Contains("b", kT0));
  EXPECT_EQ(keys.size(), 1u);
}

TEST(RecentKeysTest, ForgetsAfterMaxAge) {
  RecentKeys keys(10, minutes(60));
  keys.Insert("a", kT0);
  keys.Insert("b", kT0 + minutes(30));
  EXPECT_FALSE(keys.Contains("a", kT0 + minutes(60)));
  EXPECT_TRUE(keys.Contains("b", kT0 + minutes(60)));
  EXPECT_EQ(keys.size(), 1u);
}

TEST(RecentKeysTest, ARepeatKeepsItsFirstTime) {
  RecentKeys keys(10, minutes(60));
  keys.Insert("a", kT0);
  keys.Insert("a", kT0 + minutes(50));
  EXPECT_FALSE(keys.Contains("a", kT0 + minutes(61)));
}

TEST(RecentKeysTest, CapacityForgetsTheOldestFirst) {
  RecentKeys keys(3, minutes(60));
  for (const char* k : {"a", "b", "c", "d"}) keys.Insert(k, kT0);
  EXPECT_EQ(keys.size(), 3u);
  EXPECT_FALSE(keys.Contains("a", kT0));
  EXPECT_TRUE(keys.Contains("b", kT0));
  EXPECT_TRUE(keys.Contains("d", kT0));
}

TEST(RecentKeysTest, StaysBoundedUnderManyKeys) {
  RecentKeys keys(1000, minutes(60));
  for (int i = 0; i < 100'000; ++i) {
    keys.Insert("id:" + std::to_string(i), kT0 + seconds(i / 100));
    ASSERT_LE(keys.size(), 1000u);
  }
  EXPECT_TRUE(keys.Contains("id:99999", kT0 + seconds(1000)));
  EXPECT_FALSE(keys.Contains("id:98999", kT0 + seconds(1000)));
}

}  // namespace
}  // namespace spk::controller
