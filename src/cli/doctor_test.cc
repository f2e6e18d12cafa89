#include "cli/doctor.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "net/fake_transport.h"

namespace spk::cli {
namespace {

TEST(MaskKeyIdTest, KeepsOnlyEnds) {
  EXPECT_EQ(MaskKeyId("AKIAIOSFODNN7EXAMPLE"), "AKIA************MPLE");
  EXPECT_EQ(MaskKeyId("short"), "*****");
}

constexpr char kIdentity[] =
    "<GetCallerIdentityResponse><GetCallerIdentityResult>"
    "<Arn>arn:aws:iam::123456789012:user/ops</Arn><UserId>AIDA</UserId>"
    "<Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>";

class DoctorUnitTest : public ::testing::Test {
 protected:
  MapEnv env_{{{"HOME", "/nonexistent"},
               {"AWS_REGION", "eu-west-1"},
               {"AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"},
               {"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
               {"AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1"},
               {"AWS_EC2_METADATA_DISABLED", "true"}}};
  net::FakeTransport http_;
  ManualClock clock_;
  SeededRandom random_{1};
};

TEST_F(DoctorUnitTest, ReportsIdentityAndSources) {
  http_.Push(200, kIdentity);
  std::ostringstream out;
  EXPECT_EQ(RunDoctor({}, env_, http_, clock_, random_, out), 0) << out.str();
  std::string s = out.str();
  EXPECT_NE(s.find("eu-west-1 (from AWS_REGION)"), std::string::npos) << s;
  EXPECT_NE(s.find("arn:aws:iam::123456789012:user/ops (account 123456789012)"), std::string::npos);
  EXPECT_NE(s.find("http://127.0.0.1:1 (AWS_ENDPOINT_URL_STS)"), std::string::npos) << s;
  EXPECT_NE(s.find("https://ecs.eu-west-1.amazonaws.com (default)"), std::string::npos) << s;
  EXPECT_NE(s.find("disabled"), std::string::npos) << s;
  EXPECT_EQ(s.find("wJalrXUtnFEMI"), std::string::npos) << "secret leaked";
  ASSERT_EQ(http_.request_count(), 1u);  // only STS: IMDS disabled, nothing else called
  EXPECT_NE(http_.requests()[0].body.find("Action=GetCallerIdentity"), std::string::npos);
}

// What doctor reads for the reference's on-demand group, at 0 on its launch
// configuration ecsLC: STS, the group, then ecsLC as `launch_configurations`
// lists it (its members).
void PushReferenceGroupReads(net::FakeTransport& http, const std::string& launch_configurations) {
  http.Push(200, kIdentity);
  http.Push(200,
            "<DescribeAutoScalingGroupsResponse><DescribeAutoScalingGroupsResult>"
            "<AutoScalingGroups><member><AutoScalingGroupName>ecsSpotAutoScale"
            "</AutoScalingGroupName><MinSize>0</MinSize><MaxSize>10</MaxSize>"
            "<DesiredCapacity>0</DesiredCapacity><LaunchConfigurationName>ecsLC"
            "</LaunchConfigurationName><Instances/></member></AutoScalingGroups>"
            "</DescribeAutoScalingGroupsResult></DescribeAutoScalingGroupsResponse>");
  http.Push(200,
            "<DescribeLaunchConfigurationsResponse><DescribeLaunchConfigurationsResult>"
            "<LaunchConfigurations>" +
                launch_configurations +
                "</LaunchConfigurations></DescribeLaunchConfigurationsResult>"
                "</DescribeLaunchConfigurationsResponse>");
}

TEST_F(DoctorUnitTest, SaysHowTheOnDemandGroupsUnitsPerInstanceAreFound) {
  PushReferenceGroupReads(http_,
                          "<member><LaunchConfigurationName>ecsLC</LaunchConfigurationName>"
                          "<InstanceType>m5.xlarge</InstanceType></member>");
  http_.Push(200,
             "<DescribeInstanceTypesResponse><instanceTypeSet><item><instanceType>m5.xlarge"
             "</instanceType><vCpuInfo><defaultVCpus>4</defaultVCpus></vCpuInfo><memoryInfo>"
             "<sizeInMiB>16384</sizeInMiB></memoryInfo></item></instanceTypeSet>"
             "</DescribeInstanceTypesResponse>");
  DoctorOptions options;
  options.on_demand_asg = "ecsSpotAutoScale";
  std::ostringstream out;
  EXPECT_EQ(RunDoctor(options, env_, http_, clock_, random_, out), 0) << out.str();
  EXPECT_NE(out.str().find("on-demand:   ecsSpotAutoScale: 4 units per instance (launch "
                           "configuration ecsLC: m5.xlarge, 4 vCPUs)\n"),
            std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("result:      ok"), std::string::npos) << out.str();
}

TEST_F(DoctorUnitTest, UnknownUnitsPerInstanceAreAProblem) {
  PushReferenceGroupReads(http_, "");  // ecsLC does not exist
  DoctorOptions options;
  options.on_demand_asg = "ecsSpotAutoScale";
  options.json = true;
  std::ostringstream out;
  EXPECT_EQ(RunDoctor(options, env_, http_, clock_, random_, out), 1) << out.str();
  EXPECT_NE(out.str().find("\"on_demand_units\": \"units per on-demand instance of "
                           "ecsSpotAutoScale unknown (instance type unknown: launch configuration "
                           "ecsLC: it does not exist): set on-demand units\""),
            std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("problems found: units per on-demand instance of ecsSpotAutoScale "
                           "unknown"),
            std::string::npos)
      << out.str();

  // With the setting the units are known, whatever the group launches.
  PushReferenceGroupReads(http_, "");
  options.json = false;
  options.on_demand_units = 4;
  std::ostringstream set;
  EXPECT_EQ(RunDoctor(options, env_, http_, clock_, random_, set), 0) << set.str();
  EXPECT_NE(set.str().find("ecsSpotAutoScale: 4 units per instance (from the on-demand-units "
                           "setting)"),
            std::string::npos)
      << set.str();
}

TEST_F(DoctorUnitTest, RejectedCredentialsExitOne) {
  http_.Push(403,
             "<ErrorResponse><Error><Code>InvalidClientTokenId</Code><Message>The security token "
             "included in the request is invalid.</Message></Error><RequestId>r1</RequestId>"
             "</ErrorResponse>");
  std::ostringstream out;
  EXPECT_EQ(RunDoctor({}, env_, http_, clock_, random_, out), 1);
  EXPECT_NE(out.str().find("InvalidClientTokenId"), std::string::npos) << out.str();
  EXPECT_EQ(http_.request_count(), 1u) << "auth errors are not retried";
}

}  // namespace
}  // namespace spk::cli
