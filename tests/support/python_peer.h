// A Python test peer of tests/tools/ (lifecycle_peer.py, fallback_peer.py) in
// front of moto_server: started with --upstream, its URL read from the first
// line it prints; stopped with the object.
#pragma once

#include <memory>
#include <string>

#include "support/child_process.h"

namespace spk::testsupport {

struct PythonPeer {
  std::unique_ptr<ChildProcess> process;
  std::string url;  // "" when it did not start (process->Log() says why)
};

// Starts tests/tools/`script` against `upstream` (http://127.0.0.1:PORT) and
// waits up to 20 s for its URL.
PythonPeer StartPythonPeer(const std::string& script, const std::string& upstream);

}  // namespace spk::testsupport
