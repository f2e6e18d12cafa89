#include "policy/decide.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "policy/policy_test_util.h"
#include "policy/reference_policy.h"
#include "policy/units.h"

namespace spk::policy {
namespace {

using namespace testing_world;  // NOLINT: test builders

using Setup = std::function<void(Observation&, PolicyConfig&, ScaleDownTracker&)>;

struct DecideCase {
  std::string name;
  Setup setup;
  std::vector<Action> expected;
  std::vector<std::string> skipped_parts = {};
};

void PrintTo(const DecideCase& c, std::ostream* os) { *os << c.name; }

std::string TestName(const ::testing::TestParamInfo<DecideCase>& info) {
  std::string name = info.param.name;
  std::replace_if(
      name.begin(), name.end(), [](char c) { return !std::isalnum(c); }, '_');
  return name;
}

// Instance i-s1 (4 units) of fleet A interrupted.
void InterruptS1(Observation& o, PolicyConfig&, ScaleDownTracker&) {
  o.notices.push_back(Interruption("i-s1", 4));
}

// Fleet A missing 8 of its 16 units.
void FleetAShort8(Observation& o) { o.sources[0].fulfilled_capacity = 8; }

// EC2 Fleet "fleet-e" beside fleet A: 4 of its 24 units pending; i-e1 and
// i-e2 are c5.12xlarge of weight 12 (their vCPUs would say 48), i-e1 a
// container instance.
void AddEc2FleetE(Observation& o) {
  SpotCapacitySource fleet;
  fleet.id = "fleet-e";
  fleet.kind = SourceKind::kEc2Fleet;
  fleet.target_capacity = 24;
  fleet.fulfilled_capacity = 20;
  fleet.weights = {{"c5.12xlarge", 12}};
  fleet.instance_ids = {"i-e1", "i-e2"};
  o.sources.push_back(fleet);
  o.container_instances.push_back(Container("i-e1"));
}

// Three on-demand instances (tasks 5, 0, 2), the shortfall gone.
void ThreeOnDemandNoShortfall(Observation& o) {
  AddOnDemand(o, "i-od1", 5);
  AddOnDemand(o, "i-od2", 0);
  AddOnDemand(o, "i-od3", 2);
}

const std::vector<DecideCase> kCases = {
    {"steady: nothing missing, nothing to do", [](auto&, auto&, auto&) {}, {}},

    // Drain.
    {"interruption drains the container instance and covers its units at once",
     InterruptS1,
     {Drain({"i-s1"}), SetDesired(1)}},
    {"already DRAINING container instance is not drained again (idempotent)",
     [](Observation& o, PolicyConfig& c, ScaleDownTracker& t) {
       InterruptS1(o, c, t);
       o.container_instances[0].status = ContainerStatus::kDraining;
       AddOnDemand(o, "i-od1", 0);
     },
     {}},
    {"the same notice three times drains once and counts once",
     [](Observation& o, PolicyConfig& c, ScaleDownTracker& t) {
       for (int i = 0; i < 3; ++i) InterruptS1(o, c, t);
     },
     {Drain({"i-s1"}), SetDesired(1)}},
    {"interruption of an instance without container instance: no drain, still covered",
     [](Observation& o, PolicyConfig& c, ScaleDownTracker& t) {
       InterruptS1(o, c, t);
       o.container_instances.erase(o.container_instances.begin());
     },
     {SetDesired(1)}},
    {"container instances unreadable: drain skipped, scale-up still happens",
     [](Observation& o, PolicyConfig& c, ScaleDownTracker& t) {
       InterruptS1(o, c, t);
       o.containers_status = UnavailableError("ecs ListContainerInstances: throttled");
     },
     {SetDesired(1)},
     {"drain"}},
    {"two clusters: one drain call per cluster",
     [](Observation& o, PolicyConfig&, ScaleDownTracker&) {
       o.container_instances[1].cluster = "batch";
       o.notices = {Interruption("i-s1", 4), Interruption("i-s2", 4)};
     },
     {Drain({"i-s1"}), Drain({"i-s2"}, "batch"), SetDesired(2)}},

    // Rebalance recommendations.
    {"rebalance ignore: nothing",
     [](Observation& o, PolicyConfig& c, ScaleDownTracker&) {
       c.on_rebalance = RebalanceAction::kIgnore;
       o.notices.push_back(Rebalance("i-s1", 4));
     },
     {}},
    {"rebalance drain: drain at once and cover",
     [](Observation& o, PolicyConfig& c, ScaleDownTracker&) {
       c.on_rebalance = RebalanceAction::kDrain;
       o.notices.push_back(Rebalance("i-s1", 4));
     },
     {Drain({"i-s1"}), SetDesired(1)}},
    {"rebalance prepare: replacement first, no drain yet",
     [](Observation& o, PolicyConfig& c, ScaleDownTracker&) {
       c.on_rebalance = RebalanceAction::kPrepare;
       o.notices.push_back(Rebalance("i-s1", 4));
     },
     {SetDesired(1)}},
    {"rebalance prepare: replacement launched but not registered, no drain yet",
     [](Observation& o, PolicyConfig& c, ScaleDownTracker&) {
       c.on_rebalance = RebalanceAction::kPrepare;
       o.notices.push_back(Rebalance("i-s1", 4));
       AddOnDemand(o, "i-od1", 0, ContainerStatus::kActive, /*registered=*/false);
     },
     {}},
    {"rebalance prepare: replacement registered, drain now",
     [](Observation& o, PolicyConfig& c, ScaleDownTracker&) {
       c.on_rebalance = RebalanceAction::kPrepare;
       o.notices.push_back(Rebalance("i-s1", 4));
       AddOnDemand(o, "i-od1", 0);
     },
     {Drain({"i-s1"})}},
    {"rebalance prepare: the fleet already replaced it, drain now",
     [](Observation& o, PolicyConfig& c, ScaleDownTracker&) {
       c.on_rebalance = RebalanceAction::kPrepare;
       o.notices.push_back(Rebalance("i-s1", 4));
       o.notices.back().replaced = true;
     },
     {Drain({"i-s1"})}},
    {"rebalance then interruption for one instance: the interruption wins",
     [](Observation& o, PolicyConfig& c, ScaleDownTracker&) {
       c.on_rebalance = RebalanceAction::kPrepare;
       o.notices = {Rebalance("i-s1", 4), Interruption("i-s1", 4)};
     },
     {Drain({"i-s1"}), SetDesired(1)}},

    // Scheduled maintenance (default maintenance_drain_before: 10 minutes).
    {"maintenance days ahead: nothing now, even with on-rebalance drain",
     [](Observation& o, PolicyConfig& c, ScaleDownTracker&) {
       c.on_rebalance = RebalanceAction::kDrain;
       o.notices.push_back(Maintenance("i-s1", 4, At(3 * 86400)));
     },
     {}},
    {"maintenance 11 minutes ahead: not due yet, nothing covered or drained",
     [](Observation& o, PolicyConfig& c, ScaleDownTracker&) {
       c.on_rebalance = RebalanceAction::kPrepare;
       o.notices.push_back(Maintenance("i-s1", 4, At(11 * 60)));
     },
     {}},
    {"maintenance due (9 minutes ahead): its spot capacity is covered first, no drain yet",
     [](Observation& o, PolicyConfig&, ScaleDownTracker&) {
       o.notices.push_back(Maintenance("i-s1", 4, At(9 * 60)));
     },
     {SetDesired(1)}},
    {"maintenance due, replacement registered: drain now",
     [](Observation& o, PolicyConfig&, ScaleDownTracker&) {
       o.notices.push_back(Maintenance("i-s1", 4, At(9 * 60)));
       AddOnDemand(o, "i-od1", 0);
     },
     {Drain({"i-s1"})}},
    {"maintenance past half of drain-before: drained though no replacement registered",
     [](Observation& o, PolicyConfig&, ScaleDownTracker&) {
       o.notices.push_back(Maintenance("i-s1", 4, At(4 * 60)));
       AddOnDemand(o, "i-od1", 0, ContainerStatus::kActive, /*registered=*/false);
     },
     {Drain({"i-s1"})}},
    {"maintenance drain-before is a setting: 30 minutes makes 20 minutes ahead due",
     [](Observation& o, PolicyConfig& c, ScaleDownTracker&) {
       c.maintenance_drain_before = std::chrono::minutes(30);
       o.notices.push_back(Maintenance("i-s1", 4, At(20 * 60)));
     },
     {SetDesired(1)}},
    {"on-demand instance's maintenance due: drained at once, not spot capacity lost",
     [](Observation& o, PolicyConfig&, ScaleDownTracker&) {
       AddOnDemand(o, "i-od1", 3);
       o.notices.push_back(Maintenance("i-od1", 4, At(9 * 60)));
     },
     {Drain({"i-od1"})}},
    {"on-demand instance's maintenance days ahead: nothing",
     [](Observation& o, PolicyConfig& c, ScaleDownTracker&) {
       c.on_rebalance = RebalanceAction::kDrain;
       AddOnDemand(o, "i-od1", 3);
       o.notices.push_back(Maintenance("i-od1", 4, At(3 * 86400)));
     },
     {}},
    {"maintenance of a source's instance the agent marks on-demand: not spot capacity lost",
     [](Observation& o, PolicyConfig&, ScaleDownTracker&) {
       o.container_instances[0].attributes[kLifecycleAttribute] = "on-demand";
       o.notices.push_back(Maintenance("i-s1", 4, At(9 * 60)));
     },
     {Drain({"i-s1"})}},
    {"maintenance without a NotBefore: due at once",
     [](Observation& o, PolicyConfig&, ScaleDownTracker&) {
       o.notices.push_back(Maintenance("i-s1", 4, kNow));
       o.notices.back().termination_time.reset();
     },
     {Drain({"i-s1"}), SetDesired(1)}},
    {"interruption outranks scheduled maintenance days ahead",
     [](Observation& o, PolicyConfig&, ScaleDownTracker&) {
       o.notices = {Maintenance("i-s1", 4, At(3 * 86400)), Interruption("i-s1", 4)};
     },
     {Drain({"i-s1"}), SetDesired(1)}},
    {"scheduled maintenance outranks a rebalance recommendation",
     [](Observation& o, PolicyConfig& c, ScaleDownTracker&) {
       c.on_rebalance = RebalanceAction::kDrain;
       o.notices = {Rebalance("i-s1", 4), Maintenance("i-s1", 4, At(3 * 86400))};
     },
     {}},

    // Shortfall and on-demand sizing.
    {"pending from the fleet API: target - fulfilled, up at once without cooldown",
     [](Observation& o, PolicyConfig&, ScaleDownTracker&) { FleetAShort8(o); },
     {SetDesired(2, /*honor_cooldown=*/false)}},
    {"pending from CloudWatch PendingCapacity when given",
     [](Observation& o, PolicyConfig&, ScaleDownTracker&) { o.sources[0].pending_capacity = 5; },
     {SetDesired(2)}},
    {"pending plus unreplaced capacity under notice",
     [](Observation& o, PolicyConfig& c, ScaleDownTracker& t) {
       FleetAShort8(o);
       InterruptS1(o, c, t);
     },
     {Drain({"i-s1"}), SetDesired(3)}},
    {"instance already gone from the fleet: its loss is in pending, not counted twice",
     [](Observation& o, PolicyConfig& c, ScaleDownTracker& t) {
       InterruptS1(o, c, t);
       o.sources[0].instance_ids.erase(o.sources[0].instance_ids.begin());
       o.sources[0].fulfilled_capacity = 12;
     },
     {Drain({"i-s1"}), SetDesired(1)}},
    {"on-demand units override the group's vCPUs",
     [](Observation& o, PolicyConfig& c, ScaleDownTracker&) {
       FleetAShort8(o);
       c.on_demand_units = 8;
     },
     {SetDesired(1)}},
    {"clamped to the group's max by us",
     [](Observation& o, PolicyConfig&, ScaleDownTracker&) { o.sources[0].pending_capacity = 100; },
     {SetDesired(10)}},
    {"clamped to the group's min: below min is raised",
     [](Observation& o, PolicyConfig&, ScaleDownTracker&) { o.on_demand->min_size = 1; },
     {SetDesired(1)}},
    {"at min: no scale-in below it",
     [](Observation& o, PolicyConfig&, ScaleDownTracker& t) {
       o.on_demand->min_size = 2;
       AddOnDemand(o, "i-od1", 0);
       AddOnDemand(o, "i-od2", 0);
       t.lower_since = Ago(3600);
     },
     {}},
    {"two fleets add up",
     [](Observation& o, PolicyConfig&, ScaleDownTracker&) {
       SpotCapacitySource b = FleetA();
       b.id = "sfr-b";
       b.instance_ids = {"i-b1"};
       b.fulfilled_capacity = 12;
       FleetAShort8(o);
       o.sources.push_back(b);
     },
     {SetDesired(3)}},
    {"an EC2 Fleet beside a Spot Fleet: its pending and its lost weight add up",
     [](Observation& o, PolicyConfig&, ScaleDownTracker&) {
       AddEc2FleetE(o);
       o.notices.push_back(Interruption("i-e1", 12, "c5.12xlarge"));
     },
     {Drain({"i-e1"}), SetDesired(4)}},
    {"no on-demand group configured: drain only",
     [](Observation& o, PolicyConfig& c, ScaleDownTracker& t) {
       InterruptS1(o, c, t);
       o.on_demand.reset();
     },
     {Drain({"i-s1"})}},

    // Guard.
    {"guard: target changed 5 min ago, its pending is not covered",
     [](Observation& o, PolicyConfig&, ScaleDownTracker&) {
       FleetAShort8(o);
       o.sources[0].last_target_change = Ago(300);
     },
     {}},
    {"guard: target changed 11 min ago, covered",
     [](Observation& o, PolicyConfig&, ScaleDownTracker&) {
       FleetAShort8(o);
       o.sources[0].last_target_change = Ago(660);
     },
     {SetDesired(2)}},
    {"guard: an EC2 Fleet whose target changed 5 min ago: only the Spot Fleet's pending",
     [](Observation& o, PolicyConfig&, ScaleDownTracker&) {
       FleetAShort8(o);
       AddEc2FleetE(o);
       o.sources[1].last_target_change = Ago(300);
     },
     {SetDesired(2)}},
    {"guard: configurable window",
     [](Observation& o, PolicyConfig& c, ScaleDownTracker&) {
       FleetAShort8(o);
       o.sources[0].last_target_change = Ago(300);
       c.guard_window = std::chrono::minutes(2);
     },
     {SetDesired(2)}},
    {"guard: on-demand already covering a guarded fleet is kept, no scale-in",
     [](Observation& o, PolicyConfig&, ScaleDownTracker& t) {
       FleetAShort8(o);
       o.sources[0].last_target_change = Ago(300);
       AddOnDemand(o, "i-od1", 3);
       AddOnDemand(o, "i-od2", 3);
       t.lower_since = Ago(3600);
     },
     {}},
    {"guard: a notice in a guarded fleet is still covered",
     [](Observation& o, PolicyConfig& c, ScaleDownTracker& t) {
       FleetAShort8(o);
       o.sources[0].last_target_change = Ago(300);
       InterruptS1(o, c, t);
     },
     {Drain({"i-s1"}), SetDesired(1)}},

    // Scale-in.
    {"scale-in: not before the settle window",
     [](Observation& o, PolicyConfig&, ScaleDownTracker& t) {
       ThreeOnDemandNoShortfall(o);
       t.lower_since = Ago(599);
     },
     {}},
    {"scale-in: after the settle window, drain the fewest-task instances first",
     [](Observation& o, PolicyConfig&, ScaleDownTracker& t) {
       ThreeOnDemandNoShortfall(o);
       o.sources[0].pending_capacity = 4;
       t.lower_since = Ago(600);
       t.highest_held_since = 1;
     },
     {Drain({"i-od2", "i-od3"})}},
    {"scale-in: protected instances are never chosen",
     [](Observation& o, PolicyConfig&, ScaleDownTracker& t) {
       ThreeOnDemandNoShortfall(o);
       o.on_demand->instances[1].protected_from_scale_in = true;
       t.lower_since = Ago(600);
     },
     {Drain({"i-od1", "i-od3"})}},
    {"scale-in: a never-registered instance is removed at once",
     [](Observation& o, PolicyConfig&, ScaleDownTracker& t) {
       AddOnDemand(o, "i-od1", 4);
       AddOnDemand(o, "i-od9", 0, ContainerStatus::kActive, /*registered=*/false);
       t.lower_since = Ago(600);
       t.highest_held_since = 1;
     },
     {Terminate("i-od9")}},
    {"removal: exactly the drained instance with no tasks is terminated",
     [](Observation& o, PolicyConfig&, ScaleDownTracker& t) {
       AddOnDemand(o, "i-od1", 5);
       AddOnDemand(o, "i-od2", 0, ContainerStatus::kDraining);
       AddOnDemand(o, "i-od3", 2, ContainerStatus::kDraining);
       t.removing = {{"i-od2", Ago(60)}, {"i-od3", Ago(60)}};
     },
     {Terminate("i-od2")}},
    {"removal: still running tasks after max drain time, terminated",
     [](Observation& o, PolicyConfig&, ScaleDownTracker& t) {
       AddOnDemand(o, "i-od3", 2, ContainerStatus::kDraining);
       t.removing = {{"i-od3", Ago(15 * 60)}};
     },
     {Terminate("i-od3")}},
    {"removal: drain re-issued when the container instance is ACTIVE again",
     [](Observation& o, PolicyConfig&, ScaleDownTracker& t) {
       AddOnDemand(o, "i-od3", 2, ContainerStatus::kActive);
       t.removing = {{"i-od3", Ago(60)}};
     },
     {Drain({"i-od3"})}},
    {"removal: shortfall rose again, re-activate instead of launching",
     [](Observation& o, PolicyConfig&, ScaleDownTracker& t) {
       AddOnDemand(o, "i-od1", 5);
       AddOnDemand(o, "i-od2", 1, ContainerStatus::kDraining);
       o.sources[0].pending_capacity = 8;
       t.removing = {{"i-od2", Ago(60)}};
     },
     {Activate({"i-od2"})}},
    {"removal: containers unreadable, nothing terminated",
     [](Observation& o, PolicyConfig&, ScaleDownTracker& t) {
       AddOnDemand(o, "i-od2", 0, ContainerStatus::kDraining);
       o.containers_status = UnavailableError("ecs down");
       t.removing = {{"i-od2", Ago(20 * 60)}};
     },
     {},
     {"drain"}},

    // Reference defects, and what spotkeeper does instead.
    {"defect fixed: capacity from the fleet weight (c5.12xlarge = 12), not the name (8)",
     [](Observation& o, PolicyConfig&, ScaleDownTracker&) {
       const auto& weights = o.sources[0].weights;
       o.notices.push_back(
           Interruption("i-s1", LostUnits(weights, "c5.12xlarge", 48).value(), "c5.12xlarge"));
     },
     {Drain({"i-s1"}), SetDesired(3)}},
    {"defect fixed: failed metric read skips sizing instead of reading 0 (no scale-in)",
     [](Observation& o, PolicyConfig& c, ScaleDownTracker& t) {
       InterruptS1(o, c, t);
       ThreeOnDemandNoShortfall(o);
       o.sources[0].read_status = UnavailableError("cloudwatch GetMetricStatistics: timeout");
       t.lower_since = Ago(3600);
     },
     {Drain({"i-s1"})},
     {"on-demand sizing"}},
    {"defect fixed: unknown units of a noticed instance skip sizing, never guessed",
     [](Observation& o, PolicyConfig& c, ScaleDownTracker& t) {
       InterruptS1(o, c, t);
       o.notices[0].units.reset();
     },
     {Drain({"i-s1"})},
     {"on-demand sizing"}},
    {"defect fixed: on-demand group unreadable skips sizing",
     [](Observation& o, PolicyConfig&, ScaleDownTracker&) {
       FleetAShort8(o);
       o.on_demand->read_status = UnavailableError("autoscaling: 503");
     },
     {},
     {"on-demand sizing"}},
    {"defect fixed: the instance's fleet is found by its instance list, not hard-coded",
     [](Observation& o, PolicyConfig&, ScaleDownTracker&) {
       SpotCapacitySource b = FleetA();
       b.id = "sfr-44def1f0-9e0c-4582-9ee3-95095db3805d";  // the reference's fleet
       b.instance_ids = {"i-b1"};
       o.sources.push_back(b);
       o.container_instances.push_back(Container("i-s9"));
       // i-s9 is in no fleet: drained, but no capacity attributed to any fleet.
       o.notices = {Interruption("i-s9", 8, "m5.2xlarge")};
     },
     {Drain({"i-s9"})}},
    {"defect fixed: scale-in drains chosen instances, never lowers desired blindly",
     [](Observation& o, PolicyConfig&, ScaleDownTracker& t) {
       ThreeOnDemandNoShortfall(o);
       t.lower_since = Ago(3600);
     },
     {Drain({"i-od1", "i-od2", "i-od3"})}},
};

class DecideTableTest : public ::testing::TestWithParam<DecideCase> {};

TEST_P(DecideTableTest, Actions) {
  const DecideCase& c = GetParam();
  Observation observation = World();
  PolicyConfig config;
  ScaleDownTracker tracker;
  c.setup(observation, config, tracker);
  ASSERT_TRUE(ValidateConfig(config).ok());
  Decision decision = Decide(observation, config, tracker);
  EXPECT_EQ(decision.actions, c.expected) << ToJson(decision).dump(2);
  std::vector<std::string> skipped;
  for (const Skip& skip : decision.skipped) skipped.push_back(skip.part);
  EXPECT_EQ(skipped, c.skipped_parts) << ToJson(decision).dump(2);
  for (const Action& action : decision.actions) EXPECT_FALSE(action.reason.empty());
}

INSTANTIATE_TEST_SUITE_P(Cases, DecideTableTest, ::testing::ValuesIn(kCases), TestName);

TEST(UnitsPerInstanceTest, SaysHowTheyWereFoundOrWhyUnknown) {
  OnDemandGroup group = GroupOd();
  group.units_source = "launch configuration ecsLC: m5.xlarge, 4 vCPUs";
  PolicyConfig config;
  EXPECT_EQ(DescribeUnitsPerInstance(group, config),
            "od: 4 units per instance (launch configuration ecsLC: m5.xlarge, 4 vCPUs)");
  config.on_demand_units = 2.5;
  EXPECT_EQ(DescribeUnitsPerInstance(group, config),
            "od: 2.5 units per instance (from the on-demand-units setting)");

  config.on_demand_units.reset();
  group.units_per_instance.reset();
  group.units_source = "instance type unknown: launch configuration lc: it does not exist";
  EXPECT_EQ(DescribeUnitsPerInstance(group, config),
            "units per on-demand instance of od unknown (instance type unknown: launch "
            "configuration lc: it does not exist): set on-demand units");
  group.units_source.clear();
  EXPECT_EQ(OnDemandUnitsPerInstance(group, config).status().message(),
            "units per on-demand instance of od unknown: set on-demand units");
}

TEST(UnitsPerInstanceTest, TheDecisionNotesThemOrSkipsSizingSayingWhy) {
  Observation observation = World();
  observation.sources[0].pending_capacity = 5;
  observation.on_demand->units_source = "launch configuration ecsLC: m5.xlarge, 4 vCPUs";
  Decision decision = Decide(observation, PolicyConfig{}, ScaleDownTracker{});
  ASSERT_FALSE(decision.notes.empty());
  EXPECT_EQ(decision.notes.front(),
            "od: 4 units per instance (launch configuration ecsLC: m5.xlarge, 4 vCPUs)");

  observation.on_demand->units_per_instance.reset();
  observation.on_demand->units_source = "instance type unknown: no instance";
  decision = Decide(observation, PolicyConfig{}, ScaleDownTracker{});
  ASSERT_EQ(decision.skipped.size(), 1u);
  EXPECT_NE(decision.skipped[0].reason.find("(instance type unknown: no instance)"),
            std::string::npos)
      << decision.skipped[0].reason;
  EXPECT_TRUE(decision.actions.empty());
}

// Issue 15 item 1: a group ECS sizes (a capacity provider with managed
// scaling) is never resized or scaled in, and that is no failure to retry.
TEST(CapacityProviderTest, AGroupEcsSizesIsLeftAloneWhileDrainsGoOn) {
  Observation observation = World();
  observation.sources[0].pending_capacity = 9;  // would raise the group to 3
  AddOnDemand(observation, "i-od1", 0);
  AddOnDemand(observation, "i-od2", 0);
  observation.on_demand->managed_by_capacity_provider = "cp-od";
  observation.notices.push_back(Interruption("i-s1", 2));
  ScaleDownTracker tracker;
  tracker.lower_since = kNow - std::chrono::hours(2);
  Decision decision = Decide(observation, PolicyConfig{}, tracker);
  ASSERT_EQ(decision.actions.size(), 1u);
  EXPECT_EQ(decision.actions[0].what, Drain({"i-s1"}).what);
  EXPECT_TRUE(decision.skipped.empty());
  EXPECT_FALSE(decision.on_demand_needed.has_value());
  EXPECT_FALSE(decision.tracker.lower_since.has_value());
  ASSERT_FALSE(decision.notes.empty());
  EXPECT_EQ(decision.notes.front(),
            "on-demand group od belongs to capacity provider cp-od with managed scaling: ECS "
            "sizes it, so spotkeeper never resizes it or terminates its instances");

  // The same group without the provider: raised.
  observation.on_demand->managed_by_capacity_provider.clear();
  decision = Decide(observation, PolicyConfig{}, tracker);
  EXPECT_EQ(decision.on_demand_needed, 3);
  ASSERT_EQ(decision.actions.size(), 2u);
  EXPECT_EQ(decision.actions[1].what, SetDesired(3).what);
}

}  // namespace
}  // namespace spk::policy
