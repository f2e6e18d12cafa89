// `spotkeeper simulate [SCENARIO]`: runs a scenario (or the built-in default
// day) under each policy and prints a table, JSON or CSV; optionally writes
// the HTML report.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "base/clock.h"

namespace spk::cli {

struct SimulateOptions {
  std::string scenario_path;          // empty: the built-in default scenario
  std::vector<std::string> policies;  // empty: all four
  std::optional<uint64_t> seed;       // overrides the scenario's seed
  int seeds = 0;                      // > 0: that many seeds from the seed, and their spread
  bool json = false;
  bool csv = false;
  std::string report_path;     // empty: no HTML report
  bool print_default = false;  // print the default scenario's YAML and exit
};

CLI::App* AddSimulateCommand(CLI::App& app, SimulateOptions& options);

// Runs the command. Exit code 0 on success, 1 when the report cannot be
// written, 2 for a bad scenario or option (one line on `err` names it).
// `err_is_terminal`: draw a progress bar on `err` for long runs (measured on
// `clock`, the only use of wall time).
int RunSimulate(const SimulateOptions& options, std::ostream& out, std::ostream& err,
                bool err_is_terminal, const Clock& clock);

}  // namespace spk::cli
