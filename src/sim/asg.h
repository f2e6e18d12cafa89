// The on-demand Auto Scaling group: a desired capacity that SetDesiredCapacity
// changes within [min, max] and outside the cooldown, and instances launched
// or terminated to match it.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/world.h"

namespace spk::sim {

class AutoScalingGroup {
 public:
  explicit AutoScalingGroup(World& w) : w_(w), desired_(w.s.on_demand.desired) {}

  int desired() const { return desired_; }
  // The group's instances (launched, not terminated), in launch order.
  const std::vector<uint32_t>& instances() const { return instances_; }

  // SetDesiredCapacity as Auto Scaling answers it: refused outside [min, max]
  // (ValidationError) or, with honor_cooldown, inside the cooldown.
  bool SetDesired(int desired, bool honor_cooldown);
  // TerminateInstanceInAutoScalingGroup: ignored unless `index` is a live
  // instance of the group; refused when decrementing would go below min.
  void TerminateInstance(uint32_t index, bool decrement_desired);

  // Called by Ec2 when one of the group's instances is launched or terminated.
  void Added(uint32_t index) { instances_.push_back(index); }
  void Removed(uint32_t index);

  // kAsgCheck: launches or terminates to the desired capacity.
  void Check();

 private:
  void ScheduleCheck();

  World& w_;
  std::vector<uint32_t> instances_;
  int desired_ = 0;
  SimTime last_activity_ = -1;
  bool check_pending_ = false;
};

}  // namespace spk::sim
