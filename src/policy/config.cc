#include "policy/config.h"

namespace spk::policy {

const char* RebalanceActionName(RebalanceAction action) {
  switch (action) {
    case RebalanceAction::kIgnore:
      return "ignore";
    case RebalanceAction::kDrain:
      return "drain";
    case RebalanceAction::kPrepare:
      return "prepare";
  }
  return "unknown";
}

Result<RebalanceAction> ParseRebalanceAction(const std::string& text) {
  for (RebalanceAction action :
       {RebalanceAction::kIgnore, RebalanceAction::kDrain, RebalanceAction::kPrepare}) {
    if (text == RebalanceActionName(action)) return action;
  }
  return InvalidArgumentError("on-rebalance must be ignore, drain or prepare, not \"" + text +
                              "\"");
}

Status ValidateConfig(const PolicyConfig& config) {
  if (config.settle_window < Duration::zero()) {
    return InvalidArgumentError("settle window must not be negative");
  }
  if (config.guard_window < Duration::zero()) {
    return InvalidArgumentError("guard window must not be negative");
  }
  if (config.max_drain_time < Duration::zero()) {
    return InvalidArgumentError("max drain time must not be negative");
  }
  if (config.maintenance_drain_before < Duration::zero()) {
    return InvalidArgumentError("maintenance drain-before must not be negative");
  }
  if (config.on_demand_units && !(*config.on_demand_units > 0)) {
    return InvalidArgumentError("on-demand units must be greater than 0");
  }
  if (config.drain_batch_size < 1 || config.drain_batch_size > 10) {
    return InvalidArgumentError("drain batch size must be between 1 and 10");
  }
  return Status::Ok();
}

}  // namespace spk::policy
