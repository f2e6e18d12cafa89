#include "sim/seeds.h"

#include <gtest/gtest.h>

#include "sim/output.h"
#include "sim/scenario.h"

namespace spk::sim {
namespace {

Scenario DefaultDay() {
  auto s = ParseScenario(DefaultScenarioYaml());
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return *s;
}

TEST(Quantile, InterpolatesBetweenTheClosestRanks) {
  // Sorted: 1 2 3 4 10; positions 0..4.
  const std::vector<double> v = {10, 2, 4, 1, 3};
  EXPECT_DOUBLE_EQ(Quantile(v, 0), 1);
  EXPECT_DOUBLE_EQ(Quantile(v, 1), 10);
  EXPECT_DOUBLE_EQ(Quantile(v, 0.5), 3);
  EXPECT_DOUBLE_EQ(Quantile(v, 0.95), 4 + 0.8 * 6);  // position 3.8
  EXPECT_DOUBLE_EQ(Quantile(v, 0.05), 1 + 0.2 * 1);  // position 0.2
  EXPECT_DOUBLE_EQ(Quantile({7}, 0.95), 7);
}

TEST(RunSeeds, EachSeedIsTheRunOfThatSeedWhateverTheThreads) {
  Scenario day = DefaultDay();
  const std::vector<PolicyKind> policies = {PolicyKind::kNone, PolicyKind::kSpotkeeper};
  std::vector<SeedSample> one = RunSeeds(day, policies, 5, 1);
  std::vector<SeedSample> three = RunSeeds(day, policies, 5, 3);
  ASSERT_EQ(one.size(), 10u);
  ASSERT_EQ(three.size(), 10u);
  for (size_t i = 0; i < one.size(); ++i) {
    EXPECT_EQ(one[i].seed, day.seed + i / 2);
    EXPECT_EQ(one[i].policy, policies[i % 2]);
    EXPECT_EQ(three[i].seed, one[i].seed);
    EXPECT_EQ(three[i].summary.availability, one[i].summary.availability);
    EXPECT_EQ(three[i].summary.cost, one[i].summary.cost);
    EXPECT_EQ(three[i].summary.tasks_lost_without_drain, one[i].summary.tasks_lost_without_drain);
  }
  // The sample of seed+3 is what a single run under that seed gives.
  Scenario fourth = day;
  fourth.seed = day.seed + 3;
  RunResult direct = RunSimulation(fourth, PolicyKind::kSpotkeeper);
  EXPECT_EQ(one[7].summary.cost, direct.summary.cost);
  EXPECT_EQ(one[7].summary.availability, direct.summary.availability);
}

TEST(SummarizeSeeds, PercentilesPerPolicyInOrder) {
  std::vector<SeedSample> samples;
  for (int i = 0; i < 21; ++i) {
    SeedSample a;
    a.seed = static_cast<uint64_t>(i);
    a.policy = PolicyKind::kReference;
    a.summary.cost = 100 + i;  // 100..120
    a.summary.availability = 1 - 0.001 * i;
    a.summary.tasks_lost_without_drain = i % 3;
    a.summary.failed_requests = 1000 * (20 - i);  // 20000..0
    samples.push_back(a);
    SeedSample b = a;
    b.policy = PolicyKind::kNone;
    b.summary.cost = 50;
    samples.push_back(b);
  }
  std::vector<report::Distribution> s = SummarizeSeeds(samples);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].policy, PolicyName(PolicyKind::kReference));
  EXPECT_EQ(s[0].seeds, 21);
  EXPECT_DOUBLE_EQ(s[0].cost.p5, 101);  // position 1 of 0..20
  EXPECT_DOUBLE_EQ(s[0].cost.p50, 110);
  EXPECT_DOUBLE_EQ(s[0].cost.p95, 119);
  EXPECT_DOUBLE_EQ(s[0].availability.p5, 1 - 0.019);
  EXPECT_DOUBLE_EQ(s[0].availability.p95, 1 - 0.001);
  EXPECT_LE(s[0].tasks_lost_without_drain.p5, s[0].tasks_lost_without_drain.p50);
  EXPECT_LE(s[0].tasks_lost_without_drain.p50, s[0].tasks_lost_without_drain.p95);
  EXPECT_EQ(s[1].policy, PolicyName(PolicyKind::kNone));
  EXPECT_DOUBLE_EQ(s[1].cost.p5, 50);
  EXPECT_DOUBLE_EQ(s[1].cost.p95, 50);
  EXPECT_DOUBLE_EQ(s[0].failed_requests.p5, 1000);
  EXPECT_DOUBLE_EQ(s[0].failed_requests.p50, 10000);
  EXPECT_DOUBLE_EQ(s[0].failed_requests.p95, 19000);

  const std::string csv = FormatSpreadCsv(s);
  EXPECT_EQ(csv.rfind(std::string(kSpreadCsvColumns) + "\n", 0), 0u);
  EXPECT_NE(csv.find("\nreference,21,0.981000,0.990000,0.999000,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",101.0000,110.0000,119.0000,1000,10000,19000\n"), std::string::npos) << csv;
  EXPECT_NE(FormatSpreadTable(s).find("110.00 (101.00-119.00)"), std::string::npos);
  nlohmann::json j = SpreadJson(s);
  EXPECT_EQ(j[0]["policy"], "reference");
  EXPECT_EQ(j[0]["cost"]["p50"], 110);
  EXPECT_EQ(j[0]["failed_requests"]["p95"], 19000);
}

}  // namespace
}  // namespace spk::sim
