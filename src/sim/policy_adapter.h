// The policies' adapters: how each policy hears about the world and how its
// decisions are applied to it. The decisions themselves are src/policy's, the
// code the controller and the reference Lambda run:
//  - none: nothing;
//  - ecs-agent: the ECS agent drains its instance on the interruption notice
//    (ECS_ENABLE_SPOT_INSTANCE_DRAINING);
//  - reference: policy::DecideReference on the reference Lambda's triggers
//    (the notice, and a PendingCapacity alarm going to ALARM);
//  - spotkeeper: policy::Decide on a policy::Observation of the world, on
//    every notice and rebalance recommendation and every reconcile interval;
//    with a spot group's terminating hook, after each decision the
//    controller's lifecycle pass (src/controller/lifecycle.h): drain the
//    waiting instance, complete the action once it runs no task (or after
//    max_drain_time), heartbeat in between. On a capacity-provider cluster
//    it never sizes the on-demand group (ECS does) and, after each decision,
//    runs the fallback: policy::DecideFallback per primary service, its
//    shadow's desired count applied to the simulated shadow.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "policy/config.h"
#include "policy/decide.h"
#include "policy/reference_policy.h"
#include "sim/simulation.h"
#include "sim/world.h"

namespace spk::sim {

class Policies {
 public:
  Policies(World& w, PolicyKind kind);

  // Schedules the policy's periodic events (kReconcile, kAlarmEval).
  void Start();
  // The market's notice and rebalance recommendation for instance `index`.
  void OnInterruptionNotice(uint32_t index);
  void OnRebalance(uint32_t index);
  // The spot group's instance `index` entered Terminating:Wait (its hook's
  // notification; only spotkeeper listens).
  void OnLifecycleAction(uint32_t index);
  // The policies' own events: kControllerNotice, kControllerRebalance,
  // kControllerLifecycle, kReconcile, kAlarmEval, kReferenceNotice, kAgentDrain.
  void Handle(const Event& e);

 private:
  void ApplyActions(const std::vector<policy::Action>& actions);
  policy::Notice MakeNotice(uint32_t index, policy::NoticeKind kind) const;
  void ControllerNotice(uint32_t index, policy::NoticeKind kind);
  const policy::Observation& BuildObservation();
  void BuildOnDemandGroup(policy::OnDemandGroup& group) const;
  void BuildContainerInstances(std::vector<policy::ContainerInstance>& containers) const;
  void SpotkeeperDecide();
  void LifecyclePass(const policy::Observation& o);
  void FallbackPass();
  void InvokeReference(const policy::ReferenceTrigger& trigger);
  void ReferenceTermination(uint32_t index);
  void AlarmEval();

  World& w_;
  PolicyKind kind_;
  policy::PolicyConfig config_;
  policy::ScaleDownTracker tracker_;
  policy::Observation observation_;  // reused by BuildObservation
  std::map<uint32_t, policy::Notice> notices_;
  // The lifecycle pass's memory: when each waiting instance's drain began
  // (the controller's spotkeeper.terminating attribute) and its last heartbeat.
  std::map<uint32_t, SimTime> drain_since_;
  std::map<uint32_t, SimTime> last_heartbeat_;
  // The fallback's state in AWS: each shadow's spotkeeper:shortfall-ended-at tag.
  std::map<uint32_t, WallTime> shortfall_ended_at_;
  policy::ReferenceConfig reference_config_;
  bool alarm_ = false;
};

}  // namespace spk::sim
