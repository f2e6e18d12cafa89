// `bootstrap`: the Lambda bundle's static launcher (see launcher/launch_plan.h).
// Finds its own location (/proc/self/exe, else the path it was exec'd by, for
// roots without /proc), then execs the bundled loader on the bundled spotkeeper.
// On failure it prints why on stderr and exits 127, which Lambda reports as
// Runtime.ExitError with that message in the function's log.
#include <sys/auxv.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "launcher/launch_plan.h"

namespace {

constexpr int kExitCannotExec = 127;

// The launcher's own path; "" when neither /proc nor the auxiliary vector has it.
std::string SelfPath() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n > 0) return std::string(buf, static_cast<size_t>(n));
  // The pathname given to execve: absolute, or relative to the unchanged cwd.
  const char* execfn = reinterpret_cast<const char*>(getauxval(AT_EXECFN));
  return execfn != nullptr ? std::string(execfn) : std::string();
}

}  // namespace

int main(int argc, char** argv) {
  std::string self = SelfPath();
  if (self.empty()) {
    std::fprintf(stderr, "bootstrap: cannot find its own path (no /proc/self/exe, no AT_EXECFN)\n");
    return kExitCannotExec;
  }
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  spk::launcher::LaunchPlan plan = spk::launcher::PlanLaunch(self, args);
  std::vector<char*> exec_argv;
  for (std::string& a : plan.argv) exec_argv.push_back(a.data());
  exec_argv.push_back(nullptr);
  execv(plan.program.c_str(), exec_argv.data());
  std::fprintf(stderr, "bootstrap: cannot run %s: %s (is the bundle unpacked whole?)\n",
               plan.program.c_str(), std::strerror(errno));
  return kExitCannotExec;
}
