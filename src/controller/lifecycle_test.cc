// Terminate lifecycle hooks (lifecycle.h): drained at once, heartbeats while
// tasks run, CONTINUE once none runs or --max-drain-time passed; restarts and
// other deciders finish what one began, from what AWS shows.
#include "controller/lifecycle.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "controller/controller_test_util.h"
#include "controller/handler.h"

namespace spk::controller {
namespace {

constexpr const char* kOdArn = "arn:aws:ecs:us-east-1:1:container-instance/web/od1";

// An EventBridge lifecycle action of `group` for `instance`: terminating on
// the hook "drain", or launching on the hook "ready".
Event LifecycleEvent(const std::string& group, const std::string& instance,
                     bool launching = false) {
  nlohmann::json doc = {
      {"version", "0"},
      {"id", (launching ? "launch-" : "lc-") + instance},
      {"detail-type", launching ? "EC2 Instance-launch Lifecycle Action"
                                : "EC2 Instance-terminate Lifecycle Action"},
      {"source", "aws.autoscaling"},
      {"time", "2026-01-01T00:00:00Z"},
      {"detail",
       {{"LifecycleActionToken", "tok-" + instance},
        {"AutoScalingGroupName", group},
        {"LifecycleHookName", launching ? "ready" : "drain"},
        {"EC2InstanceId", instance},
        {"LifecycleTransition", launching ? "autoscaling:EC2_INSTANCE_LAUNCHING"
                                          : "autoscaling:EC2_INSTANCE_TERMINATING"}}}};
  Result<Event> event = ParseEvent(doc.dump());
  EXPECT_TRUE(event.ok()) << event.status().ToString();
  return *event;
}

// The example world plus an on-demand instance i-od1 (container instance
// ACTIVE with `tasks` tasks) that its group is terminating: Terminating:Wait
// on the hook "drain" (heartbeat timeout 60 s).
class LifecycleTest : public ControllerWorldTest {
 protected:
  void SetUp() override {
    ControllerWorldTest::SetUp();
    OnDemandGroupRead& od = cloud.on_demand_groups["od"];
    od.group.desired_capacity = 0;
    od.group.instances = {{"i-od1", "Terminating:Wait", false}};
    cloud.lifecycle["od"] = {{{"drain", std::chrono::seconds(60)}}, {"i-od1"}};
  }
  void AddContainer(int tasks) {
    cloud.clusters["web"].push_back(
        {"web", kOdArn, "i-od1", policy::ContainerStatus::kActive, tasks, 0});
  }
  policy::ContainerInstance& Container() { return *cloud.Find("web", kOdArn); }
  std::vector<std::string> Calls() const {
    std::vector<std::string> out;
    for (const auto& c : cloud.lifecycle_calls) {
      out.push_back(c.method + " " + c.action.hook + " " + c.action.group + " " +
                    c.action.instance_id + " " + c.action.token + " " + c.result);
    }
    return out;
  }
  bool Waiting() { return !cloud.lifecycle["od"].instance_ids.empty(); }
};

TEST_F(LifecycleTest, AnInstanceWithNoTaskIsDrainedAndCompletedWithTheEventsToken) {
  AddContainer(0);
  Handler handler(cloud, config, clock);
  HandleReport report = handler.Handle(LifecycleEvent("od", "i-od1"));
  ASSERT_TRUE(report.status().ok()) << ToJson(report).dump();
  EXPECT_EQ(Container().status, policy::ContainerStatus::kDraining);
  EXPECT_EQ(Container().attributes[kTerminatingAttribute], FormatIso8601(clock.WallNow()));
  EXPECT_EQ(Calls(),
            std::vector<std::string>{"CompleteLifecycleAction drain od i-od1 tok-i-od1 CONTINUE"});
  EXPECT_FALSE(Waiting());
  nlohmann::json out = ToJson(report);
  ASSERT_EQ(out["lifecycle"].size(), 3u) << out.dump();
  EXPECT_EQ(out["lifecycle"][0]["what"], "drain");
  EXPECT_EQ(out["lifecycle"][1]["what"], "drain-record");
  EXPECT_EQ(out["lifecycle"][2]["what"], "complete");
  EXPECT_EQ(out["lifecycle"][2]["hook"], "drain");
}

TEST_F(LifecycleTest, HeartbeatsWhileATaskRunsThenCompletesAndARestartFinishesIt) {
  AddContainer(2);
  Handler first(cloud, config, clock);
  ASSERT_TRUE(first.Handle(LifecycleEvent("od", "i-od1")).status().ok());
  EXPECT_EQ(Container().status, policy::ContainerStatus::kDraining);
  EXPECT_EQ(Calls(),
            std::vector<std::string>{"RecordLifecycleHeartbeat drain od i-od1 tok-i-od1 "});
  // Within half the heartbeat timeout: nothing to send.
  clock.Advance(std::chrono::seconds(20));
  ASSERT_TRUE(first.Reconcile().status().ok());
  EXPECT_EQ(Calls().size(), 1u);
  clock.Advance(std::chrono::seconds(10));
  ASSERT_TRUE(first.Reconcile().status().ok());
  ASSERT_EQ(Calls().size(), 2u);
  EXPECT_EQ(Calls()[1], "RecordLifecycleHeartbeat drain od i-od1 tok-i-od1 ");
  EXPECT_TRUE(Waiting());
  // A restart: the fresh decider knows no token and no heartbeat; it sends
  // one at once (the drain is not repeated), by instance id.
  clock.Advance(std::chrono::seconds(5));
  Handler second(cloud, config, clock);
  HandleReport again = second.Reconcile();
  ASSERT_TRUE(again.status().ok()) << ToJson(again).dump();
  ASSERT_EQ(Calls().size(), 3u);
  EXPECT_EQ(Calls()[2], "RecordLifecycleHeartbeat drain od i-od1  ");
  EXPECT_EQ(cloud.calls["Apply"], 1) << "drained once";
  // The task is gone: completed.
  Container().running_tasks = 0;
  clock.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(second.Reconcile().status().ok());
  ASSERT_EQ(Calls().size(), 4u);
  EXPECT_EQ(Calls()[3], "CompleteLifecycleAction drain od i-od1  CONTINUE");
  EXPECT_FALSE(Waiting());
  // Done: later decisions send nothing.
  ASSERT_TRUE(second.Reconcile().status().ok());
  EXPECT_EQ(Calls().size(), 4u);
}

TEST_F(LifecycleTest, MaxDrainTimeFromTheRecordedDrainStartCompletesIt) {
  AddContainer(1);
  Container().status = policy::ContainerStatus::kDraining;
  const WallTime started = clock.WallNow();
  Container().attributes[kTerminatingAttribute] = FormatIso8601(started);
  clock.Advance(config.policy.max_drain_time - std::chrono::seconds(1));
  {
    Handler handler(cloud, config, clock);
    ASSERT_TRUE(handler.Reconcile().status().ok());
    EXPECT_EQ(Calls(), std::vector<std::string>{"RecordLifecycleHeartbeat drain od i-od1  "});
  }
  clock.Advance(std::chrono::seconds(1));
  Handler handler(cloud, config, clock);
  ASSERT_TRUE(handler.Reconcile().status().ok());
  ASSERT_EQ(Calls().size(), 2u);
  EXPECT_EQ(Calls()[1], "CompleteLifecycleAction drain od i-od1  CONTINUE");
  EXPECT_EQ(Container().attributes[kTerminatingAttribute], FormatIso8601(started))
      << "the record is not rewritten";
  EXPECT_EQ(cloud.calls["PutContainerAttributes"], 0);
}

TEST_F(LifecycleTest, AScaleInsRemovalMarkIsTheDrainStart) {
  AddContainer(1);
  Container().status = policy::ContainerStatus::kDraining;
  Container().attributes[kRemovingAttribute] = FormatIso8601(clock.WallNow());
  clock.Advance(config.policy.max_drain_time);
  Handler handler(cloud, config, clock);
  ASSERT_TRUE(handler.Reconcile().status().ok());
  EXPECT_EQ(Calls(), std::vector<std::string>{"CompleteLifecycleAction drain od i-od1  CONTINUE"});
  EXPECT_FALSE(Container().attributes.count(kTerminatingAttribute));
}

TEST_F(LifecycleTest, AnInstanceWithoutAContainerInstanceIsCompletedAtOnce) {
  Handler handler(cloud, config, clock);
  ASSERT_TRUE(handler.Reconcile().status().ok());
  EXPECT_EQ(Calls(), std::vector<std::string>{"CompleteLifecycleAction drain od i-od1  CONTINUE"});
}

TEST_F(LifecycleTest, AnActionAnotherDeciderCompletedIsNotAFailure) {
  AddContainer(0);
  cloud.before = [&](const std::string& method) {
    if (method == "CompleteLifecycleAction") cloud.lifecycle["od"].instance_ids.clear();
  };
  Handler handler(cloud, config, clock);
  HandleReport report = handler.Reconcile();
  ASSERT_TRUE(report.status().ok()) << ToJson(report).dump();
  ASSERT_FALSE(report.lifecycle.empty());
  EXPECT_EQ(report.lifecycle.back().what, "complete-gone");
}

TEST_F(LifecycleTest, OnlyTheEventsHookIsAnsweredAndOtherGroupsAreRefused) {
  AddContainer(0);
  cloud.lifecycle["od"].hooks.push_back({"someone-elses", std::chrono::seconds(60)});
  Handler handler(cloud, config, clock);
  HandleReport report = handler.Handle(LifecycleEvent("od", "i-od1"));
  ASSERT_TRUE(report.status().ok()) << ToJson(report).dump();
  EXPECT_EQ(Calls(),
            std::vector<std::string>{"CompleteLifecycleAction drain od i-od1 tok-i-od1 CONTINUE"});

  HandleReport refused = handler.Handle(LifecycleEvent("other-asg", "i-x"));
  EXPECT_NE(refused.refused.find("other-asg"), std::string::npos) << refused.refused;
  EXPECT_EQ(cloud.calls["ReadLifecycleWaits"], 1) << "nothing read for a refused event";
}

TEST_F(LifecycleTest, AFailedCallFailsTheDecisionAndIsRetried) {
  AddContainer(0);
  cloud.failures["CompleteLifecycleAction"] = UnavailableError("throttled");
  Handler handler(cloud, config, clock);
  HandleReport report = handler.Handle(LifecycleEvent("od", "i-od1"));
  EXPECT_FALSE(report.status().ok());
  EXPECT_TRUE(Waiting());
  cloud.failures.clear();
  ASSERT_TRUE(handler.Reconcile().status().ok());
  EXPECT_FALSE(Waiting());
  EXPECT_EQ(cloud.calls["Apply"], 1) << "drained once";

  cloud.lifecycle["od"].instance_ids = {"i-od1"};
  cloud.failures["ReadLifecycleWaits"] = UnavailableError("down");
  EXPECT_FALSE(handler.Reconcile().status().ok());
}

TEST_F(LifecycleTest, TheTokenOutlivesAFailedReadOfItsGroup) {
  AddContainer(1);
  cloud.failures["ReadLifecycleWaits"] = UnavailableError("down");
  Handler handler(cloud, config, clock);
  EXPECT_FALSE(handler.Handle(LifecycleEvent("od", "i-od1")).status().ok());
  cloud.failures.clear();
  ASSERT_TRUE(handler.Reconcile().status().ok());
  EXPECT_EQ(Calls(),
            std::vector<std::string>{"RecordLifecycleHeartbeat drain od i-od1 tok-i-od1 "});
}

TEST_F(LifecycleTest, DryRunWritesNothing) {
  AddContainer(0);
  config.dry_run = true;
  Handler handler(cloud, config, clock);
  HandleReport report = handler.Reconcile();
  ASSERT_TRUE(report.status().ok()) << ToJson(report).dump();
  EXPECT_TRUE(cloud.lifecycle_calls.empty());
  EXPECT_EQ(Container().status, policy::ContainerStatus::kActive);
  EXPECT_TRUE(Container().attributes.empty());
  ASSERT_FALSE(report.lifecycle.empty());
  EXPECT_TRUE(report.lifecycle.back().dry_run);
}

TEST_F(LifecycleTest, GroupsWithoutWaitingInstancesCostOneReadEach) {
  cloud.lifecycle.clear();
  config.spot_asgs = {"spot-asg"};
  SpotSourceRead spot;
  spot.source.id = "spot-asg";
  spot.source.kind = policy::SourceKind::kAutoScalingGroup;
  cloud.spot_groups["spot-asg"] = spot;
  Handler handler(cloud, config, clock);
  HandleReport report = handler.Reconcile();
  ASSERT_TRUE(report.status().ok()) << ToJson(report).dump();
  EXPECT_TRUE(report.lifecycle.empty());
  EXPECT_EQ(cloud.calls["ReadLifecycleWaits"], 2);
}

TEST_F(LifecycleTest, TheTestNotificationIsAcknowledged) {
  Result<Event> test =
      ParseEvent(R"({"AccountId":"1","RequestId":"r","AutoScalingGroupName":"od",)"
                 R"("Service":"AWS Auto Scaling","Event":"autoscaling:TEST_NOTIFICATION",)"
                 R"("Time":"2026-01-01T00:00:00.000Z"})");
  ASSERT_TRUE(test.ok()) << test.status().ToString();
  Handler handler(cloud, config, clock);
  HandleReport report = handler.Handle(*test);
  EXPECT_NE(report.refused.find("test message"), std::string::npos) << report.refused;
  EXPECT_FALSE(report.decision.has_value());
  EXPECT_TRUE(cloud.lifecycle_calls.empty());
}

// Review of this session: without --cluster the container instance cannot
// be found, so nothing is completed blind.
TEST_F(LifecycleTest, WithoutAClusterNothingIsCompleted) {
  AddContainer(3);
  config.clusters.clear();
  Handler handler(cloud, config, clock);
  HandleReport report = handler.Reconcile();
  EXPECT_TRUE(Calls().empty());
  EXPECT_TRUE(Waiting());
  nlohmann::json out = ToJson(report);
  ASSERT_FALSE(out["lifecycle"].empty()) << out.dump();
  EXPECT_NE(out["lifecycle"][0]["error"].get<std::string>().find("no --cluster"), std::string::npos)
      << out.dump();
}

TEST_F(LifecycleTest, ARefusalOtherThanNoActionPendingFailsTheStep) {
  AddContainer(0);
  cloud.failures["CompleteLifecycleAction"] =
      InvalidArgumentError("autoscaling CompleteLifecycleAction: ValidationError: bad hook");
  Handler handler(cloud, config, clock);
  HandleReport report = handler.Reconcile();
  EXPECT_FALSE(report.status().ok()) << ToJson(report).dump();
  ASSERT_FALSE(report.lifecycle.empty());
  EXPECT_EQ(report.lifecycle.back().what, "complete");
  EXPECT_FALSE(report.lifecycle.back().status.ok());
}

TEST_F(LifecycleTest, EcsManagedDrainingHookIsLeftToEcs) {
  AddContainer(0);
  cloud.lifecycle["od"].hooks = {{kEcsManagedDrainingHook, std::chrono::seconds(60)}};
  Handler handler(cloud, config, clock);
  ASSERT_TRUE(handler.Reconcile().status().ok());
  EXPECT_TRUE(Calls().empty());
  EXPECT_EQ(Container().status, policy::ContainerStatus::kActive);
}

// ---- launching hooks ------------------------------------------------------------

constexpr const char* kNewArn = "arn:aws:ecs:us-east-1:1:container-instance/web/new1";

// The example world plus i-new1 launching in the on-demand group, waiting on
// the launching hook "ready" (heartbeat timeout 60 s), launched 1 minute ago.
class LaunchHookTest : public ControllerWorldTest {
 protected:
  void SetUp() override {
    ControllerWorldTest::SetUp();
    OnDemandGroupRead& od = cloud.on_demand_groups["od"];
    od.group.instances = {{"i-new1", "Pending:Wait", false}};
    LifecycleWaits& waits = cloud.lifecycle["od"];
    waits.launch_hooks = {{"ready", std::chrono::seconds(60)}};
    waits.launching = {{"i-new1", clock.WallNow() - std::chrono::minutes(1)}};
    config.launch_timeout = std::chrono::minutes(10);
  }
  void Register(policy::ContainerStatus status) {
    cloud.clusters["web"].push_back({"web", kNewArn, "i-new1", status, 0, 0});
  }
  std::vector<std::string> Calls() const {
    std::vector<std::string> out;
    for (const auto& c : cloud.lifecycle_calls) {
      out.push_back(c.method + " " + c.action.hook + " " + c.action.instance_id + " " + c.result);
    }
    return out;
  }
};

TEST_F(LaunchHookTest, TheLaunchEventParsesAsALaunchingLifecycleAction) {
  Event event = LifecycleEvent("od", "i-new1", /*launching=*/true);
  EXPECT_EQ(event.kind, EventKind::kLifecycleAction);
  EXPECT_TRUE(event.lifecycle_launching);
  EXPECT_EQ(event.lifecycle_group, "od");
  EXPECT_EQ(ToJson(event)["transition"], "launching");
  EXPECT_FALSE(LifecycleEvent("od", "i-od1").lifecycle_launching);
}

TEST_F(LaunchHookTest, WaitsWithHeartbeatsUntilTheContainerInstanceIsActiveThenContinues) {
  Handler handler(cloud, config, clock);
  HandleReport first = handler.Handle(LifecycleEvent("od", "i-new1", /*launching=*/true));
  ASSERT_TRUE(first.status().ok()) << ToJson(first).dump();
  EXPECT_EQ(Calls(), std::vector<std::string>{"RecordLifecycleHeartbeat ready i-new1 "})
      << "not registered yet: kept waiting past the hook's own timeout";
  // Registered but not ACTIVE (a DRAINING one cannot run tasks): still waits.
  Register(policy::ContainerStatus::kDraining);
  clock.Advance(std::chrono::seconds(31));
  ASSERT_TRUE(handler.Reconcile().status().ok());
  ASSERT_EQ(Calls().size(), 2u);
  EXPECT_EQ(Calls()[1], "RecordLifecycleHeartbeat ready i-new1 ");
  cloud.Find("web", kNewArn)->status = policy::ContainerStatus::kActive;
  clock.Advance(std::chrono::seconds(1));
  HandleReport ready = handler.Reconcile();
  ASSERT_TRUE(ready.status().ok()) << ToJson(ready).dump();
  ASSERT_EQ(Calls().size(), 3u);
  EXPECT_EQ(Calls()[2], "CompleteLifecycleAction ready i-new1 CONTINUE");
  EXPECT_EQ(ToJson(ready)["lifecycle"].back()["what"], "launch-continue");
  EXPECT_TRUE(cloud.lifecycle["od"].launching.empty());
  EXPECT_EQ(cloud.calls["Apply"], 0) << "nothing drained or resized for a launch";
}

TEST_F(LaunchHookTest, AbandonedOnceTheTimeoutHasPassedSinceLaunchWhateverTheDecider) {
  // A fresh decider (a restart, another Lambda) reaches the same answer: the
  // launch time is EC2's.
  clock.Advance(std::chrono::minutes(8));  // 9 minutes since the launch
  Handler one(cloud, config, clock);
  ASSERT_TRUE(one.Reconcile().status().ok());
  EXPECT_EQ(Calls(), std::vector<std::string>{"RecordLifecycleHeartbeat ready i-new1 "});
  clock.Advance(std::chrono::minutes(1));
  Handler two(cloud, config, clock);
  HandleReport gone = two.Reconcile();
  ASSERT_TRUE(gone.status().ok()) << ToJson(gone).dump();
  ASSERT_EQ(Calls().size(), 2u);
  EXPECT_EQ(Calls()[1], "CompleteLifecycleAction ready i-new1 ABANDON");
  EXPECT_EQ(ToJson(gone)["lifecycle"].back()["what"], "launch-abandon");
}

TEST_F(LaunchHookTest, AnUnknownLaunchTimeNeverAbandonsAndAnActiveOneStillContinues) {
  cloud.lifecycle["od"].launching = {{"i-new1", std::nullopt}};
  clock.Advance(std::chrono::hours(2));
  Handler handler(cloud, config, clock);
  HandleReport waiting = handler.Reconcile();
  ASSERT_TRUE(waiting.status().ok());
  EXPECT_TRUE(Calls().empty()) << "no heartbeat: the hook's own timeout applies";
  EXPECT_EQ(ToJson(waiting)["lifecycle"].back()["what"], "launch-wait");
  Register(policy::ContainerStatus::kActive);
  clock.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(handler.Reconcile().status().ok());
  EXPECT_EQ(Calls().back(), "CompleteLifecycleAction ready i-new1 CONTINUE");
}

TEST_F(LaunchHookTest, UnreadContainerInstancesAnswerNothing) {
  Register(policy::ContainerStatus::kActive);
  cloud.failures["ListContainerInstances"] = UnavailableError("ecs down");
  clock.Advance(std::chrono::hours(1));
  Handler handler(cloud, config, clock);
  HandleReport report = handler.Reconcile();
  EXPECT_TRUE(Calls().empty()) << ToJson(report).dump();
  EXPECT_FALSE(cloud.lifecycle["od"].launching.empty());
}

TEST_F(LaunchHookTest, WithoutAClusterALaunchWaitsAndTheDecisionDoesNotFail) {
  config.clusters.clear();
  Handler handler(cloud, config, clock);
  HandleReport report = handler.Reconcile();
  EXPECT_TRUE(report.status().ok()) << ToJson(report).dump();
  EXPECT_TRUE(Calls().empty());
  EXPECT_EQ(ToJson(report)["lifecycle"].back()["what"], "launch-wait");
}

}  // namespace
}  // namespace spk::controller
