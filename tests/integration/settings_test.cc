// Wrong settings, given as a user gives them (flag, SPOTKEEPER_* variable or
// --config file), through the real binary: exit 2 and one line on stderr that
// names where the bad value came from. No AWS call is made (no endpoint is
// reachable: every AWS endpoint is a closed loopback port).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/process.h"

namespace spk::testsupport {
namespace {

class SettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("spk-settings-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    event_ = (dir_ / "event.json").string();
    std::ofstream(event_) << R"({"fleetID": "sfr-1"})";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::map<std::string, std::string> Env() const {
    return {{"PATH", "/usr/bin:/bin"},
            {"HOME", dir_.string()},
            {"AWS_REGION", "us-east-1"},
            {"AWS_ACCESS_KEY_ID", "test"},
            {"AWS_SECRET_ACCESS_KEY", "test"},
            {"AWS_ENDPOINT_URL", "http://127.0.0.1:1"},
            {"AWS_EC2_METADATA_DISABLED", "true"}};
  }
  // Runs and expects exit 2 with exactly one line on stderr; returns that line.
  std::string UsageErrorOf(const std::vector<std::string>& args,
                           std::map<std::string, std::string> extra_env = {}) {
    auto env = Env();
    for (auto& [k, v] : extra_env) env[k] = v;
    std::vector<std::string> argv = {SpotkeeperBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessResult r = RunProcess(argv, env);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    return r.err;
  }
  std::string WriteConfig(const std::string& text) {
    std::string path = (dir_ / "spotkeeper.yaml").string();
    std::ofstream(path) << text;
    return path;
  }

  std::filesystem::path dir_;
  std::string event_;
};

TEST_F(SettingsTest, ABadValueInTheFileNamesTheFileAndTheKey) {
  std::string path = WriteConfig("spot-fleet-id: sfr-1\nsettle-window: ten minutes\n");
  std::string err = UsageErrorOf({"handle-event", "--config", path, event_});
  EXPECT_EQ(err, "spotkeeper handle-event: --config " + path +
                     ": settle-window: not a duration: \"ten minutes\" (e.g. 90s, 10m)\n");
  err = UsageErrorOf({"controller", "--queue-url", "http://127.0.0.1:1/q"},
                     {{"SPOTKEEPER_CONFIG", path}});
  EXPECT_NE(err.find("--config " + path + ": settle-window: not a duration"), std::string::npos)
      << err;
}

TEST_F(SettingsTest, ABadVariableIsNamedNotItsFlag) {
  std::string err = UsageErrorOf({"handle-event", event_}, {{"SPOTKEEPER_GUARD_WINDOW", "soon"}});
  EXPECT_NE(err.find("SPOTKEEPER_GUARD_WINDOW: not a duration: \"soon\""), std::string::npos)
      << err;
  err = UsageErrorOf({"handle-event", event_}, {{"SPOTKEEPER_DRY_RUN", "maybe"}});
  EXPECT_EQ(err,
            "spotkeeper: SPOTKEEPER_DRY_RUN must be true or false (or 1/0, yes/no, on/off), "
            "not \"maybe\"\n");
  err = UsageErrorOf({"controller", "--queue-url", "http://127.0.0.1:1/q"},
                     {{"SPOTKEEPER_DRY_RUN", "maybe"}});
  EXPECT_NE(err.find("SPOTKEEPER_DRY_RUN must be true or false"), std::string::npos) << err;
}

TEST_F(SettingsTest, ZeroOnDemandUnitsIsRejectedHoweverGiven) {
  for (const auto& [args, env, named] : std::vector<
           std::tuple<std::vector<std::string>, std::map<std::string, std::string>, std::string>>{
           {{"handle-event", "--on-demand-units", "0", event_}, {}, "--on-demand-units"},
           {{"handle-event", event_},
            {{"SPOTKEEPER_ON_DEMAND_UNITS", "0"}},
            "SPOTKEEPER_ON_DEMAND_UNITS"},
           {{"handle-event", "--on-demand-units", "-4", event_}, {}, "--on-demand-units"}}) {
    std::string err = UsageErrorOf(args, env);
    EXPECT_NE(err.find(named + " must be a positive number"), std::string::npos) << err;
  }
}

}  // namespace
}  // namespace spk::testsupport
