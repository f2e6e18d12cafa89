#include "controller/handler.h"

#include <gtest/gtest.h>

#include "controller/fake_cloud_view.h"

namespace spk::controller {
namespace {

const char* kArn = "arn:aws:ecs:us-east-1:1:container-instance/web/c1";

class HandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SpotSourceRead fleet;
    fleet.source.id = "sfr-1";
    fleet.source.target_capacity = 16;
    fleet.source.fulfilled_capacity = 16;
    fleet.source.weights = {{"c5.2xlarge", 8}, {"c5.xlarge", 4}};
    fleet.source.instance_ids = {"i-spot1", "i-spot2"};
    fleet.instance_types = {{"i-spot1", "c5.2xlarge"}, {"i-spot2", "c5.2xlarge"}};
    cloud.fleets["sfr-1"] = fleet;
    OnDemandGroupRead od;
    od.group.name = "od";
    od.group.min_size = 0;
    od.group.max_size = 10;
    od.instance_type = "m5.xlarge";
    cloud.on_demand_groups["od"] = od;
    cloud.vcpus = {{"m5.xlarge", 4}, {"c5.2xlarge", 8}};
    cloud.clusters["web"] = {{"web", kArn, "i-spot1", policy::ContainerStatus::kActive, 3, 0},
                             {"web", "arn:c2", "i-spot2", policy::ContainerStatus::kActive, 2, 0}};
    config.clusters = {"web"};
    config.spot_fleet_ids = {"sfr-1"};
    config.on_demand_asg = "od";
  }

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

  FakeCloudView cloud;
  ControllerConfig config;
  ManualClock clock;
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
