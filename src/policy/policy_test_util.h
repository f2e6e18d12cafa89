// Builders for the policy unit tests: a small world of one Spot Fleet, one
// ECS cluster and one on-demand group, at a fixed time.
#pragma once

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include "policy/action.h"
#include "policy/observation.h"

namespace spk::policy {

inline void PrintTo(const Action& action, std::ostream* os) { *os << Describe(action); }

namespace testing_world {

// 2024-01-01T01:00:00Z plus `seconds`.
inline WallTime At(int seconds) {
  return WallTime(std::chrono::seconds(1704067200 + 3600 + seconds));
}
inline WallTime Ago(int seconds) { return At(-seconds); }
inline const WallTime kNow = At(0);

inline std::string Arn(const std::string& instance_id) {
  return "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/" + instance_id;
}

inline ContainerInstance Container(const std::string& instance_id, int running_tasks = 3,
                                   ContainerStatus status = ContainerStatus::kActive,
                                   const std::string& cluster = "prod") {
  return {cluster, Arn(instance_id), instance_id, status, running_tasks, 0};
}

// Fleet "sfr-a": 16 units, all fulfilled by i-s1..i-s4 (m5.xlarge, 4 units each).
inline SpotCapacitySource FleetA() {
  SpotCapacitySource fleet;
  fleet.id = "sfr-a";
  fleet.target_capacity = 16;
  fleet.fulfilled_capacity = 16;
  fleet.weights = {{"m5.large", 2}, {"m5.xlarge", 4}, {"m5.2xlarge", 8}, {"c5.12xlarge", 12}};
  fleet.instance_ids = {"i-s1", "i-s2", "i-s3", "i-s4"};
  return fleet;
}

inline Notice Interruption(const std::string& instance_id, double units,
                           const std::string& type = "m5.xlarge") {
  Notice notice;
  notice.instance_id = instance_id;
  notice.instance_type = type;
  notice.kind = NoticeKind::kSpotInterruption;
  notice.notice_time = Ago(10);
  notice.termination_time = At(110);
  notice.units = units;
  return notice;
}

inline Notice Rebalance(const std::string& instance_id, double units) {
  Notice notice = Interruption(instance_id, units);
  notice.kind = NoticeKind::kRebalanceRecommendation;
  notice.termination_time.reset();
  return notice;
}

// Scheduled maintenance of `instance_id` starting at `not_before`, seen 10 s ago.
inline Notice Maintenance(const std::string& instance_id, double units, WallTime not_before) {
  Notice notice = Interruption(instance_id, units);
  notice.kind = NoticeKind::kScheduledMaintenance;
  notice.termination_time = not_before;
  return notice;
}

inline OnDemandInstance OnDemand(const std::string& instance_id,
                                 const std::string& state = "InService") {
  return {instance_id, state, false};
}

// Group "od": min 0, max 10, desired 0, 4 units (vCPUs) per instance.
inline OnDemandGroup GroupOd() {
  OnDemandGroup group;
  group.name = "od";
  group.min_size = 0;
  group.max_size = 10;
  group.desired_capacity = 0;
  group.units_per_instance = 4;
  return group;
}

// Fleet A fully fulfilled, its four instances registered with 3 tasks each,
// group "od" empty.
inline Observation World() {
  Observation observation;
  observation.now = kNow;
  observation.sources = {FleetA()};
  observation.on_demand = GroupOd();
  for (const char* id : {"i-s1", "i-s2", "i-s3", "i-s4"}) {
    observation.container_instances.push_back(Container(id));
  }
  return observation;
}

// Adds on-demand instance `id` to the group (and to its desired capacity),
// registered with `tasks` tasks unless `registered` is false.
inline void AddOnDemand(Observation& observation, const std::string& id, int tasks,
                        ContainerStatus status = ContainerStatus::kActive, bool registered = true) {
  observation.on_demand->instances.push_back(OnDemand(id));
  observation.on_demand->desired_capacity += 1;
  if (registered) observation.container_instances.push_back(Container(id, tasks, status));
}

inline Action Drain(std::vector<std::string> instance_ids, const std::string& cluster = "prod") {
  std::vector<std::string> arns;
  for (const auto& id : instance_ids) arns.push_back(Arn(id));
  return {DrainContainerInstances{cluster, arns}, ""};
}
inline Action Activate(std::vector<std::string> instance_ids) {
  std::vector<std::string> arns;
  for (const auto& id : instance_ids) arns.push_back(Arn(id));
  return {ActivateContainerInstances{"prod", arns}, ""};
}
inline Action SetDesired(int desired, bool honor_cooldown = false,
                         const std::string& group = "od") {
  return {SetDesiredCapacity{group, desired, honor_cooldown}, ""};
}
inline Action Terminate(const std::string& instance_id) {
  return {TerminateInstance{instance_id, true}, ""};
}

}  // namespace testing_world
}  // namespace spk::policy
