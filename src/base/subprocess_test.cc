#include "base/subprocess.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

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

// A path that does not exist yet; children wait for it (a barrier that needs no clock).
std::string BarrierPath() {
  static int n = 0;
  return ::testing::TempDir() + "/spk-barrier-" + std::to_string(getpid()) + "-" +
         std::to_string(++n);
}

std::string WaitFor(const std::string& path) {
  return "while [ ! -e " + path + " ]; do sleep 0.01; done; ";
}

void Touch(const std::string& path) { fclose(fopen(path.c_str(), "w")); }

TEST(ChildProcessTest, PollNeverBlocksAndReturnsTheResultOnceDone) {
  const std::string go = BarrierPath();
  auto child =
      ChildProcess::Start({"/bin/sh", "-c", "read x; " + WaitFor(go) + "echo got $x"}, "hi\n", 30s);
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  // The child cannot finish before the barrier: a Poll that waited for it
  // would only return at the 30 s deadline, with an error.
  for (int i = 0; i < 3; ++i) EXPECT_FALSE((*child)->Poll(0ms).has_value());
  EXPECT_FALSE((*child)->Poll(20ms).has_value());
  Touch(go);
  std::optional<Result<SubprocessResult>> r;
  while (!(r = (*child)->Poll(50ms))) {
  }
  unlink(go.c_str());
  ASSERT_TRUE(r->ok()) << r->status().ToString();
  EXPECT_EQ((*r)->out, "got hi\n");
  EXPECT_EQ((*r)->exit_code, 0);
  // Asking again gives the same answer.
  auto again = (*child)->Poll(0ms);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ((*again)->out, "got hi\n");
}

TEST(ChildProcessTest, SeveralRunAtOnce) {
  // Four children that all wait for one barrier, raised only after all four
  // started: they can only finish if they run at the same time.
  const std::string go = BarrierPath();
  std::vector<std::unique_ptr<ChildProcess>> children;
  for (int i = 0; i < 4; ++i) {
    auto c =
        ChildProcess::Start({"/bin/sh", "-c", WaitFor(go) + "echo " + std::to_string(i)}, "", 30s);
    ASSERT_TRUE(c.ok());
    EXPECT_FALSE((*c)->Poll(0ms).has_value());
    children.push_back(std::move(*c));
  }
  Touch(go);
  for (size_t i = 0; i < children.size(); ++i) {
    std::optional<Result<SubprocessResult>> r;
    while (!(r = children[i]->Poll(20ms))) {
    }
    ASSERT_TRUE(r->ok()) << r->status().ToString();
    EXPECT_EQ((*r)->out, std::to_string(i) + "\n");
  }
  unlink(go.c_str());
}

TEST(ChildProcessTest, DestroyingARunningChildKillsItsGroup) {
  pid_t grandchild_pid = 0;
  {
    // The shell starts a grandchild and writes its pid to a file.
    char path[] = "/tmp/spk-child-XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    auto child = ChildProcess::Start(
        {"/bin/sh", "-c", std::string("sleep 30 & echo $! > ") + path + "; wait"}, "", 30s);
    ASSERT_TRUE(child.ok());
    for (int i = 0; i < 200 && grandchild_pid == 0; ++i) {
      EXPECT_FALSE((*child)->Poll(10ms).has_value());
      FILE* f = fopen(path, "r");
      if (f != nullptr) {
        if (fscanf(f, "%d", &grandchild_pid) != 1) grandchild_pid = 0;
        fclose(f);
      }
    }
    unlink(path);
    ASSERT_GT(grandchild_pid, 0);
    EXPECT_EQ(kill(grandchild_pid, 0), 0);
  }  // destroyed while running
  // The grandchild got SIGKILL too (it may linger as a zombie of init briefly).
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = kill(grandchild_pid, 0) != 0;
    if (!gone) {
      char stat_path[64];
      snprintf(stat_path, sizeof stat_path, "/proc/%d/stat", grandchild_pid);
      FILE* f = fopen(stat_path, "r");
      char state = '?';
      if (f != nullptr) {
        if (fscanf(f, "%*d %*s %c", &state) != 1) state = '?';
        fclose(f);
      }
      gone = f == nullptr || state == 'Z';
      if (!gone) usleep(10000);
    }
  }
  EXPECT_TRUE(gone);
}

}  // namespace
}  // namespace spk
