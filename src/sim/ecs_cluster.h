// The ECS cluster: container instances (ACTIVE or DRAINING), tasks, and the
// service scheduler, which replaces missing tasks and moves tasks off DRAINING
// instances within minimumHealthyPercent and maximumPercent, placing them with
// the services' strategies and constraints (placement.h).
//
// Load balancer (sim/load_balancer.h): a RUNNING task of a load-balanced
// service is its target; a stopping one is deregistered first and stops after
// the delay the load balancer answers; a task killed with its instance is
// reported to it.
#pragma once

#include <cstdint>
#include <vector>

#include "base/random.h"
#include "sim/world.h"

namespace spk::sim {

struct Task {
  uint32_t service = 0;
  uint32_t instance = 0;
  enum class State { kStarting, kRunning, kStopping, kGone } state = State::kStarting;
};

class EcsCluster {
 public:
  explicit EcsCluster(World& w);

  // Registered container instances (ACTIVE or DRAINING), in registration order.
  const std::vector<uint32_t>& registered() const { return registered_; }
  const Task& task(uint32_t t) const { return tasks_[t]; }

  // The steady state at t = 0: every service's tasks placed and running.
  void WarmStart();

  // kInstanceRegistered: the instance becomes an ACTIVE container instance.
  void Registered(uint32_t index);
  void SetDraining(uint32_t index);  // also kAgentDrain
  void SetActive(uint32_t index);
  // The instance is terminating: its tasks are lost; then it leaves the cluster.
  void InstanceLost(uint32_t index);
  void Deregister(uint32_t index);

  // Runs the scheduler once now (coalesced).
  void RequestSchedule();
  void Schedule();               // kSchedule
  void TaskRunning(uint32_t t);  // kTaskRunning
  void TaskGone(uint32_t t);     // kTaskGone

 private:
  const std::vector<uint32_t>& Active();
  void StartTask(uint32_t service, uint32_t instance);
  void StopTask(uint32_t t);
  void ScheduleService(uint32_t sv);
  void PlaceTasks(uint32_t sv, int n);

  World& w_;
  SeededRandom placement_random_;
  std::vector<Task> tasks_;
  std::vector<int> live_;  // per service: starting or running, not stopping
  std::vector<uint32_t> registered_;
  std::vector<uint32_t> draining_;
  std::vector<uint32_t> active_;
  bool active_dirty_ = true;
  bool schedule_pending_ = false;
};

}  // namespace spk::sim
