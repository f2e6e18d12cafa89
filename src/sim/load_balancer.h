// The load balancer: one Application Load Balancer target group per
// load-balanced service, and the requests it routes (docs/simulator.md, "Load
// balancer and requests").
//
// A service's request rate (ServiceSpec::requests_per_second) is spread
// evenly (round robin) over its targets in rotation. A target is a task that is
// RUNNING (its start time includes passing its first health check). Then:
// - a task stopped by ECS (drained or scaled in) is deregistered at once: it
//   leaves the rotation, its in-flight requests finish within the
//   deregistration delay (those still running when the delay ends fail), and
//   ECS stops it after that delay (Deregister's answer);
// - a task killed while in rotation (its instance terminated) fails its
//   in-flight requests, and stays in rotation, failing its whole share, until
//   its health checks mark it unhealthy; then the other targets take its share;
// - with `max_requests_per_task`, a target serves at most that; the excess of
//   its share is shed (failed);
// - with no target in rotation every request fails (ALB answers 503).
// Requests are a fluid: rates times durations, integrated exactly between the
// events that change a target group, so the counts are not whole numbers.
// In-flight requests of a target serving r requests/s are r x request_duration
// (Little's law; or r x its time in rotation, if shorter); they finish evenly
// over the next request duration.
//
// Health checks: each target is checked every `health_check_interval` from its
// registration (targets present at the start have their checks spread over the
// interval). A killed target fails the first check started after its death and
// is marked unhealthy when the `unhealthy_threshold`-th such check times out
// (`health_check_timeout` later): UnhealthyAt.
//
// Every call is O(1). Single-threaded, as the whole simulation.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/engine.h"
#include "sim/scenario.h"
#include "sim/world.h"

namespace spk::sim {

class LoadBalancer {
 public:
  explicit LoadBalancer(World& w);

  // Calls about task `t` of service `sv` (EcsCluster's task index); a
  // service without a load balancer is ignored.

  // The task is RUNNING and healthy: a target in rotation.
  void Register(uint32_t t, uint32_t sv);
  // ECS stops the task. When it was in rotation (`in_rotation`: it was
  // RUNNING) it leaves it now and its in-flight requests go on. Returns how long
  // the task keeps running before it stops: the deregistration delay (0 for a
  // service without a load balancer).
  SimTime Deregister(uint32_t t, uint32_t sv, bool in_rotation);
  // The task stopped after its deregistration delay: its in-flight requests
  // not finished by now fail.
  void Stopped(uint32_t t);
  // The task died with its instance. In rotation: its in-flight requests fail
  // and it stays in rotation until marked unhealthy (schedules
  // kTargetUnhealthy). Deregistering: as Stopped.
  void Killed(uint32_t t);
  // kTargetUnhealthy: the health checks marked the dead target `t` unhealthy.
  void MarkedUnhealthy(uint32_t t);

  struct Requests {
    double served = 0;
    double failed = 0;
  };
  // Service `sv`'s requests from the start until now.
  Requests Totals(uint32_t sv);
  // All services' failed requests from the start until now.
  double FailedSoFar();

  // When a target anchored (registered) at `anchor` and killed at `killed`
  // (>= anchor) is marked unhealthy under `spec`'s health checks: the first
  // check after `killed`, (unhealthy_threshold - 1) intervals more, and the
  // timeout of the last.
  static SimTime UnhealthyAt(const ServiceSpec& spec, SimTime anchor, SimTime killed);

 private:
  struct Target {
    enum class State : uint8_t { kNone, kInRotation, kDead, kDeregistering };
    State state = State::kNone;
    uint32_t service = 0;
    // kInRotation, kDead: the health checks' anchor; kDeregistering: when it left.
    SimTime since = 0;
    double in_flight = 0;  // kDeregistering: requests in flight when it left
  };
  // One target group and its requests.
  struct Group {
    int in_service = 0;  // in rotation and alive
    int dead = 0;        // in rotation, killed, not yet marked unhealthy
    int warm = 0;        // targets registered by the warm start
    double served = 0;
    double failed = 0;
    SimTime last = 0;
  };

  // Requests/s one live target serves now.
  double ServedPerTarget(uint32_t sv) const;
  // Integrates group `sv`'s requests up to now.
  void Flush(uint32_t sv);
  // Requests in flight on the live `target` now: what it serves per second
  // times the request duration (or its time in rotation, if shorter).
  double InFlight(const Target& target) const;
  // Fails what `target` still has in flight `elapsed` ms after it left rotation
  // (its in-flight requests finish evenly over one request duration), and
  // forgets it.
  void FailInFlight(Target& target, SimTime elapsed);

  World& w_;
  std::vector<Group> groups_;    // per service
  std::vector<Target> targets_;  // per task index (grown as tasks register)
};

}  // namespace spk::sim
