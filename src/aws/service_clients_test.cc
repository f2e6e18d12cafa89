// Unit tests of the typed service clients over a FakeTransport: the paging,
// batching and reply shapes moto_server cannot show (it pages no ECS listing
// and flattens spot fleet launch template configs). The same clients against a
// real moto_server: tests/integration/aws_services_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>

#include "aws/autoscaling.h"
#include "aws/client.h"
#include "aws/cloudwatch.h"
#include "aws/credentials.h"
#include "aws/ec2.h"
#include "aws/ecs.h"
#include "aws/endpoint.h"
#include "aws/fake_client_test_util.h"
#include "aws/service_util.h"
#include "aws/sns.h"
#include "aws/sqs.h"
#include "base/clock.h"
#include "base/env.h"
#include "base/random.h"
#include "net/fake_transport.h"

namespace spk::aws {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;
using ::testing::SizeIs;

// An AwsClient over a FakeTransport, with fixed keys and a loopback endpoint.
class ServiceClientsTest : public ::testing::Test {
 protected:
  static net::HttpResponse Reply(int status, std::string body) {
    net::HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }

  // The decoded form parameters of a query-protocol request.
  static std::map<std::string, std::string> Form(const net::HttpRequest& request) {
    std::map<std::string, std::string> out;
    size_t pos = 0;
    const std::string& b = request.body;
    while (pos <= b.size()) {
      size_t amp = b.find('&', pos);
      if (amp == std::string::npos) amp = b.size();
      std::string pair = b.substr(pos, amp - pos);
      size_t eq = pair.find('=');
      if (!pair.empty()) {
        out[net::UriDecode(pair.substr(0, eq), true)] =
            eq == std::string::npos ? "" : net::UriDecode(pair.substr(eq + 1), true);
      }
      pos = amp + 1;
    }
    return out;
  }

  static std::string Target(const net::HttpRequest& request) {
    for (const auto& [k, v] : request.headers) {
      if (net::HeaderNameEquals(k, "X-Amz-Target")) return v;
    }
    return "";
  }

  FakeAwsClient fake_;
  net::FakeTransport& http_ = fake_.http;
  ManualClock& clock_ = fake_.clock;
  AwsClient& client_ = fake_.client;
};

// ---------------------------------------------------------------- ECS

TEST_F(ServiceClientsTest, EcsListContainerInstancesFollowsNextToken) {
  http_.SetHandler([](const net::HttpRequest& req) -> Result<net::HttpResponse> {
    auto body = nlohmann::json::parse(req.body);
    std::string token = body.value("nextToken", "");
    nlohmann::json reply;
    if (token.empty()) {
      reply = {{"containerInstanceArns", {"ci-1", "ci-2"}}, {"nextToken", "t1"}};
    } else if (token == "t1") {
      reply = {{"containerInstanceArns", {"ci-3", "ci-4"}}, {"nextToken", "t2"}};
    } else {
      reply = {{"containerInstanceArns", {"ci-5"}}};
    }
    return Reply(200, reply.dump());
  });
  EcsClient ecs(client_);
  ecs.set_page_size(2);
  auto arns =
      ecs.ListContainerInstances("prod", {.filter = "attribute:x == y", .status = "ACTIVE"});
  ASSERT_TRUE(arns.ok()) << arns.status().ToString();
  EXPECT_THAT(*arns, ElementsAre("ci-1", "ci-2", "ci-3", "ci-4", "ci-5"));
  auto requests = http_.requests();
  ASSERT_THAT(requests, SizeIs(3));
  EXPECT_EQ(Target(requests[0]), "AmazonEC2ContainerServiceV20141113.ListContainerInstances");
  auto first = nlohmann::json::parse(requests[0].body);
  EXPECT_EQ(first["cluster"], "prod");
  EXPECT_EQ(first["maxResults"], 2);
  EXPECT_EQ(first["filter"], "attribute:x == y");
  EXPECT_EQ(first["status"], "ACTIVE");
  EXPECT_FALSE(first.contains("nextToken"));
  EXPECT_EQ(nlohmann::json::parse(requests[2].body)["nextToken"], "t2");
}

TEST_F(ServiceClientsTest, EcsListTasksRepeatedTokenIsInternal) {
  http_.SetHandler([](const net::HttpRequest&) -> Result<net::HttpResponse> {
    return Reply(200, R"({"taskArns": ["t"], "nextToken": "same"})");
  });
  EcsClient ecs(client_);
  auto tasks = ecs.ListTasks("prod");
  ASSERT_FALSE(tasks.ok());
  EXPECT_EQ(tasks.status().code(), StatusCode::kInternal);
  EXPECT_THAT(tasks.status().message(), HasSubstr("repeated"));
}

TEST_F(ServiceClientsTest, EcsUpdateContainerInstancesStateBatchesOfTen) {
  http_.SetHandler([](const net::HttpRequest& req) -> Result<net::HttpResponse> {
    auto body = nlohmann::json::parse(req.body);
    nlohmann::json instances = nlohmann::json::array();
    nlohmann::json failures = nlohmann::json::array();
    for (const auto& arn : body["containerInstances"]) {
      if (arn == "ci-missing") {
        failures.push_back({{"arn", arn}, {"reason", "MISSING"}});
      } else {
        instances.push_back(
            {{"containerInstanceArn", arn},
             {"ec2InstanceId", "i-" + arn.get<std::string>()},
             {"status", body["status"]},
             {"runningTasksCount", 3},
             {"registeredResources",
              {{{"name", "CPU"}, {"type", "INTEGER"}, {"integerValue", 2048}},
               {{"name", "MEMORY"}, {"type", "INTEGER"}, {"integerValue", 7680}}}}});
      }
    }
    return Reply(200,
                 nlohmann::json{{"containerInstances", instances}, {"failures", failures}}.dump());
  });
  std::vector<std::string> arns;
  for (int i = 0; i < 24; ++i) arns.push_back("ci-" + std::to_string(i));
  arns.push_back("ci-missing");
  EcsClient ecs(client_);
  auto r = ecs.UpdateContainerInstancesState("prod", arns, "DRAINING");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto requests = http_.requests();
  ASSERT_THAT(requests, SizeIs(3));
  EXPECT_THAT(nlohmann::json::parse(requests[0].body)["containerInstances"], SizeIs(10));
  EXPECT_THAT(nlohmann::json::parse(requests[1].body)["containerInstances"], SizeIs(10));
  EXPECT_THAT(nlohmann::json::parse(requests[2].body)["containerInstances"], SizeIs(5));
  ASSERT_THAT(r->container_instances, SizeIs(24));
  EXPECT_EQ(r->container_instances[23].arn, "ci-23");
  EXPECT_EQ(r->container_instances[0].status, "DRAINING");
  EXPECT_EQ(r->container_instances[0].running_tasks_count, 3);
  EXPECT_EQ(r->container_instances[0].registered_cpu, 2048);
  EXPECT_EQ(r->container_instances[0].registered_memory, 7680);
  ASSERT_THAT(r->failures, SizeIs(1));
  EXPECT_EQ(r->failures[0].reason, "MISSING");
}

TEST_F(ServiceClientsTest, EcsFailingBatchStopsWithContext) {
  http_.Push(200, R"({"containerInstances": [], "failures": []})");
  http_.Push(400, R"({"__type": "InvalidParameterException", "message": "bad"})");
  std::vector<std::string> arns(15, "ci");
  EcsClient ecs(client_);
  auto r = ecs.UpdateContainerInstancesState("prod", arns, "DRAINING");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("batch 2 of 2"));
  ASSERT_TRUE(r.status().remote().has_value());
  EXPECT_EQ(r.status().remote()->error_code, "InvalidParameterException");
}

TEST_F(ServiceClientsTest, EcsDescribeBatchSizes) {
  http_.SetHandler([](const net::HttpRequest&) -> Result<net::HttpResponse> {
    return Reply(200, R"({"tasks": [], "services": [], "containerInstances": [], "failures": []})");
  });
  EcsClient ecs(client_);
  std::vector<std::string> many(205, "x");
  ASSERT_TRUE(ecs.DescribeContainerInstances("c", many).ok());
  EXPECT_EQ(http_.request_count(), 3u);  // 100 + 100 + 5
  ASSERT_TRUE(ecs.DescribeTasks("c", many).ok());
  EXPECT_EQ(http_.request_count(), 6u);  // 100 + 100 + 5
  ASSERT_TRUE(ecs.DescribeServices("c", std::vector<std::string>(21, "s")).ok());
  EXPECT_EQ(http_.request_count(), 9u);  // 10 + 10 + 1
  std::vector<EcsAttribute> attrs(11, EcsAttribute{"a", "v", "", "arn"});
  ASSERT_TRUE(ecs.PutAttributes("c", attrs).ok());
  EXPECT_EQ(http_.request_count(), 11u);  // 10 + 1
  auto last = nlohmann::json::parse(http_.requests().back().body);
  EXPECT_EQ(last["attributes"][0],
            (nlohmann::json{{"name", "a"}, {"value", "v"}, {"targetId", "arn"}}));
  // Nothing to do: no call.
  ASSERT_TRUE(ecs.DescribeTasks("c", {}).ok());
  EXPECT_EQ(http_.request_count(), 11u);
}

TEST_F(ServiceClientsTest, EcsMalformedReplyIsInternal) {
  http_.Push(
      200,
      R"({"containerInstances": [{"containerInstanceArn": "a", "runningTasksCount": "three"}]})");
  EcsClient ecs(client_);
  auto r = ecs.DescribeContainerInstances("c", {"a"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_THAT(r.status().message(), HasSubstr("runningTasksCount"));
}

// ---------------------------------------------------------------- EC2

constexpr char kFleetPage1[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<DescribeSpotFleetRequestsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>r-1</requestId>
  <spotFleetRequestConfigSet>
    <item>
      <activityStatus>pending_fulfillment</activityStatus>
      <createTime>2024-01-01T10:00:00.000Z</createTime>
      <spotFleetRequestConfig>
        <allocationStrategy>capacityOptimized</allocationStrategy>
        <fulfilledCapacity>4.0</fulfilledCapacity>
        <onDemandFulfilledCapacity>0.0</onDemandFulfilledCapacity>
        <iamFleetRole>arn:aws:iam::123456789012:role/fleet</iamFleetRole>
        <launchTemplateConfigs>
          <item>
            <launchTemplateSpecification>
              <launchTemplateId>lt-0abc</launchTemplateId>
              <version>3</version>
            </launchTemplateSpecification>
            <overrides>
              <item><instanceType>m5.large</instanceType><weightedCapacity>2.0</weightedCapacity><subnetId>subnet-1</subnetId></item>
              <item><instanceType>m5.2xlarge</instanceType><weightedCapacity>8.0</weightedCapacity><priority>1.0</priority></item>
              <item><instanceType>c5.large</instanceType></item>
            </overrides>
          </item>
        </launchTemplateConfigs>
        <targetCapacity>10</targetCapacity>
        <onDemandTargetCapacity>0</onDemandTargetCapacity>
        <type>maintain</type>
        <excessCapacityTerminationPolicy>noTermination</excessCapacityTerminationPolicy>
      </spotFleetRequestConfig>
      <spotFleetRequestId>sfr-1</spotFleetRequestId>
      <spotFleetRequestState>active</spotFleetRequestState>
      <tagSet><item><key>team</key><value>infra</value></item></tagSet>
    </item>
  </spotFleetRequestConfigSet>
  <nextToken>page2</nextToken>
</DescribeSpotFleetRequestsResponse>)";

constexpr char kFleetPage2[] =
    R"(<DescribeSpotFleetRequestsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <spotFleetRequestConfigSet>
    <item>
      <spotFleetRequestConfig>
        <launchSpecifications>
          <item><instanceType>r5.large</instanceType><placement><availabilityZone>us-east-1b</availabilityZone></placement></item>
        </launchSpecifications>
        <targetCapacity>1</targetCapacity>
      </spotFleetRequestConfig>
      <spotFleetRequestId>sfr-2</spotFleetRequestId>
      <spotFleetRequestState>submitted</spotFleetRequestState>
    </item>
  </spotFleetRequestConfigSet>
</DescribeSpotFleetRequestsResponse>)";

TEST_F(ServiceClientsTest, Ec2DescribeSpotFleetRequestsTemplateConfigsAndPages) {
  http_.Push(200, kFleetPage1);
  http_.Push(200, kFleetPage2);
  Ec2Client ec2(client_);
  auto fleets = ec2.DescribeSpotFleetRequests();
  ASSERT_TRUE(fleets.ok()) << fleets.status().ToString();
  ASSERT_THAT(*fleets, SizeIs(2));
  const SpotFleetRequest& f = (*fleets)[0];
  EXPECT_EQ(f.id, "sfr-1");
  EXPECT_EQ(f.state, "active");
  EXPECT_EQ(f.activity_status, "pending_fulfillment");
  EXPECT_EQ(f.target_capacity, 10);
  EXPECT_DOUBLE_EQ(f.fulfilled_capacity, 4.0);
  EXPECT_EQ(f.type, "maintain");
  EXPECT_EQ(f.excess_capacity_termination_policy, "noTermination");
  ASSERT_TRUE(f.create_time.has_value());
  EXPECT_EQ(FormatIso8601(*f.create_time), "2024-01-01T10:00:00Z");
  EXPECT_EQ(f.tags.at("team"), "infra");
  ASSERT_THAT(f.launch_template_configs, SizeIs(1));
  EXPECT_EQ(f.launch_template_configs[0].launch_template_id, "lt-0abc");
  EXPECT_EQ(f.launch_template_configs[0].version, "3");
  ASSERT_THAT(f.launch_template_configs[0].overrides, SizeIs(3));
  EXPECT_EQ(f.launch_template_configs[0].overrides[0].subnet_id, "subnet-1");
  EXPECT_THAT(f.launch_template_configs[0].overrides[1].priority, Optional(1.0));
  EXPECT_THAT(f.WeightOf("m5.large"), Optional(2.0));
  EXPECT_THAT(f.WeightOf("m5.2xlarge"), Optional(8.0));
  EXPECT_EQ(f.WeightOf("c5.large"), std::nullopt);  // named without a weight

  const SpotFleetRequest& g = (*fleets)[1];
  EXPECT_EQ(g.id, "sfr-2");
  EXPECT_DOUBLE_EQ(g.fulfilled_capacity, 0);  // not reported yet
  ASSERT_THAT(g.launch_specifications, SizeIs(1));
  EXPECT_EQ(g.launch_specifications[0].availability_zone, "us-east-1b");

  auto requests = http_.requests();
  ASSERT_THAT(requests, SizeIs(2));
  auto form1 = Form(requests[0]);
  EXPECT_EQ(form1["Action"], "DescribeSpotFleetRequests");
  EXPECT_EQ(form1["Version"], "2016-11-15");
  EXPECT_FALSE(form1.count("NextToken"));
  EXPECT_EQ(Form(requests[1])["NextToken"], "page2");
}

TEST_F(ServiceClientsTest, Ec2FleetWithoutTargetCapacityIsInternal) {
  http_.Push(200, R"(<DescribeSpotFleetRequestsResponse><spotFleetRequestConfigSet><item>
      <spotFleetRequestConfig><fulfilledCapacity>2</fulfilledCapacity></spotFleetRequestConfig>
      <spotFleetRequestId>sfr-1</spotFleetRequestId></item></spotFleetRequestConfigSet>
      </DescribeSpotFleetRequestsResponse>)");
  Ec2Client ec2(client_);
  auto fleets = ec2.DescribeSpotFleetRequests({"sfr-1"});
  ASSERT_FALSE(fleets.ok());
  EXPECT_EQ(fleets.status().code(), StatusCode::kInternal);
  EXPECT_THAT(fleets.status().message(), HasSubstr("targetCapacity is missing"));
}

// DescribeFleets as EC2 answers it (botocore's ec2 model: FleetData).
constexpr char kEc2FleetsPage1[] =
    R"(<DescribeFleetsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>r-1</requestId>
  <fleetSet>
    <item>
      <activityStatus>pending_fulfillment</activityStatus>
      <createTime>2024-01-01T10:00:00.000Z</createTime>
      <excessCapacityTerminationPolicy>termination</excessCapacityTerminationPolicy>
      <fleetId>fleet-1</fleetId>
      <fleetState>active</fleetState>
      <fulfilledCapacity>20.0</fulfilledCapacity>
      <fulfilledOnDemandCapacity>0.0</fulfilledOnDemandCapacity>
      <launchTemplateConfigs>
        <item>
          <launchTemplateSpecification>
            <launchTemplateId>lt-0abc</launchTemplateId>
            <version>$Latest</version>
          </launchTemplateSpecification>
          <overrides>
            <item><instanceType>c5.4xlarge</instanceType><weightedCapacity>12.0</weightedCapacity><maxPrice>0.30</maxPrice><subnetId>subnet-1</subnetId></item>
            <item><instanceType>m5.large</instanceType><priority>1.0</priority></item>
          </overrides>
        </item>
      </launchTemplateConfigs>
      <targetCapacitySpecification>
        <totalTargetCapacity>24</totalTargetCapacity>
        <onDemandTargetCapacity>0</onDemandTargetCapacity>
        <spotTargetCapacity>24</spotTargetCapacity>
        <defaultTargetCapacityType>spot</defaultTargetCapacityType>
      </targetCapacitySpecification>
      <terminateInstancesWithExpiration>false</terminateInstancesWithExpiration>
      <type>maintain</type>
      <replaceUnhealthyInstances>false</replaceUnhealthyInstances>
      <spotOptions><allocationStrategy>priceCapacityOptimized</allocationStrategy></spotOptions>
      <tagSet><item><key>team</key><value>infra</value></item></tagSet>
      <errorSet/>
    </item>
  </fleetSet>
  <nextToken>page2</nextToken>
</DescribeFleetsResponse>)";

constexpr char kEc2FleetsPage2[] =
    R"(<DescribeFleetsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <fleetSet>
    <item>
      <fleetId>fleet-2</fleetId>
      <fleetState>submitted</fleetState>
      <targetCapacitySpecification><totalTargetCapacity>4</totalTargetCapacity></targetCapacitySpecification>
      <type>request</type>
    </item>
  </fleetSet>
</DescribeFleetsResponse>)";

TEST_F(ServiceClientsTest, Ec2DescribeFleetsTargetFulfilledOverridesAndPages) {
  http_.Push(200, kEc2FleetsPage1);
  http_.Push(200, kEc2FleetsPage2);
  Ec2Client ec2(client_);
  ec2.set_page_size(50);
  auto fleets = ec2.DescribeFleets({"fleet-1", "fleet-2"});
  ASSERT_TRUE(fleets.ok()) << fleets.status().ToString();
  ASSERT_THAT(*fleets, SizeIs(2));
  const Ec2Fleet& f = (*fleets)[0];
  EXPECT_EQ(f.id, "fleet-1");
  EXPECT_EQ(f.state, "active");
  EXPECT_EQ(f.activity_status, "pending_fulfillment");
  EXPECT_EQ(f.type, "maintain");
  EXPECT_EQ(f.total_target_capacity, 24);
  EXPECT_EQ(f.spot_target_capacity, 24);
  EXPECT_EQ(f.default_target_capacity_type, "spot");
  EXPECT_DOUBLE_EQ(f.fulfilled_capacity, 20.0);
  EXPECT_EQ(f.excess_capacity_termination_policy, "termination");
  ASSERT_TRUE(f.create_time.has_value());
  EXPECT_EQ(FormatIso8601(*f.create_time), "2024-01-01T10:00:00Z");
  EXPECT_EQ(f.tags.at("team"), "infra");
  ASSERT_THAT(f.launch_template_configs, SizeIs(1));
  EXPECT_EQ(f.launch_template_configs[0].launch_template_id, "lt-0abc");
  EXPECT_EQ(f.launch_template_configs[0].version, "$Latest");
  const auto& overrides = f.launch_template_configs[0].overrides;
  ASSERT_THAT(overrides, SizeIs(2));
  EXPECT_EQ(overrides[0].instance_type, "c5.4xlarge");
  EXPECT_THAT(overrides[0].weighted_capacity, Optional(12.0));
  EXPECT_EQ(overrides[0].spot_price, "0.30");  // EC2 Fleet's maxPrice
  EXPECT_EQ(overrides[0].subnet_id, "subnet-1");
  EXPECT_EQ(overrides[1].weighted_capacity, std::nullopt);
  EXPECT_THAT(overrides[1].priority, Optional(1.0));

  const Ec2Fleet& g = (*fleets)[1];
  EXPECT_EQ(g.id, "fleet-2");
  EXPECT_EQ(g.total_target_capacity, 4);
  EXPECT_DOUBLE_EQ(g.fulfilled_capacity, 0);  // not reported yet
  EXPECT_TRUE(g.launch_template_configs.empty());

  auto requests = http_.requests();
  ASSERT_THAT(requests, SizeIs(2));
  auto form1 = Form(requests[0]);
  EXPECT_EQ(form1["Action"], "DescribeFleets");
  EXPECT_EQ(form1["FleetId.1"], "fleet-1");
  EXPECT_EQ(form1["FleetId.2"], "fleet-2");
  EXPECT_EQ(form1["MaxResults"], "50");
  EXPECT_FALSE(form1.count("NextToken"));
  EXPECT_EQ(Form(requests[1])["NextToken"], "page2");
}

TEST_F(ServiceClientsTest, Ec2FleetWithoutItsTargetOrIdIsInternal) {
  http_.Push(200, R"(<DescribeFleetsResponse><fleetSet><item><fleetId>fleet-1</fleetId>
      <fulfilledCapacity>2</fulfilledCapacity></item></fleetSet></DescribeFleetsResponse>)");
  http_.Push(200, R"(<DescribeFleetsResponse><fleetSet><item><targetCapacitySpecification>
      <totalTargetCapacity>2</totalTargetCapacity></targetCapacitySpecification></item>
      </fleetSet></DescribeFleetsResponse>)");
  http_.Push(200, R"(<DescribeFleetsResponse><fleetSet><item><fleetId>fleet-1</fleetId>
      <fulfilledCapacity>lots</fulfilledCapacity><targetCapacitySpecification>
      <totalTargetCapacity>2</totalTargetCapacity></targetCapacitySpecification></item>
      </fleetSet></DescribeFleetsResponse>)");
  Ec2Client ec2(client_);
  for (const char* problem :
       {"totalTargetCapacity is missing", "has no fleetId", "fulfilledCapacity"}) {
    auto fleets = ec2.DescribeFleets({"fleet-1"});
    ASSERT_FALSE(fleets.ok()) << problem;
    EXPECT_EQ(fleets.status().code(), StatusCode::kInternal);
    EXPECT_THAT(fleets.status().message(), HasSubstr(problem));
  }
}

TEST_F(ServiceClientsTest, Ec2DescribeFleetInstancesFollowsPages) {
  http_.Push(200,
             R"(<DescribeFleetInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <activeInstanceSet>
    <item><instanceId>i-1</instanceId><instanceType>c5.4xlarge</instanceType>
      <spotInstanceRequestId>sir-1</spotInstanceRequestId><instanceHealth>healthy</instanceHealth></item>
  </activeInstanceSet>
  <fleetId>fleet-1</fleetId>
  <nextToken>t2</nextToken>
</DescribeFleetInstancesResponse>)");
  http_.Push(200, R"(<DescribeFleetInstancesResponse>
  <activeInstanceSet><item><instanceId>i-2</instanceId><instanceType>m5.large</instanceType></item></activeInstanceSet>
  <fleetId>fleet-1</fleetId>
</DescribeFleetInstancesResponse>)");
  http_.Push(200, R"(<DescribeFleetInstancesResponse><activeInstanceSet>
      <item><instanceType>m5.large</instanceType></item></activeInstanceSet>
      </DescribeFleetInstancesResponse>)");
  Ec2Client ec2(client_);
  auto instances = ec2.DescribeFleetInstances("fleet-1");
  ASSERT_TRUE(instances.ok()) << instances.status().ToString();
  ASSERT_THAT(*instances, SizeIs(2));
  EXPECT_EQ((*instances)[0].instance_id, "i-1");
  EXPECT_EQ((*instances)[0].instance_type, "c5.4xlarge");
  EXPECT_EQ((*instances)[0].spot_instance_request_id, "sir-1");
  EXPECT_EQ((*instances)[0].instance_health, "healthy");
  EXPECT_EQ((*instances)[1].instance_id, "i-2");
  auto requests = http_.requests();
  ASSERT_THAT(requests, SizeIs(2));
  EXPECT_EQ(Form(requests[0])["Action"], "DescribeFleetInstances");
  EXPECT_EQ(Form(requests[0])["FleetId"], "fleet-1");
  EXPECT_EQ(Form(requests[1])["NextToken"], "t2");
  // An active instance without its id is a malformed reply.
  auto bad = ec2.DescribeFleetInstances("fleet-1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInternal);
}

TEST_F(ServiceClientsTest, Ec2QueryParameters) {
  http_.SetHandler([](const net::HttpRequest& req) -> Result<net::HttpResponse> {
    std::string action = Form(req)["Action"];
    if (action == "DescribeInstances") {
      return Reply(200, "<DescribeInstancesResponse><reservationSet/></DescribeInstancesResponse>");
    }
    if (action == "DescribeInstanceTypes") {
      return Reply(
          200, "<DescribeInstanceTypesResponse><instanceTypeSet/></DescribeInstanceTypesResponse>");
    }
    return Reply(
        200,
        "<ModifySpotFleetRequestResponse><return>true</return></ModifySpotFleetRequestResponse>");
  });
  Ec2Client ec2(client_);
  ec2.set_page_size(50);
  ASSERT_TRUE(ec2.DescribeInstances({{"i-1", "i-2"}, {{"tag:Name", {"a b", "c"}}}}).ok());
  auto f = Form(http_.requests().back());
  EXPECT_EQ(f["InstanceId.1"], "i-1");
  EXPECT_EQ(f["InstanceId.2"], "i-2");
  EXPECT_EQ(f["Filter.1.Name"], "tag:Name");
  EXPECT_EQ(f["Filter.1.Value.1"], "a b");
  EXPECT_EQ(f["Filter.1.Value.2"], "c");
  EXPECT_FALSE(f.count("MaxResults"));  // not with InstanceId

  ASSERT_TRUE(ec2.DescribeInstances({{}, {{"instance-state-name", {"running"}}}}).ok());
  EXPECT_EQ(Form(http_.requests().back())["MaxResults"], "50");

  ASSERT_TRUE(ec2.ModifySpotFleetRequest("sfr-1", 12, "noTermination").ok());
  f = Form(http_.requests().back());
  EXPECT_EQ(f["SpotFleetRequestId"], "sfr-1");
  EXPECT_EQ(f["TargetCapacity"], "12");
  EXPECT_EQ(f["ExcessCapacityTerminationPolicy"], "noTermination");

  std::vector<std::string> types;
  for (int i = 0; i < 150; ++i) types.push_back("t" + std::to_string(i));
  size_t before = http_.request_count();
  ASSERT_TRUE(ec2.DescribeInstanceTypes(types).ok());
  EXPECT_EQ(http_.request_count() - before, 2u);  // 100 + 50
  EXPECT_EQ(Form(http_.requests().back())["InstanceType.50"], "t149");
}

TEST_F(ServiceClientsTest, Ec2ModifyReturnFalseIsInternal) {
  http_.Push(
      200,
      "<ModifySpotFleetRequestResponse><return>false</return></ModifySpotFleetRequestResponse>");
  Ec2Client ec2(client_);
  Status st = ec2.ModifySpotFleetRequest("sfr-1", 3);
  EXPECT_EQ(st.code(), StatusCode::kInternal) << st.ToString();
}

// ---------------------------------------------------------------- Auto Scaling

TEST_F(ServiceClientsTest, AutoScalingParametersAndBatches) {
  http_.SetHandler([](const net::HttpRequest& req) -> Result<net::HttpResponse> {
    std::string action = Form(req)["Action"];
    return Reply(200, "<" + action + "Response><" + action + "Result/></" + action + "Response>");
  });
  AutoScalingClient asg(client_);
  ASSERT_TRUE(asg.SetDesiredCapacity("od", 7, false).ok());
  auto f = Form(http_.requests().back());
  EXPECT_EQ(f["AutoScalingGroupName"], "od");
  EXPECT_EQ(f["DesiredCapacity"], "7");
  EXPECT_EQ(f["HonorCooldown"], "false");

  std::vector<std::string> ids;
  for (int i = 0; i < 120; ++i) ids.push_back("i-" + std::to_string(i));
  size_t before = http_.request_count();
  ASSERT_TRUE(asg.SetInstanceProtection("od", ids, true).ok());
  EXPECT_EQ(http_.request_count() - before, 3u);  // 50 + 50 + 20
  f = Form(http_.requests().back());
  EXPECT_EQ(f["InstanceIds.member.1"], "i-100");
  EXPECT_EQ(f["InstanceIds.member.20"], "i-119");
  EXPECT_EQ(f["ProtectedFromScaleIn"], "true");

  std::vector<std::string> names(60, "g");
  before = http_.request_count();
  ASSERT_TRUE(asg.DescribeAutoScalingGroups(names).ok());
  EXPECT_EQ(http_.request_count() - before, 2u);  // 50 + 10
  EXPECT_EQ(Form(http_.requests().back())["AutoScalingGroupNames.member.10"], "g");
}

TEST_F(ServiceClientsTest, AutoScalingLifecycleActionsAndHooks) {
  http_.SetHandler([](const net::HttpRequest& req) -> Result<net::HttpResponse> {
    std::string action = Form(req)["Action"];
    if (action == "DescribeLifecycleHooks") {
      return Reply(200,
                   "<DescribeLifecycleHooksResponse><DescribeLifecycleHooksResult><LifecycleHooks>"
                   "<member><LifecycleHookName>drain</LifecycleHookName>"
                   "<AutoScalingGroupName>od</AutoScalingGroupName>"
                   "<LifecycleTransition>autoscaling:EC2_INSTANCE_TERMINATING</LifecycleTransition>"
                   "<HeartbeatTimeout>300</HeartbeatTimeout><GlobalTimeout>30000</GlobalTimeout>"
                   "<DefaultResult>CONTINUE</DefaultResult></member>"
                   "<member><LifecycleHookName>boot</LifecycleHookName>"
                   "<LifecycleTransition>autoscaling:EC2_INSTANCE_LAUNCHING</LifecycleTransition>"
                   "</member></LifecycleHooks></DescribeLifecycleHooksResult>"
                   "</DescribeLifecycleHooksResponse>");
    }
    return Reply(200, "<" + action + "Response><" + action + "Result/></" + action + "Response>");
  });
  AutoScalingClient asg(client_);
  auto hooks = asg.DescribeLifecycleHooks("od");
  ASSERT_TRUE(hooks.ok()) << hooks.status().ToString();
  ASSERT_THAT(*hooks, SizeIs(2));
  EXPECT_EQ((*hooks)[0].name, "drain");
  EXPECT_EQ((*hooks)[0].group, "od");
  EXPECT_EQ((*hooks)[0].transition, "autoscaling:EC2_INSTANCE_TERMINATING");
  EXPECT_EQ((*hooks)[0].heartbeat_timeout_seconds, 300);
  EXPECT_EQ((*hooks)[0].global_timeout_seconds, 30000);
  EXPECT_EQ((*hooks)[0].default_result, "CONTINUE");
  EXPECT_EQ((*hooks)[1].heartbeat_timeout_seconds, 0);
  EXPECT_EQ(Form(http_.requests().back())["AutoScalingGroupName"], "od");

  ASSERT_TRUE(asg.CompleteLifecycleAction({"drain", "od", "i-1", "tok"}, "CONTINUE").ok());
  auto f = Form(http_.requests().back());
  EXPECT_EQ(f["Action"], "CompleteLifecycleAction");
  EXPECT_EQ(f["LifecycleHookName"], "drain");
  EXPECT_EQ(f["AutoScalingGroupName"], "od");
  EXPECT_EQ(f["InstanceId"], "i-1");
  EXPECT_EQ(f["LifecycleActionToken"], "tok");
  EXPECT_EQ(f["LifecycleActionResult"], "CONTINUE");

  // After a restart only the instance id names the action: no empty token.
  ASSERT_TRUE(asg.RecordLifecycleActionHeartbeat({"drain", "od", "i-1", ""}).ok());
  f = Form(http_.requests().back());
  EXPECT_EQ(f["Action"], "RecordLifecycleActionHeartbeat");
  EXPECT_EQ(f["InstanceId"], "i-1");
  EXPECT_EQ(f.count("LifecycleActionToken"), 0u);
  EXPECT_EQ(f.count("LifecycleActionResult"), 0u);
}

TEST_F(ServiceClientsTest, AutoScalingLifecycleHookWithoutNameIsInternal) {
  http_.Push(200,
             "<DescribeLifecycleHooksResponse><DescribeLifecycleHooksResult><LifecycleHooks>"
             "<member><AutoScalingGroupName>od</AutoScalingGroupName></member></LifecycleHooks>"
             "</DescribeLifecycleHooksResult></DescribeLifecycleHooksResponse>");
  AutoScalingClient asg(client_);
  EXPECT_EQ(asg.DescribeLifecycleHooks("od").status().code(), StatusCode::kInternal);
}

TEST_F(ServiceClientsTest, AutoScalingDescribeLaunchConfigurationsPagesAndShape) {
  auto page = [](const std::string& name, const std::string& type, const std::string& next) {
    return "<DescribeLaunchConfigurationsResponse><DescribeLaunchConfigurationsResult>"
           "<LaunchConfigurations><member><LaunchConfigurationName>" +
           name + "</LaunchConfigurationName><LaunchConfigurationARN>arn:lc/" + name +
           "</LaunchConfigurationARN><ImageId>ami-1</ImageId><InstanceType>" + type +
           "</InstanceType><CreatedTime>2026-01-01T00:00:00Z</CreatedTime>"
           "<SecurityGroups/></member></LaunchConfigurations>" +
           (next.empty() ? "" : "<NextToken>" + next + "</NextToken>") +
           "</DescribeLaunchConfigurationsResult></DescribeLaunchConfigurationsResponse>";
  };
  http_.Push(200, page("ecsLC", "m5.xlarge", "p2"));
  http_.Push(200, page("other", "c5.large", ""));
  AutoScalingClient asg(client_);
  auto lcs = asg.DescribeLaunchConfigurations({"ecsLC", "other"});
  ASSERT_TRUE(lcs.ok()) << lcs.status().ToString();
  ASSERT_THAT(*lcs, SizeIs(2));
  EXPECT_EQ((*lcs)[0].name, "ecsLC");
  EXPECT_EQ((*lcs)[0].arn, "arn:lc/ecsLC");
  EXPECT_EQ((*lcs)[0].image_id, "ami-1");
  EXPECT_EQ((*lcs)[0].instance_type, "m5.xlarge");
  EXPECT_EQ((*lcs)[1].instance_type, "c5.large");
  ASSERT_EQ(http_.request_count(), 2u);
  auto first = Form(http_.requests()[0]);
  EXPECT_EQ(first["Action"], "DescribeLaunchConfigurations");
  EXPECT_EQ(first["LaunchConfigurationNames.member.1"], "ecsLC");
  EXPECT_EQ(first["LaunchConfigurationNames.member.2"], "other");
  EXPECT_EQ(first.count("NextToken"), 0u);
  EXPECT_EQ(Form(http_.requests()[1])["NextToken"], "p2");

  // 60 names: 50 + 10 per call.
  http_.SetHandler([&](const net::HttpRequest&) -> Result<net::HttpResponse> {
    return Reply(200, page("g", "m5.large", ""));
  });
  ASSERT_TRUE(asg.DescribeLaunchConfigurations(std::vector<std::string>(60, "g")).ok());
  EXPECT_EQ(http_.request_count(), 4u);
  EXPECT_EQ(Form(http_.requests().back())["LaunchConfigurationNames.member.10"], "g");

  // InstanceType is required in the reply: its absence is no empty type.
  http_.SetHandler([&](const net::HttpRequest&) -> Result<net::HttpResponse> {
    return Reply(200, page("bad", "", ""));
  });
  auto bad = asg.DescribeLaunchConfigurations({"bad"});
  EXPECT_EQ(bad.status().code(), StatusCode::kInternal) << bad.status().ToString();
  EXPECT_THAT(bad.status().message(), HasSubstr("bad has no InstanceType"));
}

// ---------------------------------------------------------------- CloudWatch

TEST_F(ServiceClientsTest, CloudWatchGetMetricDataMergesPages) {
  http_.Push(200, R"(<GetMetricDataResponse><GetMetricDataResult><MetricDataResults>
      <member><Id>a</Id><Label>A</Label><StatusCode>PartialData</StatusCode>
        <Timestamps><member>2024-01-01T00:02:00Z</member><member>2024-01-01T00:01:00Z</member></Timestamps>
        <Values><member>3</member><member>2.5</member></Values></member>
      </MetricDataResults><NextToken>more</NextToken></GetMetricDataResult></GetMetricDataResponse>)");
  http_.Push(200, R"(<GetMetricDataResponse><GetMetricDataResult><MetricDataResults>
      <member><Id>a</Id><StatusCode>Complete</StatusCode>
        <Timestamps><member>2024-01-01T00:00:00Z</member></Timestamps>
        <Values><member>1</member></Values></member>
      </MetricDataResults></GetMetricDataResult></GetMetricDataResponse>)");
  CloudWatchClient cw(client_);
  MetricDataQuery q;
  q.id = "a";
  q.namespace_ = "AWS/EC2Spot";
  q.metric_name = "PendingCapacity";
  q.dimensions = {{"FleetRequestId", "sfr-1"}};
  q.stat = "Maximum";
  WallTime t0 = clock_.WallNow();
  auto r = cw.GetMetricData({q}, t0 - std::chrono::minutes(5), t0);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_THAT(*r, SizeIs(1));
  EXPECT_EQ((*r)[0].label, "A");
  EXPECT_EQ((*r)[0].status_code, "Complete");
  EXPECT_THAT((*r)[0].values, ElementsAre(3.0, 2.5, 1.0));
  EXPECT_THAT((*r)[0].timestamps, SizeIs(3));
  auto f = Form(http_.requests()[0]);
  EXPECT_EQ(f["MetricDataQueries.member.1.MetricStat.Metric.Namespace"], "AWS/EC2Spot");
  EXPECT_EQ(f["MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name"],
            "FleetRequestId");
  EXPECT_EQ(f["MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value"], "sfr-1");
  EXPECT_EQ(f["MetricDataQueries.member.1.MetricStat.Stat"], "Maximum");
  EXPECT_EQ(f["StartTime"], "2023-12-31T23:55:00Z");
  EXPECT_EQ(Form(http_.requests()[1])["NextToken"], "more");
}

TEST_F(ServiceClientsTest, CloudWatchPutMetricDataParametersAndBatches) {
  http_.SetHandler([](const net::HttpRequest&) -> Result<net::HttpResponse> {
    return Reply(200, "<PutMetricDataResponse/>");
  });
  CloudWatchClient cw(client_);
  std::vector<MetricDatum> data(
      1001,
      MetricDatum{"PendingCapacity", {{"FleetRequestId", "sfr-1"}}, 0.5, std::nullopt, "Count", 1});
  ASSERT_TRUE(cw.PutMetricData("AWS/EC2Spot", data).ok());
  ASSERT_EQ(http_.request_count(), 2u);
  auto f = Form(http_.requests()[1]);
  EXPECT_EQ(f["Namespace"], "AWS/EC2Spot");
  EXPECT_EQ(f["MetricData.member.1.MetricName"], "PendingCapacity");
  EXPECT_EQ(f["MetricData.member.1.Dimensions.member.1.Value"], "sfr-1");
  EXPECT_EQ(f["MetricData.member.1.Value"], "0.5");
  EXPECT_EQ(f["MetricData.member.1.Unit"], "Count");
  EXPECT_EQ(f["MetricData.member.1.StorageResolution"], "1");
  EXPECT_FALSE(f.count("MetricData.member.2.MetricName"));

  EXPECT_EQ(cw.GetMetricData(std::vector<MetricDataQuery>(501), clock_.WallNow(), clock_.WallNow())
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------- SQS

TEST_F(ServiceClientsTest, SqsChecksBodyMd5) {
  EXPECT_EQ(Md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  http_.Push(200, nlohmann::json{{"Messages",
                                  {{{"MessageId", "m1"},
                                    {"ReceiptHandle", "rh"},
                                    {"Body", "hello"},
                                    {"MD5OfBody", Md5Hex("tampered")}}}}}
                      .dump());
  SqsClient sqs(client_);
  auto r = sqs.ReceiveMessage("http://q");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);

  http_.Push(200, "{}");  // no messages
  auto empty = sqs.ReceiveMessage("http://q", {.max_messages = 10, .wait_time_seconds = 5});
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_THAT(*empty, SizeIs(0));
  auto body = nlohmann::json::parse(http_.requests().back().body);
  EXPECT_EQ(Target(http_.requests().back()), "AmazonSQS.ReceiveMessage");
  EXPECT_EQ(body["MaxNumberOfMessages"], 10);
  EXPECT_EQ(body["WaitTimeSeconds"], 5);
  EXPECT_EQ(body["MessageSystemAttributeNames"],
            (nlohmann::json{"ApproximateReceiveCount", "SentTimestamp"}));
}

TEST_F(ServiceClientsTest, SqsDeleteMessageBatchReportsEachEntry) {
  http_.Push(200, R"({"Successful": [{"Id": "0"}, {"Id": "9"}],
                     "Failed": [{"Id": "1", "Code": "ReceiptHandleIsInvalid",
                                 "Message": "bad", "SenderFault": true},
                                {"Id": "x", "Code": "InternalError", "SenderFault": false}]})");
  SqsClient sqs(client_);
  auto r = sqs.DeleteMessageBatch("http://q", {"rh0", "rh1", "rh2"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_THAT(*r, SizeIs(3));
  EXPECT_TRUE((*r)[0].ok());
  EXPECT_EQ((*r)[1].code(), StatusCode::kInvalidArgument);
  EXPECT_NE((*r)[1].message().find("ReceiptHandleIsInvalid"), std::string::npos);
  EXPECT_EQ((*r)[2].code(), StatusCode::kUnavailable);  // not in the reply
  EXPECT_EQ(Target(http_.requests().back()), "AmazonSQS.DeleteMessageBatch");
  auto body = nlohmann::json::parse(http_.requests().back().body);
  EXPECT_EQ(body["Entries"], (nlohmann::json{{{"Id", "0"}, {"ReceiptHandle", "rh0"}},
                                             {{"Id", "1"}, {"ReceiptHandle", "rh1"}},
                                             {{"Id", "2"}, {"ReceiptHandle", "rh2"}}}));

  http_.Push(200, R"({"Successful": [{"Id": 0}]})");  // not a string: malformed
  EXPECT_EQ(sqs.DeleteMessageBatch("http://q", {"rh0"}).status().code(), StatusCode::kInternal);
  EXPECT_EQ(sqs.DeleteMessageBatch("http://q", {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(sqs.DeleteMessageBatch("http://q", std::vector<std::string>(11, "rh")).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(ServiceClientsTest, SqsChangeMessageVisibilityBatchSendsTheTimeoutPerEntry) {
  http_.Push(200, R"({"Successful": [{"Id": "1"}],
                     "Failed": [{"Id": "0", "Code": "MessageNotInflight",
                                 "Message": "not in flight", "SenderFault": true}]})");
  SqsClient sqs(client_);
  auto r = sqs.ChangeMessageVisibilityBatch("http://q", {"rh0", "rh1"}, 60);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_THAT(*r, SizeIs(2));
  EXPECT_EQ((*r)[0].code(), StatusCode::kInvalidArgument);
  EXPECT_NE((*r)[0].message().find("ChangeMessageVisibilityBatch: MessageNotInflight"),
            std::string::npos);
  EXPECT_TRUE((*r)[1].ok());
  EXPECT_EQ(Target(http_.requests().back()), "AmazonSQS.ChangeMessageVisibilityBatch");
  auto body = nlohmann::json::parse(http_.requests().back().body);
  EXPECT_EQ(body["Entries"],
            (nlohmann::json{{{"Id", "0"}, {"ReceiptHandle", "rh0"}, {"VisibilityTimeout", 60}},
                            {{"Id", "1"}, {"ReceiptHandle", "rh1"}, {"VisibilityTimeout", 60}}}));
  EXPECT_EQ(sqs.ChangeMessageVisibilityBatch("http://q", {}, 60).status().code(),
            StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------- helpers

TEST(ServiceUtilTest, NumbersAndBatches) {
  EXPECT_THAT(internal::ParseInt("42"), Optional(int64_t{42}));
  EXPECT_EQ(internal::ParseInt("4x"), std::nullopt);
  EXPECT_EQ(internal::ParseInt(""), std::nullopt);
  EXPECT_THAT(internal::ParseDouble("2.0"), Optional(2.0));
  EXPECT_EQ(internal::ParseDouble("nan"), std::nullopt);
  // Found by fuzzing: 1e300 passed the integral check and overflowed the conversion.
  EXPECT_THAT(internal::IntegralDouble(6.0), Optional(int64_t{6}));
  EXPECT_THAT(internal::IntegralDouble(-9223372036854775808.0),
              Optional(std::numeric_limits<int64_t>::min()));
  for (double bad : {0.5, 1e300, -1e300, 9223372036854775808.0, std::nan(""),
                     std::numeric_limits<double>::infinity()}) {
    EXPECT_EQ(internal::IntegralDouble(bad), std::nullopt) << bad;
  }
  EXPECT_TRUE(internal::EpochSeconds(1.7e9));
  EXPECT_TRUE(internal::EpochSeconds(7289654399.0));  // 2200-12-31T23:59:59Z
  for (double bad : {-1.0, 1e10, 7289654400.0, 1e300, std::nan("")}) {
    EXPECT_EQ(internal::EpochSeconds(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(internal::FormatDouble(2.0), "2");
  EXPECT_EQ(internal::FormatDouble(0.1), "0.1");
  EXPECT_THAT(internal::Batches({"a", "b", "c"}, 2),
              ElementsAre(ElementsAre("a", "b"), ElementsAre("c")));
  EXPECT_THAT(internal::Batches({}, 10), SizeIs(0));
}

TEST(QueueRegionTest, TheRegionOfAnAwsQueueUrl) {
  for (const auto& [url, region] : std::vector<std::pair<std::string, std::string>>{
           {"https://sqs.eu-west-1.amazonaws.com/123456789012/notices", "eu-west-1"},
           {"HTTPS://SQS.US-WEST-2.AMAZONAWS.COM/123456789012/Notices", "us-west-2"},
           {"https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q", "cn-north-1"},
           {"https://sqs-fips.us-gov-west-1.amazonaws.com/123456789012/q", "us-gov-west-1"},
           {"https://ap-south-1.queue.amazonaws.com/123456789012/q", "ap-south-1"},
           {"https://queue.amazonaws.com/123456789012/q", "us-east-1"},
           {"http://sqs.us-east-1.amazonaws.com:443/123456789012/q", "us-east-1"},
           // Not an AWS queue host: not checked.
           {"http://127.0.0.1:5000/123456789012/q", ""},
           {"https://vpce-0abc.sqs.us-east-1.vpce.amazonaws.com/123456789012/q", ""},
           {"https://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/q", ""},
           {"https://amazonaws.com/q", ""},
           {"https://sqs..amazonaws.com/q", ""},
           {"https://sqs.us_east_1.amazonaws.com/q", ""},
           {"sqs.us-east-1.amazonaws.com/123456789012/q", ""},
           {"", ""},
       }) {
    EXPECT_EQ(QueueUrlRegion(url), region) << url;
  }
  EXPECT_TRUE(CheckQueueRegion("https://sqs.eu-west-1.amazonaws.com/1/q", "eu-west-1").ok());
  EXPECT_TRUE(CheckQueueRegion("http://127.0.0.1:5000/1/q", "eu-west-1").ok());
  Status other = CheckQueueRegion("https://sqs.eu-west-1.amazonaws.com/1/q", "us-east-1");
  EXPECT_EQ(other.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(other.message(),
            "names a queue in eu-west-1, but the AWS region is us-east-1: SQS answers for a queue "
            "only at its own region's endpoint (set the region to eu-west-1, or use a queue of "
            "us-east-1)");
}

TEST(TopicRegionTest, TheRegionOfATopicArn) {
  EXPECT_EQ(TopicArnRegion("arn:aws:sns:us-west-2:123456789012:notices"), "us-west-2");
  EXPECT_EQ(TopicArnRegion("arn:aws-cn:sns:cn-north-1:123456789012:t"), "cn-north-1");
  for (const char* bad : {"", "topic", "arn:aws:sns:us-west-2:123456789012:",
                          "arn:aws:sqs:us-west-2:123456789012:q", "arn:aws:sns::123456789012:t",
                          "arn:aws:sns:US-WEST-2:123456789012:t", "arn:aws:sns:us-west-2"}) {
    EXPECT_EQ(TopicArnRegion(bad), "") << bad;
  }
  EXPECT_TRUE(CheckTopicRegion("arn:aws:sns:us-east-1:123456789012:t", "us-east-1").ok());
  EXPECT_TRUE(CheckTopicRegion("not an arn", "us-east-1").ok());
  Status other = CheckTopicRegion("arn:aws:sns:us-west-2:123456789012:t", "us-east-1");
  EXPECT_EQ(other.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(other.message(),
            "names a topic in us-west-2, but the AWS region is us-east-1: SNS publishes to a "
            "topic only at its own region's endpoint (set the region to us-west-2, or use a topic "
            "of us-east-1)");
}

TEST(QueueUrlFromArnTest, BuildsTheUrlOnTheResolvedEndpoint) {
  MapEnv defaults;
  EndpointResolver aws_endpoints(defaults, "eu-west-1");
  auto url =
      QueueUrlFromArn("arn:aws:sqs:eu-west-1:123456789012:spotkeeper-notices", aws_endpoints);
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(*url, "https://sqs.eu-west-1.amazonaws.com/123456789012/spotkeeper-notices");

  MapEnv local;
  local.Set("AWS_ENDPOINT_URL", "http://127.0.0.1:5000/");
  EndpointResolver local_endpoints(local, "us-east-1");
  url = QueueUrlFromArn("arn:aws:sqs:us-east-1:000000000000:q_1.fifo", local_endpoints);
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(*url, "http://127.0.0.1:5000/000000000000/q_1.fifo");
}

TEST(QueueUrlFromArnTest, RejectsWhatIsNotAQueueArnOfThisRegion) {
  MapEnv env;
  EndpointResolver endpoints(env, "us-east-1");
  for (const std::string& arn : std::vector<std::string>{
           "",
           "arn:aws:sqs:us-east-1:123456789012",
           "arn:aws:sns:us-east-1:123456789012:topic",
           "arn:aws:sqs:eu-west-1:123456789012:q",
           "arn:aws:sqs:us-east-1:12345678901:q",
           "arn:aws:sqs:us-east-1:12345678901x:q",
           "arn:aws:sqs:us-east-1:123456789012:",
           "arn:aws:sqs:us-east-1:123456789012:.fifo",
           "arn:aws:sqs:us-east-1:123456789012:q/../../x",
           "arn:aws:sqs:us-east-1:123456789012:q?x=1",
           "arn:aws:sqs:us-east-1:123456789012:a:b",
           "arn:aws:sqs:us-east-1:123456789012:" + std::string(81, 'q'),
           "urn:aws:sqs:us-east-1:123456789012:q",
       }) {
    auto url = QueueUrlFromArn(arn, endpoints);
    EXPECT_EQ(url.status().code(), StatusCode::kInvalidArgument) << arn;
  }
  EXPECT_TRUE(
      QueueUrlFromArn("arn:aws:sqs:us-east-1:123456789012:" + std::string(80, 'q'), endpoints)
          .ok());
}

}  // namespace
}  // namespace spk::aws
