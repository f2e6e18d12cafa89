// `spotkeeper handle-event` against moto_server with SigV4 checking on: a Spot
// Fleet with weighted launch specifications, an ECS cluster whose container
// instances are the fleet's instances, an on-demand Auto Scaling group, and
// AWS/EC2Spot metrics put with PutMetricData (moto has none built in).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "aws/autoscaling.h"
#include "aws/ec2.h"
#include "aws/ecs.h"
#include "base/clock.h"
#include "support/child_process.h"
#include "support/controller_world.h"
#include "support/moto_server.h"
#include "support/process.h"

namespace spk {
namespace {

using nlohmann::json;
using testsupport::AgentMessage;
using testsupport::ControllerWorld;
using testsupport::MotoServer;
using testsupport::ReferenceInstancesRequired;
using testsupport::RunProcess;
using testsupport::SpotkeeperBinary;

// The reference notifier's message as SNS delivers it to the Lambda.
std::string SnsEvent(const std::string& message) {
  return json{{"Records", {{{"EventSource", "aws:sns"}, {"Sns", {{"Message", message}}}}}}}.dump();
}

// handle-event on stdin for these sources and group, then `extra`.
std::vector<std::string> HandleEventArgv(const std::string& cluster, const std::string& fleet,
                                         const std::string& group,
                                         const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {
      SpotkeeperBinary(), "handle-event", "-", "--cluster", cluster, "--spot-fleet-id", fleet,
      "--on-demand-asg",  group};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

// One moto_server for the suite (support/controller_world.h).
class ControllerTest : public testsupport::ControllerWorldTest {};

TEST_F(ControllerTest, SnsTerminationMessageDrainsAndScalesOnDemand) {
  std::string fleet = world_->MakeFleet();
  ASSERT_FALSE(fleet.empty());
  aws::Ec2Client ec2(client());
  auto instances = ec2.DescribeSpotFleetInstances(fleet);
  ASSERT_TRUE(instances.ok() && !instances->empty()) << instances.status().ToString();
  // Interrupt the c5.4xlarge when moto launched one: there the reference's
  // guess from the name (4) and the fleet's weight (16) differ.
  aws::SpotFleetInstance victim = instances->front();
  for (const auto& i : *instances) {
    if (i.instance_type == "c5.4xlarge") victim = i;
  }
  std::cout << "interrupting a " << victim.instance_type << " of the fleet\n";
  std::vector<std::string> ids;
  for (const auto& i : *instances) ids.push_back(i.instance_id);
  std::string cluster = ControllerWorld::Unique("spot-cluster");
  auto arns = world_->MakeCluster(cluster, ids);
  std::string group = world_->MakeOnDemandGroup();
  const double pending = 6;
  world_->PutFleetMetrics(fleet, pending, 16);

  const std::string sns_event = SnsEvent(
      AgentMessage(victim.instance_id, victim.instance_type, cluster, arns[victim.instance_id]));
  const std::vector<std::string> argv =
      HandleEventArgv(cluster, fleet, group, {"--pending-source", "cloudwatch"});

  // --dry-run: decides, changes nothing. The same settings from a --config file.
  const std::string config_path = ::testing::TempDir() + "/" + cluster + ".yaml";
  std::ofstream(config_path) << "cluster: [" << cluster << "]\n"
                             << "spot-fleet-id: " << fleet << "\n"
                             << "on-demand-asg: " << group << "\n"
                             << "pending-source: cloudwatch\n"
                             << "dry-run: true\n";
  auto d = RunProcess({SpotkeeperBinary(), "handle-event", "-", "--config", config_path},
                      ControllerWorld::ProcessEnv(*server_), std::chrono::seconds(60), sns_event);
  ASSERT_EQ(d.exit_code, 0) << d.out << d.err;
  EXPECT_EQ(json::parse(d.out)["dry_run"], true);
  EXPECT_FALSE(json::parse(d.out)["actions"].empty()) << d.out;
  EXPECT_EQ(world_->ContainerStatus(cluster, arns[victim.instance_id]), "ACTIVE");
  EXPECT_EQ(world_->Desired(group), 1);

  auto r =
      RunProcess(argv, ControllerWorld::ProcessEnv(*server_), std::chrono::seconds(60), sns_event);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(world_->ContainerStatus(cluster, arns[victim.instance_id]), "DRAINING");
  for (const auto& [id, arn] : arns) {
    if (id != victim.instance_id) {
      EXPECT_EQ(world_->ContainerStatus(cluster, arn), "ACTIVE");
    }
  }
  // spotkeeper: pending plus the lost instance's weight, over the group's
  // m5.xlarge vCPUs (4), rounded up.
  const double weight = victim.instance_type == "c5.4xlarge" ? 16 : 2;
  const int spotkeeper = static_cast<int>(std::ceil((pending + weight) / 4));
  const int reference = ReferenceInstancesRequired(pending, victim.instance_type);
  EXPECT_EQ(world_->Desired(group), spotkeeper) << r.out;
  // The reference guesses the capacity from the name: c5.4xlarge -> 4 (not
  // its weight 16: 3 instances instead of 6), m5.large -> 2 (its weight: the
  // same number). Where the name happens to match the weight, they agree.
  if (victim.instance_type == "m5.large") {
    EXPECT_EQ(spotkeeper, reference);
  } else {
    EXPECT_EQ(reference, 3);
    EXPECT_EQ(spotkeeper, 6);
  }

  // The same notice again: nothing drained or scaled a second time.
  auto again =
      RunProcess(argv, ControllerWorld::ProcessEnv(*server_), std::chrono::seconds(60), sns_event);
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  json again_report = json::parse(again.out);
  EXPECT_TRUE(again_report["fast_path"].empty()) << again.out;
  EXPECT_TRUE(again_report["actions"].empty()) << again.out;
  EXPECT_EQ(world_->Desired(group), spotkeeper);

  // A malformed event: non-zero, a clear message, nothing changed.
  auto bad = RunProcess(argv, ControllerWorld::ProcessEnv(*server_), std::chrono::seconds(60),
                        "{\"Records\": [");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("not JSON"), std::string::npos) << bad.err;
  EXPECT_EQ(world_->Desired(group), spotkeeper);
}

// Issue 15 item 1: an on-demand group behind a capacity provider with
// managed scaling is ECS's to size: the notice drains, the group stays as it
// is, the report says why, and doctor says so too. Managed scaling off: sized.
TEST_F(ControllerTest, AGroupACapacityProviderSizesIsNeverResized) {
  std::string fleet = world_->MakeFleet();
  ASSERT_FALSE(fleet.empty());
  aws::Ec2Client ec2(client());
  auto instances = ec2.DescribeSpotFleetInstances(fleet);
  ASSERT_TRUE(instances.ok() && !instances->empty()) << instances.status().ToString();
  std::vector<std::string> ids;
  for (const auto& i : *instances) ids.push_back(i.instance_id);
  std::string cluster = ControllerWorld::Unique("cp-cluster");
  auto arns = world_->MakeCluster(cluster, ids);
  std::string group = world_->MakeOnDemandGroup(0);
  std::string provider = world_->MakeCapacityProvider(cluster, group, true);
  ASSERT_FALSE(provider.empty());
  const aws::SpotFleetInstance& victim = instances->front();
  const std::string sns_event = SnsEvent(
      AgentMessage(victim.instance_id, victim.instance_type, cluster, arns[victim.instance_id]));
  const auto argv = HandleEventArgv(cluster, fleet, group, {});

  auto r =
      RunProcess(argv, ControllerWorld::ProcessEnv(*server_), std::chrono::seconds(60), sns_event);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(world_->ContainerStatus(cluster, arns[victim.instance_id]), "DRAINING");
  EXPECT_EQ(world_->Desired(group), 0) << r.out;
  const std::string note = "on-demand group " + group + " belongs to capacity provider " +
                           provider + " with managed scaling: ECS sizes it";
  EXPECT_NE(r.out.find(note), std::string::npos) << r.out;

  auto doctor = RunProcess({SpotkeeperBinary(), "doctor", "--on-demand-asg", group, "--cluster",
                            cluster},
                           ControllerWorld::ProcessEnv(*server_), std::chrono::seconds(60));
  EXPECT_NE(doctor.out.find(group + ": sized by ECS (capacity provider " + provider +
                            " with managed scaling): spotkeeper never resizes it"),
            std::string::npos)
      << doctor.out << doctor.err;

  // The same on a cluster whose provider does not scale the group: sized.
  std::string other = ControllerWorld::Unique("cp-cluster");
  auto other_arns = world_->MakeCluster(other, ids);
  std::string sized = world_->MakeOnDemandGroup(0);
  ASSERT_FALSE(world_->MakeCapacityProvider(other, sized, false).empty());
  const std::string other_event = SnsEvent(
      AgentMessage(victim.instance_id, victim.instance_type, other, other_arns[victim.instance_id]));
  auto s = RunProcess(HandleEventArgv(other, fleet, sized, {}),
                      ControllerWorld::ProcessEnv(*server_), std::chrono::seconds(60), other_event);
  ASSERT_EQ(s.exit_code, 0) << s.out << s.err;
  EXPECT_GE(world_->Desired(sized), 1) << s.out;
}

// Issue 13: the reference cluster's on-demand group, ecsSpotAutoScale, is
// built on a launch configuration and starts empty: its units per instance
// come from the configuration's instance type, without --on-demand-units.
// A suite of its own: the reference's names, on a fresh moto_server.
class ReferenceClusterTest : public testsupport::ControllerWorldTest {};

TEST_F(ReferenceClusterTest, LaunchConfigurationGroupIsSizedAsTheReferenceLambdaSizesIt) {
  const std::string group = "ecsSpotAutoScale";
  // m5.xlarge: 4 vCPUs, the reference Lambda's asgPerServerVCPU.
  world_->MakeLaunchConfigurationGroup(group, "ecsLC", "m5.xlarge");
  std::string fleet = world_->MakeUniformFleet("c5.xlarge", 4, 8);
  ASSERT_FALSE(fleet.empty());
  std::vector<aws::SpotFleetInstance> instances = world_->FleetInstances(fleet);
  ASSERT_FALSE(instances.empty());
  std::vector<std::string> ids;
  for (const auto& i : instances) ids.push_back(i.instance_id);
  std::string cluster = ControllerWorld::Unique("ecs-reference");
  auto arns = world_->MakeCluster(cluster, ids);
  const double pending = 4;
  world_->PutFleetMetrics(fleet, pending, 8);
  const aws::SpotFleetInstance& victim = instances.front();
  const std::string sns_event = SnsEvent(
      AgentMessage(victim.instance_id, victim.instance_type, cluster, arns[victim.instance_id]));
  const auto env = ControllerWorld::ProcessEnv(*server_);
  const std::string units_line =
      "ecsSpotAutoScale: 4 units per instance (launch configuration ecsLC: m5.xlarge, 4 vCPUs)";

  // doctor says how the group's units per instance are found.
  auto doctor = RunProcess({SpotkeeperBinary(), "doctor", "--on-demand-asg", group}, env);
  EXPECT_EQ(doctor.exit_code, 0) << doctor.out << doctor.err;
  EXPECT_NE(doctor.out.find("on-demand:   " + units_line + "\n"), std::string::npos) << doctor.out;

  const std::vector<std::string> argv =
      HandleEventArgv(cluster, fleet, group, {"--pending-source", "cloudwatch"});
  // The --dry-run decision says it too, and changes nothing.
  std::vector<std::string> dry = argv;
  dry.push_back("--dry-run");
  auto d = RunProcess(dry, env, std::chrono::seconds(60), sns_event);
  ASSERT_EQ(d.exit_code, 0) << d.out << d.err;
  json decided = json::parse(d.out);
  EXPECT_TRUE(decided["skipped"].empty()) << d.out;
  EXPECT_NE(std::find(decided["notes"].begin(), decided["notes"].end(), units_line),
            decided["notes"].end())
      << d.out;
  EXPECT_EQ(world_->Desired(group), 0);

  auto r = RunProcess(argv, env, std::chrono::seconds(60), sns_event);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(world_->ContainerStatus(cluster, arns[victim.instance_id]), "DRAINING");
  // The reference Lambda: int((4 + 4 for an xlarge) / 4 + 0.999999) = 2;
  // spotkeeper: (pending 4 + the lost c5.xlarge's weight 4) / 4 vCPUs = 2.
  const int reference = ReferenceInstancesRequired(pending, victim.instance_type);
  EXPECT_EQ(reference, 2);
  EXPECT_EQ(world_->Desired(group), reference) << r.out;
}

TEST_F(ControllerTest, ForgedNoticeNamingAnotherInstancesContainerIsRefused) {
  std::vector<std::string> ids = world_->RunInstances(2);
  ASSERT_EQ(ids.size(), 2u);
  std::string cluster = ControllerWorld::Unique("forged");
  auto arns = world_->MakeCluster(cluster, ids);
  // Instance 0 claims an interruption, with instance 1's container instance.
  const std::string forged = AgentMessage(ids[0], "m5.large", cluster, arns[ids[1]]);
  auto r = RunProcess({SpotkeeperBinary(), "handle-event", "-", "--cluster", cluster},
                      ControllerWorld::ProcessEnv(*server_), std::chrono::seconds(60), forged);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("refused: container instance " + arns[ids[1]] + " belongs to " + ids[1]),
            std::string::npos)
      << r.err;
  for (const auto& [id, arn] : arns) EXPECT_EQ(world_->ContainerStatus(cluster, arn), "ACTIVE");

  // A notice for a cluster outside --cluster: refused, nothing read or drained there.
  const std::string foreign = AgentMessage(ids[1], "", cluster, arns[ids[1]]);
  auto f = RunProcess({SpotkeeperBinary(), "handle-event", "-", "--cluster", "another-cluster"},
                      ControllerWorld::ProcessEnv(*server_), std::chrono::seconds(60), foreign);
  EXPECT_EQ(f.exit_code, 1) << f.out << f.err;
  EXPECT_NE(f.err.find("refused: cluster " + cluster + " is not configured"), std::string::npos)
      << f.err;
  EXPECT_EQ(world_->ContainerStatus(cluster, arns[ids[1]]), "ACTIVE");
}

// Issue 11: two deciders at the same moment, each given the reference
// termination message of a different spot instance, then a fresh one given
// only {"fleetID": ...} (a Lambda cold start, a restarted controller): every
// decider counts the notices the others recorded on the container instances,
// so the group ends where one process that saw both notices puts it.
TEST_F(ControllerTest, ConcurrentDecidersAndAFreshOneCountEveryNotice) {
  // Four c5.xlarge of weight 4: one lost instance needs one m5.xlarge (4
  // vCPUs) of the empty on-demand group, two need two.
  std::string fleet = world_->MakeUniformFleet("c5.xlarge", 4, 16);
  ASSERT_FALSE(fleet.empty());
  std::vector<aws::SpotFleetInstance> instances = world_->FleetInstances(fleet);
  ASSERT_GE(instances.size(), 2u);
  std::vector<std::string> ids;
  for (const auto& i : instances) ids.push_back(i.instance_id);
  const std::string cluster = ControllerWorld::Unique("deciders");
  auto arns = world_->MakeCluster(cluster, ids);
  const std::string group = world_->MakeOnDemandGroup(0);
  world_->PutFleetMetrics(fleet, 0, 16);  // pending 0: only the notices count
  const aws::SpotFleetInstance first = instances[0];
  const aws::SpotFleetInstance second = instances[1];

  const std::vector<std::string> settings = {
      "--cluster",       cluster, "--spot-fleet-id",  fleet,
      "--on-demand-asg", group,   "--pending-source", "cloudwatch"};
  auto argv_for = [&](const std::string& file) {
    std::vector<std::string> argv = {SpotkeeperBinary(), "handle-event", file};
    argv.insert(argv.end(), settings.begin(), settings.end());
    return argv;
  };
  std::vector<std::unique_ptr<testsupport::ChildProcess>> deciders;
  for (const aws::SpotFleetInstance& victim : {first, second}) {
    const std::string message =
        AgentMessage(victim.instance_id, victim.instance_type, cluster, arns[victim.instance_id]);
    const std::string path = ::testing::TempDir() + "/" + victim.instance_id + ".json";
    std::ofstream(path) << json{{"Records",
                                 {{{"EventSource", "aws:sns"}, {"Sns", {{"Message", message}}}}}}}
                               .dump();
    deciders.push_back(std::make_unique<testsupport::ChildProcess>(
        argv_for(path), ControllerWorld::ProcessEnv(*server_)));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (auto& decider : deciders) {
    while (decider->Running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(decider->Stop(), 0) << decider->Log();
  }
  // Each saw at least its own notice.
  EXPECT_GE(world_->Desired(group), 1);

  // A fresh process, started from nothing, asked to size the fleet.
  auto fresh = RunProcess(argv_for("-"), ControllerWorld::ProcessEnv(*server_),
                          std::chrono::seconds(60), json{{"fleetID", fleet}}.dump());
  ASSERT_EQ(fresh.exit_code, 0) << fresh.out << fresh.err;
  EXPECT_EQ(world_->Desired(group), 2) << fresh.out;
  // Each noticed container instance carries its notice, as every decider reads it.
  aws::EcsClient ecs(client());
  std::vector<std::string> all;
  for (const auto& [id, arn] : arns) all.push_back(arn);
  auto described = ecs.DescribeContainerInstances(cluster, all);
  ASSERT_TRUE(described.ok()) << described.status().ToString();
  for (const aws::ContainerInstance& ci : described->container_instances) {
    const bool noticed =
        ci.ec2_instance_id == first.instance_id || ci.ec2_instance_id == second.instance_id;
    EXPECT_EQ(ci.status, noticed ? "DRAINING" : "ACTIVE") << ci.ec2_instance_id;
    auto record = ci.attributes.find("spotkeeper.notice");
    if (noticed) {
      ASSERT_NE(record, ci.attributes.end()) << ci.ec2_instance_id;
      EXPECT_EQ(record->second.rfind("spot-interruption@", 0), 0u) << record->second;
    } else {
      EXPECT_EQ(record, ci.attributes.end()) << ci.ec2_instance_id;
    }
  }
}

TEST_F(ControllerTest, EmptyOnDemandGroupIsSizedFromItsLaunchTemplate) {
  std::string fleet = world_->MakeFleet();
  ASSERT_FALSE(fleet.empty());
  std::string group = world_->MakeOnDemandGroup(/*desired=*/0);
  const double pending = 6;
  world_->PutFleetMetrics(fleet, pending, 16);
  auto r = RunProcess({SpotkeeperBinary(), "handle-event", "-", "--spot-fleet-id", fleet,
                       "--on-demand-asg", group, "--pending-source", "cloudwatch", "--dry-run"},
                      ControllerWorld::ProcessEnv(*server_), std::chrono::seconds(60),
                      json{{"fleetID", fleet}}.dump());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  json report = json::parse(r.out);
  // No instance to read the type from: the launch template's m5.xlarge, 4 vCPUs.
  EXPECT_TRUE(report["skipped"].empty()) << r.out;
  EXPECT_EQ(report["on_demand_needed"], static_cast<int>(std::ceil(pending / 4))) << r.out;
}

// The agent's message for an active scheduled event of `instance` starting at
// `not_before` (agent/message.cc: noticeTime is the event's NotBefore).
std::string MaintenanceMessage(const std::string& instance, const std::string& cluster,
                               const std::string& arn, std::chrono::system_clock::time_point at) {
  return json{{"terminationNotificiation", "false"},
              {"kind", "scheduled-maintenance"},
              {"action", "system-reboot"},
              {"instanceId", instance},
              {"ecsCluster", cluster},
              {"ecsContainer", arn},
              {"eventId", "instance-event-" + instance},
              {"noticeTime", FormatIso8601(at)}}
      .dump();
}

TEST_F(ControllerTest, ScheduledMaintenanceDaysAheadIsNotDrainedNow) {
  // Two spot instances of 4 units each; one on-demand m5.xlarge (4 vCPUs)
  // covers one of them.
  std::string fleet = world_->MakeUniformFleet("m5.xlarge", 4, 8);
  ASSERT_FALSE(fleet.empty());
  std::vector<std::string> ids;
  for (const auto& i : world_->FleetInstances(fleet)) ids.push_back(i.instance_id);
  ASSERT_EQ(ids.size(), 2u);
  // An instance of no spot source: on-demand capacity in the cluster.
  std::vector<std::string> on_demand = world_->RunInstances(1, "m5.xlarge");
  ASSERT_EQ(on_demand.size(), 1u);
  std::string cluster = ControllerWorld::Unique("maint-cluster");
  std::vector<std::string> all = ids;
  all.push_back(on_demand[0]);
  auto arns = world_->MakeCluster(cluster, all);
  std::string group = world_->MakeOnDemandGroup(/*desired=*/0);
  const auto now = std::chrono::system_clock::now();
  auto handle = [&](const std::string& message, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv =
        HandleEventArgv(cluster, fleet, group, {"--on-rebalance", "drain"});
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunProcess(argv, ControllerWorld::ProcessEnv(*server_), std::chrono::seconds(60),
                      message);
  };

  // Three days ahead, --on-rebalance drain: recorded, nothing drained or added.
  auto days =
      handle(MaintenanceMessage(ids[0], cluster, arns[ids[0]], now + std::chrono::hours(72)));
  ASSERT_EQ(days.exit_code, 0) << days.out << days.err;
  json report = json::parse(days.out);
  EXPECT_EQ(report["event"]["notice_kind"], "scheduled-maintenance") << days.out;
  EXPECT_TRUE(report["fast_path"].empty()) << days.out;
  ASSERT_EQ(report["recorded"].size(), 1u) << days.out;
  EXPECT_EQ(report["recorded"][0]["instances"], json::array({ids[0]})) << days.out;
  EXPECT_EQ(world_->ContainerStatus(cluster, arns[ids[0]]), "ACTIVE");
  EXPECT_EQ(world_->Desired(group), 0);

  // The on-demand instance's maintenance 4 minutes ahead (due, past half of
  // the default 10m): drained, and no on-demand added for it.
  auto od = handle(
      MaintenanceMessage(on_demand[0], cluster, arns[on_demand[0]], now + std::chrono::minutes(4)));
  ASSERT_EQ(od.exit_code, 0) << od.out << od.err;
  EXPECT_EQ(world_->ContainerStatus(cluster, arns[on_demand[0]]), "DRAINING");
  EXPECT_EQ(world_->Desired(group), 0) << od.out;

  // The other spot instance's maintenance 20 minutes ahead: not due with the
  // default --maintenance-drain-before (10m) ...
  const std::string soon =
      MaintenanceMessage(ids[1], cluster, arns[ids[1]], now + std::chrono::minutes(20));
  auto early = handle(soon);
  ASSERT_EQ(early.exit_code, 0) << early.out << early.err;
  EXPECT_EQ(world_->ContainerStatus(cluster, arns[ids[1]]), "ACTIVE");
  EXPECT_EQ(world_->Desired(group), 0) << early.out;
  // ... due with 60m (and past its half): covered and drained. The days-ahead
  // one, recorded on its container instance, still counts for nothing.
  auto due = handle(soon, {"--maintenance-drain-before", "60m"});
  ASSERT_EQ(due.exit_code, 0) << due.out << due.err;
  EXPECT_EQ(world_->ContainerStatus(cluster, arns[ids[1]]), "DRAINING");
  EXPECT_EQ(world_->Desired(group), 1) << due.out;
  EXPECT_EQ(world_->ContainerStatus(cluster, arns[ids[0]]), "ACTIVE");
}

// Issue 13: an EC2 Fleet as the spot capacity source. The reference
// termination message for one of its instances drains that instance and
// sizes the on-demand group from the fleet's weights (DescribeFleets),
// instances from DescribeFleetInstances, pending = target - fulfilled.
TEST_F(ControllerTest, Ec2FleetNoticeDrainsAndSizesOnDemandFromTheFleetsWeights) {
  // c5.4xlarge of weight 8: its vCPUs (16) and the reference's guess from its
  // name (4) both differ.
  const std::string fleet = world_->MakeEc2Fleet({{"c5.4xlarge", 8}, {"m5.large", 1}}, 16);
  ASSERT_FALSE(fleet.empty());
  aws::Ec2Client ec2(client());
  auto fleets = ec2.DescribeFleets({fleet});
  ASSERT_TRUE(fleets.ok() && fleets->size() == 1) << fleets.status().ToString();
  const double pending = std::max(0.0, static_cast<double>(fleets->front().total_target_capacity) -
                                           fleets->front().fulfilled_capacity);
  auto instances = ec2.DescribeFleetInstances(fleet);
  ASSERT_TRUE(instances.ok() && !instances->empty()) << instances.status().ToString();
  const aws::SpotFleetInstance victim = instances->front();
  ASSERT_EQ(victim.instance_type, "c5.4xlarge");
  std::vector<std::string> ids;
  for (const auto& i : *instances) ids.push_back(i.instance_id);
  const std::string cluster = ControllerWorld::Unique("ec2-fleet-cluster");
  auto arns = world_->MakeCluster(cluster, ids);
  const std::string group = world_->MakeOnDemandGroup(0);
  const std::string message =
      AgentMessage(victim.instance_id, victim.instance_type, cluster, arns[victim.instance_id]);
  const std::string sns_event =
      json{{"Records", {{{"EventSource", "aws:sns"}, {"Sns", {{"Message", message}}}}}}}.dump();

  // The YAML key, with --dry-run: decides from the fleet, changes nothing.
  const std::string config_path = ::testing::TempDir() + "/" + cluster + ".yaml";
  std::ofstream(config_path) << "cluster: [" << cluster << "]\n"
                             << "ec2-fleet-id: " << fleet << "\n"
                             << "on-demand-asg: " << group << "\n"
                             << "dry-run: true\n";
  auto d = RunProcess({SpotkeeperBinary(), "handle-event", "-", "--config", config_path},
                      ControllerWorld::ProcessEnv(*server_), std::chrono::seconds(60), sns_event);
  ASSERT_EQ(d.exit_code, 0) << d.out << d.err;
  EXPECT_EQ(json::parse(d.out)["shortfall_units"], pending + 8) << d.out;
  EXPECT_EQ(world_->ContainerStatus(cluster, arns[victim.instance_id]), "ACTIVE");
  EXPECT_EQ(world_->Desired(group), 0);

  // The flag: drained, and pending plus the weight 8 over the group's
  // m5.xlarge vCPUs (4), rounded up.
  auto r = RunProcess({SpotkeeperBinary(), "handle-event", "-", "--cluster", cluster,
                       "--ec2-fleet-id", fleet, "--on-demand-asg", group},
                      ControllerWorld::ProcessEnv(*server_), std::chrono::seconds(60), sns_event);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  json report = json::parse(r.out);
  EXPECT_TRUE(report["skipped"].empty()) << r.out;
  EXPECT_EQ(world_->ContainerStatus(cluster, arns[victim.instance_id]), "DRAINING");
  for (const auto& [id, arn] : arns) {
    if (id != victim.instance_id) {
      EXPECT_EQ(world_->ContainerStatus(cluster, arn), "ACTIVE");
    }
  }
  const int expected = static_cast<int>(std::ceil((pending + 8) / 4));
  EXPECT_EQ(world_->Desired(group), expected) << r.out;
  EXPECT_NE(expected, static_cast<int>(std::ceil((pending + 16) / 4))) << "not its vCPUs";
  EXPECT_NE(expected, ReferenceInstancesRequired(pending, victim.instance_type));
  // The guard's record of the fleet's target, on the group.
  aws::AutoScalingClient asg(client());
  auto groups = asg.DescribeAutoScalingGroups({group});
  ASSERT_TRUE(groups.ok() && groups->size() == 1) << groups.status().ToString();
  EXPECT_EQ(groups->front().tags["spotkeeper:target:" + fleet], "16");

  // The variable, and {"fleetID": ...} naming it: read as an EC2 Fleet;
  // another EC2 Fleet's id is refused.
  auto env = ControllerWorld::ProcessEnv(*server_);
  env["SPOTKEEPER_EC2_FLEET_ID"] = fleet;
  auto direct = RunProcess({SpotkeeperBinary(), "handle-event", "-", "--cluster", cluster,
                            "--on-demand-asg", group, "--dry-run"},
                           env, std::chrono::seconds(60), json{{"fleetID", fleet}}.dump());
  ASSERT_EQ(direct.exit_code, 0) << direct.out << direct.err;
  EXPECT_EQ(json::parse(direct.out)["shortfall_units"], pending + 8) << direct.out;
  const std::string other = "fleet-00000000-0000-0000-0000-000000000000";
  auto refused = RunProcess({SpotkeeperBinary(), "handle-event", "-", "--dry-run"}, env,
                            std::chrono::seconds(60), json{{"fleetID", other}}.dump());
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("EC2 Fleet " + other + " is not configured (--ec2-fleet-id)"),
            std::string::npos)
      << refused.err;
}

TEST_F(ControllerTest, WrongSettingIsOneLineAndExit2) {
  auto r = RunProcess({SpotkeeperBinary(), "handle-event", "-", "--on-rebalance", "panic"},
                      ControllerWorld::ProcessEnv(*server_), std::chrono::seconds(30), "{}");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--on-rebalance"), std::string::npos) << r.err;
  const std::string config_path = ::testing::TempDir() + "/wrong-setting.yaml";
  std::ofstream(config_path) << "cluster: [web]\nsettle-windw: 5m\n";
  auto c = RunProcess({SpotkeeperBinary(), "handle-event", "-", "--config", config_path},
                      ControllerWorld::ProcessEnv(*server_), std::chrono::seconds(30), "{}");
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_NE(c.err.find("unknown setting \"settle-windw\""), std::string::npos) << c.err;
  EXPECT_EQ(std::count(c.err.begin(), c.err.end(), '\n'), 1) << c.err;
}

}  // namespace
}  // namespace spk
