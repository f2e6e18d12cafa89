// The spot market: each pool's price over time, when its instances are
// interrupted (a rebalance recommendation, then the two-minute notice), and
// the scenario's market events (mass reclaims, pools running dry).
//
// Randomness: one stream per pool for the interruption draws (so a policy
// meets the same interruptions as long as it launches the same spot
// instances) and one for the notices' leads.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/random.h"
#include "sim/world.h"

namespace spk::sim {

class Market {
 public:
  explicit Market(World& w);

  // Schedules every scenario market event (kMarketEvent).
  void Start();

  // The price of one instance of `pool` (kOnDemandPool: the group's on-demand
  // price) integrated over [from, to): USD * ms / h.
  double PriceIntegral(int pool, SimTime from, SimTime to) const;
  // The spot price of `pool` now, USD per hour.
  double SpotPrice(int pool) const;
  // A pool is dry while a market event says it has no capacity.
  bool Dry(int pool) const { return dry_[pool] > 0; }

  // Draws a new spot instance's interruption and schedules it (kRebalance,
  // kNotice), unless it falls after the end.
  void ScheduleInterruption(uint32_t index);

  // Event handlers.
  void Rebalance(uint32_t index);   // kRebalance
  void Notice(uint32_t index);      // kNotice: the interruption notice
  void ApplyEvent(uint32_t which);  // kMarketEvent: Scenario::events[which]
  void PoolRestored(int pool);      // kPoolRestored

 private:
  void SetDry(int pool, SimTime duration);

  World& w_;
  SeededRandom random_;  // notice leads
  std::vector<std::unique_ptr<SeededRandom>> pool_random_;
  std::vector<int> dry_;  // per pool; > 0: no launches
};

}  // namespace spk::sim
