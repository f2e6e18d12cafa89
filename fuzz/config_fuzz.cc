// The settings file (cli/config_file.h): YAML applied to the controller's
// options (`handle-event`/`controller --config FILE`), then the controller's
// configuration built and validated from them (BuildControllerConfig), as the
// program does. The input is written to a file because that is the interface.
// The command line is built once (building its ~60 options cost more than
// everything else per input); each input starts from it cleared (no option
// given) and from the options as they were right after it was built.
// The same file is then applied as `doctor --config` applies the controller's:
// to a command with two of its settings, the others skipped.
// Invariants: never throws or crashes; an error is one line naming the file;
// the doctor-like command takes only its own keys.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/config_file.h"
#include "cli/controller_command.h"
#include "controller/handler.h"
#include "fuzz_check.h"

namespace {

std::string TempPath() {
  static const std::string path = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/spk_config_fuzz_" +
           std::to_string(::getpid()) + ".yaml";
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = TempPath();
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    if (size > 0) std::fwrite(data, 1, size, f);
    std::fclose(f);
  } else {
    return 0;
  }
  static CLI::App app{"fuzz"};
  static spk::cli::HandleEventOptions options;
  static CLI::App* const cmd = spk::cli::AddHandleEventCommand(app, options);
  static const spk::cli::HandleEventOptions pristine = options;
  app.clear();
  options = pristine;
  const std::string err = spk::cli::ApplyConfigFile(cmd, path);
  if (!err.empty()) {
    FUZZ_CHECK(err.rfind("--config " + path + ": ", 0) == 0);
    return 0;
  }
  spk::controller::ControllerConfig config;
  (void)spk::cli::BuildControllerConfig(options.controller, &config);

  // As `doctor --config` reads it: a command with a few of the controller's
  // settings, the controller's others skipped (also_known).
  static CLI::App doctor_app{"fuzz-doctor"};
  static std::string settle = "10m";
  static std::vector<std::string> clusters;
  static CLI::App* const doctor = [] {
    CLI::App* d = doctor_app.add_subcommand("doctor");
    d->add_option("--settle-window", settle);
    d->add_option("--cluster", clusters)->delimiter(',');
    return d;
  }();
  doctor_app.clear();
  settle = "10m";
  clusters.clear();
  std::vector<std::string> used;
  const std::string derr = spk::cli::ApplyConfigFile(doctor, path, &used, cmd);
  if (!derr.empty()) {
    FUZZ_CHECK(derr.rfind("--config " + path + ": ", 0) == 0);
  } else {
    for (const std::string& key : used) FUZZ_CHECK(key == "settle-window" || key == "cluster");
  }
  return 0;
}
