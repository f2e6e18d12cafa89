// The process environment, behind an interface so that configuration and
// credential resolution can be tested with any set of variables.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace spk {

class Env {
 public:
  virtual ~Env() = default;
  // The variable's value; nullopt when unset. An empty value is returned as "".
  virtual std::optional<std::string> Get(const std::string& name) const = 0;
  // The value, or `fallback` when unset or empty.
  std::string GetOr(const std::string& name, const std::string& fallback) const {
    auto v = Get(name);
    return v && !v->empty() ? *v : fallback;
  }
};

// Reads the real environment (getenv).
class ProcessEnv final : public Env {
 public:
  std::optional<std::string> Get(const std::string& name) const override;
  static ProcessEnv& Instance();
};

// A fixed set of variables, for tests.
class MapEnv final : public Env {
 public:
  MapEnv() = default;
  explicit MapEnv(std::map<std::string, std::string> vars) : vars_(std::move(vars)) {}
  std::optional<std::string> Get(const std::string& name) const override;
  void Set(const std::string& name, const std::string& value) { vars_[name] = value; }

 private:
  std::map<std::string, std::string> vars_;
};

// The user's home directory ($HOME), or "" when unknown.
std::string HomeDir(const Env& env);
// Expands a leading "~/" with HomeDir().
std::string ExpandHome(const Env& env, const std::string& path);
// Reads a whole file; nullopt when it cannot be opened.
std::optional<std::string> ReadFileToString(const std::string& path);

}  // namespace spk
