#include "controller/lifecycle.h"

#include <set>
#include <utility>

#include "base/log.h"

namespace spk::controller {

nlohmann::json ToJson(const LifecycleStep& step) {
  nlohmann::json out = {{"group", step.group}, {"instance", step.instance_id}, {"what", step.what}};
  if (!step.hook.empty()) out["hook"] = step.hook;
  if (step.dry_run) out["dry_run"] = true;
  if (!step.status.ok()) out["error"] = step.status.ToString();
  return out;
}

namespace {

// AWS's answer when the action is no longer pending (ValidationError "No
// active Lifecycle Action found with instance ID i-..."); any other refusal
// is a failure of the step.
bool NoActionPending(const Status& status) {
  return status.code() == StatusCode::kInvalidArgument &&
         status.message().find("No active Lifecycle Action") != std::string::npos;
}

// The heartbeat period of a hook whose timeout AWS did not give: its default.
constexpr Duration kDefaultHeartbeatTimeout = std::chrono::hours(1);

}  // namespace

void LifecycleKeeper::Remember(const Event& event) {
  // A launch needs nothing remembered: the instance id names its action.
  if (event.kind != EventKind::kLifecycleAction || event.lifecycle_launching) return;
  known_[event.instance_id] = {event.lifecycle_group, event.lifecycle_hook, event.lifecycle_token};
}

std::vector<LifecycleStep> LifecycleKeeper::Run(const std::vector<std::string>& groups,
                                                const policy::Observation& observation) {
  std::vector<LifecycleStep> steps;
  std::set<std::string> waiting;
  std::set<std::string> unread;  // groups whose waits are unknown this pass
  for (const std::string& group : groups) {
    Result<LifecycleWaits> waits = cloud_.ReadLifecycleWaits(group);
    if (!waits.ok()) {
      unread.insert(group);
      log::Error("could not read the group's terminate lifecycle actions",
                 {{"group", group}, {"error", waits.status().ToString()}});
      steps.push_back({group, "", "", "read", false, waits.status()});
      continue;
    }
    waiting.insert(waits->instance_ids.begin(), waits->instance_ids.end());
    for (const LaunchingInstance& l : waits->launching) waiting.insert(l.instance_id);
    RunGroup(group, *waits, observation, &steps);
    RunLaunches(group, *waits, observation, &steps);
  }
  // A cache of what still waits: an action completed (by anyone) is dropped;
  // what a failed read could not show is kept.
  std::erase_if(known_, [&](const auto& entry) {
    return !waiting.count(entry.first) && !unread.count(entry.second.group);
  });
  std::erase_if(heartbeats_, [&](const auto& entry) {
    return !waiting.count(entry.first.substr(0, entry.first.find('/')));
  });
  return steps;
}

void LifecycleKeeper::RunGroup(const std::string& group, const LifecycleWaits& waits,
                               const policy::Observation& observation,
                               std::vector<LifecycleStep>* steps) {
  const WallTime now = observation.now;
  for (const std::string& id : waits.instance_ids) {
    auto known = known_.find(id);
    std::vector<TerminateHook> hooks;
    for (const TerminateHook& hook : waits.hooks) {
      // ECS's own hook (managed instance draining) is ECS's to answer.
      if (hook.name.starts_with(kEcsManagedDrainingHook)) continue;
      // The event names its hook; without it every terminating hook waits.
      if (known == known_.end() || known->second.hook == hook.name) hooks.push_back(hook);
    }
    if (hooks.empty()) continue;  // no terminating hook of ours: not ours to answer
    if (!knows_clusters_) {
      // Without a cluster, "no container instance" cannot be told from
      // "runs tasks somewhere spotkeeper does not look": never complete blind.
      steps->push_back({group, id, "", "drain", false,
                        FailedPreconditionError("no --cluster: cannot find the container "
                                                "instance of a terminating instance")});
      continue;
    }
    if (!observation.containers_status.ok()) {
      steps->push_back({group, id, "", "drain", false,
                        observation.containers_status.WithContext("container instances")});
      continue;
    }
    const policy::ContainerInstance* ci =
        policy::FindContainerOfInstance(observation.container_instances, id);
    std::optional<WallTime> since = now;
    if (ci) since = Drain(group, id, *ci, now, steps);
    if (!since) continue;
    const bool done = !ci || ci->running_tasks == 0 || now - *since >= max_drain_time_;
    for (const TerminateHook& hook : hooks) {
      LifecycleActionRef action{hook.name, group, id,
                                known != known_.end() ? known->second.token : ""};
      LifecycleStep step = Answer(action, done ? "CONTINUE" : "", hook.heartbeat_timeout, now);
      if (!step.what.empty()) steps->push_back(std::move(step));  // empty: no heartbeat due
    }
  }
}

void LifecycleKeeper::RunLaunches(const std::string& group, const LifecycleWaits& waits,
                                  const policy::Observation& observation,
                                  std::vector<LifecycleStep>* steps) {
  if (waits.launch_hooks.empty()) return;
  const WallTime now = observation.now;
  // Neither "not registered yet" nor "registered elsewhere" can be told
  // without the container instances. Not a failure of the decision: the
  // launches wait, under their hooks' own timeout and default result.
  if (!knows_clusters_ || !observation.containers_status.ok()) {
    const std::string why = !knows_clusters_
                                ? "no --cluster: cannot find the container instance of a launch"
                                : observation.containers_status.ToString();
    for (const LaunchingInstance& launch : waits.launching) {
      log::Warn("a launch waits: its container instance cannot be looked up",
                {{"group", group}, {"instance", launch.instance_id}, {"reason", why}});
      steps->push_back({group, launch.instance_id, "", "launch-wait", false, Status::Ok()});
    }
    return;
  }
  for (const LaunchingInstance& launch : waits.launching) {
    const policy::ContainerInstance* ci =
        policy::FindContainerOfInstance(observation.container_instances, launch.instance_id);
    std::string result;
    if (ci && ci->status == policy::ContainerStatus::kActive) {
      result = "CONTINUE";
    } else if (launch.launched && now - *launch.launched >= launch_timeout_) {
      result = "ABANDON";
      log::Warn("a launch did not become an ACTIVE container instance in time: abandoned",
                {{"group", group},
                 {"instance", launch.instance_id},
                 {"launched", FormatIso8601(*launch.launched)},
                 {"container_instance", ci ? ci->arn : ""}});
    }
    // Without EC2's launch time it can never be abandoned: no heartbeat, so
    // the hook's own timeout and default result apply.
    if (result.empty() && !launch.launched) {
      steps->push_back({group, launch.instance_id, "", "launch-wait", false, Status::Ok()});
      continue;
    }
    for (const TerminateHook& hook : waits.launch_hooks) {
      LifecycleStep step =
          Answer({hook.name, group, launch.instance_id, ""}, result, hook.heartbeat_timeout, now,
                 result == "CONTINUE" ? "launch-continue" : "launch-abandon");
      if (!step.what.empty()) steps->push_back(std::move(step));  // empty: no heartbeat due
    }
  }
}

std::optional<WallTime> LifecycleKeeper::Drain(const std::string& group,
                                               const std::string& instance_id,
                                               const policy::ContainerInstance& ci, WallTime now,
                                               std::vector<LifecycleStep>* steps) {
  if (ci.status == policy::ContainerStatus::kActive) {
    LifecycleStep step{group, instance_id, "", "drain", dry_run_, Status::Ok()};
    if (!dry_run_) {
      step.status = cloud_.Apply({policy::DrainContainerInstances{ci.cluster, {ci.arn}},
                                  "terminate lifecycle action of " + instance_id + " in " + group});
    }
    log::Info("draining an instance for its terminate lifecycle action",
              {{"group", group},
               {"instance", instance_id},
               {"container_instance", ci.arn},
               {"error", step.status.ok() ? "" : step.status.ToString()}});
    const bool ok = step.status.ok();
    steps->push_back(std::move(step));
    if (!ok) return std::nullopt;
  }
  WallTime since{};
  auto mark = ci.attributes.find(kTerminatingAttribute);
  if (mark != ci.attributes.end() && ParseIso8601(mark->second, &since)) {
    return std::min(since, now);
  }
  // Drained for a scale-in already (its removal is what terminates it): the
  // drain began at the removal's mark.
  auto removal = ci.attributes.find(removal_attribute_);
  if (ci.status == policy::ContainerStatus::kDraining && removal != ci.attributes.end() &&
      ParseIso8601(removal->second, &since)) {
    return std::min(since, now);
  }
  LifecycleStep step{group, instance_id, "", "drain-record", dry_run_, Status::Ok()};
  if (!dry_run_) {
    step.status = cloud_.PutContainerAttributes(
        ci.cluster, {{ci.arn, kTerminatingAttribute, FormatIso8601(now)}});
  }
  const bool ok = step.status.ok();
  if (!ok) {
    log::Error("could not record the drain of a terminating instance",
               {{"instance", instance_id}, {"error", step.status.ToString()}});
  }
  steps->push_back(std::move(step));
  if (!ok) return std::nullopt;
  return now;
}

LifecycleStep LifecycleKeeper::Answer(const LifecycleActionRef& action, const std::string& result,
                                      Duration timeout, WallTime now,
                                      const std::string& completed_as) {
  const bool complete = !result.empty();
  LifecycleStep step{action.group, action.instance_id,
                     action.hook,  complete ? completed_as : "heartbeat",
                     dry_run_,     Status::Ok()};
  const std::string key = action.instance_id + "/" + action.hook;
  if (!complete) {
    auto last = heartbeats_.find(key);
    if (timeout <= Duration::zero()) timeout = kDefaultHeartbeatTimeout;
    if (last != heartbeats_.end() && now - last->second < timeout / 2) return {};
  }
  if (!dry_run_) {
    step.status = complete ? cloud_.CompleteLifecycleAction(action, result)
                           : cloud_.RecordLifecycleHeartbeat(action);
  }
  if (NoActionPending(step.status)) {
    // AWS has no such action pending (any more): another decider completed
    // it, or its timeout ran out. Nothing is left to do for it.
    log::Info("no lifecycle action pending any more", {{"group", action.group},
                                                       {"instance", action.instance_id},
                                                       {"hook", action.hook},
                                                       {"error", step.status.ToString()}});
    step.status = Status::Ok();
    step.what += "-gone";
  } else if (step.status.ok() && !complete) {
    heartbeats_[key] = now;
  }
  log::Write(
      step.status.ok() ? log::Level::kInfo : log::Level::kError,
      complete ? "lifecycle action completed (" + result + ")" : "lifecycle action heartbeat",
      {{"group", action.group},
       {"instance", action.instance_id},
       {"hook", action.hook},
       {"dry_run", dry_run_ ? "true" : "false"},
       {"error", step.status.ok() ? "" : step.status.ToString()}});
  return step;
}

}  // namespace spk::controller
