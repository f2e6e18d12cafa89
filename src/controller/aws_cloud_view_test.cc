// AwsCloudView's on-demand group read over a FakeTransport answering like
// Auto Scaling and EC2: where a group's instance type (and so its units per
// instance) comes from. Against moto: tests/integration/controller_test.cc.
#include "controller/aws_cloud_view.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>

#include "aws/fake_client_test_util.h"

namespace spk::controller {
namespace {

// A group at 0 ("od", min 0, max 10) with `launch` inside its member
// (LaunchConfigurationName, LaunchTemplate or MixedInstancesPolicy) and
// `instances` as its Instances members.
std::string GroupReply(const std::string& launch, const std::string& instances = "") {
  return "<DescribeAutoScalingGroupsResponse><DescribeAutoScalingGroupsResult>"
         "<AutoScalingGroups><member><AutoScalingGroupName>od</AutoScalingGroupName>"
         "<MinSize>0</MinSize><MaxSize>10</MaxSize><DesiredCapacity>0</DesiredCapacity>" +
         launch + "<Instances>" + instances +
         "</Instances></member></AutoScalingGroups></DescribeAutoScalingGroupsResult>"
         "</DescribeAutoScalingGroupsResponse>";
}

std::string LaunchConfigurationsReply(const std::string& name, const std::string& type) {
  std::string member =
      name.empty() ? ""
                   : "<member><LaunchConfigurationName>" + name +
                         "</LaunchConfigurationName><ImageId>ami-1</ImageId><InstanceType>" + type +
                         "</InstanceType></member>";
  return "<DescribeLaunchConfigurationsResponse><DescribeLaunchConfigurationsResult>"
         "<LaunchConfigurations>" +
         member +
         "</LaunchConfigurations></DescribeLaunchConfigurationsResult>"
         "</DescribeLaunchConfigurationsResponse>";
}

std::string InstanceTypesReply(const std::string& type, int vcpus) {
  return "<DescribeInstanceTypesResponse><instanceTypeSet><item><instanceType>" + type +
         "</instanceType><vCpuInfo><defaultVCpus>" + std::to_string(vcpus) +
         "</defaultVCpus></vCpuInfo><memoryInfo><sizeInMiB>16384</sizeInMiB></memoryInfo>"
         "</item></instanceTypeSet></DescribeInstanceTypesResponse>";
}

std::string ActionOf(const net::HttpRequest& request) {
  const std::string key = "Action=";
  size_t at = request.body.find(key);
  if (at == std::string::npos) return "";
  size_t start = at + key.size();
  size_t end = request.body.find('&', start);
  return request.body.substr(start, end == std::string::npos ? end : end - start);
}

class AwsCloudViewTest : public ::testing::Test {
 protected:
  // Answers each action with replies_[action] (a 400 for one it does not know)
  // and counts the calls.
  void Serve() {
    http_.SetHandler([this](const net::HttpRequest& request) -> Result<net::HttpResponse> {
      std::string action = ActionOf(request);
      ++calls_[action];
      net::HttpResponse r;
      auto it = replies_.find(action);
      r.status = it == replies_.end() ? 400 : 200;
      r.body = it == replies_.end()
                   ? "<ErrorResponse><Error><Code>ValidationError</Code><Message>no " + action +
                         "</Message></Error></ErrorResponse>"
                   : it->second;
      return r;
    });
  }

  OnDemandGroupRead ReadAndResolve(std::optional<double> configured = std::nullopt) {
    Serve();
    OnDemandGroupRead read = cloud_.ReadOnDemandGroup("od");
    ResolveOnDemandUnits(cloud_, configured, &read);
    return read;
  }

  aws::FakeAwsClient fake_;
  net::FakeTransport& http_ = fake_.http;
  AwsCloudView cloud_{fake_.client};
  std::map<std::string, std::string> replies_;
  std::map<std::string, int> calls_;
};

TEST_F(AwsCloudViewTest, EmptyGroupOnALaunchConfigurationIsSizedFromItsType) {
  replies_["DescribeAutoScalingGroups"] =
      GroupReply("<LaunchConfigurationName>ecsLC</LaunchConfigurationName>");
  replies_["DescribeLaunchConfigurations"] = LaunchConfigurationsReply("ecsLC", "m5.xlarge");
  replies_["DescribeInstanceTypes"] = InstanceTypesReply("m5.xlarge", 4);
  OnDemandGroupRead read = ReadAndResolve();
  ASSERT_TRUE(read.group.read_status.ok()) << read.group.read_status.ToString();
  EXPECT_EQ(read.instance_type, "m5.xlarge");
  EXPECT_EQ(read.group.units_per_instance, 4);
  EXPECT_EQ(read.group.units_source, "launch configuration ecsLC: m5.xlarge, 4 vCPUs");
  EXPECT_EQ(calls_["DescribeLaunchConfigurations"], 1);
  EXPECT_NE(http_.requests()[1].body.find("LaunchConfigurationNames.member.1=ecsLC"),
            std::string::npos)
      << http_.requests()[1].body;
}

TEST_F(AwsCloudViewTest, MissingLaunchConfigurationLeavesUnitsUnknownSayingWhy) {
  replies_["DescribeAutoScalingGroups"] =
      GroupReply("<LaunchConfigurationName>gone</LaunchConfigurationName>");
  replies_["DescribeLaunchConfigurations"] = LaunchConfigurationsReply("", "");
  OnDemandGroupRead read = ReadAndResolve();
  ASSERT_TRUE(read.group.read_status.ok());
  EXPECT_EQ(read.instance_type, "");
  EXPECT_FALSE(read.group.units_per_instance.has_value());
  EXPECT_EQ(read.group.units_source,
            "instance type unknown: launch configuration gone: it does not exist");
  EXPECT_EQ(calls_["DescribeInstanceTypes"], 0);

  // A refused call is named too.
  replies_.erase("DescribeLaunchConfigurations");
  read = ReadAndResolve();
  EXPECT_EQ(read.group.units_source.rfind("instance type unknown: launch configuration gone: ", 0),
            0u)
      << read.group.units_source;
  EXPECT_NE(read.group.units_source.find("no DescribeLaunchConfigurations"), std::string::npos)
      << read.group.units_source;
}

TEST_F(AwsCloudViewTest, AnInstancesTypeComesFirstAndTheSettingWins) {
  replies_["DescribeAutoScalingGroups"] =
      GroupReply("<LaunchConfigurationName>ecsLC</LaunchConfigurationName>",
                 "<member><InstanceId>i-od1</InstanceId><InstanceType>c5.2xlarge</InstanceType>"
                 "<LifecycleState>InService</LifecycleState></member>");
  replies_["DescribeInstanceTypes"] = InstanceTypesReply("c5.2xlarge", 8);
  OnDemandGroupRead read = ReadAndResolve();
  EXPECT_EQ(read.group.units_per_instance, 8);
  EXPECT_EQ(read.group.units_source, "instance i-od1: c5.2xlarge, 8 vCPUs");
  EXPECT_EQ(calls_["DescribeLaunchConfigurations"], 0);

  read = ReadAndResolve(/*configured=*/2);
  EXPECT_EQ(read.group.units_source, "from the on-demand-units setting");
  EXPECT_FALSE(read.group.units_per_instance.has_value());  // the policy uses the setting
}

TEST_F(AwsCloudViewTest, MixedInstancesGroupKeepsItsFirstOverride) {
  replies_["DescribeAutoScalingGroups"] = GroupReply(
      "<MixedInstancesPolicy><LaunchTemplate><LaunchTemplateSpecification>"
      "<LaunchTemplateName>mixed</LaunchTemplateName></LaunchTemplateSpecification><Overrides>"
      "<member><InstanceType>m5.xlarge</InstanceType></member>"
      "<member><InstanceType>c5.xlarge</InstanceType></member></Overrides></LaunchTemplate>"
      "</MixedInstancesPolicy>");
  replies_["DescribeInstanceTypes"] = InstanceTypesReply("m5.xlarge", 4);
  OnDemandGroupRead read = ReadAndResolve();
  EXPECT_EQ(read.group.units_per_instance, 4);
  EXPECT_EQ(read.group.units_source, "mixed-instances policy's first override: m5.xlarge, 4 vCPUs");
  EXPECT_EQ(calls_["DescribeLaunchConfigurations"] + calls_["DescribeLaunchTemplateVersions"], 0);
}

TEST_F(AwsCloudViewTest, LaunchTemplateGroupAsBefore) {
  replies_["DescribeAutoScalingGroups"] = GroupReply(
      "<LaunchTemplate><LaunchTemplateName>od-lt</LaunchTemplateName><Version>$Latest</Version>"
      "</LaunchTemplate>");
  replies_["DescribeLaunchTemplateVersions"] =
      "<DescribeLaunchTemplateVersionsResponse><launchTemplateVersionSet><item>"
      "<launchTemplateData><instanceType>m5.large</instanceType></launchTemplateData></item>"
      "</launchTemplateVersionSet></DescribeLaunchTemplateVersionsResponse>";
  replies_["DescribeInstanceTypes"] = InstanceTypesReply("m5.large", 2);
  OnDemandGroupRead read = ReadAndResolve();
  EXPECT_EQ(read.group.units_per_instance, 2);
  EXPECT_EQ(read.group.units_source, "launch template od-lt version $Latest: m5.large, 2 vCPUs");
  EXPECT_EQ(calls_["DescribeLaunchConfigurations"], 0);
}

// A capacity provider's group: all-spot mixed instances at 3 of max 10, one
// instance InService; its activities: a spot request waiting since 00:10
// (a launch held by a lifecycle hook since 00:01 is no evidence), an
// older failed spot launch, a newer failure that is not about spot.
TEST_F(AwsCloudViewTest, AProviderGroupShowsItsSpotFailureAndItsLaunchUnderWay) {
  std::string group = GroupReply(
      "<MixedInstancesPolicy><LaunchTemplate><LaunchTemplateSpecification><LaunchTemplateName>"
      "lt</LaunchTemplateName></LaunchTemplateSpecification></LaunchTemplate>"
      "<InstancesDistribution><OnDemandPercentageAboveBaseCapacity>0"
      "</OnDemandPercentageAboveBaseCapacity></InstancesDistribution></MixedInstancesPolicy>",
      "<member><InstanceId>i-1</InstanceId><LifecycleState>InService</LifecycleState>"
      "<HealthStatus>Healthy</HealthStatus><AvailabilityZone>us-east-1a</AvailabilityZone>"
      "<ProtectedFromScaleIn>false</ProtectedFromScaleIn></member>");
  group.replace(group.find("<DesiredCapacity>0"), 18, "<DesiredCapacity>3");
  replies_["DescribeAutoScalingGroups"] = group;
  auto activity = [](const std::string& code, const std::string& description,
                     const std::string& message, const std::string& start, const std::string& end) {
    return "<member><ActivityId>a</ActivityId><AutoScalingGroupName>od</AutoScalingGroupName>"
           "<Description>" +
           description + "</Description><Cause>c</Cause><StartTime>" + start + "</StartTime>" +
           (end.empty() ? "" : "<EndTime>" + end + "</EndTime>") + "<StatusCode>" + code +
           "</StatusCode><StatusMessage>" + message + "</StatusMessage></member>";
  };
  replies_["DescribeScalingActivities"] =
      "<DescribeScalingActivitiesResponse><DescribeScalingActivitiesResult><Activities>" +
      activity("Failed", "Launching a new EC2 instance", "The security group sg-1 does not exist",
               "2026-12-02T00:20:00Z", "2026-12-02T00:20:01Z") +
      activity("MidLifecycleAction", "Launching a new EC2 instance: i-3", "",
               "2026-12-02T00:01:00Z", "") +
      activity("WaitingForSpotInstanceId", "Launching a new EC2 instance", "",
               "2026-12-02T00:10:00Z", "") +
      activity("Failed", "Launching a new EC2 instance",
               "Could not launch Spot Instances. InsufficientInstanceCapacity - There is no Spot "
               "capacity available that matches your request.",
               "2026-12-02T00:05:00Z", "2026-12-02T00:05:02Z") +
      "</Activities></DescribeScalingActivitiesResult></DescribeScalingActivitiesResponse>";
  Serve();
  auto read = cloud_.ReadProviderGroup("od");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_TRUE(read->spot);
  EXPECT_EQ(read->read.desired, 3);
  EXPECT_EQ(read->read.in_service, 1);
  EXPECT_EQ(read->read.max_size, 10);
  ASSERT_TRUE(read->read.spot_failure_at);
  EXPECT_EQ(FormatIso8601(*read->read.spot_failure_at), "2026-12-02T00:05:02Z");
  EXPECT_NE(read->read.spot_failure_message.find("InsufficientInstanceCapacity"),
            std::string::npos);
  ASSERT_TRUE(read->read.launching_since);
  EXPECT_EQ(FormatIso8601(*read->read.launching_since), "2026-12-02T00:10:00Z");

  // An on-demand group (no mixed-instances policy) is not spot; a failed
  // activities read fails the whole read.
  replies_["DescribeAutoScalingGroups"] = GroupReply(
      "<LaunchTemplate><LaunchTemplateName>lt"
      "</LaunchTemplateName></LaunchTemplate>");
  read = cloud_.ReadProviderGroup("od");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_FALSE(read->spot);
  replies_.erase("DescribeScalingActivities");
  EXPECT_FALSE(cloud_.ReadProviderGroup("od").ok());
}

// A service's placement failures count from the oldest since its last
// steady state; the reply's order does not matter; older ones are history.
TEST_F(AwsCloudViewTest, AServiceShowsSinceWhenECSCouldNotPlaceItsTasks) {
  const std::string failure =
      "(service web) was unable to place a task. Reason: Capacity is unavailable at this time.";
  http_.Push(200, R"({"services": [{
      "serviceArn": "arn:aws:ecs:us-east-1:1:service/c/web", "serviceName": "web",
      "status": "ACTIVE", "desiredCount": 10, "runningCount": 4, "pendingCount": 1,
      "events": [
        {"id": "4", "createdAt": 1764634200, "message": "(service web) has started 1 tasks."},
        {"id": "2", "createdAt": 1764633600, "message": ")" +
                      failure + R"("},
        {"id": "5", "createdAt": 1764634500, "message": ")" +
                      failure + R"("},
        {"id": "1", "createdAt": 1764630000, "message": "(service web) has reached a steady state."},
        {"id": "0", "createdAt": 1764620000, "message": "(service web) was unable to place a task because no container instance met all of its requirements."},
        {"id": "x", "message": "no time: left out"}]}],
    "failures": []})");
  auto read = cloud_.ReadServices("c", {"web"});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->size(), 1u);
  const ServiceRead& web = (*read)[0];
  EXPECT_EQ(web.pending, 1);
  ASSERT_TRUE(web.placement_failing_since);
  EXPECT_EQ(FormatIso8601(*web.placement_failing_since), "2025-12-02T00:00:00Z");
  EXPECT_EQ(web.placement_failure, failure);

  // Steady since the last failure: nothing is failing.
  http_.Push(200, R"({"services": [{"serviceArn": "a", "serviceName": "web", "events": [
        {"createdAt": 1764634600, "message": "(service web) has reached a steady state."},
        {"createdAt": 1764634500, "message": ")" +
                      failure + R"("}]}]})");
  read = cloud_.ReadServices("c", {"web"});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_FALSE((*read)[0].placement_failing_since);
  EXPECT_EQ((*read)[0].placement_failure, "");
}

TEST_F(AwsCloudViewTest, LifecycleWaitsOfBothTransitionsWithTheLaunchTimes) {
  auto member = [](const std::string& id, const std::string& state) {
    return "<member><InstanceId>" + id + "</InstanceId><LifecycleState>" + state +
           "</LifecycleState><HealthStatus>Healthy</HealthStatus><AvailabilityZone>us-east-1a"
           "</AvailabilityZone><ProtectedFromScaleIn>false</ProtectedFromScaleIn></member>";
  };
  replies_["DescribeAutoScalingGroups"] =
      GroupReply("<LaunchTemplate><LaunchTemplateName>lt</LaunchTemplateName></LaunchTemplate>",
                 member("i-1", "InService") + member("i-2", "Pending:Wait") +
                     member("i-3", "Terminating:Wait") + member("i-4", "Pending:Wait"));
  auto hook = [](const std::string& name, const std::string& transition) {
    return "<member><LifecycleHookName>" + name +
           "</LifecycleHookName><AutoScalingGroupName>od</AutoScalingGroupName>"
           "<LifecycleTransition>autoscaling:" +
           transition + "</LifecycleTransition><HeartbeatTimeout>300</HeartbeatTimeout></member>";
  };
  replies_["DescribeLifecycleHooks"] =
      "<DescribeLifecycleHooksResponse><DescribeLifecycleHooksResult><LifecycleHooks>" +
      hook("drain", "EC2_INSTANCE_TERMINATING") + hook("ready", "EC2_INSTANCE_LAUNCHING") +
      "</LifecycleHooks></DescribeLifecycleHooksResult></DescribeLifecycleHooksResponse>";
  // EC2 knows i-2's launch time, not i-4 (not yet visible).
  replies_["DescribeInstances"] =
      "<DescribeInstancesResponse><reservationSet><item><reservationId>r-1</reservationId>"
      "<instancesSet><item><instanceId>i-2</instanceId><instanceType>m5.large</instanceType>"
      "<instanceState><code>0</code><name>pending</name></instanceState>"
      "<launchTime>2026-12-02T00:03:00.000Z</launchTime></item></instancesSet></item>"
      "</reservationSet></DescribeInstancesResponse>";
  Serve();
  auto waits = cloud_.ReadLifecycleWaits("od");
  ASSERT_TRUE(waits.ok()) << waits.status().ToString();
  EXPECT_EQ(waits->instance_ids, std::vector<std::string>{"i-3"});
  ASSERT_EQ(waits->hooks.size(), 1u);
  EXPECT_EQ(waits->hooks[0].name, "drain");
  ASSERT_EQ(waits->launch_hooks.size(), 1u);
  EXPECT_EQ(waits->launch_hooks[0].name, "ready");
  EXPECT_EQ(waits->launch_hooks[0].heartbeat_timeout, std::chrono::seconds(300));
  ASSERT_EQ(waits->launching.size(), 2u);
  EXPECT_EQ(waits->launching[0].instance_id, "i-2");
  ASSERT_TRUE(waits->launching[0].launched);
  EXPECT_EQ(FormatIso8601(*waits->launching[0].launched), "2026-12-02T00:03:00Z");
  EXPECT_EQ(waits->launching[1].instance_id, "i-4");
  EXPECT_FALSE(waits->launching[1].launched);

  // A failed DescribeInstances leaves the launch times unknown, the rest read.
  replies_.erase("DescribeInstances");
  waits = cloud_.ReadLifecycleWaits("od");
  ASSERT_TRUE(waits.ok()) << waits.status().ToString();
  ASSERT_EQ(waits->launching.size(), 2u);
  EXPECT_FALSE(waits->launching[0].launched);
  // No launching hook: no DescribeInstances at all.
  replies_["DescribeLifecycleHooks"] =
      "<DescribeLifecycleHooksResponse><DescribeLifecycleHooksResult><LifecycleHooks>" +
      hook("drain", "EC2_INSTANCE_TERMINATING") +
      "</LifecycleHooks></DescribeLifecycleHooksResult></DescribeLifecycleHooksResponse>";
  const int described = calls_["DescribeInstances"];
  waits = cloud_.ReadLifecycleWaits("od");
  ASSERT_TRUE(waits.ok());
  EXPECT_TRUE(waits->launch_hooks.empty());
  EXPECT_EQ(calls_["DescribeInstances"], described);
}

// A spot group's fulfilled capacity: instances in service or on their way in
// (Pending, and Pending:Wait while a launching hook holds one), not those
// leaving (Terminating:Wait) or gone.
TEST_F(AwsCloudViewTest, ASpotGroupCountsLaunchesHeldByAHookAndNotThoseLeaving) {
  auto member = [](const std::string& id, const std::string& state) {
    return "<member><InstanceId>" + id +
           "</InstanceId><InstanceType>m5.large</InstanceType>"
           "<LifecycleState>" +
           state +
           "</LifecycleState><HealthStatus>Healthy</HealthStatus><AvailabilityZone>us-east-1a"
           "</AvailabilityZone><ProtectedFromScaleIn>false</ProtectedFromScaleIn></member>";
  };
  std::string group =
      GroupReply("<LaunchTemplate><LaunchTemplateName>lt</LaunchTemplateName></LaunchTemplate>",
                 member("i-1", "InService") + member("i-2", "Pending") +
                     member("i-3", "Pending:Wait") + member("i-4", "Pending:Proceed") +
                     member("i-5", "Terminating:Wait") + member("i-6", "Terminated"));
  group.replace(group.find("<DesiredCapacity>0"), 18, "<DesiredCapacity>5");
  replies_["DescribeAutoScalingGroups"] = group;
  Serve();
  SpotSourceRead read = cloud_.ReadSpotGroup("od");
  ASSERT_TRUE(read.source.read_status.ok()) << read.source.read_status.ToString();
  EXPECT_EQ(read.source.instance_ids, (std::vector<std::string>{"i-1", "i-2", "i-3", "i-4"}));
  EXPECT_DOUBLE_EQ(read.source.fulfilled_capacity, 4);
  EXPECT_DOUBLE_EQ(read.source.target_capacity, 5);
}

}  // namespace
}  // namespace spk::controller
