#include "sim/capacity_source.h"

#include <algorithm>
#include <string>

#include "sim/instances.h"
#include "sim/market.h"
#include "sim/metrics.h"
#include "sim/policy_adapter.h"

namespace spk::sim {

SpotFleet::SpotFleet(World& w)
    : w_(w),
      group_(w.s.fleet.type == SpotSourceType::kAutoScalingGroup),
      hook_(group_ && w.s.fleet.lifecycle_hook),
      target_(w.s.fleet.target_capacity) {}

void SpotFleet::SetTarget(double target) {
  target_ = target;
  // Newest first; only registered instances that run no task.
  for (auto it = instances_.rbegin(); it != instances_.rend() && fulfilled_ > target_ + 1e-9;) {
    const uint32_t index = *it++;
    const Instance& in = w_.instances[index];
    if (in.terminating || in.noticed || in.ecs == Instance::Ecs::kNone || !in.tasks.empty())
      continue;
    w_.ec2->Terminate(index);  // changes instances_: start again
    it = instances_.rbegin();
  }
  Check();
}

double SpotFleet::PendingCapacity() const { return std::max(0.0, target_ - fulfilled_); }

std::vector<uint32_t> SpotFleet::LiveInPool(int pool) const {
  std::vector<uint32_t> out;
  for (uint32_t i : instances_) {
    if (w_.instances[i].pool == pool && !w_.instances[i].noticed) out.push_back(i);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void SpotFleet::Added(uint32_t index) {
  instances_.push_back(index);
  fulfilled_ += w_.instances[index].units;
}

void SpotFleet::Removed(uint32_t index) {
  instances_.erase(std::find(instances_.begin(), instances_.end(), index));
  if (w_.instances[index].terminating) {
    waiting_.erase(std::find(waiting_.begin(), waiting_.end(), index));
    hook_deadline_.erase(index);
  } else if (!w_.instances[index].replaced) {
    fulfilled_ -= w_.instances[index].units;
  }
  if (group_) {
    // A replacement gone before it was InService, or an instance at risk
    // gone before its replacement was: nothing is left to terminate.
    if (auto it = replaces_.find(index); it != replaces_.end()) {
      replaced_by_.erase(it->second);
      replaces_.erase(it);
    }
    if (auto it = replaced_by_.find(index); it != replaced_by_.end()) {
      replaces_.erase(it->second);
      replaced_by_.erase(it);
    }
  }
  Check();
}

// Capacity Rebalancing: once the replacement is InService, the instance at
// risk is terminated (through the hook, when the group has one).
void SpotFleet::InService(uint32_t index) {
  if (!group_) return;
  auto it = replaces_.find(index);
  if (it == replaces_.end()) return;
  const uint32_t old = it->second;
  replaced_by_.erase(old);
  replaces_.erase(it);
  const Instance& in = w_.instances[old];
  if (in.state != Instance::State::kTerminated && !in.terminating) {
    w_.metrics->AddEvent("rebalance-termination", in.pool, in.id);
    Terminate(old);
  }
}

// The replacement goes in the pool the allocation strategy picks; when no
// pool is open the instance at risk stays (nothing is retried for it).
void SpotFleet::Rebalance(uint32_t index) {
  if (!group_) {
    FleetRebalance(index);
    return;
  }
  if (!w_.s.fleet.capacity_rebalance) return;
  const Instance& in = w_.instances[index];
  if (in.state == Instance::State::kTerminated || in.terminating || replaced_by_.count(index))
    return;
  const int pool = ChoosePool();
  if (pool < 0) return;
  const std::string at_risk = in.id;  // Launch may move the instances
  const uint32_t replacement = w_.ec2->Launch(pool);
  w_.metrics->AddEvent("rebalance-replacement", pool, at_risk);
  replaces_[replacement] = index;
  replaced_by_[index] = replacement;
}

// A fleet's capacity rebalancing: the replacement goes in the pool the
// allocation strategy picks and takes the instance at risk's place in the
// fulfilled capacity, so that instance's later termination launches nothing.
// When no pool is open nothing is launched (nor retried for it) and the
// instance at risk still counts.
void SpotFleet::FleetRebalance(uint32_t index) {
  const FleetSpec& spec = w_.s.fleet;
  if (spec.replacement_strategy == ReplacementStrategy::kNone) return;
  Instance& in = w_.instances[index];
  if (in.state == Instance::State::kTerminated || in.replaced) return;
  const int pool = ChoosePool();
  if (pool < 0) return;
  in.replaced = true;
  fulfilled_ -= in.units;
  const std::string at_risk = in.id;  // Launch may move the instances
  w_.ec2->Launch(pool);
  w_.metrics->AddEvent("rebalance-replacement", pool, at_risk);
  if (spec.replacement_strategy == ReplacementStrategy::kLaunchBeforeTerminate)
    w_.q.Push(w_.now() + spec.termination_delay, kRebalanceTerminate, index);
}

// EC2 terminates the instance at risk with whatever tasks it runs (a fleet
// has no lifecycle hook). One its notice already ended is gone: nothing to do.
void SpotFleet::RebalanceTerminate(uint32_t index) {
  const Instance& in = w_.instances[index];
  if (in.state == Instance::State::kTerminated) return;
  w_.metrics->AddEvent("rebalance-termination", in.pool, in.id);
  w_.ec2->Terminate(index);
}

void SpotFleet::Terminate(uint32_t index) {
  if (!hook_) {
    w_.ec2->Terminate(index);  // with whatever tasks it runs
    return;
  }
  Instance& in = w_.instances[index];
  in.terminating = true;
  fulfilled_ -= in.units;
  waiting_.push_back(index);
  const SimTime deadline = w_.now() + w_.s.fleet.hook_heartbeat_timeout;
  hook_deadline_[index] = deadline;
  w_.q.Push(deadline, kHookTimeout, index);
  w_.policies->OnLifecycleAction(index);
  Check();
}

void SpotFleet::RecordHeartbeat(uint32_t index) {
  auto it = hook_deadline_.find(index);
  if (it == hook_deadline_.end()) return;
  it->second = w_.now() + w_.s.fleet.hook_heartbeat_timeout;
  w_.q.Push(it->second, kHookTimeout, index);
}

void SpotFleet::CompleteLifecycleAction(uint32_t index) {
  if (!hook_deadline_.count(index)) return;  // no action pending
  w_.ec2->Terminate(index);
}

// The hook's default result: CONTINUE or ABANDON, a terminating instance
// terminates either way, with whatever tasks it still runs.
void SpotFleet::HookTimeout(uint32_t index) {
  auto it = hook_deadline_.find(index);
  if (it == hook_deadline_.end() || w_.now() < it->second) return;
  w_.ec2->Terminate(index);
}

void SpotFleet::Check() {
  while (fulfilled_ + 1e-9 < target_) {
    int pool = ChoosePool();
    if (pool < 0) {
      last_launch_failure_ = w_.now();
      if (!retry_pending_) {
        retry_pending_ = true;
        w_.q.Push(w_.now() + w_.s.fleet.retry_interval, kFleetCheck);
      }
      return;
    }
    w_.ec2->Launch(pool);
  }
}

void SpotFleet::Retry() {
  retry_pending_ = false;
  Check();
}

void SpotFleet::EndWarmStart() {
  retry_pending_ = false;
  if (fulfilled_ + 1e-9 < target_) {
    retry_pending_ = true;
    w_.q.Push(w_.s.fleet.retry_interval, kFleetCheck);
  }
}

bool SpotFleet::PoolAvailable(int pool) const {
  const int capacity = w_.s.pools[pool].capacity;
  return !w_.market->Dry(pool) && (capacity < 0 || w_.metrics->InstanceCount(pool) < capacity);
}

double SpotFleet::PricePerUnit(int pool) const {
  return w_.market->SpotPrice(pool) / w_.s.fleet.weights.at(w_.s.pools[pool].instance_type);
}

double SpotFleet::Headroom(int pool) const {
  const int capacity = w_.s.pools[pool].capacity;
  return capacity < 0 ? 1e18 : capacity - w_.metrics->InstanceCount(pool);
}

// The pool the fleet launches its next instance in; -1 when none can.
int SpotFleet::ChoosePool() const {
  const Scenario& s = w_.s;
  std::vector<int> open;
  for (int p : s.fleet.pools) {
    if (PoolAvailable(p)) open.push_back(p);
  }
  if (open.empty()) return -1;
  auto cheaper = [&](int x, int y) { return PricePerUnit(x) < PricePerUnit(y); };
  switch (s.fleet.allocation_strategy) {
    case AllocationStrategy::kLowestPrice:
      return *std::min_element(open.begin(), open.end(), cheaper);
    case AllocationStrategy::kDiversified: {
      auto units = [&](int p) {
        return w_.metrics->InstanceCount(p) * s.fleet.weights.at(s.pools[p].instance_type);
      };
      return *std::min_element(open.begin(), open.end(), [&](int x, int y) {
        if (units(x) != units(y)) return units(x) < units(y);
        return cheaper(x, y);
      });
    }
    case AllocationStrategy::kCapacityOptimized:
      return *std::min_element(open.begin(), open.end(), [&](int x, int y) {
        if (Headroom(x) != Headroom(y)) return Headroom(x) > Headroom(y);
        double rx = s.pools[x].monthly_interruption, ry = s.pools[y].monthly_interruption;
        if (rx != ry) return rx < ry;
        return cheaper(x, y);
      });
    case AllocationStrategy::kPriceCapacityOptimized: {
      std::vector<double> rates;
      for (int p : open) rates.push_back(s.pools[p].monthly_interruption);
      std::sort(rates.begin(), rates.end());
      rates.erase(std::unique(rates.begin(), rates.end()), rates.end());
      double limit = rates[std::min<size_t>(1, rates.size() - 1)];
      int best = -1;
      for (int p : open) {
        if (s.pools[p].monthly_interruption <= limit && (best < 0 || cheaper(p, best))) best = p;
      }
      return best;
    }
  }
  return open.front();
}

}  // namespace spk::sim
