// Reading JSON documents that come from outside (IMDS, the ECS agent, AWS
// replies, the agent's own child processes), where any member may be missing
// or of the wrong type.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace spk {

// The string member `key` of `j`; "" when `j` is not an object or the member
// is missing or not a string. Never throws.
inline std::string JsonStringField(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return std::string();
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace spk
