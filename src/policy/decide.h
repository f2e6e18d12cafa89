// spotkeeper's decision: the one function the controller, the Lambda handler,
// `handle-event` and the simulator's `spotkeeper` policy call.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "policy/action.h"
#include "policy/config.h"
#include "policy/observation.h"
#include "policy/on_demand_planner.h"
#include "policy/shortfall.h"

namespace spk::policy {

struct Decision {
  // In order: drains for notices, then on-demand sizing (re-activations,
  // SetDesiredCapacity, drains and terminations of instances being removed).
  std::vector<Action> actions;
  // Parts not decided because an observation failed: the caller retries.
  std::vector<Skip> skipped;
  // How the on-demand group was sized (its units per instance and how they
  // were found, see DescribeUnitsPerInstance), and why things did not happen
  // (no container instance, waiting to settle, ...).
  std::vector<std::string> notes;
  std::optional<Shortfall> shortfall;  // nullopt when it could not be computed
  std::optional<int> on_demand_needed;
  // The state to pass to the next decision.
  ScaleDownTracker tracker;

  bool complete() const { return skipped.empty(); }
};

// Decides at observation.now. Deterministic: the same arguments give the same
// Decision. Never fails as a whole: a failed read skips only what depends on it
// (containers -> drains and scale-in; a source, a notice's units or the group
// -> on-demand sizing) and is listed in `skipped`; the tracker then keeps its
// removals but forgets a scale-in window in progress.
// REQUIRES: ValidateConfig(config).ok().
Decision Decide(const Observation& observation, const PolicyConfig& config,
                const ScaleDownTracker& tracker);

// {"actions": [...], "skipped": [...], "notes": [...], "shortfall_units": x,
//  "on_demand_needed": n}
nlohmann::json ToJson(const Decision& decision);

}  // namespace spk::policy
