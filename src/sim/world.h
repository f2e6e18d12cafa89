// What every model of one simulation run shares (docs/simulator.md, "Code
// map"): the scenario, the event queue and its clock, the instances, and a
// pointer to each model so that one can call another. The engine
// (simulation.cc) owns the models and fills in the pointers before the run.
#pragma once

#include <cctype>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "sim/engine.h"
#include "sim/scenario.h"

namespace spk::sim {

// What an Event means; `Event::a` is an instance, task, pool or market event index.
enum EventKind : uint32_t {
  kEnd,
  kSample,
  kInstanceBooted,
  kInstanceRegistered,
  kRebalance,
  kNotice,
  kTerminate,
  kTaskRunning,
  kTaskGone,
  kFleetCheck,
  kAsgCheck,
  kPoolRestored,
  kMarketEvent,
  kSchedule,
  kControllerNotice,
  kControllerRebalance,
  kReconcile,
  kAlarmEval,
  kReferenceNotice,
  kAgentDrain,
  kTargetUnhealthy,
  kHookTimeout,          // a spot group's terminating hook runs out (its heartbeat timeout)
  kControllerLifecycle,  // spotkeeper hears of a terminate lifecycle action
  kManagedScaling,       // capacity providers: managed scaling evaluates (every minute)
  kProvisioningTimeout,  // capacity providers: a task's PROVISIONING timeout (a = task)
  kRebalanceTerminate,   // a fleet's launch-before-terminate: its termination delay ends
};

// The pool index of the on-demand group's instances.
constexpr int kOnDemandPool = -1;

// Virtual time as the policies see it: 2024-01-01T00:00:00Z plus `t`.
inline WallTime Wall(SimTime t) {
  return WallTime(std::chrono::seconds(1704067200)) + std::chrono::milliseconds(t);
}

// One EC2 instance, from launch to termination (never removed: its index is
// its id).
struct Instance {
  std::string id;
  std::string arn;
  int pool = kOnDemandPool;
  double units = 0;
  int free_cpu = 0;
  int free_memory = 0;
  enum class State { kBooting, kRunning, kTerminated } state = State::kBooting;
  enum class Ecs { kNone, kActive, kDraining } ecs = Ecs::kNone;
  SimTime launched = 0;
  bool noticed = false;
  bool recommended = false;  // a rebalance recommendation came for it
  // A spot group's instance in Terminating:Wait: its terminating hook holds it.
  bool terminating = false;
  // A fleet's instance at risk whose replacement capacity rebalancing
  // launched: it runs on but no longer counts toward the fulfilled capacity.
  bool replaced = false;
  SimTime notice_time = 0;
  SimTime termination_time = 0;
  std::vector<uint32_t> tasks;
  int starting_tasks = 0;        // of `tasks`, those still starting (kept by EcsCluster)
  std::vector<int> group_tasks;  // per service: tasks not gone
  std::vector<uint8_t> member;   // per service: passes memberOf (set at registration)
};

class AutoScalingGroup;
class CapacityProviders;
class Ec2;
class EcsCluster;
class LoadBalancer;
class Market;
class Metrics;
class Policies;
class SpotFleet;

struct World {
  explicit World(const Scenario& scenario) : s(scenario) {}

  const Scenario& s;
  EventQueue q;
  std::vector<Instance> instances;
  bool warm = false;  // building the steady state at t = 0: no delays

  Market* market = nullptr;
  Ec2* ec2 = nullptr;
  SpotFleet* fleet = nullptr;
  AutoScalingGroup* asg = nullptr;
  EcsCluster* ecs = nullptr;
  LoadBalancer* lb = nullptr;
  Policies* policies = nullptr;
  Metrics* metrics = nullptr;
  CapacityProviders* providers = nullptr;  // capacity-provider clusters only

  SimTime now() const { return q.now(); }

  const std::string& TypeOf(const Instance& in) const {
    return in.pool == kOnDemandPool ? s.on_demand.instance_type : s.pools[in.pool].instance_type;
  }
  const std::string& ZoneOf(const Instance& in) const {
    return in.pool == kOnDemandPool ? s.on_demand.zone : s.pools[in.pool].zone;
  }

  // "i-00000042" for index 42, and back (nullopt: not one of ours).
  static std::string InstanceId(size_t index) {
    std::string digits = std::to_string(index);
    return "i-" + std::string(digits.size() < 8 ? 8 - digits.size() : 0, '0') + digits;
  }
  std::optional<uint32_t> IndexOfInstanceId(const std::string& id) const {
    if (id.size() < 3 || id.compare(0, 2, "i-") != 0) return std::nullopt;
    uint64_t v = 0;
    for (size_t i = 2; i < id.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(id[i]))) return std::nullopt;
      v = v * 10 + (id[i] - '0');
      if (v >= instances.size()) return std::nullopt;
    }
    return static_cast<uint32_t>(v);
  }
  std::optional<uint32_t> IndexOfArn(const std::string& arn) const {
    size_t slash = arn.rfind('/');
    if (slash == std::string::npos) return std::nullopt;
    return IndexOfInstanceId(arn.substr(slash + 1));
  }
};

}  // namespace spk::sim
