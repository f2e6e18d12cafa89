// The spot capacity source (FleetSpec::type): a Spot Fleet or an EC2 Fleet of
// type "maintain", or an Auto Scaling group with a mixed-instances policy.
// Each keeps its fulfilled capacity at the target, launching in the pool its
// allocation strategy picks; a source that finds no open pool tries again
// every FleetSpec::retry_interval.
//
// The group adds (docs/simulator.md, "Spot capacity sources"): its fulfilled
// capacity counts Pending and InService instances, not Terminating ones;
// with Capacity Rebalancing a rebalance recommendation launches a
// replacement, and once that is InService the instance at risk is
// terminated; with a terminating lifecycle hook an instance the group
// terminates waits in Terminating:Wait until the hook is completed or its
// heartbeat timeout runs out.
//
// A fleet with capacity rebalancing (FleetSpec::replacement_strategy): a
// rebalance recommendation launches a replacement, which counts toward the
// fulfilled capacity in place of the instance at risk (that one runs on, not
// counted); with launch-before-terminate EC2 terminates the instance at risk
// FleetSpec::termination_delay after the replacement's launch.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "sim/world.h"

namespace spk::sim {

class SpotFleet {
 public:
  explicit SpotFleet(World& w);

  // The source's instances (launched, not terminated), in launch order;
  // a group's in Terminating:Wait included (Instance::terminating).
  const std::vector<uint32_t>& instances() const { return instances_; }
  // Units of the instances the source counts (a group: not Terminating).
  double fulfilled() const { return fulfilled_; }
  // The target capacity (a group's desired capacity): the scenario's, or what
  // managed scaling set (capacity-provider clusters).
  double target() const { return target_; }
  // Managed scaling's SetDesiredCapacity: a higher target launches; a lower
  // one terminates instances that run no task, newest first (managed
  // termination protection keeps the others).
  void SetTarget(double target);
  // When the source last wanted to launch and found no open pool (-1: never):
  // a Failed spot scaling activity of a group.
  SimTime last_launch_failure() const { return last_launch_failure_; }
  // Target minus fulfilled capacity, at least 0 (the PendingCapacity metric).
  double PendingCapacity() const;
  // The pool's instances not yet noticed, by index.
  std::vector<uint32_t> LiveInPool(int pool) const;

  // Called by Ec2 when one of the source's instances is launched, running
  // (InService) or terminated.
  void Added(uint32_t index);
  void InService(uint32_t index);
  void Removed(uint32_t index);

  // Launches until the target is met, or schedules a retry.
  void Check();
  void Retry();  // kFleetCheck
  // After the warm start: a fleet still short retries after retry_interval.
  void EndWarmStart();

  // A rebalance recommendation for `index`: a group with Capacity Rebalancing
  // or a fleet with a replacement strategy launches its replacement (nothing
  // otherwise).
  void Rebalance(uint32_t index);
  // kRebalanceTerminate: a launch-before-terminate fleet's termination delay
  // for `index` has ended; EC2 terminates it (undrained) unless it is gone.
  void RebalanceTerminate(uint32_t index);

  // The group's terminating hook (FleetSpec::lifecycle_hook).
  bool has_hook() const { return hook_; }
  // Instances in Terminating:Wait, in the order they entered it.
  const std::vector<uint32_t>& waiting() const { return waiting_; }
  // RecordLifecycleActionHeartbeat: the hook's timeout starts again.
  void RecordHeartbeat(uint32_t index);
  // CompleteLifecycleAction: the instance terminates.
  void CompleteLifecycleAction(uint32_t index);
  void HookTimeout(uint32_t index);  // kHookTimeout

 private:
  int ChoosePool() const;
  bool PoolAvailable(int pool) const;
  double PricePerUnit(int pool) const;
  double Headroom(int pool) const;
  // A fleet's capacity rebalancing (FleetSpec::replacement_strategy).
  void FleetRebalance(uint32_t index);
  // The group terminates `index`: through its hook when it has one.
  void Terminate(uint32_t index);

  World& w_;
  const bool group_;
  const bool hook_;
  std::vector<uint32_t> instances_;
  double fulfilled_ = 0;
  double target_ = 0;
  SimTime last_launch_failure_ = -1;
  bool retry_pending_ = false;
  // Capacity Rebalancing: replacement -> the instance it replaces, and back.
  std::map<uint32_t, uint32_t> replaces_;
  std::map<uint32_t, uint32_t> replaced_by_;
  std::vector<uint32_t> waiting_;
  std::map<uint32_t, SimTime> hook_deadline_;  // of each waiting instance
};

}  // namespace spk::sim
