#include "launcher/launch_plan.h"

#include <gtest/gtest.h>

namespace spk::launcher {
namespace {

TEST(DirNameTest, Cases) {
  EXPECT_EQ(DirName("/var/task/bootstrap"), "/var/task");
  EXPECT_EQ(DirName("/bootstrap"), "/");
  EXPECT_EQ(DirName("bootstrap"), ".");
  EXPECT_EQ(DirName("./bootstrap"), ".");
  EXPECT_EQ(DirName("a//bootstrap"), "a");
  EXPECT_EQ(DirName("//bootstrap"), "/");
}

TEST(JoinPathTest, ExactlyOneSlash) {
  EXPECT_EQ(JoinPath("/", "lib"), "/lib");
  EXPECT_EQ(JoinPath("/var/task", "lib"), "/var/task/lib");
  EXPECT_EQ(JoinPath("/var/task/", "lib"), "/var/task/lib");
}

TEST(PlanLaunchTest, RunsBundledBinaryOnBundledLoaderWithLambdaCommand) {
  LaunchPlan p = PlanLaunch("/var/task/bootstrap", {});
  EXPECT_EQ(p.program, "/var/task/lib/ld-linux-x86-64.so.2");
  std::vector<std::string> want = {"/var/task/lib/ld-linux-x86-64.so.2", "--library-path",
                                   "/var/task/lib", "/var/task/bin/spotkeeper", "lambda"};
  EXPECT_EQ(p.argv, want);
}

TEST(PlanLaunchTest, PassesArgumentsThroughUnchanged) {
  LaunchPlan p = PlanLaunch("/bootstrap", {"--version", "a b", ""});
  std::vector<std::string> want = {"/lib/ld-linux-x86-64.so.2",
                                   "--library-path",
                                   "/lib",
                                   "/bin/spotkeeper",
                                   "lambda",
                                   "--version",
                                   "a b",
                                   ""};
  EXPECT_EQ(p.argv, want);
}

TEST(PlanLaunchTest, RelativeLauncherPathStaysRelative) {
  LaunchPlan p = PlanLaunch("./bootstrap", {});
  EXPECT_EQ(p.program, "./lib/ld-linux-x86-64.so.2");
  EXPECT_EQ(p.argv[3], "./bin/spotkeeper");
}

}  // namespace
}  // namespace spk::launcher
