// Runs a program to completion: writes its standard input, collects its
// standard output, waits for it with a deadline. Standard error is inherited,
// so what the program logs goes where this process logs.
//
// Used by the agent's watcher to make each AWS call in a short-lived child
// process (cloud/child_calls.h), so the long-lived watcher never maps the TLS
// and AWS libraries.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace spk {

struct SubprocessResult {
  int exit_code = 0;  // the exit status; 128 + N when killed by signal N
  std::string out;    // standard output
};

// Runs argv[0] (a path, not searched in PATH) with `argv` and the current
// environment; it inherits standard error and no other file descriptor. Errors: kUnavailable when
// it cannot be started; kDeadlineExceeded when it is still running after `timeout` (it is then
// killed with SIGKILL, with every process it started: it runs in a process group of its own);
// kResourceExhausted when it writes more than `max_output` bytes (also killed).
// A program that exits without reading all its input is not an error. Safe to
// call from any thread; SIGPIPE is never raised in the caller.
Result<SubprocessResult> RunSubprocess(const std::vector<std::string>& argv,
                                       const std::string& input, std::chrono::milliseconds timeout,
                                       size_t max_output = 1 << 20);

// The same, without blocking: Start() spawns the program, Poll() moves its
// input and output along and says when it has finished. Used by the agent's
// watcher to run several calls at once while it keeps polling.
//
// Errors and limits are RunSubprocess's. The deadline counts from Start().
// Destroying a ChildProcess that is still running kills its process group
// (SIGKILL) and reaps it, so no child outlives its owner or stays a zombie.
// Not thread-safe: one thread uses an object; different objects are independent.
class ChildProcess {
 public:
  // kUnavailable when it cannot be started (pipes, spawn).
  static Result<std::unique_ptr<ChildProcess>> Start(const std::vector<std::string>& argv,
                                                     std::string input,
                                                     std::chrono::milliseconds timeout,
                                                     size_t max_output = 1 << 20);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Waits at most `wait` (zero: not at all) for progress; the result once the
  // program has exited (or was killed for a limit), nullopt while it runs.
  // After a result, further calls return the same result.
  std::optional<Result<SubprocessResult>> Poll(std::chrono::milliseconds wait);

  pid_t pid() const { return pid_; }

 private:
  ChildProcess() = default;
  void WriteInput();
  void ReadOutput();
  bool Reap();  // true once the child has been reaped (done_ set)
  void Fail(Status status);

  std::string program_;
  std::string input_;
  size_t written_ = 0;
  size_t max_output_ = 0;
  std::chrono::milliseconds timeout_{0};
  std::chrono::steady_clock::time_point deadline_;
  int in_fd_ = -1;
  int out_fd_ = -1;
  pid_t pid_ = -1;  // -1 once reaped
  SubprocessResult result_;
  std::optional<Result<SubprocessResult>> done_;
};

}  // namespace spk
