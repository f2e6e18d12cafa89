// ECS managed scaling of a capacity-provider cluster's two providers
// (Scenario::capacity_providers; docs/simulator.md "Capacity providers"):
// the spot provider on the spot group (SpotFleet), the on-demand provider on
// the on-demand group (AutoScalingGroup). Every minute, per provider,
// CapacityProviderReservation = M / N x 100, with N the group's instances
// (launched, not terminated) and M the instances its tasks need: those that
// run a task, plus, when tasks bound to the provider wait in PROVISIONING,
// the instances their CPU and memory fill (at least one). Target tracking
// sets the group's desired capacity toward ceil(M x 100 / target capacity),
// each change within the step sizes; a scale-out waits for the previous
// one's instance warm-up, a scale-in for 15 minutes of the metric below
// target. The groups only terminate instances that run no task (managed
// termination protection).
#pragma once

#include <cstdint>

#include "sim/world.h"

namespace spk::sim {

class CapacityProviders {
 public:
  explicit CapacityProviders(World& w) : w_(w) {}

  // Schedules the first evaluation (kManagedScaling), when the cluster has providers.
  void Start();
  // kManagedScaling: one evaluation of both providers; schedules the next.
  void Evaluate();

  // The last CapacityProviderReservation of `provider` (0 spot, 1 on-demand), percent.
  double reservation(int provider) const { return state_[provider].reservation; }

 private:
  struct State {
    SimTime last_scale_out = -1;
    int minutes_below = 0;
    double reservation = 100;
  };
  void EvaluateOne(int provider);

  World& w_;
  State state_[2];
};

}  // namespace spk::sim
