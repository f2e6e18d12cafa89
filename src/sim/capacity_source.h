// The Spot Fleet (request type "maintain"): keeps its fulfilled capacity at
// the target, launching in the pool its allocation strategy picks; a fleet
// that finds no open pool tries again every FleetSpec::retry_interval.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/world.h"

namespace spk::sim {

class SpotFleet {
 public:
  explicit SpotFleet(World& w) : w_(w) {}

  // The fleet's instances (launched, not terminated), in launch order.
  const std::vector<uint32_t>& instances() const { return instances_; }
  double fulfilled() const { return fulfilled_; }
  // Target minus fulfilled capacity, at least 0 (the PendingCapacity metric).
  double PendingCapacity() const;
  // The pool's instances not yet noticed, by index.
  std::vector<uint32_t> LiveInPool(int pool) const;

  // Called by Ec2 when one of the fleet's instances is launched or terminated.
  void Added(uint32_t index);
  void Removed(uint32_t index);

  // Launches until the target is met, or schedules a retry.
  void Check();
  void Retry();  // kFleetCheck
  // After the warm start: a fleet still short retries after retry_interval.
  void EndWarmStart();

 private:
  int ChoosePool() const;
  bool PoolAvailable(int pool) const;
  double PricePerUnit(int pool) const;
  double Headroom(int pool) const;

  World& w_;
  std::vector<uint32_t> instances_;
  double fulfilled_ = 0;
  bool retry_pending_ = false;
};

}  // namespace spk::sim
