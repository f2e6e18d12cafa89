// The calls the on-demand fallback makes (controller/fallback.h): ECS
// services with their tags, strategy and PRIMARY deployment, ListServices,
// UpdateService, TagResource/UntagResource, task createdAt; Auto Scaling's
// DescribeScalingActivities.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "aws/autoscaling.h"
#include "aws/ecs.h"
#include "aws/fake_client_test_util.h"

namespace spk::aws {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(FallbackCallsTest, DescribeServicesReadsTagsStrategyAndThePrimaryDeployment) {
  FakeAwsClient w;
  w.http.Push(200, R"({"services": [{
      "serviceArn": "arn:aws:ecs:us-east-1:1:service/c/web", "serviceName": "web",
      "status": "ACTIVE", "desiredCount": 3, "runningCount": 1, "pendingCount": 0,
      "taskDefinition": "arn:td/web:7",
      "capacityProviderStrategy": [{"capacityProvider": "cp-spot", "weight": 3},
                                   {"capacityProvider": "cp-od", "base": 1, "weight": 1}],
      "deployments": [{"status": "ACTIVE", "taskDefinition": "arn:td/web:7"},
                      {"status": "PRIMARY", "taskDefinition": "arn:td/web:8"}],
      "tags": [{"key": "team", "value": "a"}, {"key": "spotkeeper:fallback-for", "value": "x"}]}],
    "failures": []})");
  EcsClient ecs(w.client);
  auto r = ecs.DescribeServices("c", {"web"}, /*with_tags=*/true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->services.size(), 1u);
  const EcsService& s = r->services[0];
  EXPECT_EQ(s.desired_count, 3);
  EXPECT_EQ(s.running_count, 1);
  EXPECT_EQ(s.task_definition, "arn:td/web:7");
  EXPECT_EQ(s.primary_task_definition, "arn:td/web:8");
  EXPECT_THAT(s.capacity_providers, ElementsAre("cp-spot", "cp-od"));
  EXPECT_EQ(s.tags.at("spotkeeper:fallback-for"), "x");
  EXPECT_EQ(json::parse(w.http.requests()[0].body),
            (json{{"cluster", "c"}, {"services", {"web"}}, {"include", {"TAGS"}}}));
  // Without tags the request asks for none.
  w.http.Push(200, R"({"services": [], "failures": []})");
  ASSERT_TRUE(ecs.DescribeServices("c", {"web"}).ok());
  EXPECT_FALSE(json::parse(w.http.requests()[1].body).contains("include"));
}

TEST(FallbackCallsTest, ABadTagOrStrategyIsAnErrorNotAGuess) {
  FakeAwsClient w;
  w.http.Push(200, R"({"services": [{"serviceArn": "a", "serviceName": "web",
                        "tags": [{"key": 3, "value": "x"}]}]})");
  EcsClient ecs(w.client);
  EXPECT_FALSE(ecs.DescribeServices("c", {"web"}, true).ok());
  w.http.Push(200, R"({"services": [{"serviceArn": "a", "serviceName": "web",
                        "capacityProviderStrategy": "cp-spot"}]})");
  EXPECT_FALSE(ecs.DescribeServices("c", {"web"}, true).ok());
}

TEST(FallbackCallsTest, ListServicesFollowsPages) {
  FakeAwsClient w;
  w.http.Push(200, R"({"serviceArns": ["arn:s/1", "arn:s/2"], "nextToken": "t2"})");
  w.http.Push(200, R"({"serviceArns": ["arn:s/3"]})");
  EcsClient ecs(w.client);
  auto r = ecs.ListServices("c");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(*r, ElementsAre("arn:s/1", "arn:s/2", "arn:s/3"));
  EXPECT_EQ(json::parse(w.http.requests()[1].body).value("nextToken", ""), "t2");
}

TEST(FallbackCallsTest, UpdateServiceSendsTheCountAndOnlyAGivenTaskDefinition) {
  FakeAwsClient w;
  w.http.Push(200, R"({"service": {"serviceName": "web-od", "desiredCount": 3}})");
  w.http.Push(200, R"({"service": {"serviceName": "web-od", "desiredCount": 0}})");
  EcsClient ecs(w.client);
  ASSERT_TRUE(ecs.UpdateService("c", "web-od", 3, "arn:td/web:8").ok());
  ASSERT_TRUE(ecs.UpdateService("c", "web-od", 0).ok());
  EXPECT_EQ(json::parse(w.http.requests()[0].body), (json{{"cluster", "c"},
                                                          {"service", "web-od"},
                                                          {"desiredCount", 3},
                                                          {"taskDefinition", "arn:td/web:8"}}));
  EXPECT_EQ(json::parse(w.http.requests()[1].body),
            (json{{"cluster", "c"}, {"service", "web-od"}, {"desiredCount", 0}}));
  // A reply without its service is broken, not a success.
  w.http.Push(200, R"({"service": 7})");
  EXPECT_FALSE(ecs.UpdateService("c", "web-od", 1).ok());
}

TEST(FallbackCallsTest, TagAndUntagAResource) {
  FakeAwsClient w;
  w.http.Push(200, "{}");
  w.http.Push(200, "{}");
  EcsClient ecs(w.client);
  ASSERT_TRUE(ecs.TagResource("arn:s/web-od", {{"spotkeeper:shortfall-ended-at", "t"}}).ok());
  ASSERT_TRUE(ecs.UntagResource("arn:s/web-od", {"spotkeeper:shortfall-ended-at"}).ok());
  EXPECT_EQ(json::parse(w.http.requests()[0].body),
            (json{{"resourceArn", "arn:s/web-od"},
                  {"tags", {{{"key", "spotkeeper:shortfall-ended-at"}, {"value", "t"}}}}}));
  EXPECT_EQ(
      json::parse(w.http.requests()[1].body),
      (json{{"resourceArn", "arn:s/web-od"}, {"tagKeys", {"spotkeeper:shortfall-ended-at"}}}));
}

TEST(FallbackCallsTest, DescribeTasksReadsCreatedAt) {
  FakeAwsClient w;
  w.http.Push(200, R"({"tasks": [{"taskArn": "t1", "lastStatus": "PROVISIONING",
                       "capacityProviderName": "cp-spot", "createdAt": 1764633600.5}]})");
  EcsClient ecs(w.client);
  auto r = ecs.DescribeTasks("c", {"t1"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->tasks.size(), 1u);
  ASSERT_TRUE(r->tasks[0].created_at);
  EXPECT_EQ(FormatIso8601(*r->tasks[0].created_at, true), "2025-12-02T00:00:00.500Z");
  EXPECT_EQ(r->tasks[0].capacity_provider_name, "cp-spot");
}

constexpr char kActivities[] =
    R"(<DescribeScalingActivitiesResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">
<DescribeScalingActivitiesResult><Activities>
<member><ActivityId>a-2</ActivityId><AutoScalingGroupName>spot</AutoScalingGroupName>
<Description>Launching a new EC2 instance.  Status Reason: Could not launch Spot Instances.</Description>
<Cause>At 2026-12-02T00:00:00Z an instance was started</Cause>
<StartTime>2026-12-02T00:00:00.123Z</StartTime><EndTime>2026-12-02T00:00:05Z</EndTime>
<StatusCode>Failed</StatusCode>
<StatusMessage>Could not launch Spot Instances. InsufficientInstanceCapacity - There is no Spot capacity available that matches your request.</StatusMessage>
<Progress>100</Progress></member>
<member><ActivityId>a-1</ActivityId><AutoScalingGroupName>spot</AutoScalingGroupName>
<Description>Launching a new EC2 instance: i-1</Description><Cause>c</Cause>
<StartTime>2026-12-01T23:00:00Z</StartTime><StatusCode>InProgress</StatusCode><Progress>30</Progress></member>
</Activities><NextToken>more</NextToken></DescribeScalingActivitiesResult>
<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeScalingActivitiesResponse>)";

TEST(FallbackCallsTest, DescribeScalingActivitiesReadsOnePageNewestFirst) {
  FakeAwsClient w;
  w.http.Push(200, kActivities);
  AutoScalingClient asg(w.client);
  auto r = asg.DescribeScalingActivities("spot", 20);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].status_code, "Failed");
  EXPECT_THAT((*r)[0].status_message, HasSubstr("InsufficientInstanceCapacity"));
  ASSERT_TRUE((*r)[0].end_time);
  EXPECT_EQ(FormatIso8601(*(*r)[0].end_time), "2026-12-02T00:00:05Z");
  EXPECT_EQ((*r)[1].status_code, "InProgress");
  EXPECT_FALSE((*r)[1].end_time);
  EXPECT_EQ(w.http.request_count(), 1u);  // one page, not the group's history
  EXPECT_THAT(w.http.requests()[0].body, HasSubstr("MaxRecords=20"));
  EXPECT_THAT(w.http.requests()[0].body, HasSubstr("AutoScalingGroupName=spot"));
}

TEST(FallbackCallsTest, ABadActivityTimeIsAnError) {
  FakeAwsClient w;
  std::string bad = kActivities;
  bad.replace(bad.find("2026-12-02T00:00:05Z"), 20, "2026-12-02T00:00:nan");
  w.http.Push(200, bad);
  AutoScalingClient asg(w.client);
  EXPECT_FALSE(asg.DescribeScalingActivities("spot").ok());
}

}  // namespace
}  // namespace spk::aws
