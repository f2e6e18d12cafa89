// Runs a program with an exact environment and captures its output, for tests
// that exercise the spotkeeper binary as a user would.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace spk::testsupport {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by the timeout or a signal
  std::string out;
  std::string err;
};

// Runs argv[0] (a path) with exactly `env` as its environment and `input` on
// stdin; kills it after `timeout`.
ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env,
                         std::chrono::milliseconds timeout = std::chrono::seconds(60),
                         const std::string& input = "");

// build/spotkeeper of this build tree.
std::string SpotkeeperBinary();

}  // namespace spk::testsupport
