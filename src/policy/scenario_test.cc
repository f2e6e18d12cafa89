// Decisions over time: the caller's loop (observe, decide, act, keep the
// tracker), with the world updated by hand between steps.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "policy/decide.h"
#include "policy/policy_test_util.h"

namespace spk::policy {
namespace {

using namespace testing_world;  // NOLINT: test builders

// Fleet A has 16 units; `missing` of them are pending.
Observation Short(int missing, WallTime now) {
  Observation observation = World();
  observation.now = now;
  observation.sources[0].fulfilled_capacity = 16 - missing;
  return observation;
}

TEST(ScaleInScenarioTest, DownOnlyAfterTheShortfallStayedLowerForTheSettleWindow) {
  PolicyConfig config;  // settle window 10 min
  ScaleDownTracker tracker;
  struct Step {
    int at_seconds;
    int missing_units;
    std::vector<Action> expected;
  };
  // The group holds 3 instances (12 units) throughout; each step's world has
  // the same three instances with no tasks.
  const std::vector<Step> steps = {
      {0, 12, {}},                             // needed 3: steady
      {60, 8, {}},                             // held 2 < 3: window starts
      {300, 0, {}},                            // held 0: still inside the window
      {500, 12, {}},                           // back to 3: window reset
      {560, 4, {}},                            // held 1: window restarts at 560
      {900, 0, {}},                            // 340 s in
      {1159, 0, {}},                           // 599 s in: not yet
      {1160, 0, {Drain({"i-od2", "i-od3"})}},  // 600 s: down to 1 (the highest held)
  };
  for (const Step& step : steps) {
    SCOPED_TRACE("t=" + std::to_string(step.at_seconds));
    Observation observation = Short(step.missing_units, At(step.at_seconds));
    AddOnDemand(observation, "i-od1", 2);
    AddOnDemand(observation, "i-od2", 0);
    AddOnDemand(observation, "i-od3", 1);
    Decision decision = Decide(observation, config, tracker);
    EXPECT_EQ(decision.actions, step.expected) << ToJson(decision).dump(2);
    tracker = decision.tracker;
  }
  EXPECT_EQ(tracker.removing.size(), 2u);
}

// A need that fell to one instance a settle window ago, and a group of
// i-od1 (idle), i-od2 (6 tasks) and i-od3 (4 tasks).
ScaleDownTracker SettledAtOne() {
  ScaleDownTracker tracker;
  tracker.lower_since = Ago(600);
  tracker.highest_held_since = 1;
  return tracker;
}
Observation ThreeOnDemandNeedingOne() {
  Observation world = Short(4, kNow);  // needs 1 instance
  AddOnDemand(world, "i-od1", 0);
  AddOnDemand(world, "i-od2", 6);
  AddOnDemand(world, "i-od3", 4);
  return world;
}

TEST(ScaleInScenarioTest, DrainThenRemoveExactlyThoseInstances) {
  PolicyConfig config;
  ScaleDownTracker tracker = SettledAtOne();
  Observation world = ThreeOnDemandNeedingOne();
  auto container = [&](const std::string& id) -> ContainerInstance& {
    return *std::find_if(world.container_instances.begin(), world.container_instances.end(),
                         [&](const auto& c) { return c.ec2_instance_id == id; });
  };

  // 1. Choose the two with fewest tasks and drain them.
  Decision d1 = Decide(world, config, tracker);
  EXPECT_EQ(d1.actions, (std::vector<Action>{Drain({"i-od1", "i-od3"})}));
  tracker = d1.tracker;

  // 2. Draining: i-od1 empty at once, i-od3 still moving 2 tasks.
  world.now = At(30);
  container("i-od1").status = ContainerStatus::kDraining;
  container("i-od3").status = ContainerStatus::kDraining;
  container("i-od3").running_tasks = 2;
  Decision d2 = Decide(world, config, tracker);
  EXPECT_EQ(d2.actions, (std::vector<Action>{Terminate("i-od1")}));
  tracker = d2.tracker;

  // 3. i-od1 is terminating (desired decremented); i-od3 done.
  world.now = At(90);
  world.on_demand->instances[0].lifecycle_state = "Terminating";
  world.on_demand->desired_capacity = 2;
  container("i-od3").running_tasks = 0;
  Decision d3 = Decide(world, config, tracker);
  EXPECT_EQ(d3.actions, (std::vector<Action>{Terminate("i-od3")}));
  tracker = d3.tracker;
  EXPECT_EQ(tracker.removing.size(), 1u);  // i-od1 left the tracker

  // 4. Both gone: the busy instance i-od2 was never touched.
  world.now = At(150);
  world.on_demand->instances.erase(world.on_demand->instances.begin());
  world.on_demand->instances[1].lifecycle_state = "Terminating";
  world.on_demand->desired_capacity = 1;
  Decision d4 = Decide(world, config, tracker);
  EXPECT_TRUE(d4.actions.empty()) << ToJson(d4).dump(2);
  EXPECT_TRUE(d4.tracker.removing.empty());
}

TEST(ScaleInScenarioTest, AnInstanceLeavingThroughALifecycleHookIsNotCapacity) {
  // The group holds i-od1 (idle, in a terminate lifecycle action: the
  // controller drains it and completes the hook) and i-od2, i-od3 (busy);
  // the need fell to one instance a settle window ago. The leaving instance
  // is not chosen, although it is the idlest: of the two live ones, the one
  // with fewer tasks is removed.
  for (const char* state : {"Terminating:Wait", "Terminating:Proceed", "Terminating"}) {
    SCOPED_TRACE(state);
    PolicyConfig config;
    ScaleDownTracker tracker = SettledAtOne();
    Observation world = ThreeOnDemandNeedingOne();
    world.on_demand->instances[0].lifecycle_state = state;
    world.on_demand->desired_capacity = 2;  // the group's scale-in already counted it out
    Decision decision = Decide(world, config, tracker);
    EXPECT_EQ(decision.actions, (std::vector<Action>{Drain({"i-od3"})})) << ToJson(decision).dump(2);
  }
}

TEST(ScaleInScenarioTest, BusyInstanceRemovedOnlyAfterMaxDrainTime) {
  PolicyConfig config;
  config.max_drain_time = std::chrono::minutes(5);
  ScaleDownTracker tracker;
  tracker.removing = {{"i-od1", kNow}};
  Observation world = World();
  AddOnDemand(world, "i-od1", 3, ContainerStatus::kDraining);
  for (int t : {0, 60, 299}) {
    world.now = At(t);
    EXPECT_TRUE(Decide(world, config, tracker).actions.empty()) << "t=" << t;
  }
  world.now = At(300);
  EXPECT_EQ(Decide(world, config, tracker).actions, (std::vector<Action>{Terminate("i-od1")}));
}

TEST(RebalancePrepareScenarioTest, ReplacementFirstThenDrain) {
  PolicyConfig config;
  config.on_rebalance = RebalanceAction::kPrepare;
  ScaleDownTracker tracker;
  Observation world = World();
  world.notices = {Rebalance("i-s2", 4)};

  Decision d1 = Decide(world, config, tracker);
  EXPECT_EQ(d1.actions, (std::vector<Action>{SetDesired(1)}));

  // Launched, not yet registered: wait.
  world.now = At(60);
  AddOnDemand(world, "i-od1", 0, ContainerStatus::kActive, /*registered=*/false);
  world.on_demand->instances[0].lifecycle_state = "Pending";
  EXPECT_TRUE(Decide(world, config, d1.tracker).actions.empty());

  // Registered: drain.
  world.now = At(120);
  world.on_demand->instances[0].lifecycle_state = "InService";
  world.container_instances.push_back(Container("i-od1", 0));
  EXPECT_EQ(Decide(world, config, d1.tracker).actions, (std::vector<Action>{Drain({"i-s2"})}));
}

TEST(DeterminismTest, SameInputsSameDecisionWhateverTheInputOrder) {
  PolicyConfig config;
  config.on_rebalance = RebalanceAction::kDrain;
  Observation world = World();
  world.sources[0].fulfilled_capacity = 4;
  world.container_instances.clear();
  for (int i = 0; i < 30; ++i) {
    std::string id = "i-" + std::to_string(1000 + i);
    world.sources[0].instance_ids.push_back(id);
    world.container_instances.push_back(
        Container(id, i % 4, ContainerStatus::kActive, i % 3 ? "prod" : "batch"));
    world.notices.push_back(i % 2 ? Interruption(id, 2) : Rebalance(id, 2));
    world.notices.back().termination_time = At(100 + (i * 7) % 11);
  }
  ScaleDownTracker tracker;
  std::string first = ToJson(Decide(world, config, tracker)).dump();
  EXPECT_EQ(ToJson(Decide(world, config, tracker)).dump(), first);

  std::mt19937 shuffle(42);
  for (int round = 0; round < 5; ++round) {
    std::shuffle(world.notices.begin(), world.notices.end(), shuffle);
    std::shuffle(world.container_instances.begin(), world.container_instances.end(), shuffle);
    EXPECT_EQ(ToJson(Decide(world, config, tracker)).dump(), first) << "round " << round;
  }
}

TEST(DecisionJsonTest, ActionsSkipsAndNumbers) {
  Observation world = World();
  world.notices = {Interruption("i-s1", 4)};
  world.sources[0].fulfilled_capacity = 12;
  world.sources[0].instance_ids = {"i-s1", "i-s2", "i-s3"};
  Decision decision = Decide(world, PolicyConfig{}, ScaleDownTracker{});
  nlohmann::json json = ToJson(decision);
  ASSERT_EQ(json["actions"].size(), 2u);
  EXPECT_EQ(json["actions"][0]["action"], "drain-container-instances");
  EXPECT_EQ(json["actions"][0]["cluster"], "prod");
  EXPECT_EQ(json["actions"][1]["action"], "set-desired-capacity");
  EXPECT_EQ(json["actions"][1]["desired"], 2);
  EXPECT_EQ(json["actions"][1]["honor_cooldown"], false);
  EXPECT_FALSE(json["actions"][1]["reason"].get<std::string>().empty());
  EXPECT_EQ(json["shortfall_units"], 8.0);
  EXPECT_EQ(json["on_demand_needed"], 2);
  EXPECT_TRUE(json["skipped"].empty());

  world.sources[0].read_status = UnavailableError("cloudwatch: timeout");
  json = ToJson(Decide(world, PolicyConfig{}, ScaleDownTracker{}));
  ASSERT_EQ(json["skipped"].size(), 1u);
  EXPECT_EQ(json["skipped"][0]["part"], "on-demand sizing");
  EXPECT_NE(json["skipped"][0]["reason"].get<std::string>().find("timeout"), std::string::npos);
  EXPECT_FALSE(json.contains("on_demand_needed"));
}

TEST(ActionTest, Describe) {
  EXPECT_EQ(Describe({SetDesiredCapacity{"od", 3, false}, "why"}),
            "set-desired-capacity group=od desired=3 honor_cooldown=false: why");
  EXPECT_EQ(Describe({TerminateInstance{"i-1", true}, "done"}),
            "terminate-instance instance=i-1 decrement_desired=true: done");
}

}  // namespace
}  // namespace spk::policy
