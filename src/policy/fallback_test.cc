#include "policy/fallback.h"

#include <gtest/gtest.h>

namespace spk::policy {
namespace {

using std::chrono::minutes;

const WallTime kNow = WallTime{} + std::chrono::hours(24 * 365 * 50);

// Primary "web" (desired 3, running 0) on spot provider cp-spot (group spot,
// desired 3, InService 0, MaxSize 10), three tasks PROVISIONING for 10 minutes.
FallbackObservation Stuck() {
  FallbackObservation o;
  o.cluster = "c";
  o.primary = "web";
  o.shadow = "web-od";
  o.primary_desired = 3;
  o.primary_running = 0;
  o.primary_task_definition = "arn:td/web:7";
  o.shadow_task_definition = "arn:td/web:7";
  for (int i = 0; i < 3; ++i) {
    o.provisioning.push_back({"task-" + std::to_string(i), "cp-spot", kNow - minutes(10)});
  }
  SpotProviderRead p;
  p.provider = "cp-spot";
  p.group = "spot";
  p.desired = 3;
  p.in_service = 0;
  p.max_size = 10;
  o.spot_providers.push_back(p);
  return o;
}

FallbackObservation StuckWithSpotFailure() {
  FallbackObservation o = Stuck();
  o.spot_providers[0].spot_failure_at = kNow - minutes(2);
  o.spot_providers[0].spot_failure_message =
      "Could not launch Spot Instances. InsufficientInstanceCapacity - There is no Spot "
      "capacity available that matches your request.";
  return o;
}

bool NotesContain(const FallbackDecision& d, const std::string& text) {
  for (const std::string& n : d.notes) {
    if (n.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(FallbackTest, StuckTasksWithAFailedSpotLaunchRunOnTheShadowAtOnce) {
  FallbackDecision d = DecideFallback(StuckWithSpotFailure(), {}, kNow, std::nullopt);
  EXPECT_FALSE(d.skipped);
  EXPECT_EQ(d.stuck, 3);
  EXPECT_EQ(d.confirmed, 3);
  EXPECT_EQ(d.desired, 3);
  EXPECT_TRUE(d.update(StuckWithSpotFailure()));
  EXPECT_FALSE(d.shortfall_ended_at);
  EXPECT_TRUE(NotesContain(d, "spot capacity is short")) << ToJson(d).dump();
}

TEST(FallbackTest, AGroupAtItsMaxSizeIsItsOwnReasonNotAFallback) {
  FallbackObservation o = Stuck();
  o.spot_providers[0].max_size = 3;
  o.spot_providers[0].launching_since = kNow - minutes(9);
  FallbackDecision d = DecideFallback(o, {}, kNow, std::nullopt);
  EXPECT_EQ(d.stuck, 3);
  EXPECT_EQ(d.confirmed, 0);
  EXPECT_EQ(d.desired, 0);
  EXPECT_FALSE(d.update(o));
  EXPECT_TRUE(NotesContain(d, "is at its MaxSize 3")) << ToJson(d).dump();
}

TEST(FallbackTest, NoEvidenceOfASpotShortageMeansNoFallback) {
  FallbackObservation o = Stuck();
  o.spot_providers[0].in_service = 3;  // the group has what it asked for
  FallbackDecision d = DecideFallback(o, {}, kNow, std::nullopt);
  EXPECT_EQ(d.confirmed, 0);
  EXPECT_EQ(d.desired, 0);
  EXPECT_TRUE(NotesContain(d, "no sign that spot capacity is short"));
}

TEST(FallbackTest, AGroupShortOfItsDesiredForLongerThanTheGraceIsEvidence) {
  FallbackObservation o = Stuck();
  o.spot_providers[0].launching_since = kNow - minutes(4);
  EXPECT_EQ(DecideFallback(o, {}, kNow, std::nullopt).desired, 3);
  o.spot_providers[0].launching_since = kNow - minutes(2);  // within the 3-minute grace
  EXPECT_EQ(DecideFallback(o, {}, kNow, std::nullopt).desired, 0);
}

TEST(FallbackTest, AnOldFailureIsNoEvidenceForTasksThatCameLater) {
  FallbackObservation o = StuckWithSpotFailure();
  o.spot_providers[0].spot_failure_at = kNow - minutes(60);
  EXPECT_EQ(DecideFallback(o, {}, kNow, std::nullopt).confirmed, 0);
}

TEST(FallbackTest, TasksWithinTheGraceAreNotStuck) {
  FallbackObservation o = StuckWithSpotFailure();
  for (ProvisioningTask& t : o.provisioning) t.created_at = kNow - minutes(2);
  FallbackDecision d = DecideFallback(o, {}, kNow, std::nullopt);
  EXPECT_EQ(d.stuck, 0);
  EXPECT_EQ(d.desired, 0);
  // A task on another (on-demand) provider never counts.
  o = StuckWithSpotFailure();
  for (ProvisioningTask& t : o.provisioning) t.capacity_provider = "cp-od";
  EXPECT_EQ(DecideFallback(o, {}, kNow, std::nullopt).stuck, 0);
}

TEST(FallbackTest, FargateSpotTasksPastTheGraceCount) {
  FallbackObservation o = Stuck();
  o.spot_providers[0] = SpotProviderRead{};
  o.spot_providers[0].provider = "FARGATE_SPOT";
  for (ProvisioningTask& t : o.provisioning) t.capacity_provider = "FARGATE_SPOT";
  EXPECT_EQ(DecideFallback(o, {}, kNow, std::nullopt).desired, 3);
}

// The cluster's PROVISIONING quota is full: ECS cannot even create the
// primary's tasks, so none is PROVISIONING; desired - running - pending count.
FallbackObservation NotPlaced() {
  FallbackObservation o = StuckWithSpotFailure();
  o.primary_desired = 10;
  o.primary_running = 4;
  o.primary_pending = 1;
  o.provisioning.clear();
  o.placement_failing_since = kNow - minutes(6);
  o.placement_failed_at = kNow - minutes(1);
  o.placement_failure =
      "(service web) was unable to place a task. Reason: the cluster has reached its limit "
      "of tasks in the PROVISIONING state.";
  return o;
}

TEST(FallbackTest, TasksECSCouldNotCreateCountWhenSpotIsShownShort) {
  FallbackDecision d = DecideFallback(NotPlaced(), {}, kNow, std::nullopt);
  EXPECT_EQ(d.stuck, 5);  // 10 desired - 4 running - 1 pending
  EXPECT_EQ(d.confirmed, 5);
  EXPECT_EQ(d.desired, 5);
  EXPECT_TRUE(NotesContain(d, "5 task(s) not placed at all since")) << ToJson(d).dump();
  EXPECT_TRUE(NotesContain(d, "cp-spot: spot capacity is short")) << ToJson(d).dump();

  // PROVISIONING tasks are not counted twice: they are the stuck ones.
  FallbackObservation o = NotPlaced();
  o.provisioning.push_back({"task-p", "cp-spot", kNow - minutes(10)});
  o.provisioning.push_back({"task-q", "cp-spot", kNow - minutes(10)});
  d = DecideFallback(o, {}, kNow, std::nullopt);
  EXPECT_EQ(d.stuck, 2 + 4);  // 10 - 4 - max(1 pending, 2 provisioning)
  EXPECT_EQ(d.desired, 6);
}

TEST(FallbackTest, TasksNotPlacedNeedTheGraceAndEvidence) {
  FallbackObservation o = NotPlaced();
  o.placement_failing_since = kNow - minutes(1);  // within the grace
  EXPECT_EQ(DecideFallback(o, {}, kNow, std::nullopt).desired, 0);

  o = NotPlaced();
  o.placement_failing_since.reset();  // no placement failure since the steady state
  o.placement_failed_at.reset();
  EXPECT_EQ(DecideFallback(o, {}, kNow, std::nullopt).stuck, 0);

  // A failure that is history (none lately): a gap now is not ECS failing.
  o = NotPlaced();
  o.placement_failing_since = kNow - minutes(60);
  o.placement_failed_at = kNow - minutes(11);
  EXPECT_EQ(DecideFallback(o, {}, kNow, std::nullopt).stuck, 0);

  // Spot evidence older than ECS's latest failure (by more than the grace) is none.
  o = NotPlaced();
  o.placement_failing_since = kNow - minutes(60);
  o.spot_providers[0].spot_failure_at = kNow - minutes(30);
  FallbackDecision old = DecideFallback(o, {}, kNow, std::nullopt);
  EXPECT_EQ(old.stuck, 5);
  EXPECT_EQ(old.confirmed, 0) << ToJson(old).dump();

  // A reason spot cannot explain (a placement constraint) is no shortage.
  o = NotPlaced();
  o.placement_failure =
      "(service web) was unable to place a task because no container instance met all of its "
      "requirements. The closest matching container-instance is missing an attribute required "
      "by your task.";
  FallbackDecision constraint = DecideFallback(o, {}, kNow, std::nullopt);
  EXPECT_EQ(constraint.confirmed, 0);
  EXPECT_TRUE(NotesContain(constraint, "names no capacity, limit or PROVISIONING"))
      << ToJson(constraint).dump();

  o = NotPlaced();
  o.spot_providers[0].spot_failure_at.reset();
  o.spot_providers[0].desired = o.spot_providers[0].max_size = 10;
  FallbackDecision d = DecideFallback(o, {}, kNow, std::nullopt);
  EXPECT_EQ(d.stuck, 5);
  EXPECT_EQ(d.confirmed, 0);
  EXPECT_EQ(d.desired, 0);
  EXPECT_TRUE(NotesContain(d, "is at its MaxSize 10 (raise it)")) << ToJson(d).dump();
}

TEST(FallbackTest, FargateSpotWithoutCapacityCountsTasksItCouldNotPlace) {
  FallbackObservation o = NotPlaced();
  o.spot_providers[0] = SpotProviderRead{};
  o.spot_providers[0].provider = "FARGATE_SPOT";
  o.placement_failure =
      "(service web) was unable to place a task. Reason: Capacity is unavailable at this time. "
      "Please try again later or in a different availability zone.";
  FallbackDecision d = DecideFallback(o, {}, kNow, std::nullopt);
  EXPECT_EQ(d.confirmed, 5);
  EXPECT_EQ(d.desired, 5);
  EXPECT_TRUE(NotesContain(d, "FARGATE_SPOT: Fargate Spot capacity is short")) << ToJson(d).dump();

  // Another reason (a missing subnet, a placement constraint) is no spot shortage.
  o.placement_failure =
      "(service web) was unable to place a task because no container instance met all of its "
      "requirements.";
  d = DecideFallback(o, {}, kNow, std::nullopt);
  EXPECT_EQ(d.stuck, 5);
  EXPECT_EQ(d.desired, 0);
  EXPECT_TRUE(NotesContain(d, "ECS did not say Fargate had no capacity")) << ToJson(d).dump();
}

TEST(FallbackTest, CapsBoundTheShadow) {
  FallbackObservation o = StuckWithSpotFailure();
  o.primary_desired = 4;
  FallbackConfig config;
  config.max.fraction = 0.5;
  EXPECT_EQ(DecideFallback(o, config, kNow, std::nullopt).desired, 2);
  config.max.tasks = 1;
  EXPECT_EQ(DecideFallback(o, config, kNow, std::nullopt).desired, 1);
  config = FallbackConfig{};
  EXPECT_EQ(DecideFallback(o, config, kNow, 2).desired, 2);   // cluster budget
  EXPECT_EQ(DecideFallback(o, config, kNow, -1).desired, 0);  // budget spent
  // Service auto scaling lowered the primary: the shadow follows at once.
  o.shadow_desired = 3;
  o.primary_desired = 1;
  EXPECT_EQ(DecideFallback(o, config, kNow, std::nullopt).desired, 1);
}

TEST(FallbackTest, AFailedReadSkipsAndNeverZeroes) {
  FallbackObservation o = StuckWithSpotFailure();
  o.shadow_desired = 3;
  o.read_status = UnavailableError("DescribeTasks: throttled");
  FallbackDecision d = DecideFallback(o, {}, kNow, std::nullopt);
  EXPECT_TRUE(d.skipped);
  EXPECT_EQ(d.desired, 3);
  EXPECT_FALSE(d.update(o));
  EXPECT_TRUE(NotesContain(d, "throttled"));
}

TEST(FallbackTest, WhileStillShortTheShadowHolds) {
  FallbackObservation o = StuckWithSpotFailure();
  o.shadow_desired = 3;
  o.provisioning.resize(1);  // two were placed on spot after all
  o.primary_running = 2;
  FallbackDecision d = DecideFallback(o, {}, kNow, std::nullopt);
  EXPECT_EQ(d.desired, 3);
  EXPECT_FALSE(d.shortfall_ended_at);
}

FallbackObservation Whole() {
  FallbackObservation o = Stuck();
  o.provisioning.clear();
  o.primary_running = 3;
  o.shadow_desired = 3;
  o.spot_providers[0].in_service = 3;
  return o;
}

TEST(FallbackTest, RevertStartsTheSettleWindowThenStepsDownByHalves) {
  FallbackObservation o = Whole();
  FallbackDecision d = DecideFallback(o, {}, kNow, std::nullopt);
  EXPECT_EQ(d.desired, 3);
  ASSERT_TRUE(d.shortfall_ended_at);
  EXPECT_EQ(*d.shortfall_ended_at, kNow);
  EXPECT_FALSE(d.update(o));

  // A restarted decider reads the window's start back from the tag.
  o.shortfall_ended_at = kNow - minutes(9);
  EXPECT_EQ(DecideFallback(o, {}, kNow, std::nullopt).desired, 3);
  o.shortfall_ended_at = kNow - minutes(10);
  d = DecideFallback(o, {}, kNow, std::nullopt);
  EXPECT_EQ(d.desired, 1);
  EXPECT_EQ(d.shortfall_ended_at, o.shortfall_ended_at);
  o.shadow_desired = 1;
  d = DecideFallback(o, {}, kNow, std::nullopt);
  EXPECT_EQ(d.desired, 0);
  EXPECT_FALSE(d.shortfall_ended_at);  // nothing left to give back: the tag goes
}

TEST(FallbackTest, ASpotFailureDuringTheWindowRestartsIt) {
  FallbackObservation o = Whole();
  o.shortfall_ended_at = kNow - minutes(20);
  o.spot_providers[0].spot_failure_at = kNow - minutes(5);
  FallbackDecision d = DecideFallback(o, {}, kNow, std::nullopt);
  EXPECT_EQ(d.desired, 3);
  EXPECT_EQ(d.shortfall_ended_at, kNow - minutes(5));
}

TEST(FallbackTest, ShortAgainClearsTheWindow) {
  FallbackObservation o = Whole();
  o.shortfall_ended_at = kNow - minutes(5);
  o.primary_running = 2;
  FallbackDecision d = DecideFallback(o, {}, kNow, std::nullopt);
  EXPECT_EQ(d.desired, 3);
  EXPECT_FALSE(d.shortfall_ended_at);
}

TEST(FallbackTest, TheShadowFollowsThePrimarysTaskDefinition) {
  FallbackObservation o = Stuck();
  o.primary_task_definition = "arn:td/web:8";
  FallbackDecision d = DecideFallback(o, {}, kNow, std::nullopt);
  EXPECT_EQ(d.desired, 0);
  EXPECT_EQ(d.task_definition, "arn:td/web:8");
  EXPECT_TRUE(d.update(o));
}

TEST(FallbackTest, ParseFallbackMax) {
  auto m = ParseFallbackMax("10");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->tasks, 10);
  EXPECT_DOUBLE_EQ(m->fraction, 1.0);
  m = ParseFallbackMax("50%");
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->tasks);
  EXPECT_DOUBLE_EQ(m->fraction, 0.5);
  m = ParseFallbackMax("4,25%");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->tasks, 4);
  EXPECT_EQ(FallbackMaxText(*m), "4,25%");
  for (const char* bad :
       {"", "x", "-1", "0%", "101%", "5,", ",5", "5,6", "50%,50%", "1e3", "nan"}) {
    EXPECT_FALSE(ParseFallbackMax(bad).ok()) << bad;
  }
}

TEST(FallbackTest, SpotFailureMessages) {
  EXPECT_TRUE(IsSpotCapacityFailure(
      "Could not launch Spot Instances. InsufficientInstanceCapacity - There is no Spot "
      "capacity available that matches your request. Launching EC2 instance failed."));
  EXPECT_TRUE(IsSpotCapacityFailure("UnfulfillableCapacity: Unable to fulfill capacity"));
  EXPECT_FALSE(IsSpotCapacityFailure(
      "The security group 'sg-1' does not exist. Launching EC2 instance failed."));
  EXPECT_TRUE(
      IsPlacementFailure("(service web) was unable to place a task because no "
                         "container instance met all of its requirements."));
  EXPECT_FALSE(IsPlacementFailure("(service web) has reached a steady state."));
  EXPECT_TRUE(IsFargateCapacityFailure(
      "(service web) was unable to place a task. Reason: Capacity is unavailable at this time."));
  EXPECT_FALSE(IsFargateCapacityFailure("Capacity is unavailable at this time."));
  EXPECT_TRUE(IsCapacityPlacementFailure(
      "(service web) was unable to place a task because no container instance met all of its "
      "requirements. Reason: No Container Instances were found in your capacity provider."));
  EXPECT_TRUE(IsCapacityPlacementFailure(
      "(service web) was unable to place a task: too many tasks in the PROVISIONING state."));
  EXPECT_FALSE(IsCapacityPlacementFailure(
      "(service web) was unable to place a task because no container instance met all of its "
      "requirements. The closest matching container-instance is already using a port required "
      "by your task."));
}

}  // namespace
}  // namespace spk::policy
