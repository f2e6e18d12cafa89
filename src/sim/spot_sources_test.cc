// The spot capacity sources (fleet.type): Spot Fleet, EC2 Fleet and a
// mixed-instances Auto Scaling group with Capacity Rebalancing and a
// terminating lifecycle hook.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/engine.h"
#include "sim/output.h"
#include "sim/scenario.h"
#include "sim/simulation.h"

namespace spk::sim {
namespace {

Scenario Parse(const std::string& yaml) {
  auto s = ParseScenario(yaml);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : Scenario{};
}

// Spot instances launched and not terminated at sample `i`, all pools.
double SpotInstancesAt(const RunResult& r, size_t i) {
  double n = 0;
  for (const report::NamedSeries& c : r.series.capacity) {
    if (c.name != "on-demand" && i < c.values.size()) n += c.values[i];
  }
  return n;
}

// The sample at `t` seconds.
size_t SampleAt(const RunResult& r, double t) {
  auto it = std::lower_bound(r.series.t.begin(), r.series.t.end(), t);
  EXPECT_NE(it, r.series.t.end()) << "no sample at " << t;
  return static_cast<size_t>(it - r.series.t.begin());
}

int CountEvents(const RunResult& r, const std::string& kind) {
  return static_cast<int>(std::count_if(r.events.begin(), r.events.end(),
                                        [&](const report::Event& e) { return e.kind == kind; }));
}

// The events of one kind, as "t instance" (seconds), in order.
std::vector<std::string> EventsOf(const RunResult& r, const std::string& kind) {
  std::vector<std::string> out;
  for (const report::Event& e : r.events) {
    if (e.kind == kind) out.push_back(std::to_string(static_cast<int>(e.t)) + " " + e.instance);
  }
  return out;
}

// The instances named by the events of one kind, sorted.
std::vector<std::string> InstancesOf(const RunResult& r, const std::string& kind) {
  std::vector<std::string> out;
  for (const report::Event& e : r.events) {
    if (e.kind == kind) out.push_back(e.instance);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A spot group of four m5.large (2 units each) in its cheapest pool, two
// tasks of app on each (spread by instance), room for two more per instance.
// At 1h two of them get a rebalance recommendation and no notice follows.
// `group_keys`: more keys of the group, each after a comma.
std::string GroupScenario(const std::string& group_keys) {
  return R"(
name: group
duration: 3h
sample_interval: 1m
market: {rebalance_probability: 0}
pools:
  - {type: m5.large, zone: us-east-1a, monthly_interruption: 0}
  - {type: m5.large, zone: us-east-1b, monthly_interruption: 0, spot_price: 0.05}
fleet: {type: auto-scaling-group, id: spot-asg, target_capacity: 8,
        allocation_strategy: lowest-price, launch_delay: 90s)" +
         group_keys + R"(}
on_demand: {name: od, instance_type: m5.large, min: 0, max: 10}
ecs:
  cluster: prod
  services:
    - name: app
      desired: 8
      cpu: 512
      memory: 1024
      start_time: 30s
      minimum_healthy_percent: 100
      maximum_percent: 200
      placement_strategy: [{type: spread, field: instanceId}]
events:
  - {at: 1h, kind: rebalance-recommendation, pool: "m5.large us-east-1a", count: 2}
)";
}

TEST(SpotSources, ScenarioKeysAndDefaults) {
  Scenario fleet = Parse(GroupScenario(""));
  EXPECT_EQ(fleet.fleet.type, SpotSourceType::kAutoScalingGroup);
  EXPECT_EQ(fleet.fleet.id, "spot-asg");
  EXPECT_EQ(fleet.fleet.allocation_strategy, AllocationStrategy::kLowestPrice);
  EXPECT_FALSE(fleet.fleet.capacity_rebalance);
  EXPECT_FALSE(fleet.fleet.lifecycle_hook);
  EXPECT_EQ(fleet.fleet.hook_heartbeat_timeout, kHour);
  ASSERT_EQ(fleet.events.size(), 1u);
  EXPECT_EQ(fleet.events[0].kind, MarketEvent::Kind::kRebalance);
  EXPECT_EQ(fleet.events[0].count, 2);

  const std::string rest = "pools: [{type: m5.large, zone: a}]\necs: {services: [{name: x}]}\n";
  Scenario spot = Parse("fleet: {target_capacity: 4}\n" + rest);
  EXPECT_EQ(spot.fleet.type, SpotSourceType::kSpotFleet);
  EXPECT_EQ(spot.fleet.id, "sfr-simulated");
  EXPECT_EQ(spot.fleet.allocation_strategy, AllocationStrategy::kCapacityOptimized);
  Scenario ec2 = Parse(
      "fleet: {type: ec2-fleet, target_capacity: 4, allocation_strategy: "
      "price-capacity-optimized}\n" +
      rest);
  EXPECT_EQ(ec2.fleet.type, SpotSourceType::kEc2Fleet);
  EXPECT_EQ(ec2.fleet.id, "fleet-simulated");
  EXPECT_EQ(ec2.fleet.allocation_strategy, AllocationStrategy::kPriceCapacityOptimized);
  Scenario group = Parse(
      "fleet: {type: auto-scaling-group, target_capacity: 4, capacity_rebalance: true, "
      "lifecycle_hook: true, hook_heartbeat_timeout: 15m}\n" +
      rest);
  EXPECT_EQ(group.fleet.id, "spot-group");
  EXPECT_TRUE(group.fleet.capacity_rebalance);
  EXPECT_TRUE(group.fleet.lifecycle_hook);
  EXPECT_EQ(group.fleet.hook_heartbeat_timeout, 15 * kMinute);
  EXPECT_EQ(group.fleet.replacement_strategy, ReplacementStrategy::kNone);

  EXPECT_EQ(spot.fleet.replacement_strategy, ReplacementStrategy::kNone);
  EXPECT_EQ(spot.fleet.termination_delay, 0);
  Scenario launch = Parse("fleet: {target_capacity: 4, replacement_strategy: launch}\n" + rest);
  EXPECT_EQ(launch.fleet.replacement_strategy, ReplacementStrategy::kLaunch);
  EXPECT_EQ(launch.fleet.termination_delay, 0);
  for (const char* delay : {"120s", "7200", "15m"}) {
    Scenario lbt = Parse(
        "fleet: {type: ec2-fleet, target_capacity: 4, replacement_strategy: "
        "launch-before-terminate, termination_delay: " +
        std::string(delay) + "}\n" + rest);
    EXPECT_EQ(lbt.fleet.replacement_strategy, ReplacementStrategy::kLaunchBeforeTerminate);
    SimTime want = std::string(delay) == "120s"   ? 2 * kMinute
                   : std::string(delay) == "7200" ? 2 * kHour
                                                  : 15 * kMinute;
    EXPECT_EQ(lbt.fleet.termination_delay, want) << delay;
  }
  EXPECT_STREQ(ReplacementStrategyName(ReplacementStrategy::kLaunchBeforeTerminate),
               "launch-before-terminate");
}

TEST(SpotSources, BadValuesNameTheKey) {
  struct Case {
    std::string fleet, message;
  };
  const std::vector<Case> cases = {
      {"{type: spot-asg, target_capacity: 4}",
       "fleet.type: must be spot-fleet, ec2-fleet or auto-scaling-group, not \"spot-asg\""},
      {"{type: [a], target_capacity: 4}", "fleet.type: must be a string"},
      {"{target_capacity: 4, capacity_rebalance: true}",
       "fleet.capacity_rebalance: only a fleet of type auto-scaling-group has it, not spot-fleet"},
      {"{type: ec2-fleet, target_capacity: 4, lifecycle_hook: true}",
       "fleet.lifecycle_hook: only a fleet of type auto-scaling-group has it, not ec2-fleet"},
      {"{type: auto-scaling-group, target_capacity: 4, capacity_rebalance: sometimes}",
       "fleet.capacity_rebalance: must be true or false"},
      {"{type: auto-scaling-group, target_capacity: 4, lifecycle_hook: 3}",
       "fleet.lifecycle_hook: must be true or false"},
      {"{type: auto-scaling-group, target_capacity: 4, allocation_strategy: diversified}",
       "fleet.allocation_strategy: an auto-scaling-group takes lowest-price, capacity-optimized or "
       "price-capacity-optimized, not \"diversified\""},
      {"{type: auto-scaling-group, target_capacity: 4, hook_heartbeat_timeout: 5m}",
       "fleet.hook_heartbeat_timeout: needs lifecycle_hook: true"},
      {"{type: auto-scaling-group, target_capacity: 4, lifecycle_hook: true, "
       "hook_heartbeat_timeout: 10s}",
       "fleet.hook_heartbeat_timeout: must be between 30s and 7200s"},
      {"{type: auto-scaling-group, target_capacity: 4, lifecycle_hook: true, "
       "hook_heartbeat_timeout: 3h}",
       "fleet.hook_heartbeat_timeout: must be between 30s and 7200s"},
      {"{type: auto-scaling-group, target_capacity: 4, lifecycle_hook: true, "
       "hook_heartbeat_timeout: later}",
       "fleet.hook_heartbeat_timeout: must be a duration such as 90, 90s, 15m, 2h or 30d"},
      {"{type: ec2-fleet, id: \"\", target_capacity: 4}", "fleet.id: must not be empty"},
      {"{type: auto-scaling-group, target_capacity: 4, replacement_strategy: launch}",
       "fleet.replacement_strategy: only a spot-fleet or ec2-fleet has it, not "
       "auto-scaling-group (which has capacity_rebalance)"},
      {"{type: auto-scaling-group, target_capacity: 4, capacity_rebalance: true, "
       "termination_delay: 5m}",
       "fleet.termination_delay: only a spot-fleet or ec2-fleet has it, not "
       "auto-scaling-group (which has capacity_rebalance)"},
      {"{type: ec2-fleet, target_capacity: 4, capacity_rebalance: true}",
       "fleet.capacity_rebalance: only a fleet of type auto-scaling-group has it, not ec2-fleet"},
      {"{target_capacity: 4, replacement_strategy: terminate}",
       "fleet.replacement_strategy: must be launch or launch-before-terminate, not "
       "\"terminate\""},
      {"{target_capacity: 4, replacement_strategy: [launch]}",
       "fleet.replacement_strategy: must be a string"},
      {"{target_capacity: 4, termination_delay: 5m}",
       "fleet.termination_delay: needs replacement_strategy: launch-before-terminate"},
      {"{type: ec2-fleet, target_capacity: 4, replacement_strategy: launch, "
       "termination_delay: 5m}",
       "fleet.termination_delay: needs replacement_strategy: launch-before-terminate"},
      {"{target_capacity: 4, replacement_strategy: launch-before-terminate}",
       "fleet.termination_delay: is required with replacement_strategy: "
       "launch-before-terminate (120s to 7200s)"},
      {"{target_capacity: 4, replacement_strategy: launch-before-terminate, "
       "termination_delay: 119s}",
       "fleet.termination_delay: must be between 120s and 7200s"},
      {"{target_capacity: 4, replacement_strategy: launch-before-terminate, "
       "termination_delay: 2h1s}",
       "fleet.termination_delay: must be between 120s and 7200s"},
      {"{target_capacity: 4, replacement_strategy: launch-before-terminate, "
       "termination_delay: soon}",
       "fleet.termination_delay: must be a duration such as 90, 90s, 15m, 2h or 30d"},
  };
  for (const Case& c : cases) {
    auto s = ParseScenario("pools: [{type: m5.large, zone: a}]\nfleet: " + c.fleet +
                           "\necs: {services: [{name: x}]}\n");
    ASSERT_FALSE(s.ok()) << c.fleet;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(s.status().message(), c.message) << c.fleet;
  }
  auto event = ParseScenario(
      "pools: [{type: m5.large, zone: a}]\nfleet: {target_capacity: 4}\necs: {services: [{name: "
      "x}]}\nevents: [{at: 1h, kind: rebalance, pool: \"m5.large a\"}]\n");
  ASSERT_FALSE(event.ok());
  EXPECT_EQ(event.status().message(),
            "events[0].kind: must be mass-reclaim, pool-dry, interruption or "
            "rebalance-recommendation, not \"rebalance\"");
}

// Capacity Rebalancing with the hook: the replacements boot, the instances at
// risk wait in Terminating:Wait, spotkeeper drains them (the tasks move to the
// room the replacements and the others have) and completes the action.
TEST(SpotSources, RebalanceWithAHookDrainsUnderSpotkeeper) {
  Scenario s = Parse(GroupScenario(", capacity_rebalance: true, lifecycle_hook: true"));
  RunResult r = RunSimulation(s, PolicyKind::kSpotkeeper);
  EXPECT_EQ(CountEvents(r, "rebalance-recommendation"), 2);
  EXPECT_EQ(r.summary.interruptions, 0);
  EXPECT_EQ(r.summary.tasks_lost_without_drain, 0);
  EXPECT_EQ(r.summary.availability, 1.0) << "minimum healthy 100%: replacements run first";
  EXPECT_EQ(SpotInstancesAt(r, SampleAt(r, 3600 - 60)), 4);
  EXPECT_EQ(SpotInstancesAt(r, SampleAt(r, 3600 + 60)), 6) << "replacements launched first";
  // Drained and completed within minutes (InService at 90 s, the pass at the
  // lifecycle event, the tasks moved in about a minute, the next reconcile).
  EXPECT_EQ(SpotInstancesAt(r, SampleAt(r, 3600 + 10 * 60)), 4);
  EXPECT_EQ(SpotInstancesAt(r, r.series.t.size() - 1), 4);
  EXPECT_EQ(r.summary.on_demand_instance_hours, 0) << "no capacity was ever missing";
  // Both replacements launched at the recommendation; each instance at risk
  // terminated (through the hook) once its replacement was InService.
  const std::vector<std::string> at_risk = InstancesOf(r, "rebalance-recommendation");
  ASSERT_EQ(at_risk.size(), 2u);
  EXPECT_EQ(InstancesOf(r, "rebalance-replacement"), at_risk);
  EXPECT_EQ(InstancesOf(r, "rebalance-termination"), at_risk);
  for (const report::Event& e : r.events) {
    if (e.kind == "rebalance-replacement") {
      EXPECT_EQ(e.t, 3600) << e.instance;
    } else if (e.kind == "rebalance-termination") {
      EXPECT_EQ(e.t, 3600 + 90) << e.instance;
    }
  }
}

TEST(SpotSources, RebalanceWithoutAHookKillsTheOldInstancesUndrained) {
  Scenario s = Parse(GroupScenario(", capacity_rebalance: true"));
  for (PolicyKind p : AllPolicies()) {
    RunResult r = RunSimulation(s, p);
    // Two instances, two tasks each, terminated the moment their replacements
    // are InService, before any policy hears of it.
    EXPECT_EQ(r.summary.tasks_lost_without_drain, 4) << PolicyName(p);
    EXPECT_EQ(SpotInstancesAt(r, SampleAt(r, 3600 + 60)), 6) << PolicyName(p);
    EXPECT_EQ(SpotInstancesAt(r, SampleAt(r, 3600 + 120)), 4) << PolicyName(p);
    EXPECT_EQ(CountEvents(r, "rebalance-replacement"), 2) << PolicyName(p);
    EXPECT_EQ(InstancesOf(r, "rebalance-termination"), InstancesOf(r, "rebalance-recommendation"))
        << PolicyName(p);
  }
}

// Nobody answers the hook but spotkeeper: the instances run until the hook's
// heartbeat timeout, then terminate with their tasks.
TEST(SpotSources, AnUnansweredHookHoldsTheInstanceUntilItsTimeout) {
  Scenario s =
      Parse(GroupScenario(", capacity_rebalance: true, lifecycle_hook: true, "
                          "hook_heartbeat_timeout: 30m"));
  for (PolicyKind p : {PolicyKind::kNone, PolicyKind::kEcsAgent, PolicyKind::kReference}) {
    RunResult r = RunSimulation(s, p);
    EXPECT_EQ(r.summary.tasks_lost_without_drain, 4) << PolicyName(p);
    const double in_service = 3600 + 90;
    EXPECT_EQ(SpotInstancesAt(r, SampleAt(r, in_service + 29 * 60)), 6) << PolicyName(p);
    EXPECT_EQ(SpotInstancesAt(r, SampleAt(r, in_service + 31 * 60)), 4) << PolicyName(p);
  }
  RunResult spotkeeper = RunSimulation(s, PolicyKind::kSpotkeeper);
  EXPECT_EQ(spotkeeper.summary.tasks_lost_without_drain, 0);
}

// GroupScenario where a drain cannot finish: the cheap pool holds only the
// group's four instances, so replacements go to c5.large, where app may not run
// (memberOf); the other m5.large are full, and with minimum healthy 100% no
// task can stop.
std::string StuckDrainScenario(const std::string& group_keys) {
  std::string yaml = GroupScenario(group_keys);
  yaml.replace(yaml.find("monthly_interruption: 0}"), 24, "monthly_interruption: 0, capacity: 4}");
  yaml.replace(yaml.find("cpu: 512"), 8, "cpu: 1024");  // two tasks fill an m5.large
  yaml.replace(yaml.find("type: m5.large, zone: us-east-1b"), 32,
               "type: c5.large, zone: us-east-1b");
  yaml.replace(yaml.find("placement_strategy"), 0,
               "placement_constraints: [{type: memberOf, expression: "
               "\"attribute:ecs.instance-type == m5.large\"}]\n      ");
  return yaml;
}

// A drain that cannot finish is cut at max_drain_time: the controller keeps
// the hook (2-minute heartbeat timeout) alive with heartbeats until then, and
// completes the action.
TEST(SpotSources, SpotkeeperHeartbeatsUntilMaxDrainTime) {
  std::string yaml = StuckDrainScenario(
      ", capacity_rebalance: true, lifecycle_hook: true, hook_heartbeat_timeout: 2m");
  yaml += "controller: {max_drain_time: 10m}\n";
  Scenario s = Parse(yaml);
  ASSERT_EQ(s.pools[0].capacity, 4);
  ASSERT_EQ(s.ecs.services[0].member_of.size(), 1u);
  const double in_service = 3600 + 90;
  RunResult spotkeeper = RunSimulation(s, PolicyKind::kSpotkeeper);
  EXPECT_EQ(SpotInstancesAt(spotkeeper, SampleAt(spotkeeper, in_service + 5 * 60)), 6)
      << "still waiting: heartbeats kept the hook";
  EXPECT_EQ(SpotInstancesAt(spotkeeper, SampleAt(spotkeeper, in_service + 12 * 60)), 4)
      << "completed at max_drain_time";
  EXPECT_EQ(spotkeeper.summary.tasks_lost_without_drain, 4) << "nowhere to go";
  RunResult none = RunSimulation(s, PolicyKind::kNone);
  EXPECT_EQ(SpotInstancesAt(none, SampleAt(none, in_service + 4 * 60)), 4)
      << "unanswered: gone at the 2-minute timeout";
  EXPECT_EQ(none.summary.tasks_lost_without_drain, 4);
}

// The group counts Pending and InService instances only: a notice for an
// instance already in Terminating:Wait is no capacity lost (its replacement
// runs), so spotkeeper adds no on-demand capacity for it; the same notice for
// an InService instance is covered with on-demand.
TEST(SpotSources, ANoticeForAWaitingInstanceIsNoCapacityLost) {
  // The two instances at risk wait (draining in vain) when their notices come.
  std::string yaml = StuckDrainScenario(", capacity_rebalance: true, lifecycle_hook: true");
  yaml += "  - {at: 1h3m, kind: interruption, pool: \"m5.large us-east-1a\", count: 2}\n";
  Scenario waiting = Parse(yaml);
  RunResult r = RunSimulation(waiting, PolicyKind::kSpotkeeper);
  EXPECT_EQ(r.summary.interruptions, 2);
  EXPECT_EQ(r.summary.on_demand_instance_hours, 0);

  yaml.replace(yaml.find(", capacity_rebalance: true"), 26, "");
  Scenario in_service = Parse(yaml);
  ASSERT_FALSE(in_service.fleet.capacity_rebalance);
  RunResult covered = RunSimulation(in_service, PolicyKind::kSpotkeeper);
  EXPECT_EQ(covered.summary.interruptions, 2);
  EXPECT_GT(covered.summary.on_demand_instance_hours, 0);
}

TEST(SpotSources, WithoutCapacityRebalancingARecommendationChangesNothing) {
  Scenario s = Parse(GroupScenario(", lifecycle_hook: true"));
  for (PolicyKind p : AllPolicies()) {
    RunResult r = RunSimulation(s, p);
    EXPECT_EQ(r.summary.tasks_lost_without_drain, 0) << PolicyName(p);
    for (size_t i = 0; i < r.series.t.size(); ++i) {
      ASSERT_EQ(SpotInstancesAt(r, i), 4) << PolicyName(p) << " at " << r.series.t[i];
    }
  }
}

// An interruption notice (no recommendation before it): the instance dies at
// the two-minute mark whatever the hook, and the group replaces it then.
TEST(SpotSources, AnInterruptedGroupInstanceDiesAtTheNoticeAndIsReplaced) {
  std::string yaml = GroupScenario(", capacity_rebalance: true, lifecycle_hook: true");
  yaml.replace(yaml.find("kind: rebalance-recommendation"), 30, "kind: interruption");
  Scenario s = Parse(yaml);
  RunResult none = RunSimulation(s, PolicyKind::kNone);
  RunResult spotkeeper = RunSimulation(s, PolicyKind::kSpotkeeper);
  for (const RunResult* r : {&none, &spotkeeper}) {
    EXPECT_EQ(r->summary.interruptions, 2) << PolicyName(r->policy);
    EXPECT_EQ(SpotInstancesAt(*r, SampleAt(*r, 3600 + 60)), 4) << PolicyName(r->policy);
    // Terminated at 1h + 120 s, replacements launched at once.
    EXPECT_EQ(SpotInstancesAt(*r, SampleAt(*r, 3600 + 180)), 4) << PolicyName(r->policy);
  }
  EXPECT_EQ(none.summary.tasks_lost_without_drain, 4);
  EXPECT_EQ(spotkeeper.summary.tasks_lost_without_drain, 0) << "drained on the notice";
}

// GroupScenario as a Spot Fleet (four m5.large in the cheap pool, two tasks
// of app on each; at 1h two of them get a recommendation, no notice follows).
// `fleet_keys`: more keys of the fleet, each after a comma.
std::string FleetScenario(const std::string& fleet_keys) {
  std::string yaml = GroupScenario(fleet_keys);
  yaml.replace(yaml.find("type: auto-scaling-group, id: spot-asg"), 38,
               "type: spot-fleet, id: sfr-test");
  return yaml;
}

const char* kLaunchBeforeTerminate =
    ", replacement_strategy: launch-before-terminate, termination_delay: 10m";

// launch: a replacement per recommendation at once; the instances at risk
// run on (billed: six instances to the end) and nothing terminates them.
TEST(FleetCapacityRebalance, LaunchReplacesAndKeepsTheInstanceAtRisk) {
  Scenario s = Parse(FleetScenario(", replacement_strategy: launch"));
  ASSERT_EQ(s.fleet.type, SpotSourceType::kSpotFleet);
  for (PolicyKind p : AllPolicies()) {
    RunResult r = RunSimulation(s, p);
    EXPECT_EQ(CountEvents(r, "rebalance-recommendation"), 2) << PolicyName(p);
    EXPECT_EQ(SpotInstancesAt(r, SampleAt(r, 3600 - 60)), 4) << PolicyName(p);
    EXPECT_EQ(SpotInstancesAt(r, SampleAt(r, 3600 + 60)), 6) << PolicyName(p);
    EXPECT_EQ(SpotInstancesAt(r, r.series.t.size() - 1), 6) << PolicyName(p);
    EXPECT_EQ(r.summary.tasks_lost_without_drain, 0) << PolicyName(p);
    EXPECT_EQ(r.summary.interruptions, 0) << PolicyName(p);
    EXPECT_EQ(InstancesOf(r, "rebalance-replacement"), InstancesOf(r, "rebalance-recommendation"))
        << PolicyName(p);
    EXPECT_EQ(CountEvents(r, "rebalance-termination"), 0) << PolicyName(p) << ": launch keeps it";
  }
  // The same without a replacement strategy: nothing launched.
  RunResult off = RunSimulation(Parse(FleetScenario("")), PolicyKind::kNone);
  for (size_t i = 0; i < off.series.t.size(); ++i) ASSERT_EQ(SpotInstancesAt(off, i), 4) << i;
  EXPECT_EQ(CountEvents(off, "rebalance-replacement"), 0);
}

// The replacement takes the place of the instance at risk in the fulfilled
// capacity: when that one is interrupted later, the fleet (at its target)
// launches nothing more.
TEST(FleetCapacityRebalance, AReplacedInstanceInterruptedLaterIsNotReplacedAgain) {
  std::string yaml = FleetScenario(", replacement_strategy: launch");
  yaml += "  - {at: 2h, kind: interruption, pool: \"m5.large us-east-1a\", count: 2}\n";
  RunResult r = RunSimulation(Parse(yaml), PolicyKind::kNone);
  EXPECT_EQ(r.summary.interruptions, 2);
  EXPECT_EQ(SpotInstancesAt(r, SampleAt(r, 2 * 3600 - 60)), 6);
  // Notices at 2h, terminated at 2h + 120 s.
  EXPECT_EQ(SpotInstancesAt(r, SampleAt(r, 2 * 3600 + 180)), 4);
  EXPECT_EQ(SpotInstancesAt(r, r.series.t.size() - 1), 4);
  EXPECT_EQ(r.summary.tasks_lost_without_drain, 4) << "none drains nothing";
}

// launch-before-terminate: EC2 terminates each instance at risk exactly
// termination_delay (10 min) after its replacement's launch, undrained: its
// two tasks are lost under every policy that does not drain on a
// recommendation; spotkeeper with on_rebalance: drain moves them first.
TEST(FleetCapacityRebalance, LaunchBeforeTerminateKillsTheOldInstanceAfterTheDelay) {
  Scenario s = Parse(FleetScenario(kLaunchBeforeTerminate));
  ASSERT_EQ(s.fleet.termination_delay, 10 * kMinute);
  for (PolicyKind p : AllPolicies()) {
    RunResult r = RunSimulation(s, p);
    EXPECT_EQ(SpotInstancesAt(r, SampleAt(r, 3600 + 60)), 6) << PolicyName(p);
    EXPECT_EQ(SpotInstancesAt(r, SampleAt(r, 3600 + 9 * 60)), 6) << PolicyName(p);
    EXPECT_EQ(SpotInstancesAt(r, SampleAt(r, 3600 + 10 * 60)), 4) << PolicyName(p);
    EXPECT_EQ(SpotInstancesAt(r, r.series.t.size() - 1), 4) << PolicyName(p);
    EXPECT_EQ(r.summary.interruptions, 0) << PolicyName(p);
    EXPECT_EQ(r.summary.tasks_lost_without_drain, 4) << PolicyName(p) << ": 2 instances x 2 tasks";
    // Replaced at the recommendation, terminated 10 minutes later.
    std::vector<std::string> replaced = EventsOf(r, "rebalance-replacement");
    std::vector<std::string> terminated = EventsOf(r, "rebalance-termination");
    ASSERT_EQ(replaced.size(), 2u) << PolicyName(p);
    ASSERT_EQ(terminated.size(), 2u) << PolicyName(p);
    for (size_t i = 0; i < 2; ++i) {
      EXPECT_EQ(replaced[i].substr(0, 5), "3600 ") << replaced[i];
      EXPECT_EQ(terminated[i], "4200 " + replaced[i].substr(5)) << PolicyName(p);
    }
  }
  Scenario drain =
      Parse(FleetScenario(kLaunchBeforeTerminate) + "controller: {on_rebalance: drain}\n");
  RunResult r = RunSimulation(drain, PolicyKind::kSpotkeeper);
  EXPECT_EQ(r.summary.tasks_lost_without_drain, 0);
  EXPECT_EQ(r.summary.availability, 1.0);
  EXPECT_EQ(SpotInstancesAt(r, SampleAt(r, 3600 + 10 * 60)), 4);
  // The others do not hear of recommendations: on_rebalance changes nothing.
  EXPECT_EQ(RunSimulation(drain, PolicyKind::kEcsAgent).summary.tasks_lost_without_drain, 4);

  // An EC2 Fleet does the same (the same code).
  std::string yaml = FleetScenario(kLaunchBeforeTerminate);
  yaml.replace(yaml.find("type: spot-fleet"), 16, "type: ec2-fleet");
  Scenario ec2 = Parse(yaml);
  ASSERT_EQ(ec2.fleet.type, SpotSourceType::kEc2Fleet);
  RunResult e = RunSimulation(ec2, PolicyKind::kNone);
  EXPECT_EQ(SpotInstancesAt(e, SampleAt(e, 3600 + 9 * 60)), 6);
  EXPECT_EQ(SpotInstancesAt(e, SampleAt(e, 3600 + 10 * 60)), 4);
  EXPECT_EQ(e.summary.tasks_lost_without_drain, 4);
}

// No pool open (the cheap pool is full at four, the other dry): no
// replacement, so nothing is terminated either.
TEST(FleetCapacityRebalance, NoOpenPoolNoReplacementNoTermination) {
  std::string yaml = FleetScenario(kLaunchBeforeTerminate);
  yaml.replace(yaml.find("monthly_interruption: 0}"), 24, "monthly_interruption: 0, capacity: 4}");
  yaml += "  - {at: 50m, kind: pool-dry, pool: \"m5.large us-east-1b\", duration: 2h}\n";
  Scenario s = Parse(yaml);
  ASSERT_EQ(s.pools[0].capacity, 4);
  RunResult r = RunSimulation(s, PolicyKind::kNone);
  EXPECT_EQ(CountEvents(r, "rebalance-recommendation"), 2);
  for (size_t i = 0; i < r.series.t.size(); ++i) ASSERT_EQ(SpotInstancesAt(r, i), 4) << i;
  EXPECT_EQ(r.summary.tasks_lost_without_drain, 0);
  EXPECT_EQ(CountEvents(r, "rebalance-replacement"), 0);
  EXPECT_EQ(CountEvents(r, "rebalance-termination"), 0);
}

// Interrupted before the delay ends: the instance at risk dies at its
// notice's end (2 min); the delay's end finds it gone and the fleet, which
// already counts the replacement, launches nothing: four instances after.
TEST(FleetCapacityRebalance, InterruptedFirstDiesAtTheNoticeOnce) {
  std::string yaml = FleetScenario(kLaunchBeforeTerminate);
  yaml += "  - {at: 1h2m, kind: interruption, pool: \"m5.large us-east-1a\", count: 2}\n";
  Scenario s = Parse(yaml);
  RunResult none = RunSimulation(s, PolicyKind::kNone);
  RunResult agent = RunSimulation(s, PolicyKind::kEcsAgent);
  for (const RunResult* r : {&none, &agent}) {
    EXPECT_EQ(r->summary.interruptions, 2) << PolicyName(r->policy);
    EXPECT_EQ(SpotInstancesAt(*r, SampleAt(*r, 3600 + 3 * 60)), 6) << PolicyName(r->policy);
    EXPECT_EQ(SpotInstancesAt(*r, SampleAt(*r, 3600 + 4 * 60)), 4) << PolicyName(r->policy);
    for (size_t i = SampleAt(*r, 3600 + 4 * 60); i < r->series.t.size(); ++i) {
      ASSERT_EQ(SpotInstancesAt(*r, i), 4) << PolicyName(r->policy) << " at " << r->series.t[i];
    }
  }
  EXPECT_EQ(none.summary.tasks_lost_without_drain, 4);
  EXPECT_EQ(agent.summary.tasks_lost_without_drain, 0) << "drained on the notice";
  // Replaced, then gone at the notice's end: the delay's end terminates nothing.
  EXPECT_EQ(CountEvents(none, "rebalance-replacement"), 2);
  EXPECT_EQ(CountEvents(none, "rebalance-termination"), 0);
}

// Every source type runs the default day under every policy.
TEST(SpotSources, EverySourceTypeRunsTheDefaultDay) {
  for (const char* type : {"spot-fleet", "ec2-fleet", "auto-scaling-group"}) {
    std::string yaml = DefaultScenarioYaml();
    yaml.replace(yaml.find("fleet:\n"), 7, std::string("fleet:\n  type: ") + type + "\n");
    if (std::string(type) == "auto-scaling-group") {
      yaml.replace(yaml.find("capacityOptimized\n"), 18,
                   "capacity-optimized\n  capacity_rebalance: true\n  lifecycle_hook: true\n");
    }
    Scenario s = Parse(yaml);
    for (PolicyKind p : AllPolicies()) {
      RunResult r = RunSimulation(s, p);
      EXPECT_GT(r.summary.availability, 0.98) << type << " " << PolicyName(p);
      EXPECT_GE(r.summary.interruptions, 3) << type << " " << PolicyName(p);
      EXPECT_GT(r.summary.savings, 0.3) << type << " " << PolicyName(p);
    }
  }
}

// An EC2 Fleet launches as a Spot Fleet does and spotkeeper sizes it by the
// same Decide: the same runs, byte for byte, except under the reference,
// whose alarm and Lambda read AWS/EC2Spot metrics only a Spot Fleet publishes.
TEST(SpotSources, Ec2FleetRunsAsTheSpotFleetDoesExceptTheReference) {
  Scenario spot = Parse(DefaultScenarioYaml());
  std::string yaml = DefaultScenarioYaml();
  yaml.replace(yaml.find("fleet:\n"), 7, "fleet:\n  type: ec2-fleet\n");
  Scenario ec2 = Parse(yaml);
  ASSERT_EQ(ec2.fleet.type, SpotSourceType::kEc2Fleet);
  for (PolicyKind p : {PolicyKind::kNone, PolicyKind::kEcsAgent, PolicyKind::kSpotkeeper}) {
    nlohmann::json a = ResultToJson(spot, {RunSimulation(spot, p)});
    nlohmann::json b = ResultToJson(ec2, {RunSimulation(ec2, p)});
    EXPECT_EQ(a["runs"].dump(), b["runs"].dump()) << PolicyName(p);
  }
  RunResult spot_reference = RunSimulation(spot, PolicyKind::kReference);
  RunResult ec2_reference = RunSimulation(ec2, PolicyKind::kReference);
  // Without its alarm the Lambda runs only on termination messages and reads
  // a pending capacity of 0: it covers less of the reclaimed pool's loss.
  EXPECT_LT(ec2_reference.summary.on_demand_instance_hours,
            spot_reference.summary.on_demand_instance_hours);
  EXPECT_LT(ec2_reference.summary.availability, spot_reference.summary.availability);
}

}  // namespace
}  // namespace spk::sim
