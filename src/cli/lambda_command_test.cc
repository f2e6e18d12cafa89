#include "cli/lambda_command.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "net/fake_transport.h"

namespace spk::cli {
namespace {

TEST(LambdaCommandTest, StartedAsBootstrap) {
  EXPECT_TRUE(StartedAsBootstrap("bootstrap"));
  EXPECT_TRUE(StartedAsBootstrap("/var/task/bootstrap"));
  EXPECT_FALSE(StartedAsBootstrap("/usr/bin/spotkeeper"));
  EXPECT_FALSE(StartedAsBootstrap("bootstrap.sh"));
  EXPECT_FALSE(StartedAsBootstrap(nullptr));
}

TEST(LambdaCommandTest, SettingsFromTheEnvironment) {
  MapEnv env({{"SPOTKEEPER_CLUSTER", "a, b"},
              {"SPOTKEEPER_SPOT_FLEET_ID", "sfr-1"},
              {"SPOTKEEPER_EC2_FLEET_ID", "fleet-1,fleet-2"},
              {"SPOTKEEPER_ON_DEMAND_ASG", "od"},
              {"SPOTKEEPER_ON_DEMAND_UNITS", "4"},
              {"SPOTKEEPER_PENDING_SOURCE", "cloudwatch"},
              {"SPOTKEEPER_MAINTENANCE_DRAIN_BEFORE", "20m"},
              {"SPOTKEEPER_DRY_RUN", "true"}});
  ControllerOptions o;
  EXPECT_EQ(ControllerOptionsFromEnv(env, &o), "");
  EXPECT_EQ(o.clusters, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(o.spot_fleet_ids, (std::vector<std::string>{"sfr-1"}));
  EXPECT_EQ(o.ec2_fleet_ids, (std::vector<std::string>{"fleet-1", "fleet-2"}));
  EXPECT_EQ(o.sources.at("--ec2-fleet-id"), "SPOTKEEPER_EC2_FLEET_ID");
  EXPECT_TRUE(o.spot_asgs.empty());
  EXPECT_EQ(o.on_demand_asg, "od");
  EXPECT_EQ(o.on_demand_units, 4);
  EXPECT_EQ(o.pending_source, "cloudwatch");
  EXPECT_EQ(o.settle_window, "10m");
  EXPECT_EQ(o.maintenance_drain_before, "20m");
  EXPECT_EQ(o.sources.at("--maintenance-drain-before"), "SPOTKEEPER_MAINTENANCE_DRAIN_BEFORE");
  EXPECT_TRUE(o.dry_run);

  ControllerOptions bad;
  EXPECT_NE(
      ControllerOptionsFromEnv(MapEnv({{"SPOTKEEPER_ON_DEMAND_UNITS", "four"}, {"A", "b"}}), &bad)
          .find("SPOTKEEPER_ON_DEMAND_UNITS"),
      std::string::npos);
  EXPECT_NE(ControllerOptionsFromEnv(MapEnv({{"SPOTKEEPER_DRY_RUN", "maybe"}, {"A", "b"}}), &bad)
                .find("SPOTKEEPER_DRY_RUN"),
            std::string::npos);
}

TEST(LambdaCommandTest, WrongSettingIsPostedAsInitErrorAndExits2) {
  MapEnv env({{"AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"},
              {"AWS_REGION", "us-east-1"},
              {"SPOTKEEPER_SETTLE_WINDOW", "soon"}});
  net::FakeTransport http;
  http.Push(202, "");
  ManualClock clock;
  SeededRandom random(1);
  EXPECT_EQ(RunLambda(env, http, clock, random), 2);
  ASSERT_EQ(http.request_count(), 1u);
  auto request = http.requests()[0];
  EXPECT_EQ(request.url, "http://127.0.0.1:9001/2018-06-01/runtime/init/error");
  auto body = nlohmann::json::parse(request.body);
  EXPECT_EQ(body["errorType"], "Spotkeeper.InvalidConfig");
  EXPECT_NE(body["errorMessage"].get<std::string>().find("SPOTKEEPER_SETTLE_WINDOW"),
            std::string::npos)
      << body;
}

TEST(LambdaCommandTest, WithoutRuntimeApiExits2) {
  net::FakeTransport http;
  ManualClock clock;
  SeededRandom random(1);
  EXPECT_EQ(RunLambda(MapEnv(), http, clock, random), 2);
  EXPECT_EQ(http.request_count(), 0u);
}

}  // namespace
}  // namespace spk::cli
