#include "controller/handler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <variant>

#include "controller/controller_test_util.h"
#include "controller/event.h"

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

TEST_F(HandlerTest, DecisionSaysHowTheGroupsUnitsPerInstanceWereFound) {
  config.dry_run = true;
  Handler handler(cloud, config, clock);
  HandleReport report = handler.Handle(Notice());
  ASSERT_TRUE(report.decision.has_value());
  const std::vector<std::string>& notes = report.decision->notes;
  EXPECT_NE(std::find(notes.begin(), notes.end(),
                      "od: 4 units per instance (launch configuration od-lc: m5.xlarge, 4 vCPUs)"),
            notes.end())
      << ToJson(report).dump();

  // The group's type unknown: sizing is skipped, saying why.
  cloud.on_demand_groups["od"].instance_type.clear();
  cloud.on_demand_groups["od"].instance_type_source =
      "launch configuration od-lc: it does not exist";
  Handler unknown(cloud, config, clock);
  report = unknown.Handle(Notice("m-2"));
  ASSERT_TRUE(report.decision.has_value());
  ASSERT_EQ(report.decision->skipped.size(), 1u) << ToJson(report).dump();
  EXPECT_NE(report.decision->skipped[0].reason.find(
                "units per on-demand instance of od unknown (instance type unknown: launch "
                "configuration od-lc: it does not exist): set on-demand units"),
            std::string::npos)
      << report.decision->skipped[0].reason;
}

// Issue 15 item 1: a group a capacity provider sizes (managed scaling) is
// never resized; the notice's drain still happens, and nothing is retried.
TEST_F(HandlerTest, AGroupACapacityProviderSizesIsNeverResized) {
  cloud.capacity_providers["web"] = {{"cp-spot", "spot-asg", true}, {"cp-od", "od", true}};
  Handler handler(cloud, config, clock);
  HandleReport report = handler.Handle(Notice());
  EXPECT_TRUE(report.status().ok()) << report.status().ToString();
  EXPECT_EQ(cloud.Find("web", kArn)->status, policy::ContainerStatus::kDraining);
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 0);
  for (const policy::Action& action : cloud.applied) {
    EXPECT_FALSE(std::holds_alternative<policy::SetDesiredCapacity>(action.what));
  }
  ASSERT_TRUE(report.decision.has_value());
  const std::vector<std::string>& notes = report.decision->notes;
  EXPECT_NE(std::find(notes.begin(), notes.end(),
                      "on-demand group od belongs to capacity provider cp-od with managed "
                      "scaling: ECS sizes it, so spotkeeper never resizes it or terminates its "
                      "instances"),
            notes.end())
      << ToJson(report).dump();

  // Managed scaling off: the provider does not size the group, spotkeeper does.
  cloud.capacity_providers["web"][1].managed_scaling = false;
  Handler unmanaged(cloud, config, clock);
  EXPECT_TRUE(unmanaged.Handle(Notice("m-2")).status().ok());
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 2);
}

TEST_F(HandlerTest, UnreadableCapacityProvidersSkipSizingAndAreRetried) {
  cloud.failures["ReadCapacityProviderGroups"] = PermissionDeniedError("ecs:DescribeClusters");
  Handler handler(cloud, config, clock);
  HandleReport report = handler.Handle(Notice());
  EXPECT_FALSE(report.status().ok());
  EXPECT_EQ(cloud.Find("web", kArn)->status, policy::ContainerStatus::kDraining);
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 0);
  ASSERT_TRUE(report.decision.has_value());
  ASSERT_EQ(report.decision->skipped.size(), 1u);
  EXPECT_NE(report.decision->skipped[0].reason.find(
                "capacity providers of cluster web (whether ECS managed scaling sizes the group)"),
            std::string::npos)
      << report.decision->skipped[0].reason;
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
  config.ec2_fleet_ids = {"sfr-2"};
  EXPECT_EQ(ValidateControllerConfig(config).message(),
            "--ec2-fleet-id \"sfr-2\" is not an EC2 Fleet id (fleet-...)");
  config.ec2_fleet_ids = {"fleet-2"};
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

// --- An EC2 Fleet as the spot capacity source (issue 13) ---

// The example world with its spot capacity in EC2 Fleet "fleet-1" instead of
// Spot Fleet sfr-1: target 24, fulfilled 16 (8 units pending), c5.2xlarge
// of weight 12 (its vCPUs: 8).
class Ec2FleetHandlerTest : public HandlerTest {
 protected:
  void SetUp() override {
    HandlerTest::SetUp();
    SpotSourceRead fleet = cloud.fleets["sfr-1"];
    cloud.fleets.clear();
    fleet.source.id = "fleet-1";
    fleet.source.kind = policy::SourceKind::kEc2Fleet;
    fleet.source.target_capacity = 24;
    fleet.source.weights = {{"c5.2xlarge", 12}};
    cloud.ec2_fleets["fleet-1"] = fleet;
    config.spot_fleet_ids.clear();
    config.ec2_fleet_ids = {"fleet-1"};
  }
  int Desired() { return cloud.on_demand_groups["od"].group.desired_capacity; }
};

TEST_F(Ec2FleetHandlerTest, NoticeDrainsAndCoversItsWeightPlusTheFleetsPending) {
  Handler handler(cloud, config, clock);
  HandleReport report = handler.Handle(Notice());
  ASSERT_TRUE(report.status().ok()) << ToJson(report).dump();
  EXPECT_EQ(cloud.calls["ReadEc2Fleet"], 1);
  EXPECT_EQ(cloud.calls["ReadSpotFleet"], 0);
  EXPECT_EQ(cloud.Find("web", kArn)->status, policy::ContainerStatus::kDraining);
  // 8 pending + the weight 12 (not its 8 vCPUs), over 4 vCPUs per m5.xlarge.
  EXPECT_EQ(Desired(), 5) << ToJson(report).dump();
}

TEST_F(Ec2FleetHandlerTest, ATypeWithoutAWeightCountsItsVcpus) {
  cloud.ec2_fleets["fleet-1"].source.weights = {{"c5.xlarge", 4}};
  Handler handler(cloud, config, clock);
  HandleReport report = handler.Handle(Notice());
  ASSERT_TRUE(report.status().ok()) << ToJson(report).dump();
  EXPECT_EQ(Desired(), 4) << "8 pending + 8 vCPUs of the c5.2xlarge";
}

TEST_F(Ec2FleetHandlerTest, ARaisedTargetIsGuardedAsASpotFleetsIs) {
  auto fresh = [&] {
    Handler handler(cloud, config, clock);
    return handler.Reconcile();
  };
  auto& tags = cloud.on_demand_groups["od"].tags;
  const std::string key = std::string(kTargetTagPrefix) + "fleet-1";
  ASSERT_TRUE(fresh().status().ok());
  EXPECT_EQ(tags[key], "24");
  EXPECT_EQ(Desired(), 2) << "first seen, no change known: its 8 pending covered";
  cloud.ec2_fleets["fleet-1"].source.target_capacity = 32;  // 16 pending while it launches
  HandleReport raised = fresh();
  EXPECT_EQ(tags[key], "32@" + FormatIso8601(clock.WallNow()));
  EXPECT_TRUE(raised.actions.empty()) << ToJson(raised).dump();
  clock.Advance(config.policy.guard_window + std::chrono::seconds(1));
  HandleReport after = fresh();
  ASSERT_TRUE(after.status().ok()) << ToJson(after).dump();
  EXPECT_EQ(Desired(), 4) << ToJson(after).dump();
}

TEST_F(Ec2FleetHandlerTest, AnEventNamesAnEc2FleetByItsPrefix) {
  Handler handler(cloud, config, clock);
  Event other;
  other.kind = EventKind::kDirect;
  other.fleet_id = "fleet-2";
  EXPECT_EQ(handler.Refusal(other), "EC2 Fleet fleet-2 is not configured (--ec2-fleet-id)");
  Event spot_fleet = other;
  spot_fleet.fleet_id = "sfr-9";  // no --spot-fleet-id: not checked
  EXPECT_EQ(handler.Refusal(spot_fleet), "");
  // Unconfigured: the fleet the event names is read as an EC2 Fleet.
  config.ec2_fleet_ids.clear();
  Handler open(cloud, config, clock);
  Event named = other;
  named.fleet_id = "fleet-1";
  HandleReport report = open.Handle(named);
  ASSERT_TRUE(report.status().ok()) << ToJson(report).dump();
  EXPECT_EQ(cloud.calls["ReadEc2Fleet"], 1);
  EXPECT_EQ(Desired(), 2);
}

// --- Notices recorded in AWS (issue 11) ---

std::string RecordOn(FakeCloudView& cloud, const std::string& arn) {
  const auto& attributes = cloud.Find("web", arn)->attributes;
  auto it = attributes.find(kNoticeAttribute);
  return it == attributes.end() ? "" : it->second;
}

TEST(NoticeRecordTest, RoundTripsAndRefusesAnythingElse) {
  const WallTime t = WallTime(std::chrono::seconds(1704067200));
  EXPECT_EQ(NoticeRecord(policy::NoticeKind::kSpotInterruption, t),
            "spot-interruption@2024-01-01T00:00:00Z");
  auto parsed = ParseNoticeRecord("rebalance-recommendation@2024-01-01T00:00:00Z");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->first, policy::NoticeKind::kRebalanceRecommendation);
  EXPECT_EQ(parsed->second, t);
  for (const char* bad :
       {"", "spot-interruption", "spot-interruption@", "other@2024-01-01T00:00:00Z",
        "spot-interruption@yesterday", "@2024-01-01T00:00:00Z"}) {
    EXPECT_FALSE(ParseNoticeRecord(bad).ok()) << bad;
  }
}

TEST_F(HandlerTest, TheNoticeIsRecordedOnItsContainerInstanceWithTheDrain) {
  Handler handler(cloud, config, clock);
  Event notice = Notice();
  notice.notice_time = clock.WallNow() - std::chrono::seconds(5);
  HandleReport report = handler.Handle(notice);
  ASSERT_TRUE(report.status().ok()) << report.status().ToString();
  EXPECT_EQ(cloud.Find("web", kArn)->status, policy::ContainerStatus::kDraining);
  EXPECT_EQ(RecordOn(cloud, kArn),
            NoticeRecord(policy::NoticeKind::kSpotInterruption, *notice.notice_time));
  ASSERT_EQ(report.fast_path_recorded.size(), 1u);
  EXPECT_EQ(report.fast_path_recorded[0].instance_ids, std::vector<std::string>{"i-spot1"});
  // Written once: the decision's pass sees the record and does not write again.
  EXPECT_TRUE(report.recorded.empty()) << ToJson(report).dump();
  EXPECT_EQ(cloud.calls["PutContainerAttributes"], 1);
  EXPECT_EQ(RecordOn(cloud, "arn:c2"), "");
}

TEST_F(HandlerTest, TheDecisionsOwnDrainRecordsTheNoticeToo) {
  Handler handler(cloud, config, clock);
  Event e;  // EventBridge: names the instance, not its container instance
  e.kind = EventKind::kNotice;
  e.source = "eventbridge";
  e.instance_id = "i-spot2";
  e.notice_time = clock.WallNow();
  HandleReport report = handler.Handle(e);
  ASSERT_TRUE(report.status().ok()) << report.status().ToString();
  EXPECT_TRUE(report.fast_path_recorded.empty());
  ASSERT_EQ(report.recorded.size(), 1u) << ToJson(report).dump();
  EXPECT_EQ(cloud.Find("web", "arn:c2")->status, policy::ContainerStatus::kDraining);
  EXPECT_EQ(RecordOn(cloud, "arn:c2"), "spot-interruption@2024-01-01T00:00:00Z");
}

TEST_F(HandlerTest, AFreshHandlerCountsTheNoticesAnotherHandlerRecorded) {
  Handler first(cloud, config, clock);
  ASSERT_TRUE(first.Handle(Notice()).status().ok());
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 2);  // i-spot1's 8 units
  // Another process, started from nothing, is given the other instance's
  // notice: it counts both (16 units over 4 vCPUs), not only its own.
  Handler second(cloud, config, clock);
  Event other = Notice("m-2");
  other.instance_id = "i-spot2";
  other.ecs_container = "arn:c2";
  ASSERT_TRUE(second.Handle(other).status().ok());
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 4);
  // A third, fresh one given only a reconcile counts both and changes nothing.
  Handler third(cloud, config, clock);
  policy::Observation seen = third.Observe({}, {});
  ASSERT_EQ(seen.notices.size(), 2u);
  HandleReport report = third.Reconcile();
  EXPECT_TRUE(report.actions.empty()) << ToJson(report).dump();
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 4);
}

TEST_F(HandlerTest, ARecordCountsUntilTheRetentionEnds) {
  cloud.Find("web", kArn)->attributes[kNoticeAttribute] =
      NoticeRecord(policy::NoticeKind::kSpotInterruption, clock.WallNow());
  Handler handler(cloud, config, clock);
  clock.Advance(config.notice_retention - std::chrono::seconds(1));
  ASSERT_EQ(handler.Observe({}, {}).notices.size(), 1u);
  clock.Advance(std::chrono::seconds(2));
  EXPECT_TRUE(handler.Observe({}, {}).notices.empty());
  HandleReport report = handler.Reconcile();
  EXPECT_TRUE(report.actions.empty()) << ToJson(report).dump();
}

TEST_F(HandlerTest, ARecordedNoticeStopsCountingWhenItsInstanceLeavesTheCluster) {
  Handler handler(cloud, config, clock);
  ASSERT_TRUE(handler.Handle(Notice()).status().ok());
  ASSERT_EQ(handler.Observe({}, {}).notices.size(), 1u);
  // The instance is gone: its container instance left the cluster. Memory
  // drops it too, as a fresh decider would not see it.
  cloud.clusters["web"].erase(cloud.clusters["web"].begin());
  EXPECT_TRUE(handler.Observe({}, {}).notices.empty());
}

TEST_F(HandlerTest, ANoticeWithoutAContainerInstanceStaysInMemoryUntilTheRetention) {
  Handler handler(cloud, config, clock);
  Event e;
  e.kind = EventKind::kNotice;
  e.source = "eventbridge";
  e.instance_id = "i-spot2";
  cloud.clusters["web"].pop_back();  // i-spot2 has not registered
  handler.Handle(e);
  EXPECT_EQ(cloud.calls["PutContainerAttributes"], 0);
  ASSERT_EQ(handler.Observe({}, {}).notices.size(), 1u);
  clock.Advance(config.notice_retention + std::chrono::seconds(1));
  EXPECT_TRUE(handler.Observe({}, {}).notices.empty());
}

TEST_F(HandlerTest, DryRunRecordsNothing) {
  config.dry_run = true;
  Handler handler(cloud, config, clock);
  handler.Handle(Notice());
  handler.Reconcile();
  EXPECT_EQ(cloud.calls["PutContainerAttributes"], 0);
  EXPECT_EQ(RecordOn(cloud, kArn), "");
}

TEST_F(HandlerTest, AnInterruptionRecordWinsOverARebalanceForTheSameInstance) {
  config.policy.on_rebalance = policy::RebalanceAction::kDrain;
  cloud.Find("web", kArn)->attributes[kNoticeAttribute] =
      NoticeRecord(policy::NoticeKind::kRebalanceRecommendation, clock.WallNow());
  Handler handler(cloud, config, clock);
  ASSERT_TRUE(handler.Handle(Notice()).status().ok());  // an interruption
  EXPECT_EQ(RecordOn(cloud, kArn), "spot-interruption@2024-01-01T00:00:00Z");
  // A rebalance recommendation after it does not overwrite it, here or elsewhere.
  Handler other(cloud, config, clock);
  Event rebalance = Notice("m-r");
  rebalance.notice_kind = policy::NoticeKind::kRebalanceRecommendation;
  other.Handle(rebalance);
  EXPECT_EQ(RecordOn(cloud, kArn), "spot-interruption@2024-01-01T00:00:00Z");
  policy::Observation seen = other.Observe({}, {});
  ASSERT_EQ(seen.notices.size(), 1u);
  EXPECT_EQ(seen.notices[0].kind, policy::NoticeKind::kSpotInterruption);
}

TEST(NoticeRecordTest, ScheduledMaintenanceIsItsOwnKind) {
  const WallTime t = WallTime(std::chrono::seconds(1704067200));
  EXPECT_EQ(NoticeRecord(policy::NoticeKind::kScheduledMaintenance, t),
            "scheduled-maintenance@2024-01-01T00:00:00Z");
  auto parsed = ParseNoticeRecord("scheduled-maintenance@2024-01-01T00:00:00Z");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->first, policy::NoticeKind::kScheduledMaintenance);
  EXPECT_EQ(parsed->second, t);
}

// Scheduled maintenance of i-spot1 (8 units) starting at `not_before`.
Event Maintenance(WallTime not_before, const std::string& instance_id = "i-spot1",
                  const std::string& arn = kArn) {
  Event e;
  e.kind = EventKind::kNotice;
  e.source = "agent";
  e.message_id = "m-maint-" + instance_id;
  e.notice_kind = policy::NoticeKind::kScheduledMaintenance;
  e.instance_id = instance_id;
  e.ecs_cluster = "web";
  e.ecs_container = arn;
  e.termination_time = not_before;
  return e;
}

TEST_F(HandlerTest, ScheduledMaintenanceDaysAheadIsRecordedAndDrainedOnlyWhenDue) {
  config.policy.on_rebalance = policy::RebalanceAction::kDrain;  // does not apply to it
  const WallTime not_before = clock.WallNow() + std::chrono::hours(72);
  Handler handler(cloud, config, clock);
  HandleReport report = handler.Handle(Maintenance(not_before));
  ASSERT_TRUE(report.status().ok()) << report.status().ToString();
  EXPECT_TRUE(report.fast_path.empty());
  EXPECT_EQ(cloud.Find("web", kArn)->status, policy::ContainerStatus::kActive);
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 0);
  // Recorded at once, dated at its NotBefore: it comes only once.
  EXPECT_EQ(RecordOn(cloud, kArn), "scheduled-maintenance@2024-01-04T00:00:00Z");

  // Days later, a fresh decider (a restart) knows it from the record alone,
  // well past notice_retention after it arrived.
  clock.Advance(std::chrono::hours(72) - std::chrono::minutes(11));
  Handler fresh(cloud, config, clock);
  report = fresh.Reconcile();
  ASSERT_TRUE(report.status().ok()) << report.status().ToString();
  EXPECT_EQ(cloud.Find("web", kArn)->status, policy::ContainerStatus::kActive);
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 0);
  // Due (10 minutes before): its 8 units are covered first, no drain yet.
  clock.Advance(std::chrono::minutes(2));
  report = fresh.Reconcile();
  ASSERT_TRUE(report.status().ok()) << report.status().ToString();
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 2);
  EXPECT_EQ(cloud.Find("web", kArn)->status, policy::ContainerStatus::kActive);
  // The replacement never registered: drained at the latest 5 minutes before.
  clock.Advance(std::chrono::minutes(4));
  report = fresh.Reconcile();
  ASSERT_TRUE(report.status().ok()) << report.status().ToString();
  EXPECT_EQ(cloud.Find("web", kArn)->status, policy::ContainerStatus::kDraining);
  // It counts until notice_retention after its NotBefore.
  clock.Advance(std::chrono::minutes(5) + config.notice_retention + std::chrono::seconds(1));
  EXPECT_TRUE(fresh.Observe({}, {}).notices.empty());
}

TEST_F(HandlerTest, AnOnDemandInstancesMaintenanceIsNeverSpotCapacityLost) {
  cloud.clusters["web"].push_back(
      {"web", "arn:od1", "i-od1", policy::ContainerStatus::kActive, 2, 0});
  Handler handler(cloud, config, clock);
  const WallTime not_before = clock.WallNow() + std::chrono::minutes(5);
  HandleReport report = handler.Handle(Maintenance(not_before, "i-od1", "arn:od1"));
  ASSERT_TRUE(report.status().ok()) << report.status().ToString();
  // Due: drained at once (nothing to cover first), no on-demand added for it.
  EXPECT_EQ(cloud.Find("web", "arn:od1")->status, policy::ContainerStatus::kDraining);
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 0);
  EXPECT_EQ(cloud.Find("web", kArn)->status, policy::ContainerStatus::kActive);
}

TEST_F(HandlerTest, AMaintenanceRecordDoesNotReplaceAnInterruption) {
  Handler handler(cloud, config, clock);
  ASSERT_TRUE(handler.Handle(Notice()).status().ok());  // an interruption
  ASSERT_TRUE(handler.Handle(Maintenance(clock.WallNow() + std::chrono::hours(1))).status().ok());
  EXPECT_EQ(RecordOn(cloud, kArn), "spot-interruption@2024-01-01T00:00:00Z");
  policy::Observation seen = handler.Observe({}, {});
  ASSERT_EQ(seen.notices.size(), 1u);
  EXPECT_EQ(seen.notices[0].kind, policy::NoticeKind::kSpotInterruption);
}

TEST_F(HandlerTest, ANoticeForItsOwnHostIsWarnedAboutAndStillDrained) {
  config.self_instance_id = "i-spot1";
  Handler handler(cloud, config, clock);
  ::testing::internal::CaptureStderr();
  HandleReport report = handler.Handle(Notice());
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(report.status().ok()) << report.status().ToString();
  // Drained as any other: ECS then moves the controller elsewhere.
  EXPECT_EQ(cloud.Find("web", kArn)->status, policy::ContainerStatus::kDraining);
  EXPECT_NE(log.find("this notice is for the controller's own host"), std::string::npos) << log;
  EXPECT_NE(log.find("draining the controller's own host"), std::string::npos) << log;
  // Another instance's notice says nothing of the kind.
  Event other = Notice("m-2");
  other.instance_id = "i-spot2";
  other.ecs_container = "arn:c2";
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE(handler.Handle(other).status().ok());
  const std::string quiet = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(quiet.find("own host"), std::string::npos) << quiet;
}

TEST_F(HandlerTest, AFailedRecordIsRetriedAndFailsTheEventUntilWritten) {
  cloud.failures["PutContainerAttributes"] = UnavailableError("throttled");
  Handler handler(cloud, config, clock);
  HandleReport report = handler.Handle(Notice());
  EXPECT_FALSE(report.status().ok());  // the message is retried
  EXPECT_EQ(cloud.Find("web", kArn)->status, policy::ContainerStatus::kDraining);
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 2);  // memory still counts it
  cloud.failures.clear();
  HandleReport retry = handler.Reconcile();
  ASSERT_TRUE(retry.status().ok()) << retry.status().ToString();
  EXPECT_EQ(retry.recorded.size(), 1u);
  EXPECT_EQ(RecordOn(cloud, kArn), "spot-interruption@2024-01-01T00:00:00Z");
}

TEST_F(HandlerTest, ABadRecordIsIgnored) {
  cloud.Find("web", kArn)->attributes[kNoticeAttribute] = "spot-interruption@not-a-time";
  Handler handler(cloud, config, clock);
  EXPECT_TRUE(handler.Observe({}, {}).notices.empty());
  HandleReport report = handler.Reconcile();
  EXPECT_TRUE(report.status().ok()) << report.status().ToString();
  EXPECT_TRUE(report.actions.empty());
}

// --- Concurrent deciders: a raise never lowers ---

TEST_F(HandlerTest, ARaiseDoesNotLowerWhatAnotherDeciderRaisedMeanwhile) {
  Handler handler(cloud, config, clock);
  int reads = 0;
  cloud.before = [&](const std::string& method) {
    // Between this decider's observation and its write, another raises to 3.
    if (method == "ReadOnDemandGroup" && ++reads == 2) {
      cloud.on_demand_groups["od"].group.desired_capacity = 3;
    }
  };
  HandleReport report = handler.Handle(Notice());
  ASSERT_TRUE(report.status().ok()) << report.status().ToString();
  ASSERT_EQ(report.actions.size(), 1u) << ToJson(report).dump();
  EXPECT_TRUE(report.actions[0].superseded);
  EXPECT_FALSE(report.actions[0].applied);
  EXPECT_STREQ(ActionResultName(report.actions[0]), "superseded");
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 3);
  EXPECT_EQ(cloud.applied.size(), 1u);  // only the drain
  EXPECT_EQ(handler.on_demand_desired(), 3);
}

TEST_F(HandlerTest, ARaiseStillAppliesWhenAnotherDeciderRaisedLess) {
  Handler handler(cloud, config, clock);
  int reads = 0;
  cloud.before = [&](const std::string& method) {
    if (method == "ReadOnDemandGroup" && ++reads == 2) {
      cloud.on_demand_groups["od"].group.desired_capacity = 1;
    }
  };
  HandleReport report = handler.Handle(Notice());
  ASSERT_EQ(report.actions.size(), 1u);
  EXPECT_TRUE(report.actions[0].applied);
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 2);
}

TEST_F(HandlerTest, ARaiseIsNotWrittenBlindWhenTheReReadFails) {
  Handler handler(cloud, config, clock);
  int reads = 0;
  cloud.before = [&](const std::string& method) {
    if (method == "ReadOnDemandGroup" && ++reads == 2) {
      cloud.failures["ReadOnDemandGroup"] = UnavailableError("throttled");
    }
  };
  HandleReport report = handler.Handle(Notice());
  EXPECT_FALSE(report.status().ok());
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 0);
}


// The events as AWS sends them, in each of the four wrappings the controller
// accepts: as is, in a Lambda SNS event, in the SNS-to-SQS envelope (an SQS
// body) and as a record of a Lambda SQS batch.
std::vector<std::string> FourWrappings(const nlohmann::json& event) {
  using nlohmann::json;
  const std::string text = event.dump();
  return {text,
          json{{"Records", {{{"Sns", {{"MessageId", "sns-1"}, {"Message", text}}}}}}}.dump(),
          json{{"Type", "Notification"}, {"MessageId", "sns-2"}, {"Message", text}}.dump(),
          json{{"Records", {{{"messageId", "sqs-1"}, {"body", text}}}}}.dump()};
}

nlohmann::json StateChange(const std::string& instance_id, const std::string& state) {
  return {{"version", "0"},
          {"id", "sc-" + instance_id + "-" + state},
          {"detail-type", "EC2 Instance State-change Notification"},
          {"source", "aws.ec2"},
          {"time", "2024-01-01T00:00:00Z"},
          {"resources", {"arn:aws:ec2:us-east-1:123456789012:instance/" + instance_id}},
          {"detail", {{"instance-id", instance_id}, {"state", state}}}};
}

nlohmann::json Health(const std::string& instance_id, const std::string& service,
                      const std::string& code) {
  return {{"version", "0"},
          {"id", "h-" + instance_id},
          {"detail-type", "AWS Health Event"},
          {"source", "aws.health"},
          {"time", "2024-01-01T00:00:00Z"},
          {"resources", {instance_id}},
          {"detail",
           {{"eventArn", "arn:aws:health:us-east-1::event/EC2/" + code + "/x"},
            {"service", service},
            {"eventTypeCode", code},
            {"eventTypeCategory", "scheduledChange"},
            {"startTime", "Wed, 05 Apr 2023 12:00:00 GMT"},
            {"affectedEntities", {{{"entityValue", instance_id}}}}}}};
}

Event Parsed(const std::string& text) {
  Result<Event> event = ParseEvent(text);
  EXPECT_TRUE(event.ok()) << event.status().ToString();
  return event.ok() ? *event : Event{};
}

TEST_F(HandlerTest, AStoppingInstanceIsDrainedAtOnceInEveryWrapping) {
  for (const char* state : {"stopping", "shutting-down"}) {
    for (const std::string& text : FourWrappings(StateChange("i-spot2", state))) {
      SCOPED_TRACE(text);
      cloud.Find("web", "arn:c2")->status = policy::ContainerStatus::kActive;
      cloud.on_demand_groups["od"].group.desired_capacity = 0;
      Handler handler(cloud, config, clock);
      HandleReport report = handler.Handle(Parsed(text));
      ASSERT_TRUE(report.status().ok()) << report.status().ToString();
      EXPECT_TRUE(report.refused.empty());
      // Found by its EC2 instance id in the configured cluster.
      EXPECT_EQ(cloud.Find("web", "arn:c2")->status, policy::ContainerStatus::kDraining);
      EXPECT_EQ(cloud.Find("web", kArn)->status, policy::ContainerStatus::kActive);
      // Spot capacity lost: its weight 8 is covered (2 on-demand instances).
      EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 2);
    }
  }
}

TEST_F(HandlerTest, AStoppingOnDemandInstanceIsDrainedButNotSpotCapacityLost) {
  // In a spot source, but the agent says it is on-demand (a mixed group's base).
  cloud.Find("web", "arn:c2")->attributes[policy::kLifecycleAttribute] = "on-demand";
  Handler handler(cloud, config, clock);
  HandleReport report = handler.Handle(Parsed(StateChange("i-spot2", "stopping").dump()));
  ASSERT_TRUE(report.status().ok()) << report.status().ToString();
  EXPECT_EQ(cloud.Find("web", "arn:c2")->status, policy::ContainerStatus::kDraining);
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 0);
}

TEST_F(HandlerTest, ATerminatedInstanceIsForgottenInEveryWrapping) {
  cloud.clusters["web"].pop_back();  // i-spot2 not registered: only memory holds its notice
  for (const std::string& text : FourWrappings(StateChange("i-spot2", "terminated"))) {
    SCOPED_TRACE(text);
    Handler handler(cloud, config, clock);
    ASSERT_TRUE(handler.Handle(Parsed(StateChange("i-spot2", "stopping").dump())).status().ok());
    ASSERT_EQ(handler.Observe({}, {}).notices.size(), 1u);
    HandleReport report = handler.Handle(Parsed(text));
    ASSERT_TRUE(report.status().ok()) << report.status().ToString();
    EXPECT_TRUE(report.refused.empty());
    EXPECT_TRUE(handler.Observe({}, {}).notices.empty());
  }
}

TEST_F(HandlerTest, OtherStatesAndHealthEventsAreAcknowledgedAndIgnored) {
  std::vector<nlohmann::json> ignored;
  for (const char* state : {"pending", "running", "stopped"}) {
    ignored.push_back(StateChange("i-spot2", state));
  }
  ignored.push_back(Health("i-spot2", "RDS", "AWS_RDS_MAINTENANCE_SCHEDULED"));
  ignored.push_back(Health("i-spot2", "EC2", "AWS_EC2_OPERATIONAL_NOTIFICATION"));
  Handler handler(cloud, config, clock);
  for (const nlohmann::json& event : ignored) {
    for (const std::string& text : FourWrappings(event)) {
      SCOPED_TRACE(text);
      cloud.calls.clear();
      HandleReport report = handler.Handle(Parsed(text));
      EXPECT_TRUE(report.status().ok()) << report.status().ToString();
      EXPECT_FALSE(report.refused.empty());  // answered at once: nothing to retry
      EXPECT_FALSE(report.decision.has_value());
      EXPECT_TRUE(cloud.calls.empty());
    }
  }
  EXPECT_EQ(cloud.Find("web", "arn:c2")->status, policy::ContainerStatus::kActive);
  EXPECT_TRUE(handler.Observe({}, {}).notices.empty());
}

TEST_F(HandlerTest, AHealthScheduledChangeIsScheduledMaintenanceInEveryWrapping) {
  WallTime start;
  ASSERT_TRUE(ParseIso8601("2023-04-05T12:00:00Z", &start));
  for (const std::string& text :
       FourWrappings(Health("i-spot2", "EC2", "AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED"))) {
    SCOPED_TRACE(text);
    cloud.Find("web", "arn:c2")->attributes.erase(kNoticeAttribute);
    Handler handler(cloud, config, clock);
    HandleReport report = handler.Handle(Parsed(text));
    ASSERT_TRUE(report.status().ok()) << report.status().ToString();
    // Recorded as the agent's scheduled events are, dated at its start.
    EXPECT_EQ(cloud.Find("web", "arn:c2")->attributes[kNoticeAttribute],
              NoticeRecord(policy::NoticeKind::kScheduledMaintenance, start));
    const std::vector<policy::Notice> notices = handler.Observe({}, {}).notices;
    ASSERT_EQ(notices.size(), 1u);
    EXPECT_EQ(notices[0].kind, policy::NoticeKind::kScheduledMaintenance);
    EXPECT_EQ(notices[0].termination_time, start);
  }
}

}  // namespace
}  // namespace spk::controller
