// ChildProcess: a program running in the background with an exact
// environment, its stdout and stderr in a log file, for tests that talk to a
// long-running spotkeeper (the controller) while it runs, signal it and
// restart it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace spk::testsupport {

class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env);
  ~ChildProcess();  // Stop()
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool Running();
  // Sends `signal` (e.g. SIGKILL) and waits up to `timeout` for the exit;
  // the exit code, -1 when killed by a signal or still running.
  int Signal(int signal, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // SIGTERM, then SIGKILL after 10 s; the exit code (-1 when killed).
  int Stop();
  // Everything the process wrote so far.
  std::string Log() const;
  // Waits up to `timeout` until the log contains `text`; true when it did.
  bool WaitForLog(const std::string& text, std::chrono::milliseconds timeout);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
  std::string log_;
};

}  // namespace spk::testsupport
