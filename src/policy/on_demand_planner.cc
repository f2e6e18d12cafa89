#include "policy/on_demand_planner.h"

#include <algorithm>
#include <chrono>
#include <sstream>
#include <tuple>

#include "policy/drain_planner.h"
#include "policy/units.h"

namespace spk::policy {
namespace {

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// Counted in the group's desired capacity and removable: Pending* or InService.
bool IsLive(const OnDemandInstance& instance) {
  return StartsWith(instance.lifecycle_state, "Pending") || instance.lifecycle_state == "InService";
}

const OnDemandInstance* FindInstance(const OnDemandGroup& group, const std::string& id) {
  for (const OnDemandInstance& instance : group.instances) {
    if (instance.instance_id == id) return &instance;
  }
  return nullptr;
}

// Every container lookup of the planner is of an instance of the group (the
// removals are kept to those by LiveRemovals).
std::vector<std::string_view> InstanceIds(const OnDemandGroup& group) {
  std::vector<std::string_view> ids;
  ids.reserve(group.instances.size());
  for (const OnDemandInstance& instance : group.instances) ids.push_back(instance.instance_id);
  return ids;
}

// 4 -> "4", 2.5 -> "2.5".
std::string FormatUnits(double units) {
  std::ostringstream out;
  out << units;
  return out.str();
}

std::string Seconds(Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + " s";
}

int Tasks(const ContainerInstance* container) {
  return container ? container->running_tasks + container->pending_tasks : 0;
}

// Keeps only removals of instances still live in the group (a terminated one
// has left, and its TerminateInstance already decremented the desired count).
std::map<std::string, WallTime> LiveRemovals(const OnDemandGroup& group,
                                             const std::map<std::string, WallTime>& removing) {
  std::map<std::string, WallTime> live;
  for (const auto& [id, since] : removing) {
    const OnDemandInstance* instance = FindInstance(group, id);
    if (instance && IsLive(*instance)) live.emplace(id, since);
  }
  return live;
}

int RegisteredAndKept(const Observation& observation, const ContainerIndex& containers,
                      const std::map<std::string, WallTime>& removing) {
  int count = 0;
  for (const OnDemandInstance& instance : observation.on_demand->instances) {
    if (instance.lifecycle_state != "InService" || removing.count(instance.instance_id)) continue;
    const ContainerInstance* container =
        containers.Find(instance.instance_id);
    if (container && container->status == ContainerStatus::kActive) ++count;
  }
  return count;
}

// Cancels up to `count` removals, those with the most tasks first, and
// re-activates their container instances.
void CancelRemovals(const ContainerIndex& containers, const PolicyConfig& config, int count,
                    OnDemandPlan& plan) {
  std::vector<std::pair<int, std::string>> by_tasks;
  for (const auto& [id, since] : plan.tracker.removing) {
    by_tasks.emplace_back(-Tasks(containers.Find(id)), id);
  }
  std::sort(by_tasks.begin(), by_tasks.end());
  by_tasks.resize(std::min<size_t>(by_tasks.size(), count));
  std::vector<const ContainerInstance*> to_activate;
  for (const auto& [tasks, id] : by_tasks) {
    plan.tracker.removing.erase(id);
    const ContainerInstance* container =
        containers.Find(id);
    if (container) to_activate.push_back(container);
  }
  for (ClusterBatch& batch : BatchByCluster(to_activate, config.drain_batch_size)) {
    plan.actions.push_back({ActivateContainerInstances{batch.cluster, std::move(batch.arns)},
                            "shortfall rose again: keep on-demand instances being removed"});
  }
}

void ScaleUp(const OnDemandGroup& group, int effective, OnDemandPlan& plan) {
  int desired = group.desired_capacity + (plan.needed - effective);
  plan.actions.push_back({SetDesiredCapacity{group.name, desired, /*honor_cooldown=*/false},
                          "spot shortfall needs " + std::to_string(plan.needed) +
                              " on-demand instances, group has " + std::to_string(effective)});
}

// Chooses `count` instances to remove: live, not protected, not already being
// removed; fewest tasks first, a draining container instance before an active
// one, then instance id.
std::vector<std::string> ChooseVictims(const Observation& observation,
                                       const ContainerIndex& containers, int count,
                                       const std::map<std::string, WallTime>& removing) {
  std::vector<std::tuple<int, bool, std::string>> candidates;
  for (const OnDemandInstance& instance : observation.on_demand->instances) {
    if (!IsLive(instance) || instance.protected_from_scale_in ||
        removing.count(instance.instance_id)) {
      continue;
    }
    const ContainerInstance* container =
        containers.Find(instance.instance_id);
    bool active = container && container->status == ContainerStatus::kActive;
    candidates.emplace_back(Tasks(container), active, instance.instance_id);
  }
  std::sort(candidates.begin(), candidates.end());
  std::vector<std::string> victims;
  for (const auto& candidate : candidates) {
    if (static_cast<int>(victims.size()) == count) break;
    victims.push_back(std::get<2>(candidate));
  }
  return victims;
}

// Tracks how long the group has been larger than the held size, and once
// that lasted the settle window, chooses the instances to remove.
void ConsiderScaleIn(const Observation& observation, const ContainerIndex& containers,
                     const PolicyConfig& config, int effective, OnDemandPlan& plan) {
  ScaleDownTracker& tracker = plan.tracker;
  if (!tracker.lower_since) {
    tracker.lower_since = observation.now;
    tracker.highest_held_since = plan.held;
  } else {
    tracker.highest_held_since = std::max(tracker.highest_held_since, plan.held);
  }
  Duration lower_for = observation.now - *tracker.lower_since;
  if (lower_for < config.settle_window) {
    plan.notes.push_back("on-demand group larger than needed (" + std::to_string(effective) +
                         " > " + std::to_string(plan.held) + ") for " + Seconds(lower_for) +
                         " of the " + Seconds(config.settle_window) + " settle window");
    return;
  }
  if (!observation.containers_status.ok()) {
    plan.notes.push_back("scale-in waits: container instances unknown");
    return;
  }
  int count = effective - tracker.highest_held_since;
  std::vector<std::string> victims = ChooseVictims(observation, containers, count, tracker.removing);
  if (static_cast<int>(victims.size()) < count) {
    plan.notes.push_back("only " + std::to_string(victims.size()) + " of " + std::to_string(count) +
                         " on-demand instances removable (protected)");
  }
  for (const std::string& id : victims) tracker.removing.emplace(id, observation.now);
  tracker.lower_since.reset();
  tracker.highest_held_since = 0;
}

// Drains the instances being removed, and terminates those that are done.
void ProgressRemovals(const Observation& observation, const ContainerIndex& containers,
                      const PolicyConfig& config, OnDemandPlan& plan) {
  if (!observation.containers_status.ok()) {
    if (!plan.tracker.removing.empty()) {
      plan.notes.push_back("removals wait: container instances unknown");
    }
    return;
  }
  std::vector<const ContainerInstance*> to_drain;
  std::vector<std::string> done;
  for (const auto& [id, since] : plan.tracker.removing) {
    const ContainerInstance* container =
        containers.Find(id);
    Duration draining_for = observation.now - since;
    std::string why;
    if (!container) {
      why = "never registered in a cluster: no tasks to move";
    } else if (container->status == ContainerStatus::kDraining && Tasks(container) == 0) {
      why = "drained: no tasks left";
    } else if (draining_for >= config.max_drain_time) {
      why = "still runs " + std::to_string(Tasks(container)) + " tasks after max drain time " +
            Seconds(config.max_drain_time);
    } else if (container->status == ContainerStatus::kActive) {
      to_drain.push_back(container);
      continue;
    } else {
      plan.notes.push_back(id + " draining for " + Seconds(draining_for) + ", " +
                           std::to_string(Tasks(container)) + " tasks left");
      continue;
    }
    plan.actions.push_back({TerminateInstance{id, /*decrement_desired=*/true},
                            "scale-in of on-demand instance " + id + ", " + why});
  }
  for (Action& action :
       BatchDrains(to_drain, config.drain_batch_size, "scale-in: drain on-demand instances")) {
    plan.actions.push_back(std::move(action));
  }
}

}  // namespace

Result<double> OnDemandUnitsPerInstance(const OnDemandGroup& group, const PolicyConfig& config) {
  std::optional<double> units =
      config.on_demand_units ? config.on_demand_units : group.units_per_instance;
  if (!units || !(*units > 0)) {
    std::string why = group.units_source.empty() ? "" : " (" + group.units_source + ")";
    return FailedPreconditionError("units per on-demand instance of " + group.name + " unknown" +
                                   why + ": set on-demand units");
  }
  return *units;
}

std::string DescribeUnitsPerInstance(const OnDemandGroup& group, const PolicyConfig& config) {
  Result<double> units = OnDemandUnitsPerInstance(group, config);
  if (!units.ok()) return units.status().message();
  std::string how =
      config.on_demand_units ? "from the on-demand-units setting" : group.units_source;
  return group.name + ": " + FormatUnits(*units) + " units per instance" +
         (how.empty() ? "" : " (" + how + ")");
}

OnDemandPlan PlanOnDemand(const Observation& observation, const PolicyConfig& config,
                          const Shortfall& shortfall, const ScaleDownTracker& tracker) {
  const OnDemandGroup& group = *observation.on_demand;
  double units = OnDemandUnitsPerInstance(group, config).value();
  OnDemandPlan plan;
  plan.tracker = tracker;
  plan.tracker.removing = LiveRemovals(group, tracker.removing);
  auto clamp = [&](int n) {
    return std::clamp(n, group.min_size, std::max(group.min_size, group.max_size));
  };
  plan.needed = clamp(InstancesToCover(shortfall.addable_units(), units));
  plan.held = clamp(InstancesToCover(shortfall.held_units(), units));
  int effective = group.desired_capacity - static_cast<int>(plan.tracker.removing.size());
  const ContainerIndex containers(observation.container_instances, InstanceIds(group));

  if (plan.needed > effective) {
    plan.tracker.lower_since.reset();
    // Re-activating needs to know the container instances; else grow instead.
    int cancelled = observation.containers_status.ok()
                        ? std::min<int>(plan.needed - effective, plan.tracker.removing.size())
                        : 0;
    CancelRemovals(containers, config, cancelled, plan);
    effective += cancelled;
    if (plan.needed > effective) ScaleUp(group, effective, plan);
  } else if (plan.held >= effective) {
    plan.tracker.lower_since.reset();
  } else {
    ConsiderScaleIn(observation, containers, config, effective, plan);
  }
  ProgressRemovals(observation, containers, config, plan);
  plan.replacement_registered =
      observation.containers_status.ok() &&
      RegisteredAndKept(observation, containers, plan.tracker.removing) >= plan.needed;
  return plan;
}

}  // namespace spk::policy
