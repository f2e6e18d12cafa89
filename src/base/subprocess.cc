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

Result<std::unique_ptr<ChildProcess>> ChildProcess::Start(const std::vector<std::string>& argv,
                                                          std::string input,
                                                          std::chrono::milliseconds timeout,
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

  std::unique_ptr<ChildProcess> child(new ChildProcess());
  child->program_ = program;
  child->input_ = std::move(input);
  child->max_output_ = max_output;
  child->timeout_ = timeout;
  child->deadline_ = SteadyClock::now() + timeout;
  child->pid_ = pid;
  std::swap(child->in_fd_, in_write.fd);
  std::swap(child->out_fd_, out_read.fd);
  if (child->input_.empty()) {
    ::close(child->in_fd_);
    child->in_fd_ = -1;
  } else {
    child->WriteInput();  // usually all of it: a request fits a pipe's buffer
  }
  return child;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    kill(-pid_, SIGKILL);  // the group: the child and anything it started
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (in_fd_ >= 0) ::close(in_fd_);
  if (out_fd_ >= 0) ::close(out_fd_);
}

void ChildProcess::WriteInput() {
  SigpipeBlock no_sigpipe;
  while (in_fd_ >= 0) {
    ssize_t w = ::write(in_fd_, input_.data() + written_, input_.size() - written_);
    if (w > 0) written_ += static_cast<size_t>(w);
    if (w < 0 && errno == EINTR) continue;
    if ((w < 0 && errno != EAGAIN) || written_ == input_.size()) {
      ::close(in_fd_);  // done, or the child stopped reading (EPIPE): not an error
      in_fd_ = -1;
      input_.clear();
    }
    if (w < 0) break;  // EAGAIN: the pipe is full
  }
}

void ChildProcess::ReadOutput() {
  char buf[8192];
  for (;;) {
    ssize_t r = ::read(out_fd_, buf, sizeof buf);
    if (r > 0) {
      result_.out.append(buf, static_cast<size_t>(r));
      if (result_.out.size() > max_output_) {
        return Fail(Status(
            StatusCode::kResourceExhausted,
            program_ + ": wrote more than " + std::to_string(max_output_) + " bytes; killed"));
      }
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r == 0 || errno != EAGAIN) {
      // Output closed: the child is exiting.
      ::close(out_fd_);
      out_fd_ = -1;
      if (in_fd_ >= 0) ::close(in_fd_);
      in_fd_ = -1;
    }
    return;
  }
}

void ChildProcess::Fail(Status status) {
  if (pid_ > 0) {
    kill(-pid_, SIGKILL);
    int st = 0;
    while (waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
  for (int* fd : {&in_fd_, &out_fd_}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
  done_ = std::move(status);
}

bool ChildProcess::Reap() {
  int status = 0;
  pid_t w = waitpid(pid_, &status, WNOHANG);
  if (w == pid_) {
    pid_ = -1;
    result_.exit_code = ExitCode(status);
    done_ = std::move(result_);
    return true;
  }
  if (w < 0 && errno != EINTR) {
    pid_ = -1;  // not ours any more (reaped elsewhere): nothing left to kill
    done_ = InternalError(program_ + ": waitpid: " + std::strerror(errno));
    return true;
  }
  return false;
}

std::optional<Result<SubprocessResult>> ChildProcess::Poll(std::chrono::milliseconds wait) {
  if (done_) return done_;
  const int wait_ms =
      std::min(RemainingMs(deadline_),
               static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(wait.count(), 1 << 30))));
  if (out_fd_ >= 0) {
    pollfd fds[2];
    nfds_t n = 0;
    fds[n++] = {out_fd_, POLLIN, 0};
    if (in_fd_ >= 0) fds[n++] = {in_fd_, POLLOUT, 0};
    if (poll(fds, n, wait_ms) > 0) {
      if (n == 2 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) WriteInput();
      if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) ReadOutput();
      if (done_) return done_;
    }
  }
  if (out_fd_ < 0) {
    if (Reap()) return done_;
    if (wait_ms > 0) {
      poll(nullptr, 0, std::min(wait_ms, 2));
      if (Reap()) return done_;
    }
  }
  if (RemainingMs(deadline_) == 0) {
    Fail(DeadlineExceededError(program_ + ": still running after " +
                               std::to_string(timeout_.count()) + "ms; killed"));
    return done_;
  }
  return std::nullopt;
}

Result<SubprocessResult> RunSubprocess(const std::vector<std::string>& argv,
                                       const std::string& input, std::chrono::milliseconds timeout,
                                       size_t max_output) {
  SPK_ASSIGN_OR_RETURN(std::unique_ptr<ChildProcess> child,
                       ChildProcess::Start(argv, input, timeout, max_output));
  for (;;) {
    if (auto done = child->Poll(timeout)) return *std::move(done);
  }
}

}  // namespace spk
