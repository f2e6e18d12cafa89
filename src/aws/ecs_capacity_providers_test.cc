// EcsClient's capacity-provider reads: DescribeClusters' capacityProviders
// and DescribeCapacityProviders' Auto Scaling group settings.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <strings.h>

#include "aws/ecs.h"
#include "aws/fake_client_test_util.h"

namespace spk::aws {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kOnDemandProvider[] = R"({"capacityProviders": [{
  "capacityProviderArn": "arn:aws:ecs:us-east-1:123456789012:capacity-provider/cp-od",
  "name": "cp-od", "status": "ACTIVE",
  "autoScalingGroupProvider": {
    "autoScalingGroupArn": "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:0a1b2c3d-1111-2222-3333-444455556666:autoScalingGroupName/ecs-od",
    "managedScaling": {"status": "ENABLED", "targetCapacity": 100},
    "managedTerminationProtection": "DISABLED", "managedDraining": "ENABLED"}},
  {"capacityProviderArn": "arn:aws:ecs:us-east-1:123456789012:capacity-provider/cp-spot",
   "name": "cp-spot", "status": "ACTIVE",
   "autoScalingGroupProvider": {"autoScalingGroupArn": "ecs-spot",
                                "managedScaling": {"status": "DISABLED"}}}],
  "failures": [{"arn": "arn:aws:ecs:us-east-1:123456789012:capacity-provider/gone",
                "reason": "MISSING"}]})";

TEST(EcsCapacityProvidersTest, ReadsTheClustersProviderNames) {
  FakeAwsClient w;
  w.http.Push(200, R"({"clusters": [{"clusterName": "web", "capacityProviders":
                       ["cp-od", "cp-spot", "FARGATE"]}], "failures": []})");
  EcsClient ecs(w.client);
  auto names = ecs.ClusterCapacityProviders("web");
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_THAT(*names, ElementsAre("cp-od", "cp-spot", "FARGATE"));
  ASSERT_EQ(w.http.request_count(), 1u);
  bool describe_clusters = false;
  const std::vector<net::HttpRequest> requests = w.http.requests();
  for (const auto& [name, value] : requests[0].headers) {
    if (strcasecmp(name.c_str(), "X-Amz-Target") == 0) {
      describe_clusters = value == "AmazonEC2ContainerServiceV20141113.DescribeClusters";
    }
  }
  EXPECT_TRUE(describe_clusters);
  EXPECT_EQ(nlohmann::json::parse(w.http.requests()[0].body),
            (nlohmann::json{{"clusters", {"web"}}}));
}

TEST(EcsCapacityProvidersTest, AMissingClusterIsNotFound) {
  FakeAwsClient w;
  w.http.Push(200, R"({"clusters": [], "failures": [{"arn": "web", "reason": "MISSING"}]})");
  EcsClient ecs(w.client);
  auto names = ecs.ClusterCapacityProviders("web");
  ASSERT_FALSE(names.ok());
  EXPECT_EQ(names.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(names.status().message(), HasSubstr("cluster web: MISSING"));
}

TEST(EcsCapacityProvidersTest, ReadsEachProvidersGroupAndManagedScaling) {
  FakeAwsClient w;
  w.http.Push(200, kOnDemandProvider);
  EcsClient ecs(w.client);
  auto r = ecs.DescribeCapacityProviders({"cp-od", "cp-spot", "gone"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->capacity_providers.size(), 2u);
  const EcsCapacityProvider& od = r->capacity_providers[0];
  EXPECT_EQ(od.name, "cp-od");
  EXPECT_EQ(od.managed_scaling, "ENABLED");
  EXPECT_EQ(od.managed_draining, "ENABLED");
  EXPECT_EQ(od.managed_termination_protection, "DISABLED");
  EXPECT_EQ(od.auto_scaling_group_name(), "ecs-od");
  // The member may be the bare group name.
  EXPECT_EQ(r->capacity_providers[1].auto_scaling_group_name(), "ecs-spot");
  EXPECT_EQ(r->capacity_providers[1].managed_scaling, "DISABLED");
  ASSERT_EQ(r->failures.size(), 1u);
  EXPECT_EQ(r->failures[0].reason, "MISSING");
  EXPECT_EQ(nlohmann::json::parse(w.http.requests()[0].body),
            (nlohmann::json{{"capacityProviders", {"cp-od", "cp-spot", "gone"}}}));
}

TEST(EcsCapacityProvidersTest, AnArnWithoutAGroupNameNamesNoGroup) {
  EcsCapacityProvider p;
  p.auto_scaling_group_arn = "arn:aws:autoscaling:us-east-1:1:autoScalingGroup:uuid";
  EXPECT_EQ(p.auto_scaling_group_name(), "");
  p.auto_scaling_group_arn = "";
  EXPECT_EQ(p.auto_scaling_group_name(), "");
}

TEST(EcsCapacityProvidersTest, AMalformedProviderIsInternal) {
  FakeAwsClient w;
  w.http.Push(200, R"({"capacityProviders": [{"name": "cp", "autoScalingGroupProvider":
                       {"managedScaling": "ENABLED"}}]})");
  EcsClient ecs(w.client);
  auto r = ecs.DescribeCapacityProviders({"cp"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_THAT(r.status().message(), HasSubstr("managedScaling"));
}

TEST(EcsCapacityProvidersTest, FollowsNextToken) {
  FakeAwsClient w;
  w.http.Push(200, R"({"capacityProviders": [{"name": "a"}], "nextToken": "t1"})");
  w.http.Push(200, R"({"capacityProviders": [{"name": "b"}]})");
  EcsClient ecs(w.client);
  auto r = ecs.DescribeCapacityProviders({"a", "b"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->capacity_providers.size(), 2u);
  EXPECT_EQ(r->capacity_providers[1].name, "b");
  ASSERT_EQ(w.http.request_count(), 2u);
  EXPECT_EQ(nlohmann::json::parse(w.http.requests()[1].body)["nextToken"], "t1");
}

TEST(EcsCapacityProvidersTest, ManyProvidersAreDescribedAHundredPerCall) {
  FakeAwsClient w;
  for (int i = 0; i < 3; ++i) w.http.Push(200, R"({"capacityProviders": []})");
  EcsClient ecs(w.client);
  ASSERT_TRUE(ecs.DescribeCapacityProviders(std::vector<std::string>(201, "cp")).ok());
  EXPECT_EQ(w.http.request_count(), 3u);  // 100 + 100 + 1
}

}  // namespace
}  // namespace spk::aws
