#include "base/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace spk {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct Fd {
  int fd = -1;
  ~Fd() { Close(); }
  void Close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

int RemainingMs(SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// Blocks SIGPIPE in this thread for the object's life; a SIGPIPE raised
// meanwhile (writing to a child that exited) is consumed, not delivered.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_);
  }
  ~SigpipeBlock() {
    if (!was_pending_) {
      sigset_t pipe_set;
      sigemptyset(&pipe_set);
      sigaddset(&pipe_set, SIGPIPE);
      timespec zero{};
      while (sigtimedwait(&pipe_set, nullptr, &zero) == SIGPIPE) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t old_;
  bool was_pending_ = false;
};

int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

}  // namespace

Result<SubprocessResult> RunSubprocess(const std::vector<std::string>& argv,
                                       const std::string& input, std::chrono::milliseconds timeout,
                                       size_t max_output) {
  if (argv.empty()) return InvalidArgumentError("RunSubprocess: no program");
  const std::string& program = argv[0];
  int in_pipe[2];
  int out_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0)
    return UnavailableError(program + ": pipe: " + std::strerror(errno));
  Fd in_read{in_pipe[0]}, in_write{in_pipe[1]};
  if (pipe2(out_pipe, O_CLOEXEC) != 0)
    return UnavailableError(program + ": pipe: " + std::strerror(errno));
  Fd out_read{out_pipe[0]}, out_write{out_pipe[1]};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_read.fd, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out_write.fd, STDOUT_FILENO);
  // Nothing else of ours (sockets, other pipes) leaks into the child.
  posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
  // The child starts with default signal handling and nothing blocked.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  // Its own process group, so that a kill reaches whatever it started too.
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, program.c_str(), &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return UnavailableError(program + ": cannot start: " + std::strerror(rc));
  in_read.Close();
  out_write.Close();
  fcntl(in_write.fd, F_SETFL, O_NONBLOCK);
  fcntl(out_read.fd, F_SETFL, O_NONBLOCK);

  SigpipeBlock no_sigpipe;
  const auto deadline = SteadyClock::now() + timeout;
  SubprocessResult result;
  size_t written = 0;
  if (input.empty()) in_write.Close();
  Status failure;
  while (out_read.fd >= 0 && failure.ok()) {
    pollfd fds[2];
    nfds_t n = 0;
    fds[n++] = {out_read.fd, POLLIN, 0};
    if (in_write.fd >= 0) fds[n++] = {in_write.fd, POLLOUT, 0};
    int ready = poll(fds, n, RemainingMs(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      failure = DeadlineExceededError(program + ": still running after " +
                                      std::to_string(timeout.count()) + "ms; killed");
      break;
    }
    if (n == 2 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      ssize_t w = ::write(in_write.fd, input.data() + written, input.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) {
        in_write.Close();  // done, or the child stopped reading (EPIPE): not an error
      }
    }
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      char buf[8192];
      ssize_t r = ::read(out_read.fd, buf, sizeof buf);
      if (r > 0) {
        result.out.append(buf, static_cast<size_t>(r));
        if (result.out.size() > max_output) {
          failure = Status(
              StatusCode::kResourceExhausted,
              program + ": wrote more than " + std::to_string(max_output) + " bytes; killed");
        }
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        out_read.Close();
      }
    }
  }
  in_write.Close();
  // Output closed: the child is exiting. Wait for it, within the deadline.
  int status = 0;
  while (failure.ok()) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      result.exit_code = ExitCode(status);
      return result;
    }
    if (w < 0 && errno != EINTR)
      return InternalError(program + ": waitpid: " + std::strerror(errno));
    if (RemainingMs(deadline) == 0) {
      failure = DeadlineExceededError(program + ": still running after " +
                                      std::to_string(timeout.count()) + "ms; killed");
      break;
    }
    poll(nullptr, 0, 2);
  }
  kill(-pid, SIGKILL);  // the group: the child and anything it started
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return failure;
}

}  // namespace spk
