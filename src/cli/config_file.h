// Settings from a YAML file (`--config FILE`, SPOTKEEPER_CONFIG) for a parsed
// subcommand. Each top-level key is one of the subcommand's long flag names
// without the leading dashes; its value is a scalar, or a list for a
// repeatable setting:
//
//   cluster: [web, batch]
//   spot-fleet-id: sfr-0123
//   on-demand-asg: od
//   settle-window: 10m
//   dry-run: false
//
// Precedence: a flag on the command line wins over its SPOTKEEPER_* variable,
// which wins over the file (a setting given either way is left alone).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace spk::cli {

// Adds `--config FILE` (SPOTKEEPER_CONFIG) to `cmd`, storing into `path`.
CLI::Option* AddConfigOption(CLI::App* cmd, std::string& path);

// Applies the YAML file at `path` to the options of `cmd` not already given
// (see above). "" on success, else one line naming the file and the problem:
// unreadable, not YAML (with its line), not a mapping, an unknown key, a list
// for a single-valued setting, a nested mapping, or a value the setting rejects.
std::string ApplyConfigFile(CLI::App* cmd, const std::string& path);

}  // namespace spk::cli
