// What a decision asks the world to do. Each action carries a human reason
// (logs, `handle-event` output). Actions are values; executing them is the
// caller's business (real AWS, the simulator, or nothing with --dry-run).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

namespace spk::policy {

// UpdateContainerInstancesState(status=DRAINING) for at most 10 ARNs of one cluster.
struct DrainContainerInstances {
  std::string cluster;
  std::vector<std::string> container_instance_arns;
  bool operator==(const DrainContainerInstances&) const = default;
};

// UpdateContainerInstancesState(status=ACTIVE): undo a drain we started for a
// removal that is no longer wanted.
struct ActivateContainerInstances {
  std::string cluster;
  std::vector<std::string> container_instance_arns;
  bool operator==(const ActivateContainerInstances&) const = default;
};

// SetDesiredCapacity on an Auto Scaling group.
struct SetDesiredCapacity {
  std::string group;
  int desired = 0;
  bool honor_cooldown = false;
  bool operator==(const SetDesiredCapacity&) const = default;
};

// TerminateInstanceInAutoScalingGroup.
struct TerminateInstance {
  std::string instance_id;
  bool decrement_desired = true;
  bool operator==(const TerminateInstance&) const = default;
};

using ActionKind = std::variant<DrainContainerInstances, ActivateContainerInstances,
                                SetDesiredCapacity, TerminateInstance>;

struct Action {
  ActionKind what;
  std::string reason;
  // Equal when `what` is equal; the reason is prose and not compared.
  bool operator==(const Action& other) const { return what == other.what; }
};

// A part of the decision that was not taken because an observation it needs
// failed. The caller should retry (e.g. leave the SQS message for redelivery).
struct Skip {
  std::string part;    // "on-demand sizing", "drain", "scale-in"
  std::string reason;  // the failed read's Status, as text
  bool operator==(const Skip& other) const { return part == other.part; }
};

// "drain-container-instances", "activate-container-instances",
// "set-desired-capacity", "terminate-instance".
const char* ActionName(const ActionKind& action);

// One line for logs: "set-desired-capacity group=od desired=3 honor_cooldown=false: <reason>".
std::string Describe(const Action& action);

// {"action": "set-desired-capacity", "group": "od", "desired": 3,
//  "honor_cooldown": false, "reason": "..."}; field names as in the structs.
nlohmann::json ToJson(const Action& action);
nlohmann::json ToJson(const std::vector<Action>& actions);
nlohmann::json ToJson(const Skip& skip);

}  // namespace spk::policy
