// `spotkeeper doctor`, run as a user runs it, against moto_server with
// signature checking on.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/moto_server.h"
#include "support/process.h"

namespace spk::testsupport {
namespace {

class DoctorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto s = MotoServer::Start();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    moto_ = std::move(s).value().release();
  }
  static void TearDownTestSuite() {
    delete moto_;
    moto_ = nullptr;
  }
  // A minimal environment: no credentials, no IMDS, a HOME without ~/.aws.
  std::map<std::string, std::string> BareEnv() {
    return {{"PATH", "/usr/bin:/bin"},
            {"HOME", ::testing::TempDir()},
            {"AWS_EC2_METADATA_DISABLED", "true"},
            {"AWS_CONFIG_FILE", "/nonexistent/spotkeeper-test/config"},
            {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/spotkeeper-test/credentials"}};
  }
  static MotoServer* moto_;
};
MotoServer* DoctorTest::moto_ = nullptr;

TEST_F(DoctorTest, PrintsCallerArnAndEndpoints) {
  auto env = BareEnv();
  env["AWS_REGION"] = "us-east-1";
  env["AWS_ENDPOINT_URL"] = moto_->endpoint();
  env["AWS_ENDPOINT_URL_ECS"] = moto_->endpoint() + "/";
  env["AWS_ACCESS_KEY_ID"] = moto_->access_key_id();
  env["AWS_SECRET_ACCESS_KEY"] = moto_->secret_access_key();
  auto r = RunProcess({SpotkeeperBinary(), "doctor"}, env);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(moto_->user_arn()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("us-east-1 (from AWS_REGION)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("environment"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("AWS_ENDPOINT_URL_ECS"), std::string::npos) << r.out;
  // The secret never appears; the key id only masked.
  EXPECT_EQ(r.out.find(moto_->secret_access_key()), std::string::npos);
  EXPECT_EQ(r.out.find(moto_->access_key_id()), std::string::npos);

  auto j = RunProcess({SpotkeeperBinary(), "doctor", "--json"}, env);
  ASSERT_EQ(j.exit_code, 0) << j.out << j.err;
  auto report = nlohmann::json::parse(j.out);
  EXPECT_EQ(report["result"], "ok");
  EXPECT_NE(report["identity"].get<std::string>().find(moto_->user_arn()), std::string::npos);
  EXPECT_EQ(report["endpoints"].size(), 7u);
}

TEST_F(DoctorTest, NoRegionExitsOneAndSaysSoThoughStsAnswers) {
  // As --help and docs/runbook.md say: a region is required for exit 0.
  auto env = BareEnv();
  env["AWS_ENDPOINT_URL"] = moto_->endpoint();
  env["AWS_ACCESS_KEY_ID"] = moto_->access_key_id();
  env["AWS_SECRET_ACCESS_KEY"] = moto_->secret_access_key();
  auto r = RunProcess({SpotkeeperBinary(), "doctor"}, env);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find(moto_->user_arn()), std::string::npos) << r.out;  // STS answered
  EXPECT_NE(r.out.find("problems found: no region"), std::string::npos) << r.out;
  auto help = RunProcess({SpotkeeperBinary(), "doctor", "--help"}, env);
  EXPECT_NE(help.out.find("Exits 0 when a region is set"), std::string::npos) << help.out;
}

TEST_F(DoctorTest, WrongSecretIsReportedAsSignatureProblem) {
  auto env = BareEnv();
  env["AWS_REGION"] = "us-east-1";
  env["AWS_ENDPOINT_URL"] = moto_->endpoint();
  env["AWS_ACCESS_KEY_ID"] = moto_->access_key_id();
  env["AWS_SECRET_ACCESS_KEY"] = "definitely-not-the-secret";
  auto r = RunProcess({SpotkeeperBinary(), "doctor"}, env);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("SignatureDoesNotMatch"), std::string::npos) << r.out;
}

TEST_F(DoctorTest, NoCredentialsExitsOneAndNamesWhatItTried) {
  auto env = BareEnv();
  env["AWS_REGION"] = "us-east-1";
  env["AWS_ENDPOINT_URL"] = moto_->endpoint();
  auto r = RunProcess({SpotkeeperBinary(), "doctor"}, env);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  for (const char* source : {"environment", "profile", "container", "imds"}) {
    EXPECT_NE(r.out.find(std::string("tried ") + source), std::string::npos)
        << "missing source " << source << " in:\n"
        << r.out;
  }
}

TEST_F(DoctorTest, NoRegionIsAProblemButStillReports) {
  auto env = BareEnv();
  env["AWS_ACCESS_KEY_ID"] = moto_->access_key_id();
  env["AWS_SECRET_ACCESS_KEY"] = moto_->secret_access_key();
  env["AWS_ENDPOINT_URL"] = moto_->endpoint();
  auto r = RunProcess({SpotkeeperBinary(), "doctor"}, env);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("region:      none"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("AWS_REGION"), std::string::npos) << r.out;
}

TEST(CliTest, HelpVersionAndUsageErrors) {
  std::map<std::string, std::string> env = {{"PATH", "/usr/bin:/bin"}};
  auto help = RunProcess({SpotkeeperBinary(), "--help"}, env);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("doctor"), std::string::npos) << help.out;
  auto version = RunProcess({SpotkeeperBinary(), "--version"}, env);
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.out.find("spotkeeper "), std::string::npos);
  auto bad = RunProcess({SpotkeeperBinary(), "frobnicate"}, env);
  EXPECT_EQ(bad.exit_code, 2) << bad.out << bad.err;
  auto bad_flag = RunProcess({SpotkeeperBinary(), "--log-format", "xml", "doctor"}, env);
  EXPECT_EQ(bad_flag.exit_code, 2);
  EXPECT_NE(bad_flag.err.find("--log-format"), std::string::npos) << bad_flag.err;
}

}  // namespace
}  // namespace spk::testsupport
