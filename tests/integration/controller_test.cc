// `spotkeeper handle-event` against moto_server with SigV4 checking on: a Spot
// Fleet with weighted launch specifications, an ECS cluster whose container
// instances are the fleet's instances, an on-demand Auto Scaling group, and
// AWS/EC2Spot metrics put with PutMetricData (moto has none built in).
#include <gtest/gtest.h>

#include <iostream>

#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aws/autoscaling.h"
#include "aws/cloudwatch.h"
#include "aws/ec2.h"
#include "aws/ecs.h"
#include "support/moto_server.h"
#include "support/process.h"

namespace spk {
namespace {

using nlohmann::json;
using testsupport::MotoServer;
using testsupport::RunProcess;
using testsupport::SpotkeeperBinary;

constexpr char kAmi[] = "ami-12c6146b";

class ControllerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = MotoServer::Start();
    if (started.ok()) server_ = std::move(started).value().release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(server_, nullptr) << "moto_server did not start";
    moto_ = server_->NewClient();
  }
  aws::AwsClient& client() { return moto_->client; }
  static std::string Unique(const std::string& prefix) {
    static std::atomic<int> n{0};
    return prefix + "-" + std::to_string(++n);
  }

  std::map<std::string, std::string> ProcessEnv() const {
    return {{"AWS_ENDPOINT_URL", server_->endpoint()},
            {"AWS_REGION", "us-east-1"},
            {"AWS_ACCESS_KEY_ID", server_->access_key_id()},
            {"AWS_SECRET_ACCESS_KEY", server_->secret_access_key()},
            {"AWS_EC2_METADATA_DISABLED", "true"},
            {"AWS_CONFIG_FILE", "/dev/null"},
            {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"}};
  }

  // A weighted fleet (c5.4xlarge weight 16, m5.large weight 2), target 16.
  std::string MakeFleet() {
    const std::string p = "SpotFleetRequestConfig.";
    auto created = client().CallQuery(aws::services::Ec2(), "RequestSpotFleet",
                                      {{p + "IamFleetRole", "arn:aws:iam::123456789012:role/fleet"},
                                       {p + "TargetCapacity", "16"},
                                       {p + "AllocationStrategy", "lowestPrice"},
                                       {p + "LaunchSpecifications.1.ImageId", kAmi},
                                       {p + "LaunchSpecifications.1.InstanceType", "c5.4xlarge"},
                                       {p + "LaunchSpecifications.1.WeightedCapacity", "16"},
                                       {p + "LaunchSpecifications.2.ImageId", kAmi},
                                       {p + "LaunchSpecifications.2.InstanceType", "m5.large"},
                                       {p + "LaunchSpecifications.2.WeightedCapacity", "2"}});
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    if (!created.ok()) return "";
    return created.value()->document_element().child("spotFleetRequestId").text().get();
  }

  // The cluster, with a container instance registered for each fleet instance.
  std::map<std::string, std::string> MakeCluster(const std::string& cluster,
                                                 const std::vector<std::string>& instances) {
    std::map<std::string, std::string> arns;  // instance id -> ARN
    EXPECT_TRUE(
        client().CallJson(aws::services::Ecs(), "CreateCluster", {{"clusterName", cluster}}).ok());
    for (const std::string& id : instances) {
      json doc = {{"instanceId", id}};
      auto r = client().CallJson(aws::services::Ecs(), "RegisterContainerInstance",
                                 {{"cluster", cluster}, {"instanceIdentityDocument", doc.dump()}});
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (r.ok()) arns[id] = r.value()["containerInstance"].value("containerInstanceArn", "");
    }
    return arns;
  }

  // An on-demand group of m5.xlarge (4 vCPUs), min 0, max 10, desired 1 (its
  // running instance tells the controller the type: with an empty group the
  // units come from --on-demand-units).
  std::string MakeOnDemandGroup() {
    std::string lt = Unique("od-lt");
    EXPECT_TRUE(client()
                    .CallQuery(aws::services::Ec2(), "CreateLaunchTemplate",
                               {{"LaunchTemplateName", lt},
                                {"LaunchTemplateData.ImageId", kAmi},
                                {"LaunchTemplateData.InstanceType", "m5.xlarge"}})
                    .ok());
    std::string group = Unique("od");
    auto r = client().CallQuery(aws::services::AutoScaling(), "CreateAutoScalingGroup",
                                {{"AutoScalingGroupName", group},
                                 {"MinSize", "0"},
                                 {"MaxSize", "10"},
                                 {"DesiredCapacity", "1"},
                                 {"AvailabilityZones.member.1", "us-east-1a"},
                                 {"LaunchTemplate.LaunchTemplateName", lt},
                                 {"LaunchTemplate.Version", "$Latest"}});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return group;
  }

  void PutFleetMetrics(const std::string& fleet, double pending, double target) {
    aws::CloudWatchClient cw(client());
    std::vector<aws::MetricDatum> data;
    for (auto [name, value] : {std::pair{"PendingCapacity", pending}, {"TargetCapacity", target}}) {
      aws::MetricDatum d;
      d.metric_name = name;
      d.dimensions = {{"FleetRequestId", fleet}};
      d.value = value;
      d.unit = "Count";
      data.push_back(d);
    }
    Status s = cw.PutMetricData("AWS/EC2Spot", data);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }

  std::string ContainerStatus(const std::string& cluster, const std::string& arn) {
    aws::EcsClient ecs(client());
    auto r = ecs.DescribeContainerInstances(cluster, {arn});
    if (!r.ok() || r->container_instances.empty()) return "?";
    return r->container_instances[0].status;
  }

  int64_t Desired(const std::string& group) {
    aws::AutoScalingClient asg(client());
    auto r = asg.DescribeAutoScalingGroups({group});
    if (!r.ok() || r->empty()) return -1;
    return r->front().desired_capacity;
  }

  static MotoServer* server_;
  std::unique_ptr<testsupport::MotoClient> moto_;
};

MotoServer* ControllerTest::server_ = nullptr;

// The reference Lambda's number (its formula, reference_policy.h): the
// modifier from the type's name, int((pending + modifier) / 4 + 0.999999).
int ReferenceInstancesRequired(double pending, const std::string& type) {
  double modifier = type.find("2xlarge") != std::string::npos  ? 8
                    : type.find("xlarge") != std::string::npos ? 4
                                                               : 2;
  return static_cast<int>((pending + modifier) / 4 + 0.999999);
}

TEST_F(ControllerTest, SnsTerminationMessageDrainsAndScalesOnDemand) {
  std::string fleet = MakeFleet();
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
  std::string cluster = Unique("spot-cluster");
  auto arns = MakeCluster(cluster, ids);
  std::string group = MakeOnDemandGroup();
  const double pending = 6;
  PutFleetMetrics(fleet, pending, 16);

  const std::string agent_message = json{
      {"terminationNotificiation", "true"},
      {"instanceId", victim.instance_id},
      {"instanceType", victim.instance_type},
      {"ecsCluster", cluster},
      {"ecsContainer",
       arns[victim.instance_id]}}.dump();
  const std::string sns_event =
      json{{"Records", {{{"EventSource", "aws:sns"}, {"Sns", {{"Message", agent_message}}}}}}}
          .dump();
  const std::vector<std::string> argv = {SpotkeeperBinary(),
                                         "handle-event",
                                         "-",
                                         "--cluster",
                                         cluster,
                                         "--spot-fleet-id",
                                         fleet,
                                         "--on-demand-asg",
                                         group,
                                         "--pending-source",
                                         "cloudwatch"};

  // --dry-run: decides, changes nothing.
  std::vector<std::string> dry = argv;
  dry.push_back("--dry-run");
  auto d = RunProcess(dry, ProcessEnv(), std::chrono::seconds(60), sns_event);
  ASSERT_EQ(d.exit_code, 0) << d.out << d.err;
  EXPECT_EQ(json::parse(d.out)["dry_run"], true);
  EXPECT_FALSE(json::parse(d.out)["actions"].empty()) << d.out;
  EXPECT_EQ(ContainerStatus(cluster, arns[victim.instance_id]), "ACTIVE");
  EXPECT_EQ(Desired(group), 1);

  auto r = RunProcess(argv, ProcessEnv(), std::chrono::seconds(60), sns_event);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ContainerStatus(cluster, arns[victim.instance_id]), "DRAINING");
  for (const auto& [id, arn] : arns) {
    if (id != victim.instance_id) {
      EXPECT_EQ(ContainerStatus(cluster, arn), "ACTIVE");
    }
  }
  // spotkeeper: pending plus the lost instance's weight, over the group's
  // m5.xlarge vCPUs (4), rounded up.
  const double weight = victim.instance_type == "c5.4xlarge" ? 16 : 2;
  const int spotkeeper = static_cast<int>(std::ceil((pending + weight) / 4));
  const int reference = ReferenceInstancesRequired(pending, victim.instance_type);
  EXPECT_EQ(Desired(group), spotkeeper) << r.out;
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
  auto again = RunProcess(argv, ProcessEnv(), std::chrono::seconds(60), sns_event);
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  json again_report = json::parse(again.out);
  EXPECT_TRUE(again_report["fast_path"].empty()) << again.out;
  EXPECT_TRUE(again_report["actions"].empty()) << again.out;
  EXPECT_EQ(Desired(group), spotkeeper);

  // A malformed event: non-zero, a clear message, nothing changed.
  auto bad = RunProcess(argv, ProcessEnv(), std::chrono::seconds(60), "{\"Records\": [");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("not JSON"), std::string::npos) << bad.err;
  EXPECT_EQ(Desired(group), spotkeeper);
}

TEST_F(ControllerTest, WrongSettingIsOneLineAndExit2) {
  auto r = RunProcess({SpotkeeperBinary(), "handle-event", "-", "--on-rebalance", "panic"},
                      ProcessEnv(), std::chrono::seconds(30), "{}");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--on-rebalance"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace spk
