#include "sim/capacity_providers.h"

#include <algorithm>
#include <cmath>

#include "sim/asg.h"
#include "sim/capacity_source.h"
#include "sim/ecs_cluster.h"

namespace spk::sim {

namespace {

// Target tracking's scale-in alarm: 15 one-minute datapoints below target.
constexpr int kScaleInMinutes = 15;

}  // namespace

void CapacityProviders::Start() {
  if (w_.s.capacity_providers.enabled) w_.q.Push(w_.now() + kMinute, kManagedScaling);
}

void CapacityProviders::Evaluate() {
  EvaluateOne(kSpotProvider);
  EvaluateOne(kOnDemandProvider);
  w_.q.Push(w_.now() + kMinute, kManagedScaling);
}

void CapacityProviders::EvaluateOne(int provider) {
  const Scenario& s = w_.s;
  const bool spot = provider == kSpotProvider;
  const ManagedScalingSpec& spec =
      spot ? s.capacity_providers.spot : s.capacity_providers.on_demand;
  State& state = state_[provider];
  // N: the group's instances; busy: those that run a task.
  int n = 0, busy = 0;
  auto count = [&](uint32_t index) {
    const Instance& in = w_.instances[index];
    if (in.terminating || in.state == Instance::State::kTerminated) return;
    ++n;
    if (!in.tasks.empty()) ++busy;
  };
  if (spot) {
    for (uint32_t index : w_.fleet->instances()) count(index);
  } else {
    for (uint32_t index : w_.asg->instances()) count(index);
  }
  // The instances the PROVISIONING tasks fill, by CPU and memory, of the
  // group's smallest instance type.
  double cpu = 0, memory = 0;
  if (spot) {
    for (int p : s.fleet.pools) {
      const PoolSpec& pool = s.pools[p];
      const double pool_cpu = pool.vcpus * 1024.0;
      const double pool_memory = pool.memory_mib * (1.0 - s.ecs.reserved_memory_fraction);
      if (cpu == 0 || pool_cpu < cpu) cpu = pool_cpu;
      if (memory == 0 || pool_memory < memory) memory = pool_memory;
    }
  } else {
    cpu = s.on_demand.vcpus * 1024.0;
    memory = s.on_demand.memory_mib * (1.0 - s.ecs.reserved_memory_fraction);
  }
  const EcsCluster::Demand demand = w_.ecs->ProvisioningDemand(static_cast<Provider>(provider));
  int extra = 0;
  if (demand.tasks > 0) {
    const double fill = std::max(demand.cpu / cpu, demand.memory / memory);
    extra = std::max(1, static_cast<int>(std::ceil(fill - 1e-9)));
  }
  const int m = busy + extra;
  state.reservation = n > 0 ? 100.0 * m / n : (m > 0 ? 200.0 : 100.0);
  const int want = static_cast<int>(std::ceil(m * 100.0 / spec.target_capacity - 1e-9));
  const int desired = spot ? static_cast<int>(std::lround(w_.fleet->target())) : w_.asg->desired();
  const int min_size = spot ? 0 : s.on_demand.min_size;
  const int max_size = spot ? spec.max_size : s.on_demand.max_size;
  int next = desired;
  if (want > desired) {
    state.minutes_below = 0;
    if (state.last_scale_out >= 0 && w_.now() - state.last_scale_out < spec.instance_warmup) return;
    const int step =
        std::clamp(want - desired, spec.minimum_scaling_step_size, spec.maximum_scaling_step_size);
    next = std::min(max_size, desired + step);
    if (next > desired) state.last_scale_out = w_.now();
  } else if (want < desired) {
    if (++state.minutes_below < kScaleInMinutes) return;
    state.minutes_below = 0;
    const int step =
        std::clamp(desired - want, spec.minimum_scaling_step_size, spec.maximum_scaling_step_size);
    next = std::max(min_size, desired - step);
  } else {
    state.minutes_below = 0;
  }
  if (spot) {
    w_.fleet->SetTarget(next);  // also unchanged: see below
  } else {
    // Also when unchanged: the group terminates instances a scale-in left
    // protected once they run no task.
    w_.asg->SetDesired(std::clamp(next, min_size, max_size), false);
  }
}

}  // namespace spk::sim
