// LifecycleKeeper: answers the Auto Scaling terminate lifecycle hooks of the
// groups the controller knows (docs/controller.md, "Lifecycle hooks").
//
// Level-triggered from AWS, like the rest of the controller: every pass reads
// each group's instances in Terminating:Wait and its terminating hooks, and
// for each waiting instance
//   - drains its container instance if it is ACTIVE, and records when the
//     drain began on it (kTerminatingAttribute, ISO 8601), once;
//   - once it runs no task (or has no container instance in the listed
//     clusters), or max_drain_time has passed since the recorded drain start,
//     completes the action with CONTINUE for each hook;
//   - else sends RecordLifecycleActionHeartbeat when this process has not
//     sent one for it yet or its last is older than half the hook's heartbeat
//     timeout.
// For each instance waiting on a launching hook (Pending:Wait) it completes
// the action with CONTINUE once the instance's container instance is ACTIVE
// in a listed cluster, with ABANDON once launch_timeout has passed since EC2
// launched it (never when the launch time is unknown), and sends heartbeats
// in between, so new capacity counts only when it can run tasks.
// The event's token is used when this process received it; otherwise the
// instance id names the action (AWS accepts either), so a restarted
// controller or another decider finishes what one began. Memory (tokens,
// hook names, last heartbeats) is a cache: a restart only costs one early
// heartbeat. Not thread-safe.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "controller/cloud_view.h"
#include "controller/event.h"
#include "policy/observation.h"

namespace spk::controller {

// The ECS custom attribute recording when the controller drained a container
// instance for its instance's terminate lifecycle action (ISO 8601).
inline constexpr char kTerminatingAttribute[] = "spotkeeper.terminating";

// One thing a pass did (or, in dry run, would have done) for one instance.
struct LifecycleStep {
  std::string group;
  std::string instance_id;
  std::string hook;  // "" for a drain or its record
  // "drain", "drain-record", "heartbeat", "complete", "launch-continue",
  // "launch-abandon", "launch-wait" (a launch that cannot be judged),
  // "read" (the group's read failed); "-gone" appended when AWS had no such
  // action pending any more
  std::string what;
  bool dry_run = false;
  Status status;
};

nlohmann::json ToJson(const LifecycleStep& step);

// The name ECS gives the terminate hook of a capacity provider with managed
// instance draining: ECS answers it, spotkeeper never does.
inline constexpr char kEcsManagedDrainingHook[] = "ecs-managed-draining-termination-hook";

class LifecycleKeeper {
 public:
  // `cloud` must outlive it. A DRAINING container instance that
  // carries `removal_attribute` (the scale-in's mark: it was drained for its
  // removal, since the mark's ISO 8601 time) has its drain start there.
  // Without `knows_clusters` (no --cluster) no action is completed: a
  // terminating instance's container instance cannot be found.
  LifecycleKeeper(CloudView& cloud, Duration max_drain_time, Duration launch_timeout, bool dry_run,
                  std::string removal_attribute, bool knows_clusters)
      : cloud_(cloud),
        max_drain_time_(max_drain_time),
        launch_timeout_(launch_timeout),
        dry_run_(dry_run),
        removal_attribute_(std::move(removal_attribute)),
        knows_clusters_(knows_clusters) {}

  // Remembers a kLifecycleAction event's token and hook (a cache).
  void Remember(const Event& event);

  // One pass over `groups`, with the container instances of `observation`.
  std::vector<LifecycleStep> Run(const std::vector<std::string>& groups,
                                 const policy::Observation& observation);

 private:
  struct Known {
    std::string group;
    std::string hook;
    std::string token;
  };
  void RunGroup(const std::string& group, const LifecycleWaits& waits,
                const policy::Observation& observation, std::vector<LifecycleStep>* steps);
  // Drains `ci` if ACTIVE and records the drain start when missing; the
  // drain start, or nullopt when a write failed (its step says why).
  std::optional<WallTime> Drain(const std::string& group, const std::string& instance_id,
                                const policy::ContainerInstance& ci, WallTime now,
                                std::vector<LifecycleStep>* steps);
  void RunLaunches(const std::string& group, const LifecycleWaits& waits,
                   const policy::Observation& observation, std::vector<LifecycleStep>* steps);
  // Completes with `result` ("CONTINUE" | "ABANDON"), a step named
  // `completed_as`, or "" for a heartbeat when one is due (an empty step
  // when not).
  LifecycleStep Answer(const LifecycleActionRef& action, const std::string& result,
                       Duration timeout, WallTime now,
                       const std::string& completed_as = "complete");

  CloudView& cloud_;
  Duration max_drain_time_;
  Duration launch_timeout_;
  bool dry_run_;
  std::string removal_attribute_;
  bool knows_clusters_;
  std::map<std::string, Known> known_;          // by instance id
  std::map<std::string, WallTime> heartbeats_;  // by instance id + "/" + hook
};

}  // namespace spk::controller
