// The controller policy's settings.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/status.h"

namespace spk::policy {

// What a rebalance recommendation does.
enum class RebalanceAction {
  kIgnore,   // nothing
  kDrain,    // drain at once, as for an interruption notice
  kPrepare,  // add replacement capacity first; drain once it has registered
};

// "ignore" | "drain" | "prepare".
const char* RebalanceActionName(RebalanceAction action);
// Parses the above; kInvalidArgument for anything else.
Result<RebalanceAction> ParseRebalanceAction(const std::string& text);

struct PolicyConfig {
  RebalanceAction on_rebalance = RebalanceAction::kIgnore;
  // On-demand instances are removed only after the shortfall has stayed below
  // their capacity for this long.
  Duration settle_window = std::chrono::minutes(10);
  // A source whose target capacity changed this recently is scaling: its
  // pending capacity is not covered with on-demand (reference: 600 s).
  Duration guard_window = std::chrono::minutes(10);
  // An on-demand instance being removed is terminated after this long even if
  // it still runs tasks.
  Duration max_drain_time = std::chrono::minutes(15);
  // A scheduled-maintenance notice is due this long before its NotBefore:
  // from then its spot capacity counts as lost (covered with on-demand) and
  // the instance is drained once the replacement has registered, at the
  // latest half of this before NotBefore (see drain_planner.h).
  Duration maintenance_drain_before = std::chrono::minutes(10);
  // Units per on-demand instance; wins over OnDemandGroup::units_per_instance.
  std::optional<double> on_demand_units;
  // Container instances per UpdateContainerInstancesState call (the API's limit).
  size_t drain_batch_size = 10;
};

// Ok, or kInvalidArgument naming the first bad setting: negative durations,
// on_demand_units <= 0, drain_batch_size outside [1, 10].
Status ValidateConfig(const PolicyConfig& config);

}  // namespace spk::policy
