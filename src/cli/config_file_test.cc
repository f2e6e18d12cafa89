#include "cli/config_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cli/controller_command.h"

namespace spk::cli {
namespace {

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("spk-config-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    cmd_ = AddHandleEventCommand(app_, options_);
  }
  void TearDown() override {
    ::unsetenv("SPOTKEEPER_ON_DEMAND_ASG");
    ::unsetenv("SPOTKEEPER_SETTLE_WINDOW");
    ::unsetenv("SPOTKEEPER_ON_DEMAND_UNITS");
    std::filesystem::remove_all(dir_);
  }

  std::string Write(const std::string& text) {
    std::string path = (dir_ / "spotkeeper.yaml").string();
    std::ofstream(path) << text;
    return path;
  }

  // Parses `args` (after "spotkeeper handle-event") and applies the --config file.
  std::string Run(std::vector<std::string> args) {
    std::vector<std::string> all = {"spotkeeper", "handle-event", "event.json"};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    app_.parse(static_cast<int>(argv.size()), argv.data());
    std::vector<std::string> keys;
    std::string err;
    if (!options_.controller.config_file.empty()) {
      err = ApplyConfigFile(cmd_, options_.controller.config_file, &keys);
    }
    options_.controller.sources =
        DescribeSettingSources(cmd_, options_.controller.config_file, keys);
    return err;
  }

  // BuildControllerConfig's error for the options as Run left them.
  std::string ConfigError() {
    controller::ControllerConfig config;
    return BuildControllerConfig(options_.controller, &config);
  }

  std::filesystem::path dir_;
  CLI::App app_{"test", "spotkeeper"};
  HandleEventOptions options_;
  CLI::App* cmd_ = nullptr;
};

TEST_F(ConfigFileTest, FillsSettingsFromTheFile) {
  std::string path = Write(
      "cluster: [web, batch]\n"
      "spot-fleet-id: sfr-1\n"
      "on-demand-asg: od\n"
      "on-demand-units: 4\n"
      "settle-window: 5m\n"
      "maintenance-drain-before: 30m\n"
      "on-rebalance: prepare\n"
      "dry-run: true\n");
  ASSERT_EQ(Run({"--config", path}), "");
  const ControllerOptions& o = options_.controller;
  EXPECT_EQ(o.clusters, (std::vector<std::string>{"web", "batch"}));
  EXPECT_EQ(o.spot_fleet_ids, std::vector<std::string>{"sfr-1"});
  EXPECT_EQ(o.on_demand_asg, "od");
  EXPECT_EQ(o.on_demand_units, 4);
  EXPECT_EQ(o.settle_window, "5m");
  EXPECT_EQ(o.on_rebalance, "prepare");
  EXPECT_TRUE(o.dry_run);
  EXPECT_EQ(o.guard_window, "10m");  // not in the file: the default
  controller::ControllerConfig config;
  EXPECT_EQ(BuildControllerConfig(o, &config), "");
  EXPECT_EQ(config.policy.settle_window, std::chrono::minutes(5));
  EXPECT_EQ(config.policy.maintenance_drain_before, std::chrono::minutes(30));
}

TEST_F(ConfigFileTest, Ec2FleetIdsFromTheFileAndABadOneNamesTheKey) {
  std::string path = Write("ec2-fleet-id: [fleet-1, fleet-2]\n");
  ASSERT_EQ(Run({"--config", path}), "");
  controller::ControllerConfig config;
  EXPECT_EQ(BuildControllerConfig(options_.controller, &config), "");
  EXPECT_EQ(config.ec2_fleet_ids, (std::vector<std::string>{"fleet-1", "fleet-2"}));
  std::string bad = Write("ec2-fleet-id: sfr-1\n");
  ASSERT_EQ(Run({"--config", bad}), "");
  EXPECT_EQ(ConfigError(),
            "--config " + bad + ": ec2-fleet-id \"sfr-1\" is not an EC2 Fleet id (fleet-...)");
}

TEST_F(ConfigFileTest, FallbackPairsAndLimitsFromTheFile) {
  std::string path = Write(
      "cluster: [prod]\n"
      "fallback-service: [web=web-od, batch/api=api-od]\n"
      "fallback-grace: 2m\n"
      "fallback-max: 4,50%\n"
      "fallback-cluster-max: 10\n"
      "settle-window: 5m\n");
  ASSERT_EQ(Run({"--config", path}), "");
  controller::ControllerConfig config;
  ASSERT_EQ(BuildControllerConfig(options_.controller, &config), "");
  ASSERT_EQ(config.fallback_pairs.size(), 2u);
  EXPECT_EQ(config.fallback_pairs[0].cluster, "prod");
  EXPECT_EQ(config.fallback_pairs[0].primary, "web");
  EXPECT_EQ(config.fallback_pairs[0].shadow, "web-od");
  EXPECT_EQ(config.fallback_pairs[1].cluster, "batch");
  EXPECT_EQ(config.fallback.grace, std::chrono::minutes(2));
  EXPECT_EQ(config.fallback.max.tasks, 4);
  EXPECT_DOUBLE_EQ(config.fallback.max.fraction, 0.5);
  EXPECT_EQ(config.fallback.cluster_max, 10);
  EXPECT_EQ(config.fallback.settle_window, std::chrono::minutes(5));
  EXPECT_FALSE(config.fallback_discover);
}

TEST_F(ConfigFileTest, BadFallbackSettingsNameWhereTheyWereGiven) {
  std::string path = Write("cluster: [prod]\nfallback-service: web\n");
  ASSERT_EQ(Run({"--config", path}), "");
  controller::ControllerConfig config;
  std::string error = BuildControllerConfig(options_.controller, &config);
  EXPECT_NE(error.find("fallback-service"), std::string::npos) << error;
  EXPECT_NE(error.find("PRIMARY=SHADOW"), std::string::npos) << error;
  options_ = HandleEventOptions{};
  path = Write("cluster: [prod]\nfallback-max: 150%\n");
  ASSERT_EQ(Run({"--config", path}), "");
  error = BuildControllerConfig(options_.controller, &config);
  EXPECT_NE(error.find("fallback-max"), std::string::npos) << error;
}

TEST_F(ConfigFileTest, MaintenanceDrainBeforeDefaultsToTenMinutesAndRejectsNonsense) {
  ASSERT_EQ(Run({}), "");
  controller::ControllerConfig config;
  EXPECT_EQ(BuildControllerConfig(options_.controller, &config), "");
  EXPECT_EQ(config.policy.maintenance_drain_before, std::chrono::minutes(10));
  ASSERT_EQ(Run({"--maintenance-drain-before", "soon"}), "");
  EXPECT_EQ(BuildControllerConfig(options_.controller, &config),
            "--maintenance-drain-before: not a duration: \"soon\" (e.g. 90s, 10m)");
}

TEST_F(ConfigFileTest, LaunchTimeoutDefaultsToTenMinutesAndMustBePositive) {
  ASSERT_EQ(Run({"--config", Write("launch-timeout: 4m\n")}), "");
  controller::ControllerConfig config;
  ASSERT_EQ(BuildControllerConfig(options_.controller, &config), "");
  EXPECT_EQ(config.launch_timeout, std::chrono::minutes(4));
  ControllerOptions defaults;
  ASSERT_EQ(BuildControllerConfig(defaults, &config), "");
  EXPECT_EQ(config.launch_timeout, std::chrono::minutes(10));
  defaults.launch_timeout = "0s";
  EXPECT_EQ(BuildControllerConfig(defaults, &config),
            "--launch-timeout: must be more than 0 (e.g. 10m)");
  defaults.launch_timeout = "ten";
  EXPECT_NE(BuildControllerConfig(defaults, &config).find("--launch-timeout: not a duration"),
            std::string::npos);
}

TEST_F(ConfigFileTest, FlagsAndVariablesWinOverTheFile) {
  std::string path = Write("on-demand-asg: from-file\nsettle-window: 5m\ncluster: [a]\n");
  ::setenv("SPOTKEEPER_ON_DEMAND_ASG", "from-env", 1);
  ASSERT_EQ(Run({"--config", path, "--settle-window", "2m"}), "");
  EXPECT_EQ(options_.controller.on_demand_asg, "from-env");
  EXPECT_EQ(options_.controller.settle_window, "2m");
  EXPECT_EQ(options_.controller.clusters, std::vector<std::string>{"a"});
}

TEST_F(ConfigFileTest, EmptyFileSetsNothing) {
  ASSERT_EQ(Run({"--config", Write("")}), "");
  EXPECT_EQ(options_.controller.settle_window, "10m");
}

TEST_F(ConfigFileTest, ErrorsNameTheFileAndTheProblem) {
  struct Case {
    std::string yaml;
    std::string expected;
  };
  for (const Case& c : std::vector<Case>{
           {"settle-windw: 5m\n", "unknown setting \"settle-windw\" (known: "},
           {"on-demand-asg: [a, b]\n", "on-demand-asg: takes one value, not a list"},
           {"cluster: {a: 1}\n", "cluster: must be a value or a list of values, not a mapping"},
           {"cluster: [[a]]\n", "cluster: list items must be plain values"},
           {"- a\n- b\n", "must be a mapping of setting names to values"},
           {"cluster: [a\nsettle-window: 5m\n", "not valid YAML: line "},
           {"on-demand-units: lots\n", "on-demand-units: "},
           {"config: other.yaml\n", "unknown setting \"config\""},
       }) {
    SCOPED_TRACE(c.yaml);
    CLI::App app{"test", "spotkeeper"};
    HandleEventOptions options;
    CLI::App* cmd = AddHandleEventCommand(app, options);
    std::string path = Write(c.yaml);
    std::vector<std::string> all = {"spotkeeper", "handle-event", "e.json", "--config", path};
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    app.parse(static_cast<int>(argv.size()), argv.data());
    std::string err = ApplyConfigFile(cmd, path);
    EXPECT_NE(err.find("--config " + path + ": "), std::string::npos) << err;
    EXPECT_NE(err.find(c.expected), std::string::npos) << err;
  }
}

TEST_F(ConfigFileTest, RepeatableFlagsTakeOneValueEachSoTheFileArgumentSurvives) {
  CLI::App app{"test", "spotkeeper"};
  HandleEventOptions options;
  AddHandleEventCommand(app, options);
  std::vector<std::string> all = {"spotkeeper", "handle-event", "--cluster",       "web",
                                  "--cluster",  "a,b",          "--spot-fleet-id", "sfr-1",
                                  "e.json"};
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  app.parse(static_cast<int>(argv.size()), argv.data());
  EXPECT_EQ(options.file, "e.json");
  EXPECT_EQ(options.controller.clusters, (std::vector<std::string>{"web", "a", "b"}));
  EXPECT_EQ(options.controller.spot_fleet_ids, std::vector<std::string>{"sfr-1"});
}

TEST_F(ConfigFileTest, AValueTheSettingRejectsNamesWhereItWasGiven) {
  std::string path = Write("settle-window: ten minutes\n");
  ASSERT_EQ(Run({"--config", path}), "");
  EXPECT_EQ(ConfigError(), "--config " + path +
                               ": settle-window: not a duration: \"ten minutes\" (e.g. 90s, 10m)");
}

TEST_F(ConfigFileTest, SourcesAreTheFlagTheVariableOrTheFileAndKey) {
  std::string path = Write("guard-window: 5m\nsettle-window: 1m\n");
  ::setenv("SPOTKEEPER_SETTLE_WINDOW", "2m", 1);
  ASSERT_EQ(Run({"--config", path, "--max-drain-time", "3m"}), "");
  const SettingSources& sources = options_.controller.sources;
  EXPECT_EQ(sources.at("--max-drain-time"), "--max-drain-time");
  EXPECT_EQ(sources.at("--settle-window"), "SPOTKEEPER_SETTLE_WINDOW");
  EXPECT_EQ(sources.at("--guard-window"), "--config " + path + ": guard-window");
  EXPECT_EQ(sources.count("--on-rebalance"), 0u);  // left at its default
}

TEST_F(ConfigFileTest, ABadVariableIsNamed) {
  ::setenv("SPOTKEEPER_SETTLE_WINDOW", "soon", 1);
  ASSERT_EQ(Run({}), "");
  EXPECT_EQ(ConfigError(), "SPOTKEEPER_SETTLE_WINDOW: not a duration: \"soon\" (e.g. 90s, 10m)");
}

TEST_F(ConfigFileTest, ZeroOnDemandUnitsIsRejectedWhereverGiven) {
  ASSERT_EQ(Run({"--on-demand-units", "0"}), "");
  EXPECT_NE(ConfigError().find("--on-demand-units must be a positive number"), std::string::npos)
      << ConfigError();
}

TEST_F(ConfigFileTest, ZeroOnDemandUnitsFromTheVariableIsRejected) {
  ::setenv("SPOTKEEPER_ON_DEMAND_UNITS", "0", 1);
  ASSERT_EQ(Run({}), "");
  EXPECT_NE(ConfigError().find("SPOTKEEPER_ON_DEMAND_UNITS must be a positive number"),
            std::string::npos)
      << ConfigError();
}

TEST_F(ConfigFileTest, ZeroOnDemandUnitsFromTheFileIsRejected) {
  std::string path = Write("on-demand-units: 0\n");
  ASSERT_EQ(Run({"--config", path}), "");
  EXPECT_NE(ConfigError().find("--config " + path + ": on-demand-units must be a positive"),
            std::string::npos)
      << ConfigError();
}

TEST_F(ConfigFileTest, UnsetOnDemandUnitsIsTheDefault) {
  ASSERT_EQ(Run({}), "");
  controller::ControllerConfig config;
  EXPECT_EQ(BuildControllerConfig(options_.controller, &config), "");
  EXPECT_FALSE(config.policy.on_demand_units.has_value());
}

TEST_F(ConfigFileTest, AFileOfOneMebibyteIsReadAndOneByteMoreIsRefused) {
  // A comment line padded to exactly 1 MiB with the setting after it.
  const std::string setting = "settle-window: 7m\n";
  std::string text = "#" + std::string(1024 * 1024 - 2 - setting.size(), 'x') + "\n" + setting;
  ASSERT_EQ(text.size(), 1024u * 1024u);
  ASSERT_EQ(Run({"--config", Write(text)}), "");
  EXPECT_EQ(options_.controller.settle_window, "7m");

  CLI::App app{"test", "spotkeeper"};
  HandleEventOptions options;
  CLI::App* cmd = AddHandleEventCommand(app, options);
  const std::string path = Write(text + "\n");
  EXPECT_EQ(ApplyConfigFile(cmd, path),
            "--config " + path + ": larger than 1 MiB: not a settings file");
}

TEST_F(ConfigFileTest, AnotherCommandsFileGivesTheSharedSettingsAndSkipsItsOthers) {
  // As doctor reads the controller's file: the keys both have are applied,
  // the controller's others skipped, a key neither has is still an error.
  CLI::App app{"test", "spotkeeper"};
  HandleEventOptions controller_options;
  CLI::App* controller = AddHandleEventCommand(app, controller_options);
  CLI::App* doctor = app.add_subcommand("doctor");
  std::string settle = "10m";
  std::vector<std::string> clusters;
  doctor->add_option("--settle-window", settle);
  doctor->add_option("--cluster", clusters)->delimiter(',');
  std::vector<std::string> all = {"spotkeeper", "doctor"};
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  app.parse(static_cast<int>(argv.size()), argv.data());
  std::vector<std::string> keys;
  const std::string path =
      Write("settle-window: 5m\nspot-fleet-id: sfr-1\ncluster: [a, b]\ndry-run: true\n");
  EXPECT_EQ(ApplyConfigFile(doctor, path, &keys, controller), "");
  EXPECT_EQ(settle, "5m");
  EXPECT_EQ(clusters, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(keys, (std::vector<std::string>{"settle-window", "cluster"}));
  // Without the other command, its settings are unknown here.
  EXPECT_NE(ApplyConfigFile(doctor, path).find("unknown setting \"spot-fleet-id\""),
            std::string::npos);
  const std::string bad = Write("settle-window: 5m\nsettle-windw: 6m\n");
  const std::string err = ApplyConfigFile(doctor, bad, nullptr, controller);
  EXPECT_NE(err.find("unknown setting \"settle-windw\" (known: "), std::string::npos) << err;
  EXPECT_NE(err.find("spot-fleet-id"), std::string::npos) << err;  // the file's own keys
  // A setting of this command the other does not have is not the file's either.
  std::string json = "false";
  doctor->add_option("--json", json);
  const std::string own = Write("json: true\n");
  EXPECT_NE(ApplyConfigFile(doctor, own, nullptr, controller).find("unknown setting \"json\""),
            std::string::npos);
  EXPECT_EQ(json, "false");
}

TEST_F(ConfigFileTest, MissingFileIsAnError) {
  std::string missing = (dir_ / "nope.yaml").string();
  EXPECT_EQ(Run({"--config", missing}), "--config " + missing + ": cannot read the file");
}

}  // namespace
}  // namespace spk::cli
