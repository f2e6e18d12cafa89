#include "policy/reference_policy.h"

#include <algorithm>
#include <functional>

namespace spk::policy {
namespace {

// checkFleetScalled: any maximum differing from the first, or a failed read.
bool ReferenceRecentlyScaled(const std::optional<std::vector<double>>& maxima) {
  if (!maxima) return true;
  return std::adjacent_find(maxima->begin(), maxima->end(), std::not_equal_to<>()) != maxima->end();
}

// getECSMetrics: either metric failing makes both defaultTargetCapacity (0).
double ReferencePending(const ReferenceObservation& observation) {
  if (!observation.pending_capacity || !observation.target_capacity) return 0;
  return *observation.pending_capacity;
}

std::string Number(double x) {
  std::string s = std::to_string(x);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

std::string ReferenceFleetId(const ReferenceTrigger& trigger, const ReferenceConfig& config) {
  return trigger.kind == ReferenceTrigger::Kind::kTermination ? config.hard_coded_fleet_id
                                                              : trigger.fleet_id;
}

double ReferenceCapacityModifier(const std::string& instance_type) {
  if (instance_type.find("2xlarge") != std::string::npos) return 8;
  if (instance_type.find("xlarge") != std::string::npos) return 4;
  return 2;
}

int ReferenceRoundUp(double x) { return static_cast<int>(x + 0.999999); }

ReferenceDecision DecideReference(const ReferenceTrigger& trigger,
                                  const ReferenceObservation& observation,
                                  const ReferenceConfig& config) {
  ReferenceDecision decision;
  decision.fleet_id = ReferenceFleetId(trigger, config);
  double modifier = 0;
  if (trigger.kind == ReferenceTrigger::Kind::kTermination) {
    decision.actions.push_back(
        {DrainContainerInstances{trigger.ecs_cluster, {trigger.ecs_container}},
         "reference: termination notice"});
    modifier = ReferenceCapacityModifier(trigger.instance_type);
  }
  if (ReferenceRecentlyScaled(observation.target_capacity_maxima)) {
    decision.recently_scaled = true;
    return decision;
  }
  decision.pending_units = ReferencePending(observation) + modifier;
  int required = ReferenceRoundUp(decision.pending_units / config.per_server_vcpu);
  decision.instances_required = required;
  std::string why = "reference: pending " + Number(decision.pending_units) + " units / " +
                    Number(config.per_server_vcpu) + " per server";
  if (required > observation.group_desired) {
    decision.actions.push_back({SetDesiredCapacity{config.group_name, required, false}, why});
  } else if (required < observation.group_desired) {
    decision.actions.push_back({SetDesiredCapacity{config.group_name, required, true}, why});
  }
  return decision;
}

}  // namespace spk::policy
