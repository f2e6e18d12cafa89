#include "cli/config_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <string>
#include <vector>

#include "base/json.h"

namespace spk::cli {
namespace {

// The long flag names `cmd` accepts in a file, for the unknown-key message.
std::string KnownKeys(const CLI::App* cmd) {
  std::string out;
  for (const CLI::Option* opt : cmd->get_options()) {
    const std::string& name = opt->get_single_name();
    if (opt->get_lnames().empty() || name == "help" || name == "config") continue;
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

}  // namespace

CLI::Option* AddConfigOption(CLI::App* cmd, std::string& path) {
  return cmd
      ->add_option("--config", path,
                   "YAML file of settings: keys are these flags' names without dashes; flags and "
                   "SPOTKEEPER_* variables win over it")
      ->envname("SPOTKEEPER_CONFIG");
}

std::string ApplyConfigFile(CLI::App* cmd, const std::string& path,
                            std::vector<std::string>* applied, const CLI::App* also_known) {
  const std::string where = "--config " + path + ": ";
  std::ifstream in(path, std::ios::binary);
  if (!in) return where + "cannot read the file";
  // A settings file is a few lines: cap what is read, and the nesting, before
  // the (recursive) YAML parser sees it.
  // Read in chunks: a file of a few lines costs a few lines, not the cap.
  constexpr size_t kMaxBytes = 1024 * 1024;
  std::string text;
  char chunk[16 * 1024];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    text.append(chunk, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxBytes) return where + "larger than 1 MiB: not a settings file";
  }
  if (JsonNestingDepth(text, kMaxJsonDepth) > kMaxJsonDepth) {
    return where + "nested deeper than " + std::to_string(kMaxJsonDepth);
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return where + "not valid YAML: line " + std::to_string(e.mark.line + 1) + ": " + e.msg;
  } catch (const std::exception& e) {
    return where + "cannot be read: " + e.what();
  }
  if (root.IsNull()) return "";  // an empty file sets nothing
  if (!root.IsMap()) return where + "must be a mapping of setting names to values";
  for (const auto& entry : root) {
    std::string key;
    try {
      key = entry.first.as<std::string>();
    } catch (const YAML::Exception&) {
      return where + "a key is not a string (line " + std::to_string(entry.first.Mark().line + 1) +
             ")";
    }
    const bool reserved = key == "config" || key == "help" || key.rfind("-", 0) == 0;
    CLI::Option* opt = reserved ? nullptr : cmd->get_option_no_throw("--" + key);
    if (!reserved && also_known) {
      // The file is the other command's: only its settings belong in it;
      // those this command does not have are skipped.
      if (!also_known->get_option_no_throw("--" + key))
        opt = nullptr;
      else if (!opt)
        continue;
    }
    if (!opt) {
      return where + "unknown setting \"" + key +
             "\" (known: " + KnownKeys(also_known ? also_known : cmd) + ")";
    }
    if (opt->count() > 0) continue;  // given as a flag or by its variable: those win
    std::vector<std::string> values;
    const YAML::Node& value = entry.second;
    if (value.IsScalar()) {
      values.push_back(value.Scalar());
    } else if (value.IsSequence()) {
      for (const YAML::Node& item : value) {
        if (!item.IsScalar()) return where + key + ": list items must be plain values";
        values.push_back(item.Scalar());
      }
      if (values.size() > 1 && opt->get_items_expected_max() <= 1) {
        return where + key + ": takes one value, not a list";
      }
    } else if (value.IsNull()) {
      continue;  // "key:" with nothing: leave the default
    } else {
      return where + key + ": must be a value or a list of values, not a mapping";
    }
    try {
      for (const std::string& v : values) opt->add_result(v);
      opt->run_callback();
    } catch (const CLI::Error& e) {
      return where + key + ": " + e.what();
    }
    if (applied) applied->push_back(key);
  }
  return "";
}

SettingSources DescribeSettingSources(CLI::App* cmd, const std::string& config_path,
                                      const std::vector<std::string>& file_keys) {
  SettingSources sources;
  const std::vector<CLI::Option*>& from_command_line = cmd->parse_order();
  for (CLI::Option* opt : cmd->get_options()) {
    if (opt->get_lnames().empty() || opt->count() == 0) continue;
    const std::string name = opt->get_single_name();
    const std::string flag = "--" + name;
    if (std::find(from_command_line.begin(), from_command_line.end(), opt) !=
        from_command_line.end()) {
      sources[flag] = flag;
    } else if (std::find(file_keys.begin(), file_keys.end(), name) != file_keys.end()) {
      sources[flag] = "--config " + config_path + ": " + name;
    } else if (!opt->get_envname().empty()) {
      sources[flag] = opt->get_envname();
    }
  }
  return sources;
}

std::string NameSettingSource(std::string message, const SettingSources& sources) {
  size_t pos = message.find("--");
  if (pos == std::string::npos) return message;
  size_t end = pos + 2;
  while (end < message.size() &&
         (std::isalnum(static_cast<unsigned char>(message[end])) || message[end] == '-')) {
    ++end;
  }
  auto it = sources.find(message.substr(pos, end - pos));
  if (it == sources.end()) return message;
  return message.replace(pos, end - pos, it->second);
}

}  // namespace spk::cli
