// Capacity-provider clusters: tasks bound to a provider, PROVISIONING and its
// timeout, managed scaling, and spotkeeper's fallback (policy::DecideFallback)
// against ECS's own behaviour.
#include <gtest/gtest.h>

#include <string>

#include "sim/scenario.h"
#include "sim/simulation.h"

namespace spk::sim {
namespace {

// A cluster whose spot provider holds 5 instances while us-east-1b is dry
// (09:00 to 13:00): web (16 tasks, scheduled first) keeps running, worker
// (12 tasks) has room for 2.
std::string CpScenario(const std::string& extra = "") {
  return R"(
name: cp
seed: 3
duration: 16h
sample_interval: 5m
pools:
  - {type: m5.large, zone: us-east-1a, capacity: 3}
  - {type: c5.large, zone: us-east-1a, memory_mib: 4096, capacity: 2}
  - {type: m5.large, zone: us-east-1b}
  - {type: c5.large, zone: us-east-1b, memory_mib: 4096, spot_price: 0.02}
fleet: {type: auto-scaling-group, target_capacity: 8, allocation_strategy: price-capacity-optimized}
on_demand: {name: od, instance_type: m5.large, max: 10}
capacity_providers: {spot: {max_size: 20}}
ecs:
  cluster: prod
  services:
    - {name: web, desired: 16, cpu: 512, memory: 1024, load_balancer: {}}
    - {name: worker, desired: 12, cpu: 512, memory: 1024, minimum_healthy_percent: 50}
events:
  - {at: 9h, kind: mass-reclaim, zone: us-east-1b, dry_for: 4h}
)" + extra;
}

Scenario Parse(const std::string& yaml) {
  auto s = ParseScenario(yaml);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : Scenario{};
}

size_t SampleAt(const RunResult& r, double t) {
  for (size_t i = 0; i < r.series.t.size(); ++i) {
    if (r.series.t[i] >= t) return i;
  }
  return r.series.t.size() - 1;
}

double Series(const RunResult& r, const std::string& name, size_t i) {
  for (const auto& s : r.series.capacity) {
    if (s.name == name) return s.values[i];
  }
  ADD_FAILURE() << "no series " << name;
  return -1;
}

double Running(const RunResult& r, const std::string& service, size_t i) {
  for (const auto& s : r.series.services) {
    if (s.name == service) return s.running[i];
  }
  ADD_FAILURE() << "no service " << service;
  return -1;
}

TEST(CapacityProviders, KeysAndDefaults) {
  Scenario s = Parse(CpScenario());
  const CapacityProvidersSpec& c = s.capacity_providers;
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.spot.name, "cp-spot");
  EXPECT_EQ(c.on_demand.name, "cp-on-demand");
  EXPECT_EQ(c.spot.target_capacity, 100);
  EXPECT_EQ(c.spot.minimum_scaling_step_size, 1);
  EXPECT_EQ(c.spot.maximum_scaling_step_size, 10000);
  EXPECT_EQ(c.spot.instance_warmup, 300 * kSecond);
  EXPECT_EQ(c.spot.max_size, 20);
  EXPECT_EQ(c.on_demand.max_size, 10);  // on_demand.max
  EXPECT_EQ(c.provisioning_timeout, 10 * kMinute);
  EXPECT_EQ(s.fleet.weights.at("m5.large"), 1);  // a provider's group counts instances
  ASSERT_EQ(s.ecs.services[0].capacity_provider_strategy.size(), 1u);
  EXPECT_EQ(s.ecs.services[0].capacity_provider_strategy[0].provider,
            StrategyItem::Provider::kSpot);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(s.controller.fallback.grace).count(),
            180);
  EXPECT_FALSE(Parse(DefaultScenarioYaml()).capacity_providers.enabled);
}

TEST(CapacityProviders, BadValuesNameTheKey) {
  struct Case {
    std::string yaml;
    std::string want;
  };
  const std::string base = CpScenario();
  std::string spot_fleet = base;
  spot_fleet.replace(spot_fleet.find("type: auto-scaling-group, "), 26, "");
  std::string no_cp = base;
  no_cp.replace(no_cp.find("capacity_providers: {spot: {max_size: 20}}"), 42, "");
  no_cp.replace(no_cp.find("load_balancer: {}"), 17,
                "capacity_provider_strategy: [{provider: spot}]");
  std::string weights = base;
  weights.replace(weights.find("target_capacity: 8,"), 19,
                  "target_capacity: 8, weights: {m5.large: 2},");
  auto strategy = [&](const std::string& items) {
    std::string y = base;
    y.replace(y.find("load_balancer: {}"), 17, "capacity_provider_strategy: " + items);
    return y;
  };
  std::string unknown = base;
  unknown.replace(unknown.find("{spot: {max_size: 20}}"), 22, "{spot: {max_sise: 20}}");
  std::string timeout = base;
  timeout.replace(timeout.find("{spot: {max_size: 20}}"), 22, "{provisioning_timeout: 2h}");
  std::string step = base;
  step.replace(step.find("{spot: {max_size: 20}}"), 22,
               "{on_demand: {minimum_scaling_step_size: 5, maximum_scaling_step_size: 2}}");
  const Case cases[] = {
      {spot_fleet, "capacity_providers: needs fleet.type: auto-scaling-group"},
      {no_cp, "ecs.services[0].capacity_provider_strategy: needs capacity_providers"},
      {weights, "fleet.weights: a capacity provider's group counts instances"},
      {strategy("[{provider: fargate}]"),
       "ecs.services[0].capacity_provider_strategy[0].provider: must be spot or on-demand"},
      {strategy("[{provider: spot}, {provider: spot}]"),
       "ecs.services[0].capacity_provider_strategy[1].provider: is listed twice"},
      {strategy("[{provider: spot, weight: 0}]"),
       "ecs.services[0].capacity_provider_strategy: at least one provider needs a weight"},
      {strategy("[{provider: spot, base: 1}, {provider: on-demand, base: 1}]"),
       "ecs.services[0].capacity_provider_strategy[1].base: only one provider may have a base"},
      {unknown, "scenario: unknown key capacity_providers.spot.max_sise"},
      {timeout, "capacity_providers.provisioning_timeout: must be between 1m and 1h"},
      {step, "capacity_providers.on_demand.maximum_scaling_step_size: must be at least"},
      {base + "controller: {fallback_max: lots}\n", "controller.fallback_max: fallback max"},
  };
  for (const Case& c : cases) {
    auto s = ParseScenario(c.yaml);
    ASSERT_FALSE(s.ok()) << c.want;
    EXPECT_EQ(s.status().message().rfind(c.want, 0), 0u) << s.status().message();
  }
}

// ECS alone: the worker tasks bound to the spot provider wait in
// PROVISIONING while the zone is dry and are stopped at the timeout (and
// created again, bound to spot again); nothing runs on on-demand.
TEST(CapacityProviders, EcsAloneLeavesTasksProvisioningUntilTheTimeout) {
  Scenario s = Parse(CpScenario());
  RunResult none = RunSimulation(s, PolicyKind::kNone);
  const size_t dry = SampleAt(none, 11 * 3600);
  EXPECT_EQ(Running(none, "worker", dry), 2);
  EXPECT_EQ(Running(none, "web", dry), 16);
  EXPECT_EQ(Series(none, "on-demand", dry), 0);
  // 10 worker tasks time out every 10 minutes for about 4 hours.
  EXPECT_GE(none.provisioning_timeouts, 10 * 22);
  EXPECT_LE(none.provisioning_timeouts, 10 * 25 + 10);
  // Spot returns at 13:00: the group launches, the tasks run.
  EXPECT_EQ(Running(none, "worker", SampleAt(none, 14 * 3600)), 12);
  EXPECT_LT(none.summary.availability, 0.95);
}

// spotkeeper: the shadow runs the stuck tasks on the on-demand provider
// (whose managed scaling launches the instances), then steps back down after
// the settle window once spot returns.
TEST(CapacityProviders, SpotkeeperShadowRunsTheStuckTasksThenStepsDown) {
  Scenario s = Parse(CpScenario());
  RunResult none = RunSimulation(s, PolicyKind::kNone);
  RunResult sk = RunSimulation(s, PolicyKind::kSpotkeeper);
  const size_t dry = SampleAt(sk, 11 * 3600);
  EXPECT_EQ(Running(sk, "worker", dry), 12);   // 2 primary + 10 shadow
  EXPECT_EQ(Series(sk, "on-demand", dry), 3);  // 10 tasks of 0.5 vCPU on m5.large
  EXPECT_GT(sk.provisioning_timeouts, 0);      // the primary's tasks still wait and time out
  EXPECT_GT(sk.summary.availability, none.summary.availability + 0.04);
  EXPECT_GT(sk.summary.on_demand_instance_hours, 3 * 3.9);
  EXPECT_LT(sk.summary.on_demand_instance_hours, 3 * 5.0);
  // 13:00 spot returns; the primary is whole by about 13:05; settle window
  // 10 min, then 10 -> 5 -> 2 -> 1 -> 0, one step a minute; managed scaling
  // scales the on-demand group in after 15 minutes below target.
  EXPECT_GT(Series(sk, "on-demand", SampleAt(sk, 13 * 3600 + 10 * 60)), 0);
  const size_t after = SampleAt(sk, 14 * 3600);
  EXPECT_EQ(Series(sk, "on-demand", after), 0);
  EXPECT_EQ(Running(sk, "worker", after), 12);
  EXPECT_EQ(Running(sk, "web", after), 16);
}

// A strategy's base goes first: 2 tasks on the on-demand provider, whose
// group managed scaling raises from 0; the rest on spot.
TEST(CapacityProviders, StrategyBaseAndManagedScalingOfTheOnDemandGroup) {
  std::string y = CpScenario();
  y.replace(y.find("load_balancer: {}"), 17,
            "capacity_provider_strategy: [{provider: spot, weight: 1}, "
            "{provider: on-demand, base: 2, weight: 0}]");
  RunResult r = RunSimulation(Parse(y), PolicyKind::kNone);
  EXPECT_EQ(Series(r, "on-demand", 0), 0);
  const size_t later = SampleAt(r, 3600);
  EXPECT_EQ(Series(r, "on-demand", later), 1);
  EXPECT_EQ(Running(r, "web", later), 16);
  EXPECT_EQ(Running(r, "worker", later), 12);
}

// Managed scaling's step size and warm-up: one instance at a time, the next
// only once the previous one's warm-up has passed.
TEST(CapacityProviders, StepSizeAndWarmupPaceTheScaleOut) {
  std::string y = CpScenario();
  y.replace(y.find("{spot: {max_size: 20}}"), 22,
            "{spot: {max_size: 20}, on_demand: {maximum_scaling_step_size: 1, "
            "instance_warmup: 10m}}");
  RunResult r = RunSimulation(Parse(y), PolicyKind::kSpotkeeper);
  EXPECT_EQ(Series(r, "on-demand", SampleAt(r, 9 * 3600 + 10 * 60)), 1);
  EXPECT_EQ(Series(r, "on-demand", SampleAt(r, 9 * 3600 + 20 * 60)), 2);
  EXPECT_EQ(Series(r, "on-demand", SampleAt(r, 9 * 3600 + 40 * 60)), 3);
}

// A target capacity below 100% keeps spare instances: at 50% about twice
// the instances the tasks need.
TEST(CapacityProviders, TargetCapacityBelow100KeepsSpareInstances) {
  auto spot_at = [](const RunResult& r, double t) {
    double n = 0;
    for (const auto& s : r.series.capacity) {
      if (s.name.rfind("spot ", 0) == 0) n += s.values[SampleAt(r, t)];
    }
    return n;
  };
  RunResult full = RunSimulation(Parse(CpScenario()), PolicyKind::kNone);
  std::string y = CpScenario();
  y.replace(y.find("{spot: {max_size: 20}}"), 22, "{spot: {max_size: 30, target_capacity: 50}}");
  RunResult spare = RunSimulation(Parse(y), PolicyKind::kNone);
  EXPECT_EQ(spot_at(full, 3600), 10);  // 28 tasks need 10 instances (c5.large holds 3)
  EXPECT_GE(spot_at(spare, 3600), 18);
  EXPECT_LE(spot_at(spare, 3600), 20);
}

TEST(CapacityProviders, Deterministic) {
  Scenario s = Parse(CpScenario());
  RunResult a = RunSimulation(s, PolicyKind::kSpotkeeper);
  RunResult b = RunSimulation(s, PolicyKind::kSpotkeeper);
  EXPECT_EQ(a.series.cost, b.series.cost);
  EXPECT_EQ(a.summary.availability, b.summary.availability);
  EXPECT_EQ(a.provisioning_timeouts, b.provisioning_timeouts);
}

}  // namespace
}  // namespace spk::sim
