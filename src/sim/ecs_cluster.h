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

// Capacity-provider clusters: the providers a task can be bound to.
enum Provider : uint8_t { kSpotProvider = 0, kOnDemandProvider = 1 };

struct Task {
  uint32_t service = 0;
  uint32_t instance = 0;  // not placed (PROVISIONING): kNoInstance
  enum class State {
    kStarting,
    kRunning,
    kStopping,
    kGone,
    kProvisioning
  } state = State::kStarting;
  // Capacity-provider clusters: the provider the task is bound to, whether it
  // is a task of the service's shadow (spotkeeper's fallback), when it was
  // created.
  uint8_t provider = kSpotProvider;
  bool shadow = false;
  SimTime created = 0;
};

inline constexpr uint32_t kNoInstance = 0xffffffffu;

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

  // Capacity-provider clusters (Scenario::capacity_providers). A task is
  // bound to a provider when it is created (the service's strategy; a
  // shadow's to the on-demand provider) and placed only on that provider's
  // instances; with no room it waits in PROVISIONING until there is, or until
  // the provisioning timeout stops it (the service then creates another).
  void ProvisioningTimeout(uint32_t t);  // kProvisioningTimeout
  // The PROVISIONING tasks of service `sv` (its shadow's with `shadow`), oldest first.
  const std::vector<uint32_t>& provisioning(uint32_t sv, bool shadow) const {
    return provisioning_[sv * 2 + (shadow ? 1 : 0)];
  }
  // PROVISIONING tasks bound to `provider`: how many, their CPU and memory.
  struct Demand {
    int tasks = 0;
    int64_t cpu = 0;
    int64_t memory = 0;
  };
  Demand ProvisioningDemand(Provider provider) const { return demand_[provider]; }
  // The primary's own tasks (not its shadow's): RUNNING, and starting.
  int PrimaryRunning(uint32_t sv) const { return primary_running_[sv]; }
  int PrimaryStarting(uint32_t sv) const;
  // The shadow's desired count (spotkeeper's fallback sets it; 0 otherwise).
  int ShadowDesired(uint32_t sv) const { return shadow_desired_[sv]; }
  void SetShadowDesired(uint32_t sv, int desired);
  // Tasks stopped by their PROVISIONING timeout.
  int64_t provisioning_timeouts() const { return provisioning_timeouts_; }

 private:
  const std::vector<uint32_t>& Active();
  void StartTask(uint32_t service, uint32_t instance);
  void StopTask(uint32_t t);
  void ScheduleService(uint32_t sv);
  void PlaceTasks(uint32_t sv, int n);
  // Capacity-provider clusters.
  int& Live(const Task& task) {
    return task.shadow ? shadow_live_[task.service] : live_[task.service];
  }
  void ScheduleShadow(uint32_t sv);
  // Places the service's (or its shadow's) PROVISIONING tasks where they now
  // fit, then creates `n` new tasks, each placed or left PROVISIONING.
  void PlaceBound(uint32_t sv, bool shadow, int n);
  Provider Bind(uint32_t sv) const;
  void Begin(uint32_t t, uint32_t instance);
  // Task `t` into its service's PROVISIONING list at position `at` (clamped
  // to its end), counted in its provider's demand; RemoveProvisioning undoes it.
  void AddProvisioning(uint32_t t, size_t at);
  void RemoveProvisioning(uint32_t t);

  World& w_;
  SeededRandom placement_random_;
  std::vector<Task> tasks_;
  std::vector<int> live_;  // per service: starting or running, not stopping
  std::vector<uint32_t> registered_;
  std::vector<uint32_t> draining_;
  std::vector<uint32_t> active_;
  bool active_dirty_ = true;
  bool schedule_pending_ = false;
  // Capacity-provider clusters.
  const bool cp_;
  std::vector<std::vector<uint32_t>> provisioning_;  // per service x {primary, shadow}
  std::vector<int> shadow_live_;
  std::vector<int> shadow_desired_;
  std::vector<int> primary_running_;
  std::vector<int> bound_;  // per service x provider: the primary's tasks live or PROVISIONING
  Demand demand_[2];
  int64_t provisioning_timeouts_ = 0;
};

}  // namespace spk::sim
