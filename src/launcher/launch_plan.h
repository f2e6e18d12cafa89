// The Lambda bundle's `bootstrap` launcher: how it starts the real spotkeeper.
//
// spotkeeper-lambda.zip is laid out as
//   bootstrap                      this launcher, fully static (needs nothing at all)
//   bin/spotkeeper                 the ordinary, dynamically linked binary
//   lib/ld-linux-x86-64.so.2       the dynamic loader it was built against
//   lib/*.so*                      every shared library `ldd` lists for it
// Lambda's provided.al2023 runtime execs <task root>/bootstrap. The launcher runs
//   <dir>/lib/ld-linux-x86-64.so.2 --library-path <dir>/lib <dir>/bin/spotkeeper lambda ARGS...
// so the binary runs on the loader and libraries it was linked with, whatever the
// host's glibc and library versions (the technique of aws-lambda-cpp's packager).
// The launcher reads no files and needs no /proc, shell or libc on the host: it
// works in an otherwise empty root. Deployed as a layer (/opt/bootstrap), it
// finds /opt/bin and /opt/lib the same way.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace spk::launcher {

// The directory part of `path` ("/var/task/bootstrap" -> "/var/task",
// "bootstrap" -> ".", "/bootstrap" -> "/"). Trailing slashes of the directory
// are dropped except for the root itself.
std::string DirName(std::string_view path);

// Joins a directory and a relative name with exactly one '/'.
std::string JoinPath(std::string_view dir, std::string_view name);

struct LaunchPlan {
  std::string program;            // the loader to execv
  std::vector<std::string> argv;  // its full argv, argv[0] included
};

// The exec that starts the bundled spotkeeper, for a launcher located at
// `self_path` (absolute or relative to the current directory) and started with
// `args` (the launcher's own argv without argv[0]): the `lambda` command followed
// by `args`, unchanged.
LaunchPlan PlanLaunch(std::string_view self_path, const std::vector<std::string>& args);

}  // namespace spk::launcher
