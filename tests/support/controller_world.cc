#include "support/controller_world.h"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "aws/autoscaling.h"
#include "aws/cloudwatch.h"
#include "aws/ecs.h"

namespace spk::testsupport {
namespace {

using nlohmann::json;
constexpr char kAmi[] = "ami-12c6146b";

}  // namespace

std::string ControllerWorld::Unique(const std::string& prefix) {
  static std::atomic<int> n{0};
  return prefix + "-" + std::to_string(++n);
}

std::map<std::string, std::string> ControllerWorld::ProcessEnv(const MotoServer& server) {
  return {{"AWS_ENDPOINT_URL", server.endpoint()},
          {"AWS_REGION", "us-east-1"},
          {"AWS_ACCESS_KEY_ID", server.access_key_id()},
          {"AWS_SECRET_ACCESS_KEY", server.secret_access_key()},
          {"AWS_EC2_METADATA_DISABLED", "true"},
          {"AWS_CONFIG_FILE", "/dev/null"},
          {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"}};
}

std::string ControllerWorld::MakeFleet() {
  const std::string p = "SpotFleetRequestConfig.";
  auto created = client_.CallQuery(aws::services::Ec2(), "RequestSpotFleet",
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

std::string ControllerWorld::MakeUniformFleet(const std::string& type, int weight, int target) {
  const std::string p = "SpotFleetRequestConfig.";
  auto created =
      client_.CallQuery(aws::services::Ec2(), "RequestSpotFleet",
                        {{p + "IamFleetRole", "arn:aws:iam::123456789012:role/fleet"},
                         {p + "TargetCapacity", std::to_string(target)},
                         {p + "AllocationStrategy", "lowestPrice"},
                         {p + "LaunchSpecifications.1.ImageId", kAmi},
                         {p + "LaunchSpecifications.1.InstanceType", type},
                         {p + "LaunchSpecifications.1.WeightedCapacity", std::to_string(weight)}});
  EXPECT_TRUE(created.ok()) << created.status().ToString();
  if (!created.ok()) return "";
  return created.value()->document_element().child("spotFleetRequestId").text().get();
}

std::vector<aws::SpotFleetInstance> ControllerWorld::FleetInstances(const std::string& fleet) {
  aws::Ec2Client ec2(client_);
  auto instances = ec2.DescribeSpotFleetInstances(fleet);
  EXPECT_TRUE(instances.ok()) << instances.status().ToString();
  return instances.ok() ? *instances : std::vector<aws::SpotFleetInstance>{};
}

std::string ControllerWorld::MakeLaunchTemplate(const std::string& prefix,
                                                const std::string& type) {
  std::string lt = Unique(prefix);
  EXPECT_TRUE(client_
                  .CallQuery(aws::services::Ec2(), "CreateLaunchTemplate",
                             {{"LaunchTemplateName", lt},
                              {"LaunchTemplateData.ImageId", kAmi},
                              {"LaunchTemplateData.InstanceType", type}})
                  .ok());
  return lt;
}

std::string ControllerWorld::MakeEc2Fleet(const std::vector<std::pair<std::string, int>>& overrides,
                                          int target) {
  const std::string lt = MakeLaunchTemplate("ec2-fleet-lt", "m5.large");
  const std::string c = "LaunchTemplateConfigs.1.";
  aws::QueryParams params = {
      {"Type", "maintain"},
      {"TargetCapacitySpecification.TotalTargetCapacity", std::to_string(target)},
      {"TargetCapacitySpecification.DefaultTargetCapacityType", "spot"},
      {c + "LaunchTemplateSpecification.LaunchTemplateName", lt},
      {c + "LaunchTemplateSpecification.Version", "$Latest"}};
  for (size_t i = 0; i < overrides.size(); ++i) {
    const std::string o = c + "Overrides." + std::to_string(i + 1) + ".";
    params[o + "InstanceType"] = overrides[i].first;
    params[o + "WeightedCapacity"] = std::to_string(overrides[i].second);
  }
  auto created = client_.CallQuery(aws::services::Ec2(), "CreateFleet", params);
  EXPECT_TRUE(created.ok()) << created.status().ToString();
  if (!created.ok()) return "";
  return created.value()->document_element().child("fleetId").text().get();
}

std::vector<std::string> ControllerWorld::RunInstances(int count, const std::string& type) {
  auto r = client_.CallQuery(aws::services::Ec2(), "RunInstances",
                             {{"ImageId", kAmi},
                              {"InstanceType", type},
                              {"MinCount", std::to_string(count)},
                              {"MaxCount", std::to_string(count)}});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> ids;
  if (!r.ok()) return ids;
  for (pugi::xml_node item : r.value()->document_element().child("instancesSet").children("item")) {
    ids.push_back(item.child("instanceId").text().get());
  }
  return ids;
}

std::map<std::string, std::string> ControllerWorld::MakeCluster(
    const std::string& cluster, const std::vector<std::string>& instances) {
  std::map<std::string, std::string> arns;
  EXPECT_TRUE(
      client_.CallJson(aws::services::Ecs(), "CreateCluster", {{"clusterName", cluster}}).ok());
  for (const std::string& id : instances) {
    json doc = {{"instanceId", id}};
    auto r = client_.CallJson(aws::services::Ecs(), "RegisterContainerInstance",
                              {{"cluster", cluster}, {"instanceIdentityDocument", doc.dump()}});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) arns[id] = r.value()["containerInstance"].value("containerInstanceArn", "");
  }
  return arns;
}

std::string ControllerWorld::MakeOnDemandGroup(int desired) {
  const std::string lt = MakeLaunchTemplate("od-lt", "m5.xlarge");
  std::string group = Unique("od");
  auto r = client_.CallQuery(aws::services::AutoScaling(), "CreateAutoScalingGroup",
                             {{"AutoScalingGroupName", group},
                              {"MinSize", "0"},
                              {"MaxSize", "10"},
                              {"DesiredCapacity", std::to_string(desired)},
                              {"AvailabilityZones.member.1", "us-east-1a"},
                              {"LaunchTemplate.LaunchTemplateName", lt},
                              {"LaunchTemplate.Version", "$Latest"}});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return group;
}

std::string ControllerWorld::GroupArn(const std::string& group) {
  auto described = client_.CallQuery(aws::services::AutoScaling(), "DescribeAutoScalingGroups",
                                     {{"AutoScalingGroupNames.member.1", group}});
  EXPECT_TRUE(described.ok()) << described.status().ToString();
  if (!described.ok()) return "";
  return described.value()
      ->document_element()
      .child("DescribeAutoScalingGroupsResult")
      .child("AutoScalingGroups")
      .child("member")
      .child("AutoScalingGroupARN")
      .text()
      .get();
}

std::string ControllerWorld::MakeCapacityProvider(const std::string& cluster,
                                                  const std::string& group, bool managed_scaling) {
  std::string arn = GroupArn(group);
  EXPECT_FALSE(arn.empty());
  std::string provider = Unique("cp");
  json spec = {{"autoScalingGroupArn", arn},
               {"managedScaling",
                {{"status", managed_scaling ? "ENABLED" : "DISABLED"}, {"targetCapacity", 100}}}};
  auto created = client_.CallJson(aws::services::Ecs(), "CreateCapacityProvider",
                                  {{"name", provider}, {"autoScalingGroupProvider", spec}});
  EXPECT_TRUE(created.ok()) << created.status().ToString();
  auto put = client_.CallJson(aws::services::Ecs(), "PutClusterCapacityProviders",
                              {{"cluster", cluster},
                               {"capacityProviders", {provider, "FARGATE"}},
                               {"defaultCapacityProviderStrategy", json::array()}});
  EXPECT_TRUE(put.ok()) << put.status().ToString();
  return provider;
}

void ControllerWorld::MakeLaunchConfigurationGroup(const std::string& group,
                                                   const std::string& launch_configuration,
                                                   const std::string& type) {
  auto lc = client_.CallQuery(aws::services::AutoScaling(), "CreateLaunchConfiguration",
                              {{"LaunchConfigurationName", launch_configuration},
                               {"ImageId", kAmi},
                               {"InstanceType", type}});
  EXPECT_TRUE(lc.ok()) << lc.status().ToString();
  auto r = client_.CallQuery(aws::services::AutoScaling(), "CreateAutoScalingGroup",
                             {{"AutoScalingGroupName", group},
                              {"MinSize", "0"},
                              {"MaxSize", "10"},
                              {"DesiredCapacity", "0"},
                              {"AvailabilityZones.member.1", "us-east-1a"},
                              {"LaunchConfigurationName", launch_configuration}});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
}

void ControllerWorld::PutFleetMetrics(const std::string& fleet, double pending, double target) {
  aws::CloudWatchClient cw(client_);
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

std::string ControllerWorld::MakeQueue(int visibility_s, std::string* arn) {
  auto q =
      client_.CallJson(aws::services::Sqs(), "CreateQueue",
                       {{"QueueName", Unique("spk-ctl-q")},
                        {"Attributes", {{"VisibilityTimeout", std::to_string(visibility_s)}}}});
  EXPECT_TRUE(q.ok()) << q.status().ToString();
  std::string url = q.ok() ? q.value().value("QueueUrl", "") : "";
  if (arn) {
    auto attrs = client_.CallJson(aws::services::Sqs(), "GetQueueAttributes",
                                  {{"QueueUrl", url}, {"AttributeNames", {"QueueArn"}}});
    *arn = attrs.ok() ? attrs.value()["Attributes"].value("QueueArn", "") : "";
  }
  return url;
}

std::string ControllerWorld::MakeTopicFor(const std::string& queue_arn) {
  auto t =
      client_.CallQuery(aws::services::Sns(), "CreateTopic", {{"Name", Unique("spk-ctl-topic")}});
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  std::string topic =
      t.ok()
          ? t.value()->document_element().child("CreateTopicResult").child("TopicArn").text().get()
          : "";
  auto sub = client_.CallQuery(aws::services::Sns(), "Subscribe",
                               {{"TopicArn", topic}, {"Protocol", "sqs"}, {"Endpoint", queue_arn}});
  EXPECT_TRUE(sub.ok()) << sub.status().ToString();
  return topic;
}

std::string ControllerWorld::ContainerStatus(const std::string& cluster, const std::string& arn) {
  aws::EcsClient ecs(client_);
  auto r = ecs.DescribeContainerInstances(cluster, {arn});
  if (!r.ok() || r->container_instances.empty()) return "?";
  return r->container_instances[0].status;
}

int64_t ControllerWorld::Desired(const std::string& group) {
  aws::AutoScalingClient asg(client_);
  auto r = asg.DescribeAutoScalingGroups({group});
  if (!r.ok() || r->empty()) return -1;
  return r->front().desired_capacity;
}

int ReferenceInstancesRequired(double pending, const std::string& type) {
  double modifier = type.find("2xlarge") != std::string::npos  ? 8
                    : type.find("xlarge") != std::string::npos ? 4
                                                               : 2;
  return static_cast<int>((pending + modifier) / 4 + 0.999999);
}

MotoServer* ControllerWorldTest::server_ = nullptr;

void ControllerWorldTest::SetUpTestSuite() {
  auto started = MotoServer::Start();
  if (started.ok()) server_ = std::move(started).value().release();
}

void ControllerWorldTest::TearDownTestSuite() {
  delete server_;
  server_ = nullptr;
}

void ControllerWorldTest::SetUp() {
  ASSERT_NE(server_, nullptr) << "moto_server did not start";
  moto_ = server_->NewClient();
  world_ = std::make_unique<ControllerWorld>(moto_->client);
}

std::string AgentMessage(const std::string& instance, const std::string& type,
                         const std::string& cluster, const std::string& arn) {
  nlohmann::json m = {{"terminationNotificiation", "true"}, {"instanceId", instance}};
  if (!type.empty()) m["instanceType"] = type;
  m["ecsCluster"] = cluster;
  m["ecsContainer"] = arn;
  return m.dump();
}

}  // namespace spk::testsupport
