#include "cli/simulate_command.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace spk::cli {
namespace {

struct SimRun {
  int code = 0;
  std::string out;
  std::string err;
};

SimRun Simulate(const SimulateOptions& options) {
  std::ostringstream out, err;
  ManualClock clock;
  SimRun r;
  r.code = RunSimulate(options, out, err, /*err_is_terminal=*/false, clock);
  r.out = out.str();
  r.err = err.str();
  return r;
}

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          (name + "-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed())))
      .string();
}

TEST(Simulate, DefaultScenarioPrintsOneRowPerPolicy) {
  SimRun r = Simulate({});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* policy : {"none", "ecs-agent", "reference", "spotkeeper"}) {
    EXPECT_NE(r.out.find(std::string("\n") + policy + " "), std::string::npos) << policy;
  }
  EXPECT_TRUE(r.err.empty()) << "no progress bar when stderr is not a terminal";
}

// Every scenario in examples/ runs: exit 0 and one CSV row per policy (the
// 1,000-instance 30-day one under `none` only: the other policies take seconds).
TEST(Simulate, EveryExampleScenarioRuns) {
  const std::filesystem::path dir = SPK_EXAMPLES_DIR;
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    ++seen;
    SimulateOptions o;
    o.scenario_path = entry.path().string();
    o.csv = true;
    const bool large = entry.path().filename() == "large-30d.yaml";
    if (large) o.policies = {"none"};
    SimRun r = Simulate(o);
    ASSERT_EQ(r.code, 0) << r.err;
    const auto rows = std::count(r.out.begin(), r.out.end(), '\n');
    EXPECT_EQ(rows, large ? 2 : 5) << r.out;  // the header and a row per policy
  }
  EXPECT_GE(seen, 5) << "examples/*.yaml not found in " << dir;
}

// The README shows what `make demo` prints for the built-in day, as it comes out.
TEST(Simulate, TheReadmeShowsTheDefaultTableAsItComesOut) {
  SimRun r = Simulate({});
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream in(SPK_README);
  ASSERT_TRUE(in) << SPK_README;
  std::stringstream readme;
  readme << in.rdbuf();
  EXPECT_NE(readme.str().find("```\n" + r.out + "```\n"), std::string::npos)
      << "README.md's demo table differs from this output:\n"
      << r.out;
}

TEST(Simulate, JsonFollowsTheContractAndPoliciesCanBeChosen) {
  SimulateOptions o;
  o.json = true;
  o.policies = {"spotkeeper", "none"};
  o.seed = 5;
  SimRun r = Simulate(o);
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["scenario"]["seed"], 5);
  ASSERT_EQ(j["runs"].size(), 2u);
  EXPECT_EQ(j["runs"][0]["policy"], "spotkeeper");
  EXPECT_EQ(j["runs"][1]["policy"], "none");
  EXPECT_TRUE(j["runs"][0]["summary"]["savings"].is_number());
  // Requests behind the default day's load balancers: none kills targets
  // undrained, so its failures are counted.
  for (const char* key : {"requests_served", "failed_requests", "failed_requests_per_million"}) {
    EXPECT_TRUE(j["runs"][1]["summary"][key].is_number()) << key;
    EXPECT_TRUE(j["runs"][1]["services"][0][key].is_number()) << key;
  }
  EXPECT_GT(j["runs"][1]["summary"]["failed_requests"].get<double>(), 0);
  EXPECT_EQ(j["runs"][1]["series"]["failed_requests"].size(), j["runs"][1]["series"]["t"].size());
}

TEST(Simulate, CsvHasAHeaderAndARowPerPolicy) {
  SimulateOptions o;
  o.csv = true;
  o.policies = {"reference"};
  SimRun r = Simulate(o);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("policy,availability,", 0), 0u);
  EXPECT_NE(r.out.find("\nreference,"), std::string::npos);
  const std::string header = r.out.substr(0, r.out.find('\n'));
  EXPECT_NE(header.find(",requests_served,failed_requests,failed_requests_per_million"),
            std::string::npos)
      << header;
}

TEST(Simulate, SeedsReportsTheSpreadPerPolicy) {
  SimulateOptions o;
  o.seeds = 4;
  o.seed = 3;
  o.policies = {"none", "spotkeeper"};
  SimRun r = Simulate(o);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("(seeds 3..6,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("avail % p50 (p5-p95)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nspotkeeper      4  "), std::string::npos) << r.out;

  o.csv = true;
  r = Simulate(o);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("policy,seeds,availability_p5,availability_p50,availability_p95,", 0), 0u);
  EXPECT_NE(r.out.find("\nnone,4,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(",failed_requests_p5,failed_requests_p50,failed_requests_p95\n"),
            std::string::npos)
      << r.out;

  o.csv = false;
  o.json = true;
  r = Simulate(o);
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["distribution"].size(), 2u);
  EXPECT_EQ(j["distribution"][1]["policy"], "spotkeeper");
  EXPECT_EQ(j["distribution"][1]["seeds"], 4);
  for (const char* measure :
       {"availability", "tasks_lost_without_drain", "failed_requests", "cost"}) {
    const nlohmann::json& p = j["distribution"][1][measure];
    EXPECT_LE(p["p5"].get<double>(), p["p50"].get<double>()) << measure;
    EXPECT_LE(p["p50"].get<double>(), p["p95"].get<double>()) << measure;
  }
  // The runs are the first seed's, as without --seeds.
  EXPECT_EQ(j["scenario"]["seed"], 3);
  EXPECT_EQ(j["runs"].size(), 2u);
  // The same N gives the same output.
  EXPECT_EQ(Simulate(o).out, r.out);
}

TEST(Simulate, WritesTheHtmlReport) {
  SimulateOptions o;
  o.policies = {"spotkeeper"};
  o.report_path = TempPath("spk-sim-report") + ".html";
  SimRun r = Simulate(o);
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream in(o.report_path);
  std::stringstream html;
  html << in.rdbuf();
  std::remove(o.report_path.c_str());
  EXPECT_NE(html.str().find("<html"), std::string::npos);
  EXPECT_NE(html.str().find("default-day"), std::string::npos);
  EXPECT_NE(r.out.find("report: " + o.report_path), std::string::npos);
}

TEST(Simulate, BadInputIsOneLineAndExitTwo) {
  std::string path = TempPath("spk-sim-bad") + ".yaml";
  {
    std::ofstream f(path);
    f << "pools: [{type: m5.large, zone: a}]\nfleet: {target_capacity: 4, colour: red}\necs: "
         "{services: [{name: x}]}\n";
  }
  SimulateOptions o;
  o.scenario_path = path;
  SimRun r = Simulate(o);
  std::remove(path.c_str());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown key fleet.colour"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);

  o.scenario_path = path + ".missing";
  r = Simulate(o);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("cannot read scenario"), std::string::npos);

  SimulateOptions p;
  p.policies = {"always-on-demand"};
  r = Simulate(p);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--policy"), std::string::npos);

  SimulateOptions q;
  q.json = q.csv = true;
  EXPECT_EQ(Simulate(q).code, 2);

  for (const char* bad : {"0", "-3", "many", "100001"}) {
    CLI::App app;
    SimulateOptions parsed;
    AddSimulateCommand(app, parsed);
    EXPECT_THROW(app.parse(std::vector<std::string>{bad, "--seeds", "simulate"}), CLI::ParseError)
        << bad;
  }
}

TEST(Simulate, UnwritableReportFailsWithExitOne) {
  SimulateOptions o;
  o.policies = {"none"};
  o.report_path = "/nonexistent-dir/report.html";
  SimRun r = Simulate(o);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cannot write report"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace spk::cli
