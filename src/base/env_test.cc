#include "base/env.h"

#include <gtest/gtest.h>

namespace spk {
namespace {

TEST(EnvTest, MapEnvDistinguishesUnsetFromEmpty) {
  MapEnv env({{"A", "1"}, {"EMPTY", ""}, {"HOME", "/home/u"}});
  EXPECT_EQ(env.Get("A"), "1");
  EXPECT_EQ(env.Get("EMPTY"), "");
  EXPECT_EQ(env.Get("MISSING"), std::nullopt);
  EXPECT_EQ(env.GetOr("EMPTY", "fb"), "fb");
  EXPECT_EQ(ExpandHome(env, "~/.aws/config"), "/home/u/.aws/config");
  EXPECT_EQ(ExpandHome(env, "/etc/x"), "/etc/x");
}

TEST(EnvTest, ReadFileMissingIsNullopt) {
  EXPECT_EQ(ReadFileToString("/nonexistent/spotkeeper/file"), std::nullopt);
}

}  // namespace
}  // namespace spk
