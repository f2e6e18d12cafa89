#include "aws/config_file.h"

#include <cctype>
#include <sstream>

#include "base/strings.h"

namespace spk::aws {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

// Drops a trailing " # comment" or " ; comment": a comment marker counts only
// when whitespace precedes it, so that secrets containing '#' or ';' survive.
std::string StripInlineComment(const std::string& value) {
  for (size_t i = 1; i < value.size(); ++i) {
    if ((value[i] == '#' || value[i] == ';') && IsSpace(value[i - 1])) return value.substr(0, i);
  }
  return value;
}

// "profile  foo" -> "profile foo"; other names as they are (trimmed).
std::string NormalizeSectionName(const std::string& raw) {
  std::string name = Trim(raw);
  for (const char* prefix : {"profile", "services", "sso-session"}) {
    std::string p = prefix;
    if (name.size() > p.size() && name.compare(0, p.size(), p) == 0 && IsSpace(name[p.size()])) {
      return p + " " + Trim(name.substr(p.size()));
    }
  }
  return name;
}

}  // namespace

IniFile ParseIni(const std::string& text) {
  IniFile out;
  std::istringstream in(text);
  std::string line;
  std::string section;
  bool in_section = false;
  std::string last_key;  // the key a more indented continuation line belongs to
  size_t last_key_indent = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    size_t indent = 0;
    while (indent < line.size() && IsSpace(line[indent])) ++indent;
    if (t[0] == '[') {
      auto close = t.find(']');
      if (close == std::string::npos) {  // malformed header: ignore what follows it
        in_section = false;
        last_key.clear();
        continue;
      }
      section = NormalizeSectionName(t.substr(1, close - 1));
      in_section = !section.empty();
      if (in_section) out[section];
      last_key.clear();
      continue;
    }
    if (!in_section) continue;
    auto& values = out[section];
    if (!last_key.empty() && indent > last_key_indent) {
      std::string& v = values[last_key];
      if (!v.empty()) v += '\n';
      v += StripInlineComment(t);
      v = Trim(v);
      continue;
    }
    auto eq = t.find('=');
    if (eq == std::string::npos) {
      last_key.clear();
      continue;
    }
    std::string key = AsciiLower(Trim(t.substr(0, eq)));
    if (key.empty()) {
      last_key.clear();
      continue;
    }
    values[key] = Trim(StripInlineComment(Trim(t.substr(eq + 1))));
    last_key = key;
    last_key_indent = indent;
  }
  return out;
}

std::optional<IniFile> ReadIniFile(const std::string& path) {
  if (path.empty()) return std::nullopt;
  auto text = ReadFileToString(path);
  if (!text) return std::nullopt;
  return ParseIni(*text);
}

std::map<std::string, std::string> ParseNestedValue(const std::string& value) {
  std::map<std::string, std::string> out;
  std::istringstream in(value);
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = AsciiLower(Trim(line.substr(0, eq)));
    if (!key.empty()) out[key] = Trim(line.substr(eq + 1));
  }
  return out;
}

std::string ActiveProfileName(const Env& env) {
  auto p = env.Get("AWS_PROFILE");
  if (p && !p->empty()) return *p;
  p = env.Get("AWS_DEFAULT_PROFILE");
  if (p && !p->empty()) return *p;
  return "default";
}

bool ProfileExplicitlySet(const Env& env) {
  return !env.GetOr("AWS_PROFILE", "").empty() || !env.GetOr("AWS_DEFAULT_PROFILE", "").empty();
}

namespace {
std::string FilePath(const Env& env, const char* var, const char* default_name) {
  auto v = env.Get(var);
  if (v && !v->empty()) return ExpandHome(env, *v);
  std::string home = HomeDir(env);
  if (home.empty()) return "";
  if (home.back() == '/') home.pop_back();
  return home + "/.aws/" + default_name;
}
}  // namespace

std::string ConfigFilePath(const Env& env) { return FilePath(env, "AWS_CONFIG_FILE", "config"); }

std::string CredentialsFilePath(const Env& env) {
  return FilePath(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
}

std::optional<std::map<std::string, std::string>> FindConfigProfile(const IniFile& config,
                                                                    const std::string& profile) {
  std::optional<std::map<std::string, std::string>> out;
  if (profile == "default") {
    if (auto it = config.find("default"); it != config.end()) out = it->second;
  }
  if (auto it = config.find("profile " + profile); it != config.end()) {
    if (!out) out.emplace();
    for (const auto& [k, v] : it->second) (*out)[k] = v;
  }
  return out;
}

std::map<std::string, std::string> LoadConfigProfile(const Env& env, const std::string& profile) {
  auto ini = ReadIniFile(ConfigFilePath(env));
  if (!ini) return {};
  auto p = FindConfigProfile(*ini, profile);
  return p ? *p : std::map<std::string, std::string>{};
}

std::optional<std::map<std::string, std::string>> LoadCredentialsProfile(
    const Env& env, const std::string& profile) {
  auto ini = ReadIniFile(CredentialsFilePath(env));
  if (!ini) return std::nullopt;
  auto it = ini->find(profile);
  if (it == ini->end()) return std::nullopt;
  return it->second;
}

}  // namespace spk::aws
