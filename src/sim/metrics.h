// Metrics: what a run measures, integrated as the world changes. Instances
// and cost per pool, task-seconds running per service, time below the fleet's
// target, the notable events, the series sampled every
// Scenario::sample_interval, and at the end the RunResult. The only writer of
// the result.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/simulation.h"
#include "sim/world.h"

namespace spk::sim {

class Metrics {
 public:
  Metrics(World& w, PolicyKind policy);

  // Instances of `pool` (kOnDemandPool: the group) launched and not terminated.
  int InstanceCount(int pool) const { return meters_[Slot(pool)].count; }
  void InstanceLaunched(int pool);
  void InstanceTerminated(int pool);

  // Capacity units in service (running instances) changed by `delta`.
  void ChangeUnitsInService(double delta);

  // Tasks of service `sv` RUNNING and serving.
  int Running(uint32_t sv) const { return services_[sv].running; }
  void ChangeRunning(uint32_t sv, int delta);
  // A task of `sv` ended without a drain (its instance terminated under it).
  void TaskLost(uint32_t sv) { services_[sv].lost++; }

  void Interruption() { result_.summary.interruptions++; }
  void RejectedScalingCall() { result_.rejected_scaling_calls++; }
  void AddEvent(const char* kind, int pool, const std::string& instance);

  // kSample: one sample of every series; schedules the next.
  void Sample();
  // The end of the run: the last sample when due, the summary.
  RunResult Finish();

 private:
  // Instance-time and cost of one pool (or the on-demand group), integrated as
  // the count changes.
  struct PoolMeter {
    int count = 0;  // launched, not terminated
    SimTime last = 0;
    double instance_ms = 0;
    double cost = 0;  // USD
  };
  struct ServiceMeter {
    int running = 0;
    double running_ms = 0;
    SimTime last = 0;
    int64_t lost = 0;
  };

  size_t Slot(int pool) const {
    return pool == kOnDemandPool ? w_.s.pools.size() : static_cast<size_t>(pool);
  }
  void FlushMeter(int pool);
  void FlushService(uint32_t sv);
  void FlushCapacity();
  double CostNow() const;
  void StartSeries();
  void Summarize();

  World& w_;
  RunResult result_;
  std::vector<PoolMeter> meters_;  // per pool, then the on-demand group
  std::vector<ServiceMeter> services_;
  // Where each fleet pool's, the group's and each service's samples go in
  // result_.series (its capacity and services sorted by name, as in the JSON).
  std::vector<size_t> pool_series_;
  size_t on_demand_series_ = 0;
  std::vector<size_t> service_series_;
  double in_service_units_ = 0;
  bool below_target_ = false;
  SimTime capacity_last_ = 0;
  SimTime below_ms_ = 0;
};

}  // namespace spk::sim
