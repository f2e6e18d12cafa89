#include "sim/load_balancer.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace spk::sim {
namespace {

// The fractional part of k x the golden ratio: a low-discrepancy spread of the
// warm-start targets' health-check phases over the interval.
double Spread(int k) {
  double x = k * 0.6180339887498949;
  return x - std::floor(x);
}

}  // namespace

LoadBalancer::LoadBalancer(World& w) : w_(w), groups_(w.s.ecs.services.size()) {}

SimTime LoadBalancer::UnhealthyAt(const ServiceSpec& spec, SimTime anchor, SimTime killed) {
  assert(killed >= anchor);
  const SimTime interval = spec.health_check_interval;
  const SimTime first_failed = anchor + ((killed - anchor) / interval + 1) * interval;
  return first_failed + (spec.unhealthy_threshold - 1) * interval + spec.health_check_timeout;
}

double LoadBalancer::ServedPerTarget(uint32_t sv) const {
  const Group& g = groups_[sv];
  const int n = g.in_service + g.dead;
  if (n == 0) return 0;
  const ServiceSpec& spec = w_.s.ecs.services[sv];
  const double share = spec.requests_per_second / n;
  return spec.max_requests_per_task > 0 ? std::min(share, spec.max_requests_per_task) : share;
}

void LoadBalancer::Flush(uint32_t sv) {
  Group& g = groups_[sv];
  const SimTime now = w_.now();
  if (now > g.last) {
    const double seconds = static_cast<double>(now - g.last) / kSecond;
    const double offered = w_.s.ecs.services[sv].requests_per_second;
    const double served = g.in_service * ServedPerTarget(sv);
    g.served += served * seconds;
    g.failed += (offered - served) * seconds;
  }
  g.last = now;
}

double LoadBalancer::InFlight(const Target& target) const {
  const ServiceSpec& spec = w_.s.ecs.services[target.service];
  const SimTime window = std::min(spec.request_duration, w_.now() - target.since);
  return ServedPerTarget(target.service) * static_cast<double>(window) / kSecond;
}

void LoadBalancer::FailInFlight(Target& target, SimTime elapsed) {
  const SimTime duration = w_.s.ecs.services[target.service].request_duration;
  const double failed = elapsed >= duration
                            ? 0.0
                            : target.in_flight * static_cast<double>(duration - elapsed) / duration;
  Group& g = groups_[target.service];
  g.served -= failed;  // counted as served when they arrived
  g.failed += failed;
  target.state = Target::State::kNone;
}

void LoadBalancer::Register(uint32_t t, uint32_t sv) {
  const ServiceSpec& spec = w_.s.ecs.services[sv];
  if (!spec.load_balanced) return;
  if (targets_.size() <= t) targets_.resize(t + 1);
  Flush(sv);
  Group& g = groups_[sv];
  SimTime anchor = w_.now();
  if (w_.warm) {
    anchor -=
        static_cast<SimTime>(Spread(g.warm++) * static_cast<double>(spec.health_check_interval));
  }
  targets_[t] = Target{Target::State::kInRotation, sv, anchor, 0};
  g.in_service++;
}

SimTime LoadBalancer::Deregister(uint32_t t, uint32_t sv, bool in_rotation) {
  const ServiceSpec& spec = w_.s.ecs.services[sv];
  if (!spec.load_balanced) return 0;
  if (in_rotation && t < targets_.size() && targets_[t].state == Target::State::kInRotation) {
    Flush(sv);
    Target& target = targets_[t];
    target.in_flight = InFlight(target);
    target.state = Target::State::kDeregistering;
    target.since = w_.now();
    groups_[sv].in_service--;
  }
  return spec.deregistration_delay;
}

void LoadBalancer::Stopped(uint32_t t) {
  if (t >= targets_.size() || targets_[t].state != Target::State::kDeregistering) return;
  FailInFlight(targets_[t], w_.now() - targets_[t].since);
}

void LoadBalancer::Killed(uint32_t t) {
  if (t >= targets_.size()) return;
  Target& target = targets_[t];
  if (target.state == Target::State::kDeregistering) {
    FailInFlight(target, w_.now() - target.since);
    return;
  }
  if (target.state != Target::State::kInRotation) return;
  const uint32_t sv = target.service;
  Flush(sv);
  const ServiceSpec& spec = w_.s.ecs.services[sv];
  target.in_flight = InFlight(target);
  FailInFlight(target, 0);
  target.state = Target::State::kDead;
  groups_[sv].in_service--;
  groups_[sv].dead++;
  w_.q.Push(UnhealthyAt(spec, target.since, w_.now()), kTargetUnhealthy, t);
}

void LoadBalancer::MarkedUnhealthy(uint32_t t) {
  if (t >= targets_.size() || targets_[t].state != Target::State::kDead) return;
  const uint32_t sv = targets_[t].service;
  Flush(sv);
  groups_[sv].dead--;
  targets_[t].state = Target::State::kNone;
}

LoadBalancer::Requests LoadBalancer::Totals(uint32_t sv) {
  if (!w_.s.ecs.services[sv].load_balanced) return {};
  Flush(sv);
  return {groups_[sv].served, groups_[sv].failed};
}

double LoadBalancer::FailedSoFar() {
  double failed = 0;
  for (uint32_t sv = 0; sv < groups_.size(); ++sv) failed += Totals(sv).failed;
  return failed;
}

}  // namespace spk::sim
