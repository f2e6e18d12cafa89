#include "controller/fallback.h"

#include <gtest/gtest.h>

#include "controller/fake_cloud_view.h"

namespace spk::controller {
namespace {

using std::chrono::minutes;

const WallTime kT0 = WallTime{} + std::chrono::hours(24 * 365 * 50);

// Cluster c: primary "web" (desired 3) on spot provider cp-spot (group
// spot-asg, mixed instances, all spot) and shadow "web-od" (desired 0);
// three tasks PROVISIONING since kT0 - 10 min, and a failed spot launch.
class FallbackKeeperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServiceRead web{"arn:svc/c/web", "web", 3, 0, "arn:td/web:7", "arn:td/web:7", {"cp-spot"}, {}};
    ServiceRead shadow{"arn:svc/c/web-od", "web-od",       0,         0,
                       "arn:td/web:7",     "arn:td/web:7", {"cp-od"}, {}};
    cloud_.services["c"]["web"] = web;
    cloud_.services["c"]["web-od"] = shadow;
    cloud_.capacity_providers["c"] = {{"cp-spot", "spot-asg", true}, {"cp-od", "od-asg", true}};
    for (int i = 0; i < 3; ++i) {
      cloud_.provisioning["c/web"].push_back(
          {"t" + std::to_string(i), "cp-spot", kT0 - minutes(10)});
    }
    ProviderGroupRead spot;
    spot.spot = true;
    spot.read.desired = 3;
    spot.read.max_size = 10;
    spot.read.spot_failure_at = kT0 - minutes(1);
    spot.read.spot_failure_message = "InsufficientInstanceCapacity - There is no Spot capacity";
    cloud_.provider_groups["spot-asg"] = spot;
    ProviderGroupRead od;
    od.read.desired = 1;
    od.read.in_service = 1;
    od.read.max_size = 10;
    cloud_.provider_groups["od-asg"] = od;
  }

  FallbackKeeper Keeper(bool dry_run = false, bool discover = false) {
    std::vector<FallbackPair> pairs;
    if (!discover) pairs.push_back({"c", "web", "web-od"});
    return FallbackKeeper(cloud_, config_, pairs, discover, {}, dry_run);
  }

  // Spot is back: the primary runs all it wants, nothing waits.
  void SpotReturns() {
    cloud_.services["c"]["web"].running = 3;
    cloud_.provisioning["c/web"].clear();
    cloud_.provider_groups["spot-asg"].read.in_service = 3;
  }

  const ServiceRead& Shadow() { return cloud_.services["c"]["web-od"]; }

  FakeCloudView cloud_;
  policy::FallbackConfig config_;
};

TEST_F(FallbackKeeperTest, StuckTasksOnShortSpotStartTheShadowAndNoProviderGroupIsResized) {
  FallbackKeeper keeper = Keeper();
  std::vector<FallbackOutcome> out = keeper.Run(kT0, {"c"});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].updated) << ToJson(out[0]).dump();
  EXPECT_EQ(out[0].shadow_was, 0);
  EXPECT_EQ(Shadow().desired, 3);
  EXPECT_EQ(cloud_.calls["UpdateService"], 1);
  // The next pass changes nothing: at most one update, and only when needed.
  keeper.Run(kT0 + minutes(1), {"c"});
  EXPECT_EQ(cloud_.calls["UpdateService"], 1);
}

// The cluster's PROVISIONING quota is full: ECS creates none of the
// primary's missing tasks, and says so in its service events.
TEST_F(FallbackKeeperTest, TasksECSCouldNotCreateRunOnTheShadow) {
  ServiceRead& web = cloud_.services["c"]["web"];
  web.desired = 8;
  web.running = 2;
  web.placement_failing_since = kT0 - minutes(5);
  web.placement_failed_at = kT0 - minutes(1);
  web.placement_failure =
      "(service web) was unable to place a task: the PROVISIONING limit is reached.";
  std::vector<FallbackOutcome> out = Keeper().Run(kT0, {"c"});
  ASSERT_EQ(out.size(), 1u);
  // 3 stuck in PROVISIONING and 8 - 2 - 3 that ECS could not create.
  EXPECT_EQ(out[0].decision.stuck, 6) << ToJson(out[0]).dump();
  EXPECT_EQ(Shadow().desired, 6);
  // Without the event (the same gap, no placement failure): only the 3.
  web.placement_failing_since.reset();
  cloud_.services["c"]["web-od"].desired = 0;
  out = Keeper().Run(kT0, {"c"});
  EXPECT_EQ(out[0].decision.stuck, 3) << ToJson(out[0]).dump();
}

TEST_F(FallbackKeeperTest, RevertSurvivesARestartAndStepsDownAfterTheSettleWindow) {
  Keeper().Run(kT0, {"c"});
  ASSERT_EQ(Shadow().desired, 3);
  SpotReturns();
  cloud_.provider_groups["spot-asg"].read.spot_failure_at = kT0 - minutes(30);
  // The shortfall ended: its time is a tag on the shadow, the count holds.
  Keeper().Run(kT0 + minutes(1), {"c"});
  EXPECT_EQ(Shadow().desired, 3);
  ASSERT_TRUE(Shadow().tags.count(policy::kShortfallEndedTag));
  EXPECT_EQ(Shadow().tags.at(policy::kShortfallEndedTag), FormatIso8601(kT0 + minutes(1)));
  // A restarted controller (a new keeper, no memory) within the window: holds.
  Keeper().Run(kT0 + minutes(10), {"c"});
  EXPECT_EQ(Shadow().desired, 3);
  // Past the window: another fresh one steps down by half, then to 0.
  Keeper().Run(kT0 + minutes(11), {"c"});
  EXPECT_EQ(Shadow().desired, 1);
  Keeper().Run(kT0 + minutes(12), {"c"});
  EXPECT_EQ(Shadow().desired, 0);
  EXPECT_FALSE(Shadow().tags.count(policy::kShortfallEndedTag));
  // Whole with nothing to give back: the pass reads only the two services.
  cloud_.calls.clear();
  Keeper().Run(kT0 + minutes(13), {"c"});
  EXPECT_EQ(cloud_.calls["ReadServices"], 1);
  EXPECT_EQ(cloud_.calls["ProvisioningTasks"], 0);
  EXPECT_EQ(cloud_.calls["ReadProviderGroup"], 0);
  EXPECT_EQ(cloud_.calls["UpdateService"], 0);
}

TEST_F(FallbackKeeperTest, TwoDecidersAtOnceSetTheSameCount) {
  FallbackKeeper a = Keeper();
  FallbackKeeper b = Keeper();
  // b decides while a is between its reads and its update.
  bool inside = false;
  cloud_.before = [&](const std::string& method) {
    if (method == "UpdateService" && !inside) {
      inside = true;
      b.Run(kT0, {"c"});
    }
  };
  a.Run(kT0, {"c"});
  EXPECT_EQ(Shadow().desired, 3);
  EXPECT_EQ(cloud_.calls["UpdateService"], 2);  // both wrote 3: no sum, no flapping
}

TEST_F(FallbackKeeperTest, AFailedReadNeverZeroesTheShadow) {
  cloud_.services["c"]["web-od"].desired = 3;
  cloud_.failures["ProvisioningTasks"] = UnavailableError("throttled");
  std::vector<FallbackOutcome> out = Keeper().Run(kT0, {"c"});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].decision.skipped);
  EXPECT_EQ(Shadow().desired, 3);
  EXPECT_EQ(cloud_.calls["UpdateService"], 0);
  // A missing shadow is a read failure too, with its name.
  cloud_.failures.clear();
  cloud_.services["c"].erase("web-od");
  out = Keeper().Run(kT0, {"c"});
  EXPECT_TRUE(out[0].decision.skipped);
  EXPECT_NE(ToJson(out[0]).dump().find("web-od not found"), std::string::npos);
}

TEST_F(FallbackKeeperTest, AFailedUpdateIsReportedAndLeavesTheTagAlone) {
  cloud_.failures["UpdateService"] = UnavailableError("throttled");
  std::vector<FallbackOutcome> out = Keeper().Run(kT0, {"c"});
  EXPECT_FALSE(out[0].updated);
  EXPECT_FALSE(out[0].update.ok());
  EXPECT_EQ(Shadow().desired, 0);
  EXPECT_EQ(cloud_.calls["SetServiceTags"] + cloud_.calls["DeleteServiceTags"], 0);
}

TEST_F(FallbackKeeperTest, DryRunChangesNothing) {
  std::vector<FallbackOutcome> out = Keeper(/*dry_run=*/true).Run(kT0, {"c"});
  EXPECT_TRUE(out[0].dry_run);
  EXPECT_EQ(out[0].decision.desired, 3);
  EXPECT_EQ(Shadow().desired, 0);
  EXPECT_EQ(cloud_.calls["UpdateService"], 0);
}

TEST_F(FallbackKeeperTest, AnOnDemandOnlyPrimaryHasNothingToFallBackFrom) {
  cloud_.provider_groups["spot-asg"].spot = false;  // not a spot group after all
  Keeper().Run(kT0, {"c"});
  EXPECT_EQ(Shadow().desired, 0);
  // Named as a spot group, it counts.
  FallbackKeeper keeper(cloud_, config_, {{"c", "web", "web-od"}}, false, {"spot-asg"}, false);
  keeper.Run(kT0, {"c"});
  EXPECT_EQ(Shadow().desired, 3);
}

TEST_F(FallbackKeeperTest, TaggedShadowsArePairedWhenDiscovering) {
  cloud_.services["c"]["web-od"].tags[policy::kFallbackForTag] = "web";
  FallbackKeeper keeper = Keeper(false, /*discover=*/true);
  ASSERT_TRUE(keeper.enabled());
  std::vector<std::string> searched;
  std::vector<FallbackOutcome> out = keeper.Run(kT0, {"c", "arn:aws:ecs:r:a:cluster/c"}, &searched);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].decision.primary, "web");
  EXPECT_EQ(Shadow().desired, 3);
  EXPECT_EQ(searched, std::vector<std::string>{"c"});  // read once, by name
  // A cluster whose search failed is not among those searched.
  cloud_.failures["ServicesTagged"] = UnavailableError("throttled");
  searched.clear();
  out = keeper.Run(kT0, {"c"}, &searched);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(searched.empty());
}

TEST_F(FallbackKeeperTest, TheClusterCapIsSharedByThePairs) {
  cloud_.services["c"]["api"] = {"arn:svc/c/api", "api",          2,           0,
                                 "arn:td/api:1",  "arn:td/api:1", {"cp-spot"}, {}};
  cloud_.services["c"]["api-od"] = {"arn:svc/c/api-od", "api-od",       0,         0,
                                    "arn:td/api:1",     "arn:td/api:1", {"cp-od"}, {}};
  cloud_.provisioning["c/api"] = {{"a0", "cp-spot", kT0 - minutes(5)},
                                  {"a1", "cp-spot", kT0 - minutes(5)}};
  config_.cluster_max = 4;
  FallbackKeeper keeper(cloud_, config_, {{"c", "web", "web-od"}, {"c", "api", "api-od"}}, false,
                        {}, false);
  keeper.Run(kT0, {"c"});
  EXPECT_EQ(Shadow().desired, 3);
  EXPECT_EQ(cloud_.services["c"]["api-od"].desired, 1);
}

TEST_F(FallbackKeeperTest, AShadowCarryingTasksKeepsThemUnderTheClusterCap) {
  // api-od already runs 2 for api (still short); then web's tasks get stuck.
  cloud_.services["c"]["api"] = {"arn:svc/c/api", "api",          2,           0,
                                 "arn:td/api:1",  "arn:td/api:1", {"cp-spot"}, {}};
  cloud_.services["c"]["api-od"] = {"arn:svc/c/api-od", "api-od",       2,         0,
                                    "arn:td/api:1",     "arn:td/api:1", {"cp-od"}, {}};
  config_.cluster_max = 4;
  FallbackKeeper keeper(cloud_, config_, {{"c", "web", "web-od"}, {"c", "api", "api-od"}}, false,
                        {}, false);
  keeper.Run(kT0, {"c"});
  EXPECT_EQ(cloud_.services["c"]["api-od"].desired, 2);  // first claim: what it runs
  EXPECT_EQ(Shadow().desired, 2);                        // the rest of the cap
}

TEST_F(FallbackKeeperTest, OneShadowPerPrimaryAndClusterArnsAreNames) {
  // The configured pair names the cluster by ARN; a second shadow tagged for
  // the same primary is ignored: the primary's tasks run once.
  cloud_.services["c"]["web-od2"] = {
      "arn:svc/c/web-od2", "web-od2",      0,         0,
      "arn:td/web:7",      "arn:td/web:7", {"cp-od"}, {{policy::kFallbackForTag, "web"}}};
  cloud_.services["c"]["web-od"].tags[policy::kFallbackForTag] = "web";
  FallbackKeeper keeper(cloud_, config_, {{"arn:aws:ecs:us-east-1:1:cluster/c", "web", "web-od"}},
                        /*discover=*/true, {}, false);
  std::vector<FallbackOutcome> out = keeper.Run(kT0, {"c", "arn:aws:ecs:us-east-1:1:cluster/c"});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].decision.cluster, "c");
  EXPECT_EQ(Shadow().desired, 3);
  EXPECT_EQ(cloud_.services["c"]["web-od2"].desired, 0);
  EXPECT_EQ(cloud_.calls["ServicesTagged"], 1);  // the cluster searched once
}

TEST_F(FallbackKeeperTest, ARejectedTaskDefinitionDoesNotHoldBackTheCount) {
  cloud_.services["c"]["web"].primary_task_definition = "arn:td/web:8";
  int calls = 0;
  cloud_.before = [&](const std::string& method) {
    if (method == "UpdateService" && ++calls == 1) {
      cloud_.failures["UpdateService"] = InvalidArgumentError("container name mismatch");
    } else {
      cloud_.failures.erase("UpdateService");
    }
  };
  std::vector<FallbackOutcome> out = Keeper().Run(kT0, {"c"});
  EXPECT_TRUE(out[0].updated) << ToJson(out[0]).dump();
  EXPECT_EQ(Shadow().desired, 3);
  EXPECT_EQ(Shadow().task_definition, "arn:td/web:7");  // unchanged: it was refused
}

TEST(ParseFallbackPairTest, Forms) {
  auto p = ParseFallbackPair("web=web-od", {"prod"});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->cluster, "prod");
  EXPECT_EQ(p->primary, "web");
  EXPECT_EQ(p->shadow, "web-od");
  p = ParseFallbackPair("other/web=web-od", {"prod"});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->cluster, "other");
  EXPECT_FALSE(ParseFallbackPair("web=web-od", {}).ok());  // no cluster to find it in
  for (const char* bad : {"", "web", "=x", "web=", "web=web", "a=b=c", "/web=x", "c/web=c/x"}) {
    EXPECT_FALSE(ParseFallbackPair(bad, {"prod"}).ok()) << bad;
  }
}

}  // namespace
}  // namespace spk::controller
