#include "sim/asg.h"

#include <algorithm>

#include "sim/instances.h"
#include "sim/metrics.h"

namespace spk::sim {

bool AutoScalingGroup::SetDesired(int desired, bool honor_cooldown) {
  const OnDemandSpec& spec = w_.s.on_demand;
  if (desired < spec.min_size || desired > spec.max_size ||
      (honor_cooldown && last_activity_ >= 0 && w_.now() < last_activity_ + spec.cooldown)) {
    w_.metrics->RejectedScalingCall();
    return false;
  }
  if (desired != desired_) last_activity_ = w_.now();
  desired_ = desired;
  ScheduleCheck();
  return true;
}

void AutoScalingGroup::TerminateInstance(uint32_t index, bool decrement_desired) {
  const Instance& in = w_.instances[index];
  if (in.pool != kOnDemandPool || in.state == Instance::State::kTerminated) return;
  if (decrement_desired) {
    if (desired_ - 1 < w_.s.on_demand.min_size) {
      w_.metrics->RejectedScalingCall();
      return;
    }
    desired_--;
  }
  w_.ec2->Terminate(index);
}

void AutoScalingGroup::Removed(uint32_t index) {
  instances_.erase(std::find(instances_.begin(), instances_.end(), index));
  ScheduleCheck();
}

void AutoScalingGroup::ScheduleCheck() {
  if (check_pending_) return;
  check_pending_ = true;
  w_.q.Push(w_.now(), kAsgCheck);
}

// Scale-in picks the newest instances (AWS's default policy would balance
// zones, then take the oldest launch template, then the instance closest to
// its next billing hour) and terminates them at once: tasks on them are lost.
void AutoScalingGroup::Check() {
  check_pending_ = false;
  int live = static_cast<int>(instances_.size());
  for (; live < desired_; ++live) w_.ec2->Launch(kOnDemandPool);
  if (w_.s.capacity_providers.enabled) {
    // A capacity provider's group (managed termination protection): only
    // registered instances that run no task, newest first.
    for (size_t k = instances_.size(); k-- > 0 && static_cast<int>(instances_.size()) > desired_;) {
      const Instance& in = w_.instances[instances_[k]];
      if (in.ecs != Instance::Ecs::kNone && in.tasks.empty()) w_.ec2->Terminate(instances_[k]);
    }
    return;
  }
  while (static_cast<int>(instances_.size()) > desired_) w_.ec2->Terminate(instances_.back());
}

}  // namespace spk::sim
