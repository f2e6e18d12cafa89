// The simulation: scenario files, draining within the deployment percentages,
// determinism, and the policies against each other.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "report/contract.h"
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

TEST(EventQueue, PopsByTimeThenByPushOrder) {
  EventQueue q;
  q.Push(50, 1, 1);
  q.Push(10, 2, 2);
  q.Push(50, 3, 3);
  q.Push(10, 4, 4);
  q.Push(0, 5, 5);
  std::vector<uint32_t> order;
  while (!q.empty()) order.push_back(q.Pop().a);
  EXPECT_EQ(order, (std::vector<uint32_t>{5, 2, 4, 1, 3}));
  EXPECT_EQ(q.now(), 50);
  EXPECT_EQ(q.popped(), 5u);
}

TEST(Duration, ParsesUnitsAndRejectsGarbage) {
  SimTime t = 0;
  EXPECT_TRUE(ParseDuration("90", &t));
  EXPECT_EQ(t, 90 * kSecond);
  EXPECT_TRUE(ParseDuration("10h30m", &t));
  EXPECT_EQ(t, 10 * kHour + 30 * kMinute);
  EXPECT_TRUE(ParseDuration("1.5h", &t));
  EXPECT_EQ(t, 90 * kMinute);
  EXPECT_TRUE(ParseDuration("500ms", &t));
  EXPECT_EQ(t, 500);
  for (const char* bad : {"", "h", "10x", "-5s", "5 s", "1h2"})
    EXPECT_FALSE(ParseDuration(bad, &t)) << bad;
}

// ---- scenario files -----------------------------------------------------------

const char* kMinimal = R"(
pools: [{type: m5.large, zone: us-east-1a}]
fleet: {target_capacity: 4}
ecs: {services: [{name: app, desired: 2}]}
)";

TEST(Scenario, MinimalScenarioGetsDefaults) {
  Scenario s = Parse(kMinimal);
  ASSERT_EQ(s.pools.size(), 1u);
  EXPECT_EQ(s.pools[0].vcpus, 2);
  EXPECT_EQ(s.fleet.weights.at("m5.large"), 2);  // default weight: vCPUs
  EXPECT_EQ(s.duration, kDay);
  EXPECT_EQ(s.ecs.services[0].minimum_healthy_percent, 100);
  EXPECT_EQ(s.market.notice_lead, 120 * kSecond);
}

TEST(Scenario, DefaultScenarioParses) {
  Scenario s = Parse(DefaultScenarioYaml());
  EXPECT_EQ(s.name, "default-day");
  EXPECT_GE(s.pools.size(), 4u);
  EXPECT_EQ(s.duration, kDay);
  EXPECT_EQ(s.events.size(), 3u);
  EXPECT_EQ(s.events[0].at, 10 * kHour + 30 * kMinute);
}

// The default day is filled the way ECS capacity providers fill a cluster
// (managed scaling at target capacity 100%): with every pool up every task is
// placed, over 90% of the vCPUs are reserved, and two more tasks of each
// scaled service no longer fit.
TEST(Scenario, DefaultDayIsFullTheWayCapacityProvidersFillACluster) {
  Scenario day = Parse(DefaultScenarioYaml());
  day.events.clear();
  day.duration = 2 * kHour;
  double reserved = 0;
  for (const ServiceSpec& svc : day.ecs.services) reserved += svc.desired * svc.cpu / 1024.0;
  const double vcpus = day.fleet.target_capacity + day.on_demand.min_size * day.on_demand.vcpus;
  EXPECT_GT(reserved / vcpus, 0.9);
  EXPECT_LT(reserved / vcpus, 1.0);
  EXPECT_EQ(RunSimulation(day, PolicyKind::kEcsAgent).summary.availability, 1.0);

  Scenario fuller = day;
  for (ServiceSpec& svc : fuller.ecs.services) {
    if (svc.name == "api" || svc.name == "web" || svc.name == "worker") svc.desired += 2;
  }
  EXPECT_LT(RunSimulation(fuller, PolicyKind::kEcsAgent).summary.availability, 1.0);
}

TEST(Scenario, LoadBalancedServicesGetRequestsAndAlbHealthChecksByDefault) {
  Scenario s = Parse(R"(
pools: [{type: m5.large, zone: us-east-1a}]
fleet: {target_capacity: 4}
ecs:
  services:
    - {name: api, desired: 6, load_balancer: {}}
    - {name: web, desired: 2, requests_per_second: 75, request_duration: 250ms,
       max_requests_per_task: 60,
       load_balancer: {deregistration_delay: 30s,
                       health_check: {interval: 10s, unhealthy_threshold: 3, timeout: 5s}}}
    - {name: worker, desired: 3}
)");
  ASSERT_EQ(s.ecs.services.size(), 3u);
  const ServiceSpec& api = s.ecs.services[0];
  EXPECT_DOUBLE_EQ(api.requests_per_second, kDefaultRequestsPerTask * 6);
  EXPECT_EQ(api.request_duration, 100);
  EXPECT_LT(api.max_requests_per_task, 0) << "unlimited";
  EXPECT_EQ(api.health_check_interval, 30 * kSecond);
  EXPECT_EQ(api.unhealthy_threshold, 2);
  EXPECT_EQ(api.health_check_timeout, 6 * kSecond);
  const ServiceSpec& web = s.ecs.services[1];
  EXPECT_DOUBLE_EQ(web.requests_per_second, 75);
  EXPECT_EQ(web.request_duration, 250);
  EXPECT_DOUBLE_EQ(web.max_requests_per_task, 60);
  EXPECT_EQ(web.health_check_interval, 10 * kSecond);
  EXPECT_EQ(web.unhealthy_threshold, 3);
  EXPECT_EQ(web.health_check_timeout, 5 * kSecond);
  EXPECT_FALSE(s.ecs.services[2].load_balanced);
}

struct BadCase {
  std::string yaml;
  std::string message;  // a substring of the error
};

TEST(Scenario, BadScenariosGiveOneLineNamingTheKey) {
  std::vector<BadCase> cases = {
      {"pools: [{type: m5.large, zone: a}]\nfleet: {target_capacity: 4, targt: 1}\necs: {services: "
       "[{name: x}]}",
       "unknown key fleet.targt"},
      {"pools: [{type: m5.large, zone: a}]\nfleet: {target_capacity: 4}\necs: {services: [{name: "
       "x, cpuu: 1}]}",
       "unknown key ecs.services[0].cpuu"},
      {"pools: [{type: m5.large, zone: a, band: \"7%\"}]\nfleet: {target_capacity: 4}\necs: "
       "{services: [{name: x}]}",
       "pools[0].band"},
      {"pools: [{type: m5.large, zone: a}]\nfleet: {target_capacity: many}\necs: {services: "
       "[{name: x}]}",
       "fleet.target_capacity: must be a number"},
      {"pools: [{type: m5.large, zone: a}]\nfleet: {target_capacity: 4, launch_delay: soon}\necs: "
       "{services: [{name: x}]}",
       "fleet.launch_delay: must be a duration"},
      {"pools: [{type: m5.large, zone: a}]\nfleet: {target_capacity: 4, allocation_strategy: "
       "cheapest}\necs: {services: [{name: x}]}",
       "fleet.allocation_strategy"},
      {"fleet: {target_capacity: 4}\necs: {services: [{name: x}]}",
       "pools: a non-empty list is required"},
      {"pools: [{type: m5.large, zone: a}]\nfleet: {target_capacity: 4}\necs: {services: [{name: "
       "x}]}\n"
       "events: [{at: 1h, kind: mass-reclaim, pool: \"c5.large a\"}]",
       "events[0].pool: no pool \"c5.large a\""},
      {"pools: [{type: m5.large, zone: a}]\nfleet: {target_capacity: 4}\necs: {services: [{name: "
       "x, "
       "placement_constraints: [{type: memberOf, expression: \"instance-type == x\"}]}]}",
       "ecs.services[0].placement_constraints[0].expression"},
      {"pools: [{type: m5.large, zone: a}]\nfleet: {target_capacity: 4}\necs: {services: [{name: "
       "x, "
       "placement_strategy: [{type: binpack, field: disk}]}]}",
       "binpack field must be cpu or memory"},
      {"pools: [{type: m5.large, zone: a}]\nfleet: {target_capacity: 4}\necs: {services: [{name: "
       "x, requests_per_second: 10}]}",
       "ecs.services[0].requests_per_second: needs load_balancer"},
      {"pools: [{type: m5.large, zone: a}]\nfleet: {target_capacity: 4}\necs: {services: [{name: "
       "x, max_requests_per_task: 0, load_balancer: {}}]}",
       "ecs.services[0].max_requests_per_task: must be more than 0"},
      {"pools: [{type: m5.large, zone: a}]\nfleet: {target_capacity: 4}\necs: {services: [{name: "
       "x, load_balancer: {health_check: {interval: 1s}}}]}",
       "ecs.services[0].load_balancer.health_check.interval: must be between 5s and 300s"},
      {"pools: [{type: m5.large, zone: a}]\nfleet: {target_capacity: 4}\necs: {services: [{name: "
       "x, load_balancer: {health_check: {interval: 10s, timeout: 10s}}}]}",
       "ecs.services[0].load_balancer.health_check.timeout: must be shorter than the interval"},
      {"pools: [{type: m5.large, zone: a}]\nfleet: {target_capacity: 4}\necs: {services: [{name: "
       "x, load_balancer: {health_check: {unhealthy_threshold: 1}}}]}",
       "ecs.services[0].load_balancer.health_check.unhealthy_threshold: must be between 2 and 10"},
      {"pools: [{type: m5.large, zone: a}]\nfleet: {target_capacity: 4}\necs: {services: [{name: "
       "x, load_balancer: {health_check: {path: /}}}]}",
       "unknown key ecs.services[0].load_balancer.health_check.path"},
      {"pools: [{type: m5.large, zone: a}\n", "YAML error at line"},
      {"", "empty"},
      {"- 1\n- 2\n", "scenario: must be a mapping"},
  };
  for (const BadCase& c : cases) {
    auto s = ParseScenario(c.yaml);
    ASSERT_FALSE(s.ok()) << c.yaml;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.status().message().find(c.message), std::string::npos)
        << "got: " << s.status().message() << "\nwanted: " << c.message;
    EXPECT_EQ(s.status().message().find('\n'), std::string::npos) << "one line";
  }
}

// ---- draining within minimumHealthyPercent / maximumPercent ---------------------

// Ten m5.large, one task of `app` on each (spread by instance), five reclaimed
// at 10 minutes; plenty of room for replacements on the other five.
std::string DrainScenario(int minimum_healthy, int maximum) {
  return R"(
duration: 30m
sample_interval: 1s
market: {rebalance_probability: 0}
pools: [{type: m5.large, zone: us-east-1a, monthly_interruption: 0}]
fleet: {target_capacity: 20, launch_delay: 5m}
ecs:
  services:
    - name: app
      desired: 10
      cpu: 256
      memory: 256
      start_time: 40s
      minimum_healthy_percent: )" +
         std::to_string(minimum_healthy) + "\n      maximum_percent: " + std::to_string(maximum) +
         R"(
      placement_strategy: [{type: spread, field: instanceId}]
events: [{at: 10m, kind: interruption, pool: "m5.large us-east-1a", count: 5}]
)";
}

const std::vector<double>& AppRunning(const RunResult& r) {
  for (const report::ServiceSeries& s : r.series.services) {
    if (s.name == "app") return s.running;
  }
  ADD_FAILURE() << "no series for service app";
  static const std::vector<double> none;
  return none;
}

int MinRunning(const RunResult& r, double from_s) {
  const auto& running = AppRunning(r);
  double lowest = 1 << 30;
  for (size_t i = 0; i < running.size(); ++i) {
    if (r.series.t[i] >= from_s) lowest = std::min(lowest, running[i]);
  }
  return static_cast<int>(lowest);
}
int MaxRunning(const RunResult& r) {
  const auto& running = AppRunning(r);
  if (running.empty()) return -1;  // AppRunning has failed the test
  return static_cast<int>(*std::max_element(running.begin(), running.end()));
}

TEST(Draining, MinimumHealthy100StartsReplacementsBeforeStoppingAnything) {
  Scenario s = Parse(DrainScenario(100, 200));
  RunResult r = RunSimulation(s, PolicyKind::kEcsAgent);
  EXPECT_EQ(r.summary.interruptions, 5);
  EXPECT_EQ(r.summary.tasks_lost_without_drain, 0);
  EXPECT_GE(MinRunning(r, 0), 10) << "never below 100% of desired";
  EXPECT_LE(MaxRunning(r), 20) << "never above 200% of desired";
  EXPECT_GT(MaxRunning(r), 10) << "replacements ran next to the draining tasks";
  EXPECT_EQ(AppRunning(r).back(), 10);
}

TEST(Draining, MinimumHealthy50StopsAtOnceDownToHalf) {
  Scenario s = Parse(DrainScenario(50, 100));
  RunResult r = RunSimulation(s, PolicyKind::kEcsAgent);
  EXPECT_EQ(r.summary.tasks_lost_without_drain, 0);
  EXPECT_EQ(MinRunning(r, 0), 5) << "five stopped at once: 50% of 10";
  EXPECT_LE(MaxRunning(r), 10) << "maximumPercent 100: never more than desired";
  EXPECT_EQ(AppRunning(r).back(), 10);
}

TEST(Draining, MaximumPercentLimitsReplacementsStartedAhead) {
  // 100% / 120%: only 2 replacements may run ahead of the draining tasks, so
  // the five move two at a time, one start time (40 s) per round; what has not
  // moved when the notice's 120 s are up is lost.
  Scenario s = Parse(DrainScenario(100, 120));
  RunResult r = RunSimulation(s, PolicyKind::kEcsAgent);
  const ServiceSpec& app = s.ecs.services[0];
  const int ahead = app.desired * app.maximum_percent / 100 - app.desired;
  const SimTime window = s.market.notice_lead - s.reference.agent_drain_latency;
  const int64_t moved = std::min<int64_t>(5, ahead * (window / app.start_time));
  EXPECT_EQ(r.summary.tasks_lost_without_drain, 5 - moved);
  EXPECT_LE(MaxRunning(r), 10 + ahead);
  EXPECT_GE(MinRunning(r, 0), 10 - (5 - moved));
}

TEST(Draining, WithoutADrainTheTasksOnTheInstancesAreLost) {
  Scenario s = Parse(DrainScenario(100, 200));
  RunResult r = RunSimulation(s, PolicyKind::kNone);
  // One task per instance (spread by instanceId), five instances terminated undrained.
  EXPECT_EQ(r.summary.tasks_lost_without_drain, 5 * s.ecs.services[0].desired / 10);
  EXPECT_EQ(MinRunning(r, 0), 5);
}

// ---- spotkeeper loses none where none and reference lose tasks -------------------

// Two m5.large pools (2 vCPUs = 2 units each), fleet of 8 units (four
// instances, two per pool, diversified); pool B holds at most two of ours.
// At 1h pool A is reclaimed and stays dry for 2h: the fleet cannot refill, so
// there is pending capacity. At 4h one instance of pool B is interrupted.
const char* kLossScenario = R"(
name: loss
duration: 6h
sample_interval: 1m
market: {rebalance_probability: 0}
pools:
  - {type: m5.large, zone: us-east-1a, monthly_interruption: 0}
  - {type: m5.large, zone: us-east-1b, monthly_interruption: 0, capacity: 2}
fleet: {target_capacity: 8, allocation_strategy: diversified, launch_delay: 90s}
on_demand: {name: od, instance_type: m5.large, min: 0, max: 10, launch_delay: 90s, cooldown: 300s}
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
  - {at: 1h, kind: mass-reclaim, pool: "m5.large us-east-1a", dry_for: 2h}
  - {at: 4h, kind: interruption, pool: "m5.large us-east-1b", count: 1}
)";

TEST(Policies, SpotkeeperLosesNoTaskWhereNoneAndReferenceDo) {
  Scenario s = Parse(kLossScenario);
  RunResult none = RunSimulation(s, PolicyKind::kNone);
  RunResult reference = RunSimulation(s, PolicyKind::kReference);
  RunResult spotkeeper = RunSimulation(s, PolicyKind::kSpotkeeper);

  // From the model: 4 instances with 2 tasks each (spread by instance). `none`
  // loses pool A's two instances' tasks; their replacements land on pool B's
  // two instances (the only ones left, 4 tasks each by CPU: 2048 / 512), so the
  // interrupted B instance takes desired / 2 tasks with it.
  const int desired = s.ecs.services[0].desired;
  const int instances = static_cast<int>(s.fleet.target_capacity / s.fleet.weights.at("m5.large"));
  const int reclaimed = instances / 2;
  const int expected_none = desired / instances * reclaimed + desired / (instances - reclaimed);
  EXPECT_EQ(none.summary.tasks_lost_without_drain, expected_none);
  EXPECT_EQ(none.summary.interruptions, reclaimed + 1);

  // The reference drains on its termination message, but its scale-in
  // (SetDesiredCapacity down to int((pending 0 + modifier 2) / 2 + 0.999999) = 1)
  // lets Auto Scaling terminate an on-demand instance that runs tasks.
  EXPECT_GT(reference.summary.on_demand_instance_hours, 0);
  EXPECT_GT(reference.summary.tasks_lost_without_drain, 0);

  EXPECT_EQ(spotkeeper.summary.tasks_lost_without_drain, 0);
  EXPECT_GT(spotkeeper.summary.on_demand_instance_hours, 0)
      << "it covered the dry pool with on-demand";
  EXPECT_GT(spotkeeper.summary.availability, none.summary.availability);
  EXPECT_GE(spotkeeper.summary.availability,
            reference.summary.availability);  // its loss was a starting task
  // It gave the on-demand capacity back once spot returned.
  auto on_demand =
      std::find_if(spotkeeper.series.capacity.begin(), spotkeeper.series.capacity.end(),
                   [](const report::NamedSeries& c) { return c.name == "on-demand"; });
  ASSERT_NE(on_demand, spotkeeper.series.capacity.end());
  EXPECT_EQ(on_demand->values.back(), 0);
  EXPECT_LT(spotkeeper.summary.minutes_below_target, none.summary.minutes_below_target);
}

// ---- requests behind the load balancer ------------------------------------------

// A full cluster: four m5.large (2,048 CPU each) hold two 1,024-CPU tasks each,
// eight tasks behind a load balancer, no room to spare. At 1h pool A's two
// instances are reclaimed and the pool stays dry for 2h. Drained tasks can
// move only to new capacity: on-demand that boots (60 s), registers (20 s)
// and runs a replacement (20 s) within the 120 s notice.
const char* kFullClusterScenario = R"(
name: full
duration: 4h
sample_interval: 1m
market: {rebalance_probability: 0}
pools:
  - {type: m5.large, zone: us-east-1a, monthly_interruption: 0}
  - {type: m5.large, zone: us-east-1b, monthly_interruption: 0, capacity: 2}
fleet: {target_capacity: 8, allocation_strategy: diversified, launch_delay: 90s}
on_demand: {name: od, instance_type: m5.large, min: 0, max: 10, launch_delay: 60s, cooldown: 300s}
ecs:
  cluster: prod
  services:
    - name: app
      desired: 8
      cpu: 1024
      memory: 1024
      start_time: 20s
      minimum_healthy_percent: 100
      maximum_percent: 200
      placement_strategy: [{type: spread, field: instanceId}]
      requests_per_second: 800
      load_balancer: {deregistration_delay: 30s}
events:
  - {at: 1h, kind: mass-reclaim, pool: "m5.large us-east-1a", dry_for: 2h}
)";

TEST(Requests, UndrainedKillsFailRequestsThatSpotkeeperServes) {
  Scenario s = Parse(kFullClusterScenario);
  RunResult none = RunSimulation(s, PolicyKind::kNone);
  RunResult agent = RunSimulation(s, PolicyKind::kEcsAgent);
  RunResult spotkeeper = RunSimulation(s, PolicyKind::kSpotkeeper);
  const double offered = 800.0 * 4 * 3600;
  for (const RunResult* r : {&none, &agent, &spotkeeper}) {
    EXPECT_EQ(r->summary.interruptions, 2) << PolicyName(r->policy);
    EXPECT_NEAR(r->summary.requests_served + r->summary.failed_requests, offered, 1e-3)
        << PolicyName(r->policy);
    ASSERT_EQ(r->services.size(), 1u);
    EXPECT_DOUBLE_EQ(r->services[0].failed_requests, r->summary.failed_requests);
    EXPECT_NEAR(r->summary.failed_requests_per_million, 1e6 * r->summary.failed_requests / offered,
                1e-9);
    EXPECT_EQ(r->series.failed_requests.back(), r->summary.failed_requests);
  }
  // none: the four tasks die in rotation. The ECS agent drains, but with no
  // room for replacements and minimumHealthyPercent 100 it stops none of them
  // before the instances terminate. Each dead target fails its share (100/s)
  // until its health checks mark it unhealthy: at least 36 s (30 s interval,
  // 2 checks, 6 s timeout).
  EXPECT_EQ(none.summary.tasks_lost_without_drain, 4);
  EXPECT_EQ(agent.summary.tasks_lost_without_drain, 4);
  for (const RunResult* r : {&none, &agent}) {
    EXPECT_GE(r->summary.failed_requests, 4 * 100.0 * 36) << PolicyName(r->policy);
    EXPECT_LE(r->summary.failed_requests, 4 * 100.0 * (66 + 0.1)) << PolicyName(r->policy);
  }
  // spotkeeper covers the lost units with on-demand at once; the replacements
  // run before the notice is up, the old tasks are deregistered and drain.
  EXPECT_EQ(spotkeeper.summary.tasks_lost_without_drain, 0);
  EXPECT_EQ(spotkeeper.summary.failed_requests, 0);
  EXPECT_GT(none.summary.failed_requests, spotkeeper.summary.failed_requests);
  EXPECT_GT(agent.summary.failed_requests, spotkeeper.summary.failed_requests);
}

TEST(Requests, MaxRequestsPerTaskShedsWhatTheRemainingTasksCannotServe) {
  // As above with minimumHealthyPercent 50: the ECS agent stops the drained
  // tasks at once (nothing dies in rotation), but until pool A returns four
  // tasks carry the load, each 200/s of which it serves 120.
  std::string yaml = kFullClusterScenario;
  yaml.replace(yaml.find("minimum_healthy_percent: 100"), 28, "minimum_healthy_percent: 50");
  yaml.replace(yaml.find("requests_per_second: 800"), 24,
               "requests_per_second: 800\n      max_requests_per_task: 120");
  Scenario s = Parse(yaml);
  ASSERT_EQ(s.ecs.services[0].max_requests_per_task, 120);
  RunResult agent = RunSimulation(s, PolicyKind::kEcsAgent);
  RunResult spotkeeper = RunSimulation(s, PolicyKind::kSpotkeeper);
  EXPECT_EQ(agent.summary.tasks_lost_without_drain, 0);
  // 4 x 80/s shed for at least the 2 h the pool is dry.
  EXPECT_GE(agent.summary.failed_requests, 4 * 80.0 * 2 * 3600);
  EXPECT_LT(spotkeeper.summary.failed_requests, agent.summary.failed_requests / 10)
      << "on-demand carries the load within minutes";
}

TEST(Policies, EveryPolicyRunsTheDefaultScenarioAndSavesMoney) {
  Scenario s = Parse(DefaultScenarioYaml());
  for (PolicyKind p : AllPolicies()) {
    RunResult r = RunSimulation(s, p);
    EXPECT_GT(r.summary.availability, 0.9) << PolicyName(p);
    EXPECT_LE(r.summary.availability, 1.0) << PolicyName(p);
    EXPECT_GT(r.summary.savings, 0.3) << PolicyName(p);
    EXPECT_GE(r.summary.interruptions, 3) << PolicyName(p);
    EXPECT_NEAR(r.summary.cost, r.series.cost.back(), 1e-6) << PolicyName(p);
  }
}

// ---- determinism and the result JSON ---------------------------------------------

std::string RunAllJson(const Scenario& s) {
  std::vector<RunResult> runs;
  for (PolicyKind p : AllPolicies()) runs.push_back(RunSimulation(s, p));
  return ResultToJson(s, runs).dump(2);
}

TEST(Determinism, TwoRunsGiveIdenticalBytes) {
  Scenario s = Parse(DefaultScenarioYaml());
  std::string first = RunAllJson(s);
  std::string second = RunAllJson(s);
  EXPECT_EQ(first, second);
  Scenario other = s;
  other.seed = 7;
  other.market.short_notice_probability = 0.5;
  EXPECT_NE(RunAllJson(other), first) << "the seed matters";
}

TEST(ResultJson, FollowsTheContract) {
  Scenario s = Parse(DefaultScenarioYaml());
  std::vector<RunResult> runs = {RunSimulation(s, PolicyKind::kSpotkeeper)};
  nlohmann::json j = ResultToJson(s, runs);
  EXPECT_EQ(j["scenario"]["name"], "default-day");
  EXPECT_EQ(j["scenario"]["duration_s"], 86400);
  EXPECT_EQ(j["scenario"]["sample_interval_s"], 300);
  const auto& run = j["runs"][0];
  EXPECT_EQ(run["policy"], "spotkeeper");
  for (const char* key :
       {"availability", "worst_service", "worst_service_availability", "tasks_lost_without_drain",
        "minutes_below_target", "interruptions", "spot_instance_hours", "on_demand_instance_hours",
        "cost", "all_on_demand_cost", "savings", "requests_served", "failed_requests",
        "failed_requests_per_million"}) {
    EXPECT_TRUE(run["summary"].contains(key)) << key;
  }
  for (const auto& service : run["services"]) {
    for (const char* key : {"name", "availability", "tasks_lost_without_drain", "requests_served",
                            "failed_requests", "failed_requests_per_million"}) {
      EXPECT_TRUE(service.contains(key)) << key;
    }
  }
  // The default day's api and web are behind load balancers: 50 requests/s per
  // task by default, all day.
  EXPECT_GT(run["summary"]["requests_served"].get<double>(), 0);
  EXPECT_TRUE(run["summary"]["failed_requests"].is_number_integer());
  const size_t n = run["series"]["t"].size();
  EXPECT_EQ(n, 86400u / 300 + 1);
  EXPECT_EQ(run["series"]["target_units"].size(), n);
  EXPECT_EQ(run["series"]["cost"].size(), n);
  EXPECT_EQ(run["series"]["failed_requests"].size(), n);
  for (const auto& [pool, counts] : run["series"]["capacity"].items())
    EXPECT_EQ(counts.size(), n) << pool;
  EXPECT_TRUE(run["series"]["capacity"].contains("on-demand"));
  EXPECT_TRUE(run["series"]["capacity"].contains("spot m5.large us-east-1a"));
  for (const auto& [name, series] : run["series"]["services"].items()) {
    EXPECT_EQ(series["desired"].size(), n) << name;
    EXPECT_EQ(series["running"].size(), n) << name;
  }
  ASSERT_FALSE(run["events"].empty());
  for (const auto& e : run["events"]) {
    std::string kind = e["kind"];
    const auto& kinds = spk::report::EventKinds();
    EXPECT_NE(std::find(kinds.begin(), kinds.end(), kind), kinds.end()) << kind;
    EXPECT_TRUE(e["t"].is_number());
    EXPECT_TRUE(e["instance"].is_string());
  }
}

TEST(Output, CsvHasAHeaderAndOneRowPerPolicy) {
  Scenario s = Parse(kLossScenario);
  std::vector<RunResult> runs = {RunSimulation(s, PolicyKind::kNone),
                                 RunSimulation(s, PolicyKind::kSpotkeeper)};
  std::string csv = FormatCsv(runs);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3);
  EXPECT_EQ(csv.rfind(kCsvColumns, 0), 0u);
  EXPECT_NE(csv.find("\nnone,"), std::string::npos);
  EXPECT_NE(csv.find("\nspotkeeper,"), std::string::npos);
  std::string table = FormatTable(runs);
  EXPECT_NE(table.find("spotkeeper"), std::string::npos);
  EXPECT_NE(table.find("failed req"), std::string::npos);
}

// The CSV's failed_requests column holds each run's failed requests.
TEST(Output, CsvHasTheFailedRequestsColumn) {
  Scenario s = Parse(kFullClusterScenario);
  std::vector<RunResult> runs = {RunSimulation(s, PolicyKind::kNone),
                                 RunSimulation(s, PolicyKind::kSpotkeeper)};
  std::string csv = FormatCsv(runs);
  std::vector<std::vector<std::string>> rows;
  size_t start = 0;
  while (start < csv.size()) {
    size_t end = csv.find('\n', start);
    std::vector<std::string> cells;
    std::string line = csv.substr(start, end - start), cell;
    for (char c : line + ",") {
      if (c == ',') {
        cells.push_back(cell);
        cell.clear();
      } else {
        cell += c;
      }
    }
    rows.push_back(cells);
    start = end + 1;
  }
  ASSERT_EQ(rows.size(), 3u);
  auto column = std::find(rows[0].begin(), rows[0].end(), "failed_requests");
  ASSERT_NE(column, rows[0].end());
  const size_t k = static_cast<size_t>(column - rows[0].begin());
  for (size_t i = 0; i < runs.size(); ++i) {
    ASSERT_EQ(rows[i + 1].size(), rows[0].size());
    EXPECT_EQ(rows[i + 1][k], std::to_string(std::llround(runs[i].summary.failed_requests)));
  }
  EXPECT_NE(rows[1][k], "0") << "none kills targets undrained";
}

}  // namespace
}  // namespace spk::sim

namespace spk::sim {
namespace {

// ---- real data: describe-spot-price-history and spot-advisor-data.json -----------

const char* kHistory = R"({"SpotPriceHistory": [
  {"AvailabilityZone": "us-east-1a", "InstanceType": "m5.large", "ProductDescription": "Linux/UNIX",
   "SpotPrice": "0.040000", "Timestamp": "2024-05-01T06:00:00+00:00"},
  {"AvailabilityZone": "us-east-1a", "InstanceType": "m5.large", "ProductDescription": "Linux/UNIX",
   "SpotPrice": "0.030000", "Timestamp": "2024-04-30T23:00:00Z"},
  {"AvailabilityZone": "us-east-1a", "InstanceType": "m5.large", "ProductDescription": "Windows",
   "SpotPrice": "0.200000", "Timestamp": "2024-05-01T01:00:00Z"},
  {"AvailabilityZone": "us-east-1a", "InstanceType": "m5.large", "ProductDescription": "Linux/UNIX",
   "SpotPrice": "0.035000", "Timestamp": "2024-05-01T00:00:00Z"}]})";

const char* kAdvisor = R"({"ranges": [], "spot_advisor": {"us-east-1": {"Linux": {
  "m5.large": {"s": 60, "r": 2}, "c5.large": {"s": 50, "r": 4}}}}})";

Result<std::string> Files(const std::string& path) {
  if (path == "history.json") return std::string(kHistory);
  if (path == "advisor.json") return std::string(kAdvisor);
  if (path == "broken.json") return std::string("{not json");
  return NotFoundError("no file " + path);
}

std::string RealDataScenario(const std::string& market, const std::string& pool_extra = "") {
  return "market: {" + market +
         "}\npools:\n  - {type: m5.large, zone: us-east-1a, on_demand_price: 0.1" + pool_extra +
         "}\n  - {type: c5.large, zone: us-east-1b, on_demand_price: 0.08}\n" +
         "fleet: {target_capacity: 4}\necs: {services: [{name: app}]}\n";
}

TEST(RealData, PriceHistoryBecomesEachPoolsPricesOverTime) {
  auto s = ParseScenario(
      RealDataScenario(
          "spot_price_history: history.json, price_history_start: \"2024-05-01T00:00:00Z\""),
      Files);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  // Linux/UNIX only; the price at the start (00:00, 0.035) from 0, 0.04 from 6 h.
  std::vector<std::pair<SimTime, double>> expected = {{0, 0.035}, {6 * kHour, 0.04}};
  EXPECT_EQ(s->pools[0].spot_prices, expected);
  EXPECT_EQ(s->pools[1].spot_prices.size(), 1u) << "no history for c5.large: its default stays";
}

TEST(RealData, HistoryStartsAtTheEarliestTimestampByDefault) {
  auto s = ParseScenario(RealDataScenario("spot_price_history: history.json"), Files);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::vector<std::pair<SimTime, double>> expected = {
      {0, 0.03}, {1 * kHour, 0.035}, {7 * kHour, 0.04}};
  EXPECT_EQ(s->pools[0].spot_prices, expected);
}

TEST(RealData, AdvisorGivesBandsAndSavingsUnlessTheScenarioSaysOtherwise) {
  auto s = ParseScenario(RealDataScenario("spot_advisor: advisor.json"), Files);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_DOUBLE_EQ(s->pools[0].monthly_interruption, 0.125);  // r = 2: 10-15%
  EXPECT_DOUBLE_EQ(s->pools[1].monthly_interruption, 0.25);   // r = 4: >20%
  EXPECT_NEAR(s->pools[0].spot_prices[0].second, 0.1 * 0.4, 1e-12);
  EXPECT_NEAR(s->pools[1].spot_prices[0].second, 0.08 * 0.5, 1e-12);

  auto own = ParseScenario(
      RealDataScenario("spot_advisor: advisor.json", ", band: \"<5%\", spot_price: 0.02"), Files);
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  EXPECT_DOUBLE_EQ(own->pools[0].monthly_interruption, 0.025);
  EXPECT_DOUBLE_EQ(own->pools[0].spot_prices[0].second, 0.02);
}

TEST(RealData, BadFilesNameTheKey) {
  struct Case {
    std::string market, message;
  };
  for (const Case& c : std::vector<Case>{
           {"spot_price_history: missing.json",
            "market.spot_price_history: cannot read missing.json"},
           {"spot_price_history: broken.json", "market.spot_price_history: not valid JSON"},
           {"spot_price_history: advisor.json", "no SpotPriceHistory list"},
           {"spot_advisor: history.json", "no spot_advisor object"},
           {"spot_advisor: advisor.json, region: eu-west-9", "market.region: no Linux data"},
       }) {
    auto s = ParseScenario(RealDataScenario(c.market), Files);
    ASSERT_FALSE(s.ok()) << c.market;
    EXPECT_NE(s.status().message().find(c.message), std::string::npos) << s.status().message();
  }
  auto no_reader = ParseScenario(RealDataScenario("spot_advisor: advisor.json"));
  EXPECT_FALSE(no_reader.ok());
}

}  // namespace
}  // namespace spk::sim
