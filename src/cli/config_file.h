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
#include <map>
#include <string>
#include <vector>

namespace spk::cli {

// Adds `--config FILE` (SPOTKEEPER_CONFIG) to `cmd`, storing into `path`.
CLI::Option* AddConfigOption(CLI::App* cmd, std::string& path);

// Applies the YAML file at `path` to the options of `cmd` not already given
// (see above). "" on success, else one line naming the file and the problem:
// unreadable, not YAML (with its line), not a mapping, an unknown key, a list
// for a single-valued setting, a nested mapping, or a value the setting rejects.
// `applied`, when given, receives the keys the file set (those not already
// given as a flag or variable).
// `also_known`, when given, is the command whose file this is: every key
// must be one of its settings (else "unknown setting"), and one `cmd` does
// not have is skipped (`doctor` reads the controller's file and uses the
// settings it shares with it).
std::string ApplyConfigFile(CLI::App* cmd, const std::string& path,
                            std::vector<std::string>* applied = nullptr,
                            const CLI::App* also_known = nullptr);

// Where each setting of `cmd` that was given came from, keyed by its long flag
// ("--settle-window"): "--settle-window" (the command line),
// "SPOTKEEPER_SETTLE_WINDOW" (its variable) or "--config FILE: settle-window"
// (the file, `file_keys` as ApplyConfigFile reported them). A setting left at
// its default is absent. Used to name the source in an error message.
using SettingSources = std::map<std::string, std::string>;
SettingSources DescribeSettingSources(CLI::App* cmd, const std::string& config_path,
                                      const std::vector<std::string>& file_keys);

// `message` with its first "--flag" replaced by that flag's source in
// `sources` (unchanged when the flag is absent from it).
std::string NameSettingSource(std::string message, const SettingSources& sources);

}  // namespace spk::cli
