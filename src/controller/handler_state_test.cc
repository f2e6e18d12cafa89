// The scale-in's state lives in AWS (handler.h): removal marks on the
// container instances, the settle window in tags on the on-demand group.
// Every test decides with fresh Handlers, as restarts and Lambda cold starts do.
#include <gtest/gtest.h>

#include "controller/controller_test_util.h"
#include "controller/handler.h"

namespace spk::controller {
namespace {

constexpr const char* kOd1 = "arn:aws:ecs:us-east-1:1:container-instance/web/od1";
constexpr const char* kOd2 = "arn:aws:ecs:us-east-1:1:container-instance/web/od2";

// The shared world plus two on-demand instances the spot market no longer
// needs: i-od1 (ACTIVE, 1 task) and i-od2 (ACTIVE, no task); desired 2.
class ScaleInStateTest : public ControllerWorldTest {
 protected:
  void SetUp() override {
    ControllerWorldTest::SetUp();
    OnDemandGroupRead& od = cloud.on_demand_groups["od"];
    od.group.desired_capacity = 2;
    od.group.instances = {{"i-od1", "InService", false}, {"i-od2", "InService", false}};
    cloud.clusters["web"].push_back({"web", kOd1, "i-od1", policy::ContainerStatus::kActive, 1, 0});
    cloud.clusters["web"].push_back({"web", kOd2, "i-od2", policy::ContainerStatus::kActive, 0, 0});
  }

  // A decision by a decider started from nothing.
  HandleReport FreshReconcile() {
    Handler handler(cloud, config, clock);
    return handler.Reconcile();
  }
  std::map<std::string, std::string>& Tags() { return cloud.on_demand_groups["od"].tags; }
  std::string MarkOn(const std::string& arn) {
    const auto& attributes = cloud.Find("web", arn)->attributes;
    auto it = attributes.find(kRemovingAttribute);
    return it == attributes.end() ? "" : it->second;
  }
  const OnDemandGroupRead& Group() { return cloud.on_demand_groups["od"]; }
};

TEST_F(ScaleInStateTest, TheSettleWindowSurvivesColdStarts) {
  const WallTime start = clock.WallNow();
  HandleReport first = FreshReconcile();
  ASSERT_TRUE(first.status().ok()) << ToJson(first).dump();
  EXPECT_EQ(Tags()[kNeedBelowSinceTag], FormatIso8601(start));
  EXPECT_EQ(Tags()[kNeedBelowHeldTag], "0");
  // Every decider in the window is new; none restarts it, none removes anything.
  for (int minute = 1; minute < 10; ++minute) {
    clock.Advance(std::chrono::minutes(1));
    HandleReport report = FreshReconcile();
    ASSERT_TRUE(report.status().ok()) << ToJson(report).dump();
    EXPECT_TRUE(report.actions.empty()) << ToJson(report).dump();
    EXPECT_EQ(Tags()[kNeedBelowSinceTag], FormatIso8601(start));
  }
  // The window has passed: the next fresh decider chooses, marks and drains both.
  clock.Advance(std::chrono::minutes(1));
  HandleReport chosen = FreshReconcile();
  ASSERT_TRUE(chosen.status().ok()) << ToJson(chosen).dump();
  EXPECT_EQ(MarkOn(kOd1), FormatIso8601(clock.WallNow()));
  EXPECT_EQ(MarkOn(kOd2), FormatIso8601(clock.WallNow()));
  EXPECT_EQ(cloud.Find("web", kOd1)->status, policy::ContainerStatus::kDraining);
  EXPECT_EQ(cloud.Find("web", kOd2)->status, policy::ContainerStatus::kDraining);
  EXPECT_FALSE(Tags().count(kNeedBelowSinceTag)) << "the window ends when instances are chosen";
  EXPECT_EQ(Group().group.desired_capacity, 2);
}

TEST_F(ScaleInStateTest, AFreshDeciderFinishesARemovalAnotherOneStarted) {
  // Chosen by a decider that is gone: marked and DRAINING.
  const WallTime chosen = clock.WallNow();
  for (const char* arn : {kOd1, kOd2}) {
    cloud.Find("web", arn)->status = policy::ContainerStatus::kDraining;
    cloud.Find("web", arn)->attributes[kRemovingAttribute] = FormatIso8601(chosen);
  }
  clock.Advance(std::chrono::minutes(1));
  // i-od2 runs nothing: terminated with decrement; i-od1 still runs a task.
  HandleReport report = FreshReconcile();
  ASSERT_TRUE(report.status().ok()) << ToJson(report).dump();
  ASSERT_EQ(report.actions.size(), 1u) << ToJson(report).dump();
  EXPECT_EQ(report.actions[0].action.what,
            policy::ActionKind(policy::TerminateInstance{"i-od2", true}));
  EXPECT_EQ(Group().group.desired_capacity, 1);
  // Nobody re-counts the one being removed as capacity: no new window, no new choice.
  EXPECT_FALSE(Tags().count(kNeedBelowSinceTag)) << ToJson(report).dump();
  // Its task ends: the next fresh decider removes it too.
  cloud.Find("web", kOd1)->running_tasks = 0;
  HandleReport last = FreshReconcile();
  ASSERT_EQ(last.actions.size(), 1u) << ToJson(last).dump();
  EXPECT_EQ(last.actions[0].action.what,
            policy::ActionKind(policy::TerminateInstance{"i-od1", true}));
  EXPECT_EQ(Group().group.desired_capacity, 0);
}

TEST_F(ScaleInStateTest, AFreshDeciderReactivatesAMarkedInstanceWhenTheNeedReturns) {
  cloud.Find("web", kOd1)->status = policy::ContainerStatus::kDraining;
  cloud.Find("web", kOd1)->attributes[kRemovingAttribute] = FormatIso8601(clock.WallNow());
  // A notice recorded by another decider: 8 units lost, two m5.xlarge needed.
  cloud.Find("web", kArn)->status = policy::ContainerStatus::kDraining;
  cloud.Find("web", kArn)->attributes[kNoticeAttribute] =
      NoticeRecord(policy::NoticeKind::kSpotInterruption, clock.WallNow());
  HandleReport report = FreshReconcile();
  ASSERT_TRUE(report.status().ok()) << ToJson(report).dump();
  ASSERT_EQ(report.actions.size(), 1u) << ToJson(report).dump();
  EXPECT_EQ(report.actions[0].action.what,
            policy::ActionKind(policy::ActivateContainerInstances{"web", {kOd1}}));
  EXPECT_EQ(cloud.Find("web", kOd1)->status, policy::ContainerStatus::kActive);
  EXPECT_EQ(MarkOn(kOd1), "") << "the mark goes with the re-activation";
  EXPECT_EQ(Group().group.desired_capacity, 2) << "re-activated, not replaced";
}

TEST_F(ScaleInStateTest, AMarkOnAnActiveInstanceIsStale) {
  // A removal that never began (its drain failed) or was cancelled.
  cloud.Find("web", kOd1)->attributes[kRemovingAttribute] = "2023-12-31T00:00:00Z";
  HandleReport report = FreshReconcile();
  ASSERT_TRUE(report.status().ok()) << ToJson(report).dump();
  EXPECT_TRUE(report.actions.empty()) << ToJson(report).dump();
  EXPECT_EQ(Tags()[kNeedBelowSinceTag], FormatIso8601(clock.WallNow()))
      << "both instances count: the window starts";
}

TEST_F(ScaleInStateTest, AnInstanceIsNotDrainedWhenItsMarkCannotBeWritten) {
  Tags()[kNeedBelowSinceTag] = FormatIso8601(clock.WallNow() - std::chrono::minutes(11));
  Tags()[kNeedBelowHeldTag] = "0";
  cloud.failures["PutContainerAttributes"] = UnavailableError("throttled");
  HandleReport report = FreshReconcile();
  EXPECT_FALSE(report.status().ok());
  EXPECT_NE(report.status().ToString().find("removal mark"), std::string::npos)
      << report.status().ToString();
  EXPECT_EQ(cloud.Find("web", kOd1)->status, policy::ContainerStatus::kActive);
  EXPECT_EQ(cloud.Find("web", kOd2)->status, policy::ContainerStatus::kActive);
  EXPECT_EQ(cloud.calls["Apply"], 0) << ToJson(report).dump();
  // The window is kept, so the next decider chooses again at once.
  EXPECT_TRUE(Tags().count(kNeedBelowSinceTag));
  cloud.failures.clear();
  HandleReport retry = FreshReconcile();
  ASSERT_TRUE(retry.status().ok()) << ToJson(retry).dump();
  EXPECT_EQ(cloud.Find("web", kOd1)->status, policy::ContainerStatus::kDraining);
  EXPECT_NE(MarkOn(kOd1), "");
}

TEST_F(ScaleInStateTest, ABadTagRestartsTheWindowInsteadOfFailing) {
  Tags()[kNeedBelowSinceTag] = "yesterday";
  Tags()[kNeedBelowHeldTag] = "0";
  HandleReport report = FreshReconcile();
  ASSERT_TRUE(report.status().ok()) << ToJson(report).dump();
  EXPECT_TRUE(report.actions.empty());
  EXPECT_EQ(Tags()[kNeedBelowSinceTag], FormatIso8601(clock.WallNow()));
}

TEST_F(ScaleInStateTest, DryRunReadsTheStateAndWritesNone) {
  Tags()[kNeedBelowSinceTag] = FormatIso8601(clock.WallNow() - std::chrono::minutes(11));
  Tags()[kNeedBelowHeldTag] = "0";
  config.dry_run = true;
  HandleReport report = FreshReconcile();
  EXPECT_FALSE(report.actions.empty()) << "the window read from the tag has passed";
  EXPECT_EQ(MarkOn(kOd1), "");
  EXPECT_EQ(cloud.calls["SetGroupTags"] + cloud.calls["DeleteGroupTags"], 0);
  EXPECT_EQ(cloud.Find("web", kOd1)->status, policy::ContainerStatus::kActive);
}

}  // namespace
}  // namespace spk::controller

namespace spk::controller {
namespace {

// The guard window's start (a source's target changed) in a tag on the
// on-demand group: a fresh decider does not cover capacity a fleet is still
// launching after a raise.
TEST_F(ControllerWorldTest, ATargetChangeSeenByOneDeciderGuardsTheNext) {
  auto fresh = [&] {
    Handler handler(cloud, config, clock);
    return handler.Reconcile();
  };
  auto& tags = cloud.on_demand_groups["od"].tags;
  ASSERT_TRUE(fresh().status().ok());
  EXPECT_EQ(tags[std::string(kTargetTagPrefix) + "sfr-1"], "16") << "first seen: no change known";
  // The fleet is raised to 24: 8 units pending while it launches them.
  cloud.fleets["sfr-1"].source.target_capacity = 24;
  HandleReport raised = fresh();
  ASSERT_TRUE(raised.status().ok()) << ToJson(raised).dump();
  EXPECT_EQ(tags[std::string(kTargetTagPrefix) + "sfr-1"], "24@" + FormatIso8601(clock.WallNow()));
  EXPECT_TRUE(raised.actions.empty()) << ToJson(raised).dump();
  // Another fresh decider within the guard window still holds back.
  clock.Advance(config.policy.guard_window - std::chrono::seconds(1));
  HandleReport within = fresh();
  EXPECT_TRUE(within.actions.empty()) << ToJson(within).dump();
  // After it, the pending 8 units are covered: two m5.xlarge.
  clock.Advance(std::chrono::seconds(2));
  HandleReport after = fresh();
  ASSERT_TRUE(after.status().ok()) << ToJson(after).dump();
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 2) << ToJson(after).dump();
}

}  // namespace
}  // namespace spk::controller
