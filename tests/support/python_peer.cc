#include "support/python_peer.h"

#include <chrono>
#include <cstdlib>
#include <map>
#include <vector>

namespace spk::testsupport {
namespace {

// The test's environment variable `name`, "" when unset.
std::string TestEnv(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

PythonPeer StartPythonPeer(const std::string& script, const std::string& upstream) {
  std::map<std::string, std::string> env = {
      {"PATH", TestEnv("PATH")}, {"HOME", TestEnv("HOME")}, {"PYTHONUNBUFFERED", "1"}};
  if (!TestEnv("PYENV_ROOT").empty()) env["PYENV_ROOT"] = TestEnv("PYENV_ROOT");
  PythonPeer peer;
  peer.process = std::make_unique<ChildProcess>(
      std::vector<std::string>{"/usr/bin/env", "python3",
                               std::string(SPK_SOURCE_DIR) + "/tests/tools/" + script, "--upstream",
                               upstream},
      env);
  if (!peer.process->WaitForLog("http://127.0.0.1:", std::chrono::seconds(20))) return peer;
  const std::string log = peer.process->Log();
  const size_t at = log.find("http://127.0.0.1:");
  peer.url = log.substr(at, log.find('\n', at) - at);
  return peer;
}

}  // namespace spk::testsupport
