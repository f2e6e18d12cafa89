// Sizing the on-demand group to the spot shortfall: up at once, down only
// after the settle window, draining the chosen instances and then removing
// exactly those.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "policy/action.h"
#include "policy/config.h"
#include "policy/observation.h"
#include "policy/shortfall.h"

namespace spk::policy {

// What the on-demand sizing remembers between decisions. The caller keeps it
// (in memory; losing it on restart only delays a scale-in by one settle
// window and forgets drain start times, which then restart at the next
// decision) and passes the returned copy to the next decision.
struct ScaleDownTracker {
  // Since when the group has been larger than what the shortfall holds.
  std::optional<WallTime> lower_since;
  // The most instances the shortfall held at any decision since lower_since:
  // the size a scale-in may go down to.
  int highest_held_since = 0;
  // On-demand instances chosen for removal -> when they were chosen (their
  // drain began). Removed from the group with TerminateInstance once they run
  // no tasks or after max_drain_time.
  std::map<std::string, WallTime> removing;

  bool operator==(const ScaleDownTracker&) const = default;
};

struct OnDemandPlan {
  std::vector<Action> actions;
  std::vector<std::string> notes;
  // Instances the addable shortfall needs, and the held shortfall keeps,
  // both within [min, max].
  int needed = 0;
  int held = 0;
  // True when at least `needed` instances are InService with an ACTIVE
  // container instance and not being removed: replacement capacity asked for
  // has registered (for on_rebalance = kPrepare).
  bool replacement_registered = false;
  ScaleDownTracker tracker;
};

// The units one on-demand instance provides: config.on_demand_units, else
// group.units_per_instance. kFailedPrecondition when neither is set or it is <= 0.
Result<double> OnDemandUnitsPerInstance(const OnDemandGroup& group, const PolicyConfig& config);

// How OnDemandUnitsPerInstance finds them, for people:
// "ecsSpotAutoScale: 4 units per instance (launch configuration ecsLC:
// m5.xlarge, 4 vCPUs)", "... (from the on-demand-units setting)" or
// "ecsSpotAutoScale: units per instance unknown (why): set on-demand units".
std::string DescribeUnitsPerInstance(const OnDemandGroup& group, const PolicyConfig& config);

// Plans the group's size at observation.now:
//  - needed = ceil(addable / units per instance) within [min, max], clamped
//    here (the service is not relied on to clamp);
//  - above the group's effective size (desired minus instances being removed):
//    first re-activate instances being removed, then SetDesiredCapacity with
//    honor_cooldown = false, at once;
//  - below the held size for the whole settle window: choose the instances to
//    remove (not protected, fewest tasks, then instance id), drain them, and
//    TerminateInstance(decrement) exactly those once their container instance
//    is DRAINING with no tasks, they never registered, or max_drain_time passed.
// Drains and terminations of instances being removed come in instance-id order.
// When observation.containers_status is not ok, instances are neither chosen
// nor terminated (a note says so); scale-up still happens.
// REQUIRES: observation.on_demand is set with an ok read_status, and
// OnDemandUnitsPerInstance(*observation.on_demand, config) is ok.
OnDemandPlan PlanOnDemand(const Observation& observation, const PolicyConfig& config,
                          const Shortfall& shortfall, const ScaleDownTracker& tracker);

}  // namespace spk::policy
