#include "base/subprocess.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace spk {
namespace {

using namespace std::chrono_literals;

TEST(SubprocessTest, PassesInputAndCollectsOutput) {
  auto r = RunSubprocess({"/bin/cat"}, "hello\nworld", 5s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->out, "hello\nworld");
}

TEST(SubprocessTest, LargeInputAndOutputDoNotDeadlock) {
  std::string big(3 << 20, 'x');  // far beyond a pipe's buffer, both ways
  auto r = RunSubprocess({"/bin/cat"}, big, 10s, 4 << 20);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->out.size(), big.size());
}

TEST(SubprocessTest, ReportsExitCodeAndArguments) {
  auto r = RunSubprocess({"/bin/sh", "-c", "echo \"$0 $1\"; exit 3", "a", "b"}, "", 5s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "a b\n");
}

TEST(SubprocessTest, ChildIgnoringItsInputIsNotAnError) {
  // /bin/true exits at once: writing the rest raises EPIPE, never SIGPIPE here.
  auto r = RunSubprocess({"/bin/true"}, std::string(1 << 20, 'x'), 5s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 0);
}

TEST(SubprocessTest, KilledAtTheDeadline) {
  auto start = std::chrono::steady_clock::now();
  auto r = RunSubprocess({"/bin/sleep", "30"}, "", 200ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(SubprocessTest, KillReachesGrandchildren) {
  // The shell's own child holds the output pipe: it must die with the shell,
  // or this call (and whoever reads our stderr) would wait for it.
  auto start = std::chrono::steady_clock::now();
  auto r = RunSubprocess({"/bin/sh", "-c", "sleep 30; true"}, "", 200ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(SubprocessTest, ChildThatClosesOutputButKeepsRunningIsKilled) {
  auto r = RunSubprocess({"/bin/sh", "-c", "exec >&-; sleep 30"}, "", 200ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
}

TEST(SubprocessTest, TooMuchOutputIsKilled) {
  auto r = RunSubprocess({"/bin/sh", "-c", "yes"}, "", 5s, 1000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
}

TEST(SubprocessTest, ChildInheritsNoOtherDescriptor) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);  // not close-on-exec
  ASSERT_EQ(dup2(fds[0], 100), 100);
  auto r = RunSubprocess(
      {"/bin/sh", "-c", "if [ -e /proc/self/fd/100 ]; then echo leaked; else echo closed; fi"}, "",
      5s);
  close(fds[0]);
  close(fds[1]);
  close(100);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->out, "closed\n");
}

TEST(SubprocessTest, MissingProgramIsUnavailable) {
  auto r = RunSubprocess({"/nonexistent/spotkeeper"}, "", 5s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("/nonexistent/spotkeeper"), std::string::npos);
}

TEST(SubprocessTest, KilledBySignalIs128PlusSignal) {
  auto r = RunSubprocess({"/bin/sh", "-c", "kill -TERM $$"}, "", 5s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 128 + 15);
}

}  // namespace
}  // namespace spk
