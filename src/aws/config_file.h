// The shared AWS config and credentials files (INI): parsing and profile lookup.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "base/env.h"

namespace spk::aws {

// section name -> key -> value. Keys are lower-cased; comments (# ;) dropped.
// Section names are trimmed but keep their case ("profile foo", "default").
// Indented lines continue the previous key's value (botocore's nested
// sub-sections: "s3 =\n  max_concurrent_requests = 10"), joined with '\n'.
using IniFile = std::map<std::string, std::map<std::string, std::string>>;
IniFile ParseIni(const std::string& text);
// Reads and parses `path`; nullopt when the file cannot be read (or path is "").
std::optional<IniFile> ReadIniFile(const std::string& path);
// The config-file section of `profile` in a parsed config file ("[profile NAME]";
// for "default" also "[default]", which "[profile default]" overrides key by key).
// nullopt when no such section exists.
std::optional<std::map<std::string, std::string>> FindConfigProfile(const IniFile& config,
                                                                    const std::string& profile);
// Parses a nested value ("key = value" lines, as ParseIni joins them) into a map.
std::map<std::string, std::string> ParseNestedValue(const std::string& value);

// The active profile: AWS_PROFILE, else AWS_DEFAULT_PROFILE, else "default".
std::string ActiveProfileName(const Env& env);
// True when the profile was named by AWS_PROFILE or AWS_DEFAULT_PROFILE.
bool ProfileExplicitlySet(const Env& env);
// Paths of the files, honouring AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE
// ("~/" expanded); "" when neither the variable nor HOME is set.
std::string ConfigFilePath(const Env& env);
std::string CredentialsFilePath(const Env& env);

// The settings of `profile` in the config file ("[profile NAME]", or
// "[default]"/"[profile default]" for the default profile). Empty when absent.
std::map<std::string, std::string> LoadConfigProfile(const Env& env, const std::string& profile);
// The section `profile` of the shared credentials file. nullopt when absent.
std::optional<std::map<std::string, std::string>> LoadCredentialsProfile(
    const Env& env, const std::string& profile);

}  // namespace spk::aws
