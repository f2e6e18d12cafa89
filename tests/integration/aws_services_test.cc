// The typed service clients (src/aws/{ec2,autoscaling,cloudwatch,sns,sqs,ecs,sts}.h)
// against a real moto_server with SigV4 checking on. Resources the product
// never creates (fleets, clusters, groups, queues, topics) are created here
// through AwsClient::CallQuery / CallJson directly.
//
// One moto_server per suite; every test names its resources uniquely, so the
// tests do not depend on their order.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <set>

#include "aws/autoscaling.h"
#include "aws/cloudwatch.h"
#include "aws/ec2.h"
#include "aws/ecs.h"
#include "aws/sns.h"
#include "aws/sqs.h"
#include "aws/sts.h"
#include "support/moto_server.h"

namespace spk::aws {
namespace {

using ::testing::ElementsAre;
using ::testing::Optional;
using ::testing::SizeIs;
using testsupport::MotoClient;
using testsupport::MotoServer;

#define SPK_TEST_CONCAT_INNER(a, b) a##b
#define SPK_TEST_CONCAT(a, b) SPK_TEST_CONCAT_INNER(a, b)
#define ASSERT_OK(expr)                              \
  do {                                               \
    const ::spk::Status spk_st_ = (expr);            \
    ASSERT_TRUE(spk_st_.ok()) << spk_st_.ToString(); \
  } while (0)
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(SPK_TEST_CONCAT(spk_r_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr)   \
  auto tmp = (expr);                                \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString(); \
  lhs = std::move(tmp).value()

constexpr char kAmi[] = "ami-12c6146b";  // one of moto's built-in images

class AwsServicesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = MotoServer::Start();
    if (started.ok()) {
      server_ = std::move(started).value().release();
    } else {
      *start_error_ = started.status().ToString();
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(server_, nullptr) << "moto_server did not start: " << *start_error_;
    moto_ = server_->NewClient();
  }

  AwsClient& client() { return moto_->client; }

  // A name unique within the suite run: "<prefix>-<n>".
  static std::string Unique(const std::string& prefix) {
    static std::atomic<int> n{0};
    return prefix + "-" + std::to_string(++n);
  }

  Result<XmlReply> Query(const ServiceInfo& service, const std::string& action,
                         const QueryParams& params) {
    return client().CallQuery(service, action, params);
  }
  Result<nlohmann::json> Json(const ServiceInfo& service, const std::string& op,
                              const nlohmann::json& body) {
    return client().CallJson(service, op, body);
  }

  // RunInstances: `count` instances of `type` in one reservation; their ids.
  std::vector<std::string> RunInstances(int count, const std::string& type,
                                        const std::string& tag_value = "") {
    QueryParams p{{"ImageId", kAmi},
                  {"MinCount", std::to_string(count)},
                  {"MaxCount", std::to_string(count)},
                  {"InstanceType", type}};
    if (!tag_value.empty()) {
      p["TagSpecification.1.ResourceType"] = "instance";
      p["TagSpecification.1.Tag.1.Key"] = "spk-test";
      p["TagSpecification.1.Tag.1.Value"] = tag_value;
    }
    auto reply = Query(services::Ec2(), "RunInstances", p);
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    std::vector<std::string> ids;
    if (!reply.ok()) return ids;
    for (pugi::xml_node item :
         reply.value()->document_element().child("instancesSet").children("item")) {
      ids.emplace_back(item.child("instanceId").text().get());
    }
    return ids;
  }

  static MotoServer* server_;
  static std::string* start_error_;
  std::unique_ptr<MotoClient> moto_;
};

MotoServer* AwsServicesTest::server_ = nullptr;
std::string* AwsServicesTest::start_error_ = new std::string();

// ---------------------------------------------------------------- STS, auth

TEST_F(AwsServicesTest, StsGetCallerIdentityReturnsTheUsersArn) {
  StsClient sts(client());
  ASSERT_OK_AND_ASSIGN(CallerIdentity id, sts.GetCallerIdentity());
  EXPECT_EQ(id.arn, server_->user_arn());
  EXPECT_THAT(id.arn, ::testing::HasSubstr(":user/spotkeeper-test"));
  EXPECT_EQ(id.account, "123456789012");
  EXPECT_FALSE(id.user_id.empty());

  // One round trip to moto (signing, HTTP, XML parse): median of 50.
  std::vector<double> ms;
  for (int i = 0; i < 50; ++i) {
    auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(sts.GetCallerIdentity().ok());
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  std::cout << "[ moto    ] STS GetCallerIdentity round trip: median " << ms[ms.size() / 2]
            << " ms, min " << ms.front() << " ms, max " << ms.back() << " ms (n=50)\n";
}

TEST_F(AwsServicesTest, WrongSecretIsUnauthenticatedAndNotRetried) {
  auto bad = server_->NewClientWithSecret("not-the-secret");
  StsClient sts(bad->client);
  auto id = sts.GetCallerIdentity();
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kUnauthenticated) << id.status().ToString();
  ASSERT_TRUE(id.status().remote().has_value()) << id.status().ToString();
  EXPECT_EQ(id.status().remote()->error_code, "SignatureDoesNotMatch");
  EXPECT_EQ(id.status().remote()->http_status, 403);
  EXPECT_EQ(id.status().remote()->service, "sts");
  EXPECT_EQ(bad->client.stats().attempts.load(), 1);
  EXPECT_EQ(bad->client.stats().retries.load(), 0);
  EXPECT_EQ(bad->client.stats().errors.load(), 1);
}

TEST_F(AwsServicesTest, WrongSecretOnJsonServiceIsUnauthenticated) {
  // moto answers auth failures of JSON services with an XML <ErrorResponse>.
  auto bad = server_->NewClientWithSecret("not-the-secret");
  EcsClient ecs(bad->client);
  auto arns = ecs.ListContainerInstances("no-such-cluster");
  ASSERT_FALSE(arns.ok());
  EXPECT_EQ(arns.status().code(), StatusCode::kUnauthenticated) << arns.status().ToString();
  ASSERT_TRUE(arns.status().remote().has_value());
  EXPECT_EQ(arns.status().remote()->error_code, "SignatureDoesNotMatch");
  EXPECT_EQ(bad->client.stats().attempts.load(), 1);
}

TEST_F(AwsServicesTest, WrongSecretOnEc2IsAuthFailure) {
  // moto's EC2 says AuthFailure (401), not SignatureDoesNotMatch.
  auto bad = server_->NewClientWithSecret("not-the-secret");
  Ec2Client ec2(bad->client);
  auto types = ec2.DescribeInstanceTypes({"m5.large"});
  ASSERT_FALSE(types.ok());
  EXPECT_EQ(types.status().code(), StatusCode::kUnauthenticated) << types.status().ToString();
  ASSERT_TRUE(types.status().remote().has_value());
  EXPECT_EQ(types.status().remote()->error_code, "AuthFailure");
  EXPECT_EQ(bad->client.stats().attempts.load(), 1);
}

// ---------------------------------------------------------------- EC2

TEST_F(AwsServicesTest, Ec2SpotFleetWeightsTargetAndModify) {
  ASSERT_OK_AND_ASSIGN(
      XmlReply created,
      Query(services::Ec2(), "RequestSpotFleet",
            {{"SpotFleetRequestConfig.IamFleetRole", "arn:aws:iam::123456789012:role/fleet"},
             {"SpotFleetRequestConfig.TargetCapacity", "6"},
             {"SpotFleetRequestConfig.AllocationStrategy", "lowestPrice"},
             {"SpotFleetRequestConfig.LaunchSpecifications.1.ImageId", kAmi},
             {"SpotFleetRequestConfig.LaunchSpecifications.1.InstanceType", "m5.large"},
             {"SpotFleetRequestConfig.LaunchSpecifications.1.WeightedCapacity", "2"},
             {"SpotFleetRequestConfig.LaunchSpecifications.2.ImageId", kAmi},
             {"SpotFleetRequestConfig.LaunchSpecifications.2.InstanceType", "c5.xlarge"},
             {"SpotFleetRequestConfig.LaunchSpecifications.2.WeightedCapacity", "4"}}));
  std::string fleet_id = created->document_element().child("spotFleetRequestId").text().get();
  ASSERT_FALSE(fleet_id.empty());

  Ec2Client ec2(client());
  ASSERT_OK_AND_ASSIGN(auto fleets, ec2.DescribeSpotFleetRequests({fleet_id}));
  ASSERT_THAT(fleets, SizeIs(1));
  const SpotFleetRequest& f = fleets[0];
  EXPECT_EQ(f.id, fleet_id);
  EXPECT_EQ(f.state, "active");
  EXPECT_EQ(f.target_capacity, 6);
  EXPECT_DOUBLE_EQ(f.fulfilled_capacity, 6.0);  // moto fulfils at once
  EXPECT_EQ(f.allocation_strategy, "lowestPrice");
  ASSERT_THAT(f.launch_specifications, SizeIs(2));
  EXPECT_EQ(f.launch_specifications[0].instance_type, "m5.large");
  EXPECT_THAT(f.launch_specifications[0].weighted_capacity, Optional(2.0));
  EXPECT_EQ(f.launch_specifications[1].instance_type, "c5.xlarge");
  EXPECT_THAT(f.WeightOf("c5.xlarge"), Optional(4.0));
  EXPECT_EQ(f.WeightOf("t3.micro"), std::nullopt);

  ASSERT_OK_AND_ASSIGN(auto instances, ec2.DescribeSpotFleetInstances(fleet_id));
  double units = 0;
  for (const auto& in : instances) {
    EXPECT_THAT(in.instance_id, ::testing::StartsWith("i-"));
    auto w = f.WeightOf(in.instance_type);
    ASSERT_TRUE(w.has_value()) << in.instance_type;
    units += *w;
  }
  EXPECT_DOUBLE_EQ(units, 6.0);

  // The fleet's instances are spot instances (moto's `instance-lifecycle`
  // filter answers 500, so this reads the field instead).
  std::vector<std::string> ids;
  for (const auto& in : instances) ids.push_back(in.instance_id);
  ASSERT_OK_AND_ASSIGN(auto described, ec2.DescribeInstances({ids, {}}));
  ASSERT_THAT(described, SizeIs(ids.size()));
  for (const auto& in : described)
    EXPECT_TRUE(in.is_spot()) << in.instance_id << " " << in.lifecycle;

  ASSERT_OK(ec2.ModifySpotFleetRequest(fleet_id, 10));
  ASSERT_OK_AND_ASSIGN(fleets, ec2.DescribeSpotFleetRequests({fleet_id}));
  ASSERT_THAT(fleets, SizeIs(1));
  EXPECT_EQ(fleets[0].target_capacity, 10);
}

TEST_F(AwsServicesTest, Ec2SpotFleetLaunchTemplateOverridesCarryWeights) {
  std::string lt_name = Unique("lt-fleet");
  ASSERT_OK_AND_ASSIGN(XmlReply lt, Query(services::Ec2(), "CreateLaunchTemplate",
                                          {{"LaunchTemplateName", lt_name},
                                           {"LaunchTemplateData.ImageId", kAmi},
                                           {"LaunchTemplateData.InstanceType", "m5.large"}}));
  std::string lt_id =
      lt->document_element().child("launchTemplate").child("launchTemplateId").text().get();
  ASSERT_FALSE(lt_id.empty());
  const std::string c = "SpotFleetRequestConfig.LaunchTemplateConfigs.1.";
  ASSERT_OK_AND_ASSIGN(
      XmlReply created,
      Query(services::Ec2(), "RequestSpotFleet",
            {{"SpotFleetRequestConfig.IamFleetRole", "arn:aws:iam::123456789012:role/fleet"},
             {"SpotFleetRequestConfig.TargetCapacity", "8"},
             // moto answers 500 (KeyError) without an AllocationStrategy here.
             {"SpotFleetRequestConfig.AllocationStrategy", "lowestPrice"},
             {c + "LaunchTemplateSpecification.LaunchTemplateId", lt_id},
             {c + "LaunchTemplateSpecification.Version", "1"},
             {c + "Overrides.1.InstanceType", "m5.large"},
             {c + "Overrides.1.WeightedCapacity", "2"},
             {c + "Overrides.2.InstanceType", "m5.2xlarge"},
             {c + "Overrides.2.WeightedCapacity", "8"}}));
  std::string fleet_id = created->document_element().child("spotFleetRequestId").text().get();

  Ec2Client ec2(client());
  ASSERT_OK_AND_ASSIGN(auto fleets, ec2.DescribeSpotFleetRequests({fleet_id}));
  ASSERT_THAT(fleets, SizeIs(1));
  EXPECT_EQ(fleets[0].target_capacity, 8);
  EXPECT_THAT(fleets[0].WeightOf("m5.large"), Optional(2.0));
  if (fleets[0].launch_template_configs.empty()) {
    // moto flattens a template config into one launch specification with only
    // the first override; AWS's own reply shape is covered by service_clients_test.
    ASSERT_THAT(fleets[0].launch_specifications, SizeIs(1));
    EXPECT_EQ(fleets[0].launch_specifications[0].instance_type, "m5.large");
  } else {
    const auto& cfg = fleets[0].launch_template_configs[0];
    EXPECT_EQ(cfg.launch_template_id, lt_id);
    ASSERT_THAT(cfg.overrides, SizeIs(2));
    EXPECT_THAT(fleets[0].WeightOf("m5.2xlarge"), Optional(8.0));
  }
}

TEST_F(AwsServicesTest, Ec2DescribeSpotFleetRequestsUnknownIdFails) {
  Ec2Client ec2(client());
  auto fleets = ec2.DescribeSpotFleetRequests({"sfr-00000000-0000-0000-0000-000000000000"});
  // moto answers an empty list for an unknown id (AWS: InvalidSpotFleetRequestId.NotFound).
  if (fleets.ok()) {
    EXPECT_THAT(*fleets, SizeIs(0));
  } else {
    EXPECT_NE(fleets.status().code(), StatusCode::kInternal) << fleets.status().ToString();
  }
}

TEST_F(AwsServicesTest, Ec2DescribeInstancesByIdsFiltersAndPages) {
  std::string tag = Unique("pages");
  std::vector<std::string> all;
  for (int r = 0; r < 5; ++r) {  // five reservations: moto pages by reservation
    auto ids = RunInstances(r == 0 ? 2 : 1, "t3.micro", tag);
    ASSERT_FALSE(ids.empty());
    all.insert(all.end(), ids.begin(), ids.end());
  }
  Ec2Client ec2(client());

  ASSERT_OK_AND_ASSIGN(auto by_id, ec2.DescribeInstances({{all[0], all[2]}, {}}));
  ASSERT_THAT(by_id, SizeIs(2));
  std::set<std::string> got;
  for (const auto& in : by_id) {
    got.insert(in.instance_id);
    EXPECT_EQ(in.instance_type, "t3.micro");
    EXPECT_EQ(in.state, "running");
    EXPECT_EQ(in.state_code, 16);
    EXPECT_EQ(in.lifecycle, "");  // on-demand
    EXPECT_FALSE(in.is_spot());
    EXPECT_EQ(in.image_id, kAmi);
    EXPECT_FALSE(in.availability_zone.empty());
    EXPECT_TRUE(in.launch_time.has_value());
    EXPECT_EQ(in.tags.at("spk-test"), tag);
  }
  EXPECT_EQ(got, (std::set<std::string>{all[0], all[2]}));

  InstanceQuery by_tag{{}, {{"tag:spk-test", {tag}}, {"instance-state-name", {"running"}}}};
  ec2.set_page_size(2);  // 5 reservations: 3 pages
  int64_t calls_before = client().stats().calls.load();
  ASSERT_OK_AND_ASSIGN(auto tagged, ec2.DescribeInstances(by_tag));
  EXPECT_EQ(client().stats().calls.load() - calls_before, 3);
  std::set<std::string> tagged_ids;
  for (const auto& in : tagged) tagged_ids.insert(in.instance_id);
  EXPECT_EQ(tagged_ids, std::set<std::string>(all.begin(), all.end()));

  auto missing = ec2.DescribeInstances({{"i-0123456789abcdef0"}, {}});
  ASSERT_FALSE(missing.ok());
  ASSERT_TRUE(missing.status().remote().has_value());
  EXPECT_EQ(missing.status().remote()->error_code, "InvalidInstanceID.NotFound");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
}

TEST_F(AwsServicesTest, Ec2DescribeInstanceTypesGivesVcpusAndMemory) {
  Ec2Client ec2(client());
  ASSERT_OK_AND_ASSIGN(auto types,
                       ec2.DescribeInstanceTypes({"m5.large", "c5.xlarge", "m5.2xlarge"}));
  ASSERT_THAT(types, SizeIs(3));
  std::map<std::string, InstanceTypeInfo> by_name;
  for (const auto& t : types) by_name[t.instance_type] = t;
  EXPECT_EQ(by_name.at("m5.large").vcpus, 2);
  EXPECT_EQ(by_name.at("m5.large").memory_mib, 8192);
  EXPECT_EQ(by_name.at("c5.xlarge").vcpus, 4);
  EXPECT_EQ(by_name.at("c5.xlarge").memory_mib, 8192);
  EXPECT_EQ(by_name.at("m5.2xlarge").vcpus, 8);
  EXPECT_EQ(by_name.at("m5.2xlarge").memory_mib, 32768);
  EXPECT_THAT(by_name.at("m5.large").architectures, ElementsAre("x86_64"));
  EXPECT_THAT(by_name.at("m5.large").supported_usage_classes, ::testing::Contains("spot"));

  auto unknown = ec2.DescribeInstanceTypes({"nope.huge"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument) << unknown.status().ToString();
  ASSERT_TRUE(unknown.status().remote().has_value());
  EXPECT_EQ(unknown.status().remote()->error_code, "InvalidInstanceType");
}

TEST_F(AwsServicesTest, Ec2DescribeSpotPriceHistory) {
  Ec2Client ec2(client());
  SpotPriceQuery q;
  q.instance_types = {"m5.large"};
  q.product_descriptions = {"Linux/UNIX (Amazon VPC)"};
  ASSERT_OK_AND_ASSIGN(auto prices, ec2.DescribeSpotPriceHistory(q));
  ASSERT_FALSE(prices.empty());
  for (const auto& p : prices) {
    EXPECT_EQ(p.instance_type, "m5.large");
    EXPECT_EQ(p.product_description, "Linux/UNIX (Amazon VPC)");
    EXPECT_GT(p.price, 0);  // moto: a constant 0.00001
    EXPECT_FALSE(p.availability_zone.empty());
  }
  q.max_items = 2;
  ASSERT_OK_AND_ASSIGN(prices, ec2.DescribeSpotPriceHistory(q));
  EXPECT_THAT(prices, SizeIs(2));
}

// ---------------------------------------------------------------- Auto Scaling

TEST_F(AwsServicesTest, AutoScalingMixedGroupLifecycle) {
  std::string lt_name = Unique("lt-asg");
  ASSERT_OK(Query(services::Ec2(), "CreateLaunchTemplate",
                  {{"LaunchTemplateName", lt_name},
                   {"LaunchTemplateData.ImageId", kAmi},
                   {"LaunchTemplateData.InstanceType", "m5.large"}})
                .status());
  std::string group = Unique("od-group");
  const std::string mip = "MixedInstancesPolicy.";
  ASSERT_OK(Query(services::AutoScaling(), "CreateAutoScalingGroup",
                  {{"AutoScalingGroupName", group},
                   {"MinSize", "0"},
                   {"MaxSize", "10"},
                   {"DesiredCapacity", "2"},
                   {"AvailabilityZones.member.1", "us-east-1a"},
                   {mip + "LaunchTemplate.LaunchTemplateSpecification.LaunchTemplateName", lt_name},
                   {mip + "LaunchTemplate.LaunchTemplateSpecification.Version", "$Latest"},
                   {mip + "LaunchTemplate.Overrides.member.1.InstanceType", "m5.large"},
                   {mip + "LaunchTemplate.Overrides.member.1.WeightedCapacity", "1"},
                   {mip + "LaunchTemplate.Overrides.member.2.InstanceType", "m5.2xlarge"},
                   {mip + "LaunchTemplate.Overrides.member.2.WeightedCapacity", "4"},
                   {mip + "InstancesDistribution.OnDemandPercentageAboveBaseCapacity", "100"},
                   {mip + "InstancesDistribution.OnDemandBaseCapacity", "0"}})
                .status());

  AutoScalingClient asg(client());
  ASSERT_OK_AND_ASSIGN(auto groups, asg.DescribeAutoScalingGroups({group}));
  ASSERT_THAT(groups, SizeIs(1));
  const AutoScalingGroup& g = groups[0];
  EXPECT_EQ(g.name, group);
  EXPECT_THAT(g.arn, ::testing::HasSubstr(":autoScalingGroup:"));
  EXPECT_EQ(g.min_size, 0);
  EXPECT_EQ(g.max_size, 10);
  EXPECT_EQ(g.desired_capacity, 2);
  EXPECT_EQ(g.default_cooldown, 300);
  EXPECT_TRUE(g.has_mixed_instances_policy);
  EXPECT_EQ(g.mixed_launch_template_name, lt_name);
  ASSERT_THAT(g.overrides, SizeIs(2));
  EXPECT_EQ(g.overrides[1].instance_type, "m5.2xlarge");
  EXPECT_THAT(g.WeightOf("m5.2xlarge"), Optional(4.0));
  EXPECT_THAT(g.WeightOf("m5.large"), Optional(1.0));
  EXPECT_THAT(g.on_demand_percentage_above_base_capacity, Optional(int64_t{100}));
  EXPECT_THAT(g.availability_zones, ElementsAre("us-east-1a"));
  ASSERT_THAT(g.instances, SizeIs(2));
  for (const auto& in : g.instances) {
    EXPECT_THAT(in.instance_id, ::testing::StartsWith("i-"));
    EXPECT_EQ(in.instance_type, "m5.large");
    EXPECT_EQ(in.lifecycle_state, "InService");
    EXPECT_EQ(in.health_status, "Healthy");
    EXPECT_FALSE(in.protected_from_scale_in);
    EXPECT_EQ(in.availability_zone, "us-east-1a");
  }

  ASSERT_OK(asg.SetDesiredCapacity(group, 3, /*honor_cooldown=*/false));
  ASSERT_OK_AND_ASSIGN(groups, asg.DescribeAutoScalingGroups({group}));
  EXPECT_EQ(groups[0].desired_capacity, 3);
  ASSERT_THAT(groups[0].instances, SizeIs(3));

  std::string keep = groups[0].instances[0].instance_id;
  std::string drop = groups[0].instances[1].instance_id;
  ASSERT_OK(asg.SetInstanceProtection(group, {keep}, true));
  ASSERT_OK_AND_ASSIGN(groups, asg.DescribeAutoScalingGroups({group}));
  for (const auto& in : groups[0].instances) {
    EXPECT_EQ(in.protected_from_scale_in, in.instance_id == keep) << in.instance_id;
  }

  ASSERT_OK_AND_ASSIGN(ScalingActivity activity,
                       asg.TerminateInstanceInAutoScalingGroup(drop, /*should_decrement=*/true));
  EXPECT_FALSE(activity.activity_id.empty());
  EXPECT_EQ(activity.group_name, group);
  EXPECT_THAT(activity.description, ::testing::HasSubstr(drop));
  EXPECT_FALSE(activity.status_code.empty());
  ASSERT_OK_AND_ASSIGN(groups, asg.DescribeAutoScalingGroups({group}));
  EXPECT_EQ(groups[0].desired_capacity, 2);
  for (const auto& in : groups[0].instances) EXPECT_NE(in.instance_id, drop);

  ASSERT_OK_AND_ASSIGN(auto none, asg.DescribeAutoScalingGroups({Unique("no-such-group")}));
  EXPECT_THAT(none, SizeIs(0));
}

TEST_F(AwsServicesTest, AutoScalingDescribeFollowsPages) {
  std::string lt_name = Unique("lt-pages");
  ASSERT_OK(Query(services::Ec2(), "CreateLaunchTemplate",
                  {{"LaunchTemplateName", lt_name},
                   {"LaunchTemplateData.ImageId", kAmi},
                   {"LaunchTemplateData.InstanceType", "t3.micro"}})
                .status());
  std::vector<std::string> names;
  for (int i = 0; i < 3; ++i) {
    names.push_back(Unique("paged-group"));
    ASSERT_OK(Query(services::AutoScaling(), "CreateAutoScalingGroup",
                    {{"AutoScalingGroupName", names.back()},
                     {"MinSize", "0"},
                     {"MaxSize", "2"},
                     {"DesiredCapacity", "0"},
                     {"AvailabilityZones.member.1", "us-east-1a"},
                     {"LaunchTemplate.LaunchTemplateName", lt_name},
                     {"LaunchTemplate.Version", "$Latest"}})
                  .status());
  }
  AutoScalingClient asg(client());
  asg.set_page_size(1);
  int64_t calls_before = client().stats().calls.load();
  ASSERT_OK_AND_ASSIGN(auto groups, asg.DescribeAutoScalingGroups(names));
  EXPECT_EQ(client().stats().calls.load() - calls_before, 3);
  std::vector<std::string> got;
  for (const auto& g : groups) {
    got.push_back(g.name);
    EXPECT_FALSE(g.has_mixed_instances_policy);
    EXPECT_EQ(g.launch_template_name, lt_name);
    EXPECT_EQ(g.max_size, 2);
  }
  std::sort(got.begin(), got.end());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(got, names);
}

// ---------------------------------------------------------------- CloudWatch

TEST_F(AwsServicesTest, CloudWatchPutThenReadBack) {
  std::string ns = Unique("Test/EC2Spot");
  std::string fleet = Unique("sfr-metrics");
  WallTime now = SystemClock::Instance().WallNow();
  CloudWatchClient cw(client());
  ASSERT_OK(cw.PutMetricData(
      ns, {{"PendingCapacity", {{"FleetRequestId", fleet}}, 3.0, now, "Count"},
           {"FulfilledCapacity", {{"FleetRequestId", fleet}}, 7.5, now, "Count"}}));

  GetMetricStatisticsRequest req;
  req.namespace_ = ns;
  req.metric_name = "PendingCapacity";
  req.dimensions = {{"FleetRequestId", fleet}};
  req.start_time = now - std::chrono::minutes(10);
  req.end_time = now + std::chrono::minutes(1);
  req.period_seconds = 60;
  req.statistics = {"Maximum", "SampleCount"};
  ASSERT_OK_AND_ASSIGN(auto points, cw.GetMetricStatistics(req));
  ASSERT_THAT(points, SizeIs(1));
  EXPECT_THAT(points[0].maximum, Optional(3.0));
  EXPECT_THAT(points[0].sample_count, Optional(1.0));
  EXPECT_EQ(points[0].unit, "Count");

  MetricDataQuery q1;
  q1.id = "pending";
  q1.namespace_ = ns;
  q1.metric_name = "PendingCapacity";
  q1.dimensions = {{"FleetRequestId", fleet}};
  q1.stat = "Maximum";
  MetricDataQuery q2 = q1;
  q2.id = "fulfilled";
  q2.metric_name = "FulfilledCapacity";
  ASSERT_OK_AND_ASSIGN(auto results, cw.GetMetricData({q1, q2}, req.start_time, req.end_time));
  ASSERT_THAT(results, SizeIs(2));
  std::map<std::string, MetricDataResult> by_id;
  for (const auto& r : results) by_id[r.id] = r;
  EXPECT_THAT(by_id.at("pending").values, ElementsAre(3.0));
  EXPECT_THAT(by_id.at("pending").timestamps, SizeIs(1));
  EXPECT_EQ(by_id.at("pending").status_code, "Complete");
  EXPECT_THAT(by_id.at("fulfilled").values, ElementsAre(7.5));

  // No data for another fleet: an empty series, not a 0.
  q1.dimensions = {{"FleetRequestId", "sfr-nothing"}};
  ASSERT_OK_AND_ASSIGN(results, cw.GetMetricData({q1}, req.start_time, req.end_time));
  ASSERT_THAT(results, SizeIs(1));
  EXPECT_THAT(results[0].values, SizeIs(0));
}

// ---------------------------------------------------------------- SNS, SQS

class AwsQueueTest : public AwsServicesTest {
 protected:
  // Creates a queue; returns its URL and sets *arn.
  std::string CreateQueue(const std::string& name, std::string* arn) {
    auto q = Json(services::Sqs(), "CreateQueue", {{"QueueName", name}});
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    if (!q.ok()) return "";
    std::string url = q.value().value("QueueUrl", "");
    auto attrs = Json(services::Sqs(), "GetQueueAttributes",
                      {{"QueueUrl", url}, {"AttributeNames", {"QueueArn"}}});
    EXPECT_TRUE(attrs.ok()) << attrs.status().ToString();
    if (attrs.ok() && arn) *arn = attrs.value()["Attributes"].value("QueueArn", "");
    return url;
  }
};

TEST_F(AwsQueueTest, SqsSendReceiveVisibilityDelete) {
  std::string url = CreateQueue(Unique("spk-q"), nullptr);
  ASSERT_FALSE(url.empty());
  SqsClient sqs(client());

  const std::string body = R"({"fleetID": "sfr-123", "note": "ünïcode ✓"})";
  SendOptions so;
  so.message_attributes["kind"] = {"String", "direct"};
  ASSERT_OK_AND_ASSIGN(SendMessageResult sent, sqs.SendMessage(url, body, so));
  EXPECT_FALSE(sent.message_id.empty());
  EXPECT_EQ(sent.md5_of_body, Md5Hex(body));

  ReceiveOptions ro;
  ro.max_messages = 10;
  ro.wait_time_seconds = 1;
  ro.visibility_timeout = 30;
  ro.message_attribute_names = {"All"};
  ASSERT_OK_AND_ASSIGN(auto got, sqs.ReceiveMessage(url, ro));
  ASSERT_THAT(got, SizeIs(1));
  EXPECT_EQ(got[0].message_id, sent.message_id);
  EXPECT_EQ(got[0].body, body);
  EXPECT_EQ(got[0].receive_count(), 1);
  EXPECT_TRUE(got[0].attributes.count("SentTimestamp"));
  ASSERT_TRUE(got[0].message_attributes.count("kind"));
  EXPECT_EQ(got[0].message_attributes.at("kind").string_value, "direct");

  // Invisible now; visible again at once after ChangeMessageVisibility(0).
  ro.wait_time_seconds = 0;
  ASSERT_OK_AND_ASSIGN(auto hidden, sqs.ReceiveMessage(url, ro));
  EXPECT_THAT(hidden, SizeIs(0));
  ASSERT_OK(sqs.ChangeMessageVisibility(url, got[0].receipt_handle, 0));
  ASSERT_OK_AND_ASSIGN(auto again, sqs.ReceiveMessage(url, ro));
  ASSERT_THAT(again, SizeIs(1));
  EXPECT_EQ(again[0].receive_count(), 2);

  ASSERT_OK(sqs.DeleteMessage(url, again[0].receipt_handle));
  ASSERT_OK_AND_ASSIGN(auto empty, sqs.ReceiveMessage(url, ro));
  EXPECT_THAT(empty, SizeIs(0));

  Status bogus = sqs.DeleteMessage(url, "bogus-receipt-handle");
  ASSERT_FALSE(bogus.ok());
  ASSERT_TRUE(bogus.remote().has_value()) << bogus.ToString();
  EXPECT_EQ(bogus.remote()->error_code, "ReceiptHandleIsInvalid");
  EXPECT_EQ(bogus.code(), StatusCode::kInvalidArgument) << bogus.ToString();
}

TEST_F(AwsQueueTest, SnsPublishReachesSubscribedQueue) {
  std::string arn;
  std::string url = CreateQueue(Unique("spk-sub"), &arn);
  ASSERT_FALSE(arn.empty());
  ASSERT_OK_AND_ASSIGN(XmlReply topic,
                       Query(services::Sns(), "CreateTopic", {{"Name", Unique("spk-topic")}}));
  std::string topic_arn =
      topic->document_element().child("CreateTopicResult").child("TopicArn").text().get();
  ASSERT_FALSE(topic_arn.empty());
  ASSERT_OK(Query(services::Sns(), "Subscribe",
                  {{"TopicArn", topic_arn}, {"Protocol", "sqs"}, {"Endpoint", arn}})
                .status());

  SnsClient sns(client());
  const std::string notice =
      R"({"terminationNotificiation":"true","instanceId":"i-0abc","instanceType":"m5.large"})";
  PublishOptions po;
  po.subject = "spot interruption";
  po.message_attributes["source"] = {"String", "spotkeeper"};
  ASSERT_OK_AND_ASSIGN(std::string message_id, sns.Publish(topic_arn, notice, po));
  EXPECT_FALSE(message_id.empty());

  SqsClient sqs(client());
  ReceiveOptions ro;
  ro.max_messages = 10;
  ro.wait_time_seconds = 2;
  ASSERT_OK_AND_ASSIGN(auto got, sqs.ReceiveMessage(url, ro));
  ASSERT_THAT(got, SizeIs(1));
  // Not raw delivery: the body is SNS's envelope with our message inside.
  auto envelope = nlohmann::json::parse(got[0].body);
  EXPECT_EQ(envelope.value("Type", ""), "Notification");
  EXPECT_EQ(envelope.value("MessageId", ""), message_id);
  EXPECT_EQ(envelope.value("TopicArn", ""), topic_arn);
  EXPECT_EQ(envelope.value("Subject", ""), "spot interruption");
  EXPECT_EQ(envelope.value("Message", ""), notice);
  EXPECT_EQ(envelope["MessageAttributes"]["source"].value("Value", ""), "spotkeeper");
  ASSERT_OK(sqs.DeleteMessage(url, got[0].receipt_handle));

  auto missing = sns.Publish("arn:aws:sns:us-east-1:123456789012:" + Unique("no-topic"), "x");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
}

// ---------------------------------------------------------------- ECS

class AwsEcsTest : public AwsServicesTest {
 protected:
  // A cluster with `n` container instances on fresh EC2 instances; their ARNs.
  std::vector<std::string> MakeCluster(const std::string& cluster, int n,
                                       std::vector<std::string>* ec2_ids = nullptr) {
    auto c = Json(services::Ecs(), "CreateCluster", {{"clusterName", cluster}});
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    std::vector<std::string> arns;
    auto ids = RunInstances(n, "m5.large");
    for (const auto& id : ids) {
      nlohmann::json doc = {{"instanceId", id}};
      auto r = Json(services::Ecs(), "RegisterContainerInstance",
                    {{"cluster", cluster}, {"instanceIdentityDocument", doc.dump()}});
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (r.ok()) arns.push_back(r.value()["containerInstance"].value("containerInstanceArn", ""));
    }
    if (ec2_ids) *ec2_ids = ids;
    return arns;
  }
};

TEST_F(AwsEcsTest, ContainerInstancesListDescribeDrainInBatches) {
  std::string cluster = Unique("drain");
  std::vector<std::string> ec2_ids;
  auto arns = MakeCluster(cluster, 13, &ec2_ids);
  ASSERT_THAT(arns, SizeIs(13));
  EcsClient ecs(client());

  ASSERT_OK_AND_ASSIGN(auto listed, ecs.ListContainerInstances(cluster));
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()),
            std::set<std::string>(arns.begin(), arns.end()));

  ASSERT_OK_AND_ASSIGN(auto described, ecs.DescribeContainerInstances(cluster, arns));
  ASSERT_THAT(described.container_instances, SizeIs(13));
  EXPECT_THAT(described.failures, SizeIs(0));
  std::set<std::string> seen_ec2;
  for (const auto& ci : described.container_instances) {
    EXPECT_EQ(ci.status, "ACTIVE");
    EXPECT_TRUE(ci.agent_connected);
    EXPECT_EQ(ci.running_tasks_count, 0);
    EXPECT_EQ(ci.pending_tasks_count, 0);
    EXPECT_EQ(ci.instance_type(), "m5.large");
    EXPECT_GT(ci.registered_cpu, 0);
    EXPECT_GT(ci.registered_memory, 0);
    EXPECT_EQ(ci.remaining_cpu, ci.registered_cpu);
    EXPECT_TRUE(ci.registered_at.has_value());
    seen_ec2.insert(ci.ec2_instance_id);
  }
  EXPECT_EQ(seen_ec2, std::set<std::string>(ec2_ids.begin(), ec2_ids.end()));

  // 12 to drain: two UpdateContainerInstancesState calls (10 + 2).
  std::vector<std::string> drain(arns.begin(), arns.begin() + 12);
  int64_t calls_before = client().stats().calls.load();
  ASSERT_OK_AND_ASSIGN(auto updated, ecs.UpdateContainerInstancesState(cluster, drain, "DRAINING"));
  EXPECT_EQ(client().stats().calls.load() - calls_before, 2);
  ASSERT_THAT(updated.container_instances, SizeIs(12));
  for (const auto& ci : updated.container_instances) EXPECT_EQ(ci.status, "DRAINING");

  ASSERT_OK_AND_ASSIGN(described, ecs.DescribeContainerInstances(cluster, arns));
  int draining = 0;
  for (const auto& ci : described.container_instances) {
    if (ci.arn == arns[12]) {
      EXPECT_EQ(ci.status, "ACTIVE");
    } else {
      EXPECT_EQ(ci.status, "DRAINING") << ci.arn;
      ++draining;
    }
  }
  EXPECT_EQ(draining, 12);

  // Idempotent: draining again is fine.
  ASSERT_OK_AND_ASSIGN(updated, ecs.UpdateContainerInstancesState(cluster, {arns[0]}, "DRAINING"));
  ASSERT_THAT(updated.container_instances, SizeIs(1));
  EXPECT_EQ(updated.container_instances[0].status, "DRAINING");
  // And back to ACTIVE.
  ASSERT_OK_AND_ASSIGN(updated, ecs.UpdateContainerInstancesState(cluster, {arns[0]}, "ACTIVE"));
  EXPECT_EQ(updated.container_instances[0].status, "ACTIVE");
}

TEST_F(AwsEcsTest, DescribeContainerInstancesSplitsAt100) {
  std::string cluster = Unique("big");
  auto arns = MakeCluster(cluster, 101);
  ASSERT_THAT(arns, SizeIs(101));
  EcsClient ecs(client());
  std::vector<std::string> ask = arns;
  ask.push_back(arns[0].substr(0, arns[0].rfind('/') + 1) + "00000000-0000-0000-0000-000000000000");
  int64_t calls_before = client().stats().calls.load();
  ASSERT_OK_AND_ASSIGN(auto described, ecs.DescribeContainerInstances(cluster, ask));
  EXPECT_EQ(client().stats().calls.load() - calls_before, 2);
  EXPECT_THAT(described.container_instances, SizeIs(101));
  ASSERT_THAT(described.failures, SizeIs(1));
  EXPECT_EQ(described.failures[0].reason, "MISSING");
  // moto reports the ARN without the cluster name.
  EXPECT_THAT(described.failures[0].arn,
              ::testing::EndsWith("/00000000-0000-0000-0000-000000000000"));
}

TEST_F(AwsEcsTest, PutAttributesShowsInDescribe) {
  std::string cluster = Unique("attrs");
  auto arns = MakeCluster(cluster, 2);
  ASSERT_THAT(arns, SizeIs(2));
  EcsClient ecs(client());
  ASSERT_OK(ecs.PutAttributes(cluster, {{"spotkeeper.notice", "interruption", "", arns[0]},
                                        {"spotkeeper.lifecycle", "spot", "", arns[1]}}));
  ASSERT_OK_AND_ASSIGN(auto described, ecs.DescribeContainerInstances(cluster, arns));
  ASSERT_THAT(described.container_instances, SizeIs(2));
  for (const auto& ci : described.container_instances) {
    if (ci.arn == arns[0]) {
      EXPECT_EQ(ci.attributes.at("spotkeeper.notice"), "interruption");
      EXPECT_FALSE(ci.attributes.count("spotkeeper.lifecycle"));
    } else {
      EXPECT_EQ(ci.attributes.at("spotkeeper.lifecycle"), "spot");
    }
  }
}

TEST_F(AwsEcsTest, TasksAndServices) {
  std::string cluster = Unique("tasks");
  auto arns = MakeCluster(cluster, 2);
  ASSERT_THAT(arns, SizeIs(2));
  std::string family = Unique("web");
  ASSERT_OK(Json(services::Ecs(), "RegisterTaskDefinition",
                 {{"family", family},
                  {"containerDefinitions",
                   {{{"name", "web"}, {"image", "nginx"}, {"cpu", 256}, {"memory", 512}}}}})
                .status());
  std::string service = Unique("svc");
  ASSERT_OK(Json(services::Ecs(), "CreateService",
                 {{"cluster", cluster},
                  {"serviceName", service},
                  {"taskDefinition", family},
                  {"desiredCount", 2}})
                .status());
  ASSERT_OK_AND_ASSIGN(auto run, Json(services::Ecs(), "RunTask",
                                      {{"cluster", cluster},
                                       {"taskDefinition", family},
                                       {"count", 3},
                                       {"startedBy", "spk-test"}}));
  ASSERT_THAT(run["tasks"], SizeIs(3));

  EcsClient ecs(client());
  ASSERT_OK_AND_ASSIGN(auto all, ecs.ListTasks(cluster));
  ASSERT_THAT(all, SizeIs(3));
  ASSERT_OK_AND_ASSIGN(auto started, ecs.ListTasks(cluster, {.started_by = "spk-test"}));
  EXPECT_THAT(started, SizeIs(3));

  ASSERT_OK_AND_ASSIGN(auto tasks, ecs.DescribeTasks(cluster, all));
  ASSERT_THAT(tasks.tasks, SizeIs(3));
  EXPECT_THAT(tasks.failures, SizeIs(0));
  std::map<std::string, int> per_instance;
  for (const auto& t : tasks.tasks) {
    EXPECT_THAT(t.task_definition_arn, ::testing::HasSubstr(family));
    EXPECT_EQ(t.started_by, "spk-test");
    EXPECT_EQ(t.desired_status, "RUNNING");
    EXPECT_FALSE(t.last_status.empty());
    EXPECT_THAT(t.cluster_arn, ::testing::HasSubstr(cluster));
    ASSERT_FALSE(t.container_instance_arn.empty());
    per_instance[t.container_instance_arn]++;
  }
  // ListTasks by container instance finds exactly the tasks placed there.
  for (const auto& [ci, n] : per_instance) {
    ASSERT_OK_AND_ASSIGN(auto on_ci, ecs.ListTasks(cluster, {.container_instance = ci}));
    EXPECT_THAT(on_ci, SizeIs(n)) << ci;
  }

  ASSERT_OK_AND_ASSIGN(auto svcs, ecs.DescribeServices(cluster, {service, Unique("no-svc")}));
  ASSERT_THAT(svcs.services, SizeIs(1));
  EXPECT_EQ(svcs.services[0].name, service);
  EXPECT_EQ(svcs.services[0].status, "ACTIVE");
  EXPECT_EQ(svcs.services[0].desired_count, 2);
  EXPECT_THAT(svcs.services[0].task_definition, ::testing::HasSubstr(family));
  EXPECT_GE(svcs.services[0].deployment_count, 1u);
  ASSERT_THAT(svcs.failures, SizeIs(1));
  EXPECT_EQ(svcs.failures[0].reason, "MISSING");

  // moto ignores serviceName (and starts no tasks for services): only the call is checked.
  ASSERT_OK_AND_ASSIGN(auto by_service, ecs.ListTasks(cluster, {.service_name = service}));
  (void)by_service;
}

TEST_F(AwsEcsTest, DescribeServicesSplitsAt10) {
  std::string cluster = Unique("many-svcs");
  ASSERT_OK(Json(services::Ecs(), "CreateCluster", {{"clusterName", cluster}}).status());
  std::string family = Unique("svc-td");
  ASSERT_OK(Json(services::Ecs(), "RegisterTaskDefinition",
                 {{"family", family},
                  {"containerDefinitions",
                   {{{"name", "app"}, {"image", "busybox"}, {"cpu", 128}, {"memory", 128}}}}})
                .status());
  std::vector<std::string> names;
  for (int i = 0; i < 12; ++i) {
    names.push_back(Unique("s"));
    ASSERT_OK(Json(services::Ecs(), "CreateService",
                   {{"cluster", cluster},
                    {"serviceName", names.back()},
                    {"taskDefinition", family},
                    {"desiredCount", 0}})
                  .status());
  }
  EcsClient ecs(client());
  int64_t calls_before = client().stats().calls.load();
  ASSERT_OK_AND_ASSIGN(auto svcs, ecs.DescribeServices(cluster, names));
  EXPECT_EQ(client().stats().calls.load() - calls_before, 2);
  EXPECT_THAT(svcs.services, SizeIs(12));
}

TEST_F(AwsEcsTest, UnknownClusterIsNotFound) {
  EcsClient ecs(client());
  // moto's ListContainerInstances answers an empty list for an unknown cluster.
  auto r = ecs.DescribeContainerInstances(Unique("no-such-cluster"), {"0000"});
  ASSERT_FALSE(r.ok());
  ASSERT_TRUE(r.status().remote().has_value()) << r.status().ToString();
  EXPECT_EQ(r.status().remote()->error_code, "ClusterNotFoundException");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << r.status().ToString();
}

}  // namespace
}  // namespace spk::aws
