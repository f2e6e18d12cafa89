// Simulator scenarios (sim/scenario.h): the YAML, and the JSON files it may
// reference (market.spot_price_history, market.spot_advisor). The input is
// split at the first "\n---8<---\n": before it the YAML, after it the content
// of every referenced file.
// Invariants: never throws; an error is kInvalidArgument with a one-line
// message; a parsed scenario has pools and services, finite prices >= 0 and
// spot price times in order; a service's load balancer has health checks in
// ELBv2's ranges, requests only behind a load balancer, a finite rate >= 0 and
// a per-task limit that is either unset (-1) or above 0; the spot source has an
// id, Capacity Rebalancing and a lifecycle hook only as an Auto Scaling group,
// and a hook heartbeat timeout in Auto Scaling's range (30 s to 2 h); a
// replacement strategy only on a Spot Fleet or EC2 Fleet, and a termination
// delay (120 s to 7200 s) exactly when it is launch-before-terminate;
// capacity providers only on a spot Auto Scaling group, with a strategy per
// service and managed scaling in ECS's ranges.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "sim/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  static const std::string kSplit = "\n---8<---\n";
  const size_t cut = input.find(kSplit);
  const std::string yaml = input.substr(0, cut);
  const std::string file = cut == std::string::npos ? "" : input.substr(cut + kSplit.size());
  auto reader = [&file](const std::string&) -> spk::Result<std::string> { return file; };
  auto scenario = spk::sim::ParseScenario(yaml, reader);
  if (!scenario.ok()) {
    FUZZ_CHECK(scenario.status().code() == spk::StatusCode::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK(!scenario->pools.empty());
  for (const auto& pool : scenario->pools) {
    FUZZ_CHECK(!pool.spot_prices.empty());
    spk::sim::SimTime last = -1;
    for (const auto& [at, price] : pool.spot_prices) {
      FUZZ_CHECK(std::isfinite(price) && price >= 0);
      FUZZ_CHECK(at >= last);
      last = at;
    }
  }
  const auto& fleet = scenario->fleet;
  FUZZ_CHECK(!fleet.id.empty());
  using spk::sim::ReplacementStrategy;
  if (fleet.type != spk::sim::SpotSourceType::kAutoScalingGroup) {
    FUZZ_CHECK(!fleet.capacity_rebalance && !fleet.lifecycle_hook);
  } else {
    FUZZ_CHECK(fleet.allocation_strategy != spk::sim::AllocationStrategy::kDiversified);
    FUZZ_CHECK(fleet.replacement_strategy == ReplacementStrategy::kNone);
  }
  if (fleet.replacement_strategy == ReplacementStrategy::kLaunchBeforeTerminate) {
    FUZZ_CHECK(fleet.termination_delay >= 120 * spk::sim::kSecond &&
               fleet.termination_delay <= 7200 * spk::sim::kSecond);
  } else {
    FUZZ_CHECK(fleet.termination_delay == 0);
  }
  FUZZ_CHECK(fleet.hook_heartbeat_timeout >= 30 * spk::sim::kSecond &&
             fleet.hook_heartbeat_timeout <= 7200 * spk::sim::kSecond);
  for (const auto& svc : scenario->ecs.services) {
    using spk::sim::kSecond;
    FUZZ_CHECK(std::isfinite(svc.requests_per_second) && svc.requests_per_second >= 0);
    if (!svc.load_balanced) FUZZ_CHECK(svc.requests_per_second == 0);
    FUZZ_CHECK(svc.max_requests_per_task == -1 || svc.max_requests_per_task > 0);
    FUZZ_CHECK(svc.request_duration >= 0);
    FUZZ_CHECK(svc.health_check_interval >= 5 * kSecond &&
               svc.health_check_interval <= 300 * kSecond);
    FUZZ_CHECK(svc.unhealthy_threshold >= 2 && svc.unhealthy_threshold <= 10);
    FUZZ_CHECK(svc.health_check_timeout >= 2 * kSecond &&
               svc.health_check_timeout < svc.health_check_interval);
  }
  // Capacity providers: only on a spot Auto Scaling group; every service has
  // a strategy (one or two providers, a weight above 0, at most one base);
  // managed scaling within ECS's ranges.
  const auto& cp = scenario->capacity_providers;
  for (const auto& svc : scenario->ecs.services) {
    FUZZ_CHECK(cp.enabled != svc.capacity_provider_strategy.empty());
    int weights = 0, bases = 0;
    for (const auto& item : svc.capacity_provider_strategy) {
      FUZZ_CHECK(item.base >= 0 && item.weight >= 0);
      weights += item.weight;
      bases += item.base > 0;
    }
    FUZZ_CHECK(!cp.enabled || (weights > 0 && bases <= 1));
  }
  if (cp.enabled) {
    FUZZ_CHECK(fleet.type == spk::sim::SpotSourceType::kAutoScalingGroup);
    for (const auto* ms : {&cp.spot, &cp.on_demand}) {
      FUZZ_CHECK(ms->target_capacity >= 1 && ms->target_capacity <= 100);
      FUZZ_CHECK(ms->minimum_scaling_step_size >= 1 &&
                 ms->minimum_scaling_step_size <= ms->maximum_scaling_step_size);
      FUZZ_CHECK(ms->instance_warmup >= 0 && ms->max_size >= 1);
    }
    FUZZ_CHECK(cp.provisioning_timeout >= spk::sim::kMinute &&
               cp.provisioning_timeout <= spk::sim::kHour);
    FUZZ_CHECK(fleet.target_capacity <= cp.spot.max_size);
  }
  return 0;
}
