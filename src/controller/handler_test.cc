#include "controller/handler.h"

#include <gtest/gtest.h>

#include "controller/controller_test_util.h"

namespace spk::controller {
namespace {

class HandlerTest : public ControllerWorldTest {
 protected:
  Event Notice(const std::string& message_id = "m-1") {
    Event e;
    e.kind = EventKind::kNotice;
    e.source = "agent";
    e.message_id = message_id;
    e.instance_id = "i-spot1";
    e.instance_type = "c5.2xlarge";
    e.ecs_cluster = "web";
    e.ecs_container = kArn;
    return e;
  }
};

TEST_F(HandlerTest, NoticeDrainsAtOnceAndCoversTheWeightWithOnDemand) {
  Handler handler(cloud, config, clock);
  HandleReport report = handler.Handle(Notice());
  ASSERT_TRUE(report.status().ok()) << report.status().ToString();
  ASSERT_EQ(report.fast_path.size(), 1u);
  EXPECT_TRUE(report.fast_path[0].applied);
  EXPECT_EQ(cloud.Find("web", kArn)->status, policy::ContainerStatus::kDraining);
  // Weight 8 over 4 vCPUs per m5.xlarge: 2 instances, at once.
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 2);
  ASSERT_EQ(report.actions.size(), 1u);
  EXPECT_EQ(report.actions[0].action.what,
            policy::ActionKind(policy::SetDesiredCapacity{"od", 2, false}));
}

TEST_F(HandlerTest, RepeatedNoticeIsHandledOnce) {
  Handler handler(cloud, config, clock);
  handler.Handle(Notice());
  size_t applied = cloud.applied.size();
  HandleReport again = handler.Handle(Notice());
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(cloud.applied.size(), applied);
  // A new handler (another process) sees the container DRAINING: no second drain.
  Handler fresh(cloud, config, clock);
  HandleReport other = fresh.Handle(Notice("m-2"));
  EXPECT_TRUE(other.fast_path.empty());
  EXPECT_TRUE(other.actions.empty()) << ToJson(other).dump();
  EXPECT_EQ(cloud.applied.size(), applied);
}

TEST_F(HandlerTest, NoticeWhoseContainerInstanceIsAnotherInstancesIsRefused) {
  Handler handler(cloud, config, clock);
  Event forged = Notice();
  forged.instance_id = "i-spot2";  // kArn is i-spot1's container instance
  HandleReport report = handler.Handle(forged);
  EXPECT_NE(report.refused.find("belongs to i-spot1, not to i-spot2"), std::string::npos)
      << ToJson(report).dump();
  EXPECT_TRUE(cloud.applied.empty()) << ToJson(report).dump();
  EXPECT_EQ(cloud.Find("web", kArn)->status, policy::ContainerStatus::kActive);
  EXPECT_EQ(cloud.Find("web", "arn:c2")->status, policy::ContainerStatus::kActive);
  // Not remembered either: the next decision counts no lost capacity.
  HandleReport later = handler.Reconcile();
  EXPECT_TRUE(later.actions.empty()) << ToJson(later).dump();
}

TEST_F(HandlerTest, EventsOutsideTheConfigurationAreRefusedAndTheOthersHandled) {
  Handler handler(cloud, config, clock);
  Event foreign = Notice("m-foreign");
  foreign.ecs_cluster = "someone-elses";
  Event bogus_fleet;
  bogus_fleet.kind = EventKind::kDirect;
  bogus_fleet.source = "direct";
  bogus_fleet.fleet_id = "sfr-bogus";
  Event arn_named = Notice("m-ok");
  arn_named.ecs_cluster = "arn:aws:ecs:us-east-1:1:cluster/web";  // the same cluster by ARN
  BatchReport batch = handler.HandleBatch({foreign, bogus_fleet, arn_named});
  ASSERT_EQ(batch.refused.size(), 3u);
  EXPECT_NE(batch.refused[0].find("cluster someone-elses is not configured"), std::string::npos);
  EXPECT_NE(batch.refused[1].find("Spot Fleet sfr-bogus is not configured"), std::string::npos);
  EXPECT_EQ(batch.refused[2], "");
  // The valid notice was drained and covered; no read of the foreign names
  // could fail the batch.
  EXPECT_TRUE(batch.report.status().ok()) << batch.report.status().ToString();
  EXPECT_EQ(cloud.Find("web", kArn)->status, policy::ContainerStatus::kDraining);
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 2);
}

TEST_F(HandlerTest, ANoticeDatedInTheFutureStopsCountingAfterTheRetention) {
  Handler handler(cloud, config, clock);
  Event future = Notice();
  future.notice_time = clock.WallNow() + std::chrono::hours(24 * 365);
  future.termination_time = clock.WallNow() + std::chrono::hours(24 * 365);
  handler.Handle(future);
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 2);
  clock.Advance(config.notice_retention + std::chrono::minutes(1));
  policy::Observation seen = handler.Observe({}, {});
  EXPECT_TRUE(seen.notices.empty());  // clamped to now when received: expired
}

TEST_F(HandlerTest, HandledNoticesAreForgottenBeyondTheCapacity) {
  config.handled_capacity = 2;
  Handler handler(cloud, config, clock);
  for (const char* id : {"m-1", "m-2", "m-3"}) handler.Handle(Notice(id));
  // m-1 was pushed out by m-3: its repeat is handled again, and changes
  // nothing (the container instance is DRAINING already).
  size_t applied = cloud.applied.size();
  HandleReport first = handler.Handle(Notice("m-1"));
  EXPECT_FALSE(first.duplicate);
  EXPECT_TRUE(first.fast_path.empty());
  EXPECT_EQ(cloud.applied.size(), applied);
  EXPECT_TRUE(handler.Handle(Notice("m-3")).duplicate);
}

TEST_F(HandlerTest, HandledNoticesAreForgottenAfterTheRetention) {
  config.handled_retention = std::chrono::minutes(60);
  Handler handler(cloud, config, clock);
  handler.Handle(Notice("m-1"));
  clock.Advance(std::chrono::minutes(59));
  EXPECT_TRUE(handler.Handle(Notice("m-1")).duplicate);
  clock.Advance(std::chrono::minutes(2));
  EXPECT_FALSE(handler.Handle(Notice("m-1")).duplicate);
}

TEST_F(HandlerTest, DryRunChangesNothingButReportsTheActions) {
  config.dry_run = true;
  Handler handler(cloud, config, clock);
  HandleReport report = handler.Handle(Notice());
  EXPECT_TRUE(cloud.applied.empty());
  EXPECT_EQ(cloud.Find("web", kArn)->status, policy::ContainerStatus::kActive);
  ASSERT_EQ(report.actions.size(), 2u) << ToJson(report).dump();
  EXPECT_FALSE(report.actions[0].applied);
  EXPECT_EQ(ToJson(report)["dry_run"], true);
}

TEST_F(HandlerTest, FailedFleetReadSkipsSizingButStillDrains) {
  cloud.failures["ReadSpotFleet"] = UnavailableError("throttled");
  Handler handler(cloud, config, clock);
  HandleReport report = handler.Handle(Notice());
  EXPECT_FALSE(report.status().ok());
  EXPECT_EQ(cloud.Find("web", kArn)->status, policy::ContainerStatus::kDraining);
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 0);
  // Not remembered as handled: a redelivery is handled again.
  cloud.failures.clear();
  HandleReport retry = handler.Handle(Notice());
  EXPECT_FALSE(retry.duplicate);
  EXPECT_TRUE(retry.status().ok());
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 2);
}

TEST_F(HandlerTest, EventBridgeNoticeFindsTheContainerByInstanceId) {
  Handler handler(cloud, config, clock);
  Event e;
  e.kind = EventKind::kNotice;
  e.source = "eventbridge";
  e.instance_id = "i-spot2";
  HandleReport report = handler.Handle(e);
  ASSERT_TRUE(report.status().ok()) << report.status().ToString();
  EXPECT_EQ(cloud.Find("web", "arn:c2")->status, policy::ContainerStatus::kDraining);
  // The type comes from the fleet's instance list: weight 8 -> 2 instances.
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 2);
}

TEST_F(HandlerTest, DirectInvocationReadsTheNamedFleet) {
  config.spot_fleet_ids.clear();
  cloud.fleets["sfr-1"].source.fulfilled_capacity = 4;  // 12 units pending
  Handler handler(cloud, config, clock);
  Event e;
  e.kind = EventKind::kDirect;
  e.fleet_id = "sfr-1";
  HandleReport report = handler.Handle(e);
  ASSERT_TRUE(report.status().ok()) << report.status().ToString();
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 3);
}

TEST_F(HandlerTest, RebalanceIgnoredByDefault) {
  Handler handler(cloud, config, clock);
  Event e = Notice();
  e.notice_kind = policy::NoticeKind::kRebalanceRecommendation;
  HandleReport report = handler.Handle(e);
  EXPECT_TRUE(report.fast_path.empty());
  EXPECT_TRUE(cloud.applied.empty());
}

TEST(ControllerConfigTest, RejectsBadSettings) {
  ControllerConfig config;
  config.spot_fleet_ids = {"fleet-1"};
  EXPECT_FALSE(ValidateControllerConfig(config).ok());
  config.spot_fleet_ids = {"sfr-1"};
  config.spot_asgs = {"od"};
  config.on_demand_asg = "od";
  EXPECT_FALSE(ValidateControllerConfig(config).ok());
  config.spot_asgs.clear();
  EXPECT_TRUE(ValidateControllerConfig(config).ok());
  EXPECT_FALSE(ParsePendingSource("metrics").ok());
}

TEST_F(HandlerTest, ScheduledReconcileIsNeverADuplicateAndReadsTheConfiguredSources) {
  Handler handler(cloud, config, clock);
  Event scheduled;
  scheduled.kind = EventKind::kReconcile;
  scheduled.source = "schedule";
  HandleReport first = handler.Handle(scheduled);
  ASSERT_TRUE(first.status().ok()) << first.status().ToString();
  EXPECT_EQ(cloud.calls["ReadSpotFleet"], 1);
  // Pending capacity appears; the next scheduled reconcile covers it.
  cloud.fleets["sfr-1"].source.fulfilled_capacity = 8;
  HandleReport second = handler.Handle(scheduled);
  EXPECT_FALSE(second.duplicate);
  EXPECT_EQ(cloud.calls["ReadSpotFleet"], 2);
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 2);  // 8 units / 4 vCPUs
}

}  // namespace
}  // namespace spk::controller
