#include "policy/decide.h"

#include "policy/drain_planner.h"

namespace spk::policy {
namespace {

void Append(std::vector<Action>& to, std::vector<Action> from) {
  for (Action& action : from) to.push_back(std::move(action));
}

void Append(std::vector<std::string>& to, std::vector<std::string> from) {
  for (std::string& item : from) to.push_back(std::move(item));
}

// Sizes the on-demand group into `actions` (the rest into `decision`);
// returns whether replacement capacity has registered (for on_rebalance =
// kPrepare), nullopt when that is unknown.
std::optional<bool> SizeOnDemand(const Observation& observation, const PolicyConfig& config,
                                 const ScaleDownTracker& tracker, std::vector<Action>& actions,
                                 Decision& decision) {
  if (!observation.on_demand) return true;  // nothing to prepare: drain at once
  const OnDemandGroup& group = *observation.on_demand;
  if (group.read_status.ok() && !group.managed_by_capacity_provider.empty()) {
    // Not a failure to retry: ECS owns the group's size, for good.
    decision.notes.push_back("on-demand group " + group.name + " belongs to capacity provider " +
                             group.managed_by_capacity_provider +
                             " with managed scaling: ECS sizes it, so spotkeeper never resizes "
                             "it or terminates its instances");
    decision.tracker.lower_since.reset();
    decision.tracker.highest_held_since = 0;
    return true;  // nothing to prepare here: drain at once
  }
  Result<Shortfall> shortfall = ComputeShortfall(observation, config);
  Status failed = !group.read_status.ok()
                      ? group.read_status.WithContext("on-demand group " + group.name)
                  : !shortfall.ok() ? shortfall.status()
                                    : OnDemandUnitsPerInstance(group, config).status();
  if (!failed.ok()) {
    decision.skipped.push_back({"on-demand sizing", failed.ToString()});
    decision.tracker.lower_since.reset();
    decision.tracker.highest_held_since = 0;
    return std::nullopt;
  }
  decision.shortfall = *shortfall;
  decision.notes.push_back(DescribeUnitsPerInstance(group, config));
  if (!shortfall->guarded_sources.empty()) {
    std::string ids;
    for (const std::string& id : shortfall->guarded_sources) ids += (ids.empty() ? "" : ",") + id;
    decision.notes.push_back("target capacity of " + ids +
                             " changed within the guard window: its pending capacity is not "
                             "covered with on-demand");
  }
  OnDemandPlan plan = PlanOnDemand(observation, config, *shortfall, tracker);
  decision.on_demand_needed = plan.needed;
  decision.tracker = std::move(plan.tracker);
  actions = std::move(plan.actions);
  Append(decision.notes, std::move(plan.notes));
  return plan.replacement_registered;
}

}  // namespace

Decision Decide(const Observation& observation, const PolicyConfig& config,
                const ScaleDownTracker& tracker) {
  Decision decision;
  decision.tracker = tracker;
  // Sized first (prepare-mode drains wait for it), listed after the drains.
  std::vector<Action> sizing_actions;
  std::optional<bool> replacement_registered =
      SizeOnDemand(observation, config, tracker, sizing_actions, decision);

  if (!observation.containers_status.ok()) {
    decision.skipped.push_back({"drain", observation.containers_status.ToString()});
  } else {
    DrainPlan drains =
        PlanNoticeDrains(observation, config, replacement_registered.value_or(false));
    Append(decision.actions, std::move(drains.actions));
    Append(decision.notes, std::move(drains.notes));
  }
  Append(decision.actions, std::move(sizing_actions));
  return decision;
}

nlohmann::json ToJson(const Decision& decision) {
  nlohmann::json out = nlohmann::json::object();
  out["actions"] = ToJson(decision.actions);
  out["skipped"] = nlohmann::json::array();
  for (const Skip& skip : decision.skipped) out["skipped"].push_back(ToJson(skip));
  out["notes"] = decision.notes;
  if (decision.shortfall) {
    out["shortfall_units"] = decision.shortfall->held_units();
    out["addable_shortfall_units"] = decision.shortfall->addable_units();
  }
  if (decision.on_demand_needed) out["on_demand_needed"] = *decision.on_demand_needed;
  return out;
}

}  // namespace spk::policy
