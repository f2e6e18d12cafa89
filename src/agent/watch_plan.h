// WatchPlan: everything the long-lived watcher process (`spotkeeper-watch`)
// needs, as `spotkeeper agent` resolved and validated it. `spotkeeper agent`
// checks the settings, writes the plan as JSON to a pipe and replaces itself
// (exec, same PID) with `spotkeeper-watch --plan-fd N`, a small program that
// maps none of the TLS and AWS libraries (docs/agent.md explains why).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/watcher.h"
#include "aws/imds.h"
#include "base/status.h"
#include "cloud/sinks.h"

namespace spk::agent {

struct WatchPlan {
  aws::ImdsOptions imds;
  std::string ecs_agent_endpoint;
  std::vector<cloud::SinkSpec> sinks;
  // Set: the ECS calls (drain, lifecycle attribute) can be made (there is a region).
  bool ecs_calls = false;
  // poll_interval, slow_poll_interval, drain, lifecycle_attribute, agent_version.
  WatcherOptions watcher;
  // The command line that makes one call: `spotkeeper [log flags] agent-call [--region R]`.
  std::vector<std::string> child_argv;
  std::string log_format = "text";
  std::string log_level = "info";
};

nlohmann::json WatchPlanToJson(const WatchPlan& plan);
// kInvalidArgument naming the first missing or malformed field.
Result<WatchPlan> WatchPlanFromJson(const nlohmann::json& j);

}  // namespace spk::agent
