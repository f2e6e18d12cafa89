#include "cli/watch.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <string>

namespace spk::cli {
namespace {

// A pipe holding `text`, its write end closed: what `spotkeeper agent` hands over.
int PlanFd(const std::string& text) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  EXPECT_EQ(write(fds[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fds[1]);
  return fds[0];
}

TEST(WatchTest, ABadPlanIsAnInternalErrorNotAWrongSetting) {
  std::atomic<bool> stop{true};
  // Exit 1, not 2: the systemd unit does not restart after exit 2.
  testing::internal::CaptureStderr();
  EXPECT_EQ(RunWatch(PlanFd("not json"), stop), 1);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("is not JSON"), std::string::npos);

  testing::internal::CaptureStderr();
  EXPECT_EQ(RunWatch(PlanFd(R"({"agentVersion":"0.0.1"})"), stop), 1);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("plan from spotkeeper 0.0.1"), std::string::npos) << err;
  EXPECT_NE(err.find("install both binaries from the same build"), std::string::npos) << err;
}

TEST(WatchTest, StartedByHandIsAUsageError) {
  char name[] = "spotkeeper-watch";
  char* argv[] = {name, nullptr};
  testing::internal::CaptureStderr();
  EXPECT_EQ(WatchMain(1, argv), 2);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("started by `spotkeeper agent`"),
            std::string::npos);
}

}  // namespace
}  // namespace spk::cli
