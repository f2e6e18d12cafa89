#include "base/env.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace spk {

std::optional<std::string> ProcessEnv::Get(const std::string& name) const {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

ProcessEnv& ProcessEnv::Instance() {
  static ProcessEnv env;
  return env;
}

std::optional<std::string> MapEnv::Get(const std::string& name) const {
  auto it = vars_.find(name);
  if (it == vars_.end()) return std::nullopt;
  return it->second;
}

std::string HomeDir(const Env& env) { return env.GetOr("HOME", ""); }

std::string ExpandHome(const Env& env, const std::string& path) {
  if (path.rfind("~/", 0) == 0) return HomeDir(env) + path.substr(1);
  return path;
}

std::optional<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace spk
