// Runs a program to completion: writes its standard input, collects its
// standard output, waits for it with a deadline. Standard error is inherited,
// so what the program logs goes where this process logs.
//
// Used by the agent's watcher to make each AWS call in a short-lived child
// process (cloud/child_calls.h), so the long-lived watcher never maps the TLS
// and AWS libraries.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/status.h"

namespace spk {

struct SubprocessResult {
  int exit_code = 0;  // the exit status; 128 + N when killed by signal N
  std::string out;    // standard output
};

// Runs argv[0] (a path, not searched in PATH) with `argv` and the current
// environment; it inherits standard error and no other file descriptor. Errors: kUnavailable when it cannot be started; kDeadlineExceeded
// when it is still running after `timeout` (it is then killed with SIGKILL, with
// every process it started: it runs in a process group of its own);
// kResourceExhausted when it writes more than `max_output` bytes (also killed).
// A program that exits without reading all its input is not an error. Safe to
// call from any thread; SIGPIPE is never raised in the caller.
Result<SubprocessResult> RunSubprocess(const std::vector<std::string>& argv,
                                       const std::string& input, std::chrono::milliseconds timeout,
                                       size_t max_output = 1 << 20);

}  // namespace spk
