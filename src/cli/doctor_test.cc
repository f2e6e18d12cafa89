#include "cli/doctor.h"

#include <gtest/gtest.h>

#include <sstream>

#include "net/fake_transport.h"

namespace spk::cli {
namespace {

TEST(MaskKeyIdTest, KeepsOnlyEnds) {
  EXPECT_EQ(MaskKeyId("AKIAIOSFODNN7EXAMPLE"), "AKIA************MPLE");
  EXPECT_EQ(MaskKeyId("short"), "*****");
}

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
  http_.Push(200,
             "<GetCallerIdentityResponse><GetCallerIdentityResult>"
             "<Arn>arn:aws:iam::123456789012:user/ops</Arn><UserId>AIDA</UserId>"
             "<Account>123456789012</Account></GetCallerIdentityResult>"
             "</GetCallerIdentityResponse>");
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
