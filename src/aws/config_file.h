// The shared AWS config and credentials files (INI): parsing and profile lookup.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "base/env.h"

namespace spk::aws {

// section name -> key -> value. Keys are lower-cased; comments (# ;) dropped.
using IniFile = std::map<std::string, std::map<std::string, std::string>>;
IniFile ParseIni(const std::string& text);

// The active profile: AWS_PROFILE, else AWS_DEFAULT_PROFILE, else "default".
std::string ActiveProfileName(const Env& env);
// Paths of the files, honouring AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE.
std::string ConfigFilePath(const Env& env);
std::string CredentialsFilePath(const Env& env);

// The settings of `profile` in the config file ("[profile NAME]", or
// "[default]"/"[profile default]" for the default profile). Empty when absent.
std::map<std::string, std::string> LoadConfigProfile(const Env& env, const std::string& profile);
// The section `profile` of the shared credentials file. nullopt when absent.
std::optional<std::map<std::string, std::string>> LoadCredentialsProfile(const Env& env,
                                                                        const std::string& profile);

}  // namespace spk::aws
