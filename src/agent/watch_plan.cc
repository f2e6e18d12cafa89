#include "agent/watch_plan.h"

namespace spk::agent {
namespace {

using nlohmann::json;

int64_t Ms(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

// Reads field `name` of type T from `j` into `out`; false when missing or of another type.
template <typename T>
bool Read(const json& j, const char* name, T* out) {
  auto it = j.find(name);
  if (it == j.end()) return false;
  if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) return false;
  } else if constexpr (std::is_integral_v<T>) {
    if (!it->is_number_integer()) return false;
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return false;
  }
  *out = it->get<T>();
  return true;
}

}  // namespace

json WatchPlanToJson(const WatchPlan& p) {
  json sinks = json::array();
  for (const auto& s : p.sinks) sinks.push_back(cloud::SinkSpecToJson(s));
  return {{"imdsEndpoint", p.imds.endpoint},
          {"imdsDisabled", p.imds.disabled},
          {"imdsV1", p.imds.force_v1},
          {"imdsTimeoutMs", p.imds.timeout.count()},
          {"imdsTokenTtlSeconds", p.imds.token_ttl_seconds},
          {"ecsAgentEndpoint", p.ecs_agent_endpoint},
          {"sinks", sinks},
          {"ecsCalls", p.ecs_calls},
          {"pollIntervalMs", Ms(p.watcher.poll_interval)},
          {"slowPollIntervalMs", Ms(p.watcher.slow_poll_interval)},
          {"drain", p.watcher.drain},
          {"lifecycleAttribute", p.watcher.lifecycle_attribute},
          {"agentVersion", p.watcher.agent_version},
          {"childArgv", p.child_argv},
          {"logFormat", p.log_format},
          {"logLevel", p.log_level}};
}

Result<WatchPlan> WatchPlanFromJson(const json& j) {
  if (!j.is_object()) return InvalidArgumentError("watch plan: a JSON object expected");
  WatchPlan p;
  int64_t imds_timeout = 0, poll = 0, slow_poll = 0;
  const std::pair<const char*, bool> fields[] = {
      {"imdsEndpoint", Read(j, "imdsEndpoint", &p.imds.endpoint)},
      {"imdsDisabled", Read(j, "imdsDisabled", &p.imds.disabled)},
      {"imdsV1", Read(j, "imdsV1", &p.imds.force_v1)},
      {"imdsTimeoutMs", Read(j, "imdsTimeoutMs", &imds_timeout) && imds_timeout > 0},
      {"imdsTokenTtlSeconds", Read(j, "imdsTokenTtlSeconds", &p.imds.token_ttl_seconds)},
      {"ecsAgentEndpoint", Read(j, "ecsAgentEndpoint", &p.ecs_agent_endpoint)},
      {"ecsCalls", Read(j, "ecsCalls", &p.ecs_calls)},
      {"pollIntervalMs", Read(j, "pollIntervalMs", &poll) && poll > 0},
      {"slowPollIntervalMs", Read(j, "slowPollIntervalMs", &slow_poll) && slow_poll > 0},
      {"drain", Read(j, "drain", &p.watcher.drain)},
      {"lifecycleAttribute", Read(j, "lifecycleAttribute", &p.watcher.lifecycle_attribute)},
      {"agentVersion", Read(j, "agentVersion", &p.watcher.agent_version)},
      {"logFormat", Read(j, "logFormat", &p.log_format)},
      {"logLevel", Read(j, "logLevel", &p.log_level)},
  };
  for (const auto& [name, ok] : fields) {
    if (!ok)
      return InvalidArgumentError(std::string("watch plan: \"") + name + "\" missing or malformed");
  }
  p.imds.timeout = std::chrono::milliseconds(imds_timeout);
  p.watcher.poll_interval = std::chrono::milliseconds(poll);
  p.watcher.slow_poll_interval = std::chrono::milliseconds(slow_poll);
  auto argv = j.find("childArgv");
  if (argv == j.end() || !argv->is_array() || argv->empty()) {
    return InvalidArgumentError("watch plan: \"childArgv\" missing or empty");
  }
  for (const auto& a : *argv) {
    if (!a.is_string()) return InvalidArgumentError("watch plan: \"childArgv\" must hold strings");
    p.child_argv.push_back(a.get<std::string>());
  }
  auto sinks = j.find("sinks");
  if (sinks == j.end() || !sinks->is_array() || sinks->empty()) {
    return InvalidArgumentError("watch plan: \"sinks\" missing or empty");
  }
  for (const auto& s : *sinks) {
    auto spec = cloud::SinkSpecFromJson(s);
    if (!spec.ok()) return spec.status().WithContext("watch plan");
    p.sinks.push_back(*spec);
  }
  return p;
}

}  // namespace spk::agent
