#include "policy/units.h"

#include <gtest/gtest.h>

#include "policy/config.h"
#include "policy/observation.h"

namespace spk::policy {
namespace {

TEST(LostUnitsTest, WeightOverVcpusNeverTheName) {
  const std::map<std::string, double> weights = {{"m5.xlarge", 3}, {"c5.12xlarge", 12}};
  struct Case {
    std::string name;
    std::string type;
    std::optional<int> vcpus;
    std::optional<double> expected;  // nullopt: an error
    StatusCode code = StatusCode::kOk;
  };
  const std::vector<Case> cases = {
      {"weight wins over vCPUs", "m5.xlarge", 4, 3},
      {"weight without vCPUs", "c5.12xlarge", std::nullopt, 12},
      {"vCPUs when unweighted", "m5.2xlarge", 8, 8},
      {"no guess from the name", "m5.2xlarge", std::nullopt, std::nullopt, StatusCode::kNotFound},
      {"zero vCPUs rejected", "x.large", 0, std::nullopt, StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Result<double> units = LostUnits(weights, c.type, c.vcpus);
    ASSERT_EQ(units.ok(), c.expected.has_value());
    if (c.expected) {
      EXPECT_EQ(*units, *c.expected);
    } else {
      EXPECT_EQ(units.status().code(), c.code);
    }
  }
  EXPECT_EQ(LostUnits({{"bad", 0}}, "bad", 4).status().code(), StatusCode::kInvalidArgument);
}

TEST(InstancesToCoverTest, CeilOfUnitsOverUnitsPerInstance) {
  const std::vector<std::tuple<double, double, int>> cases = {
      {0, 4, 0},    {-3, 4, 0},  {1, 4, 1},    {4, 4, 1},           {4.0000004, 4, 2},
      {8, 4, 2},    {9, 4, 3},   {12, 8, 2},   {0.1 + 0.2, 0.3, 1},  // not 2
      {100, 4, 25}, {3, 1.5, 2}, {1e-9, 4, 1},
  };
  for (const auto& [units, per, expected] : cases) {
    EXPECT_EQ(InstancesToCover(units, per), expected) << units << " / " << per;
  }
}

TEST(PendingUnitsTest, FromApiOrMetricNeverNegative) {
  SpotCapacitySource source;
  source.target_capacity = 16;
  source.fulfilled_capacity = 10;
  EXPECT_EQ(PendingUnits(source), 6);
  source.fulfilled_capacity = 20;  // over-fulfilled
  EXPECT_EQ(PendingUnits(source), 0);
  source.pending_capacity = 3;
  EXPECT_EQ(PendingUnits(source), 3);
}

TEST(ConfigTest, ParseRebalanceAction) {
  EXPECT_EQ(ParseRebalanceAction("ignore").value(), RebalanceAction::kIgnore);
  EXPECT_EQ(ParseRebalanceAction("drain").value(), RebalanceAction::kDrain);
  EXPECT_EQ(ParseRebalanceAction("prepare").value(), RebalanceAction::kPrepare);
  EXPECT_EQ(ParseRebalanceAction("Drain").status().code(), StatusCode::kInvalidArgument);
  for (auto action :
       {RebalanceAction::kIgnore, RebalanceAction::kDrain, RebalanceAction::kPrepare}) {
    EXPECT_EQ(ParseRebalanceAction(RebalanceActionName(action)).value(), action);
  }
}

TEST(ConfigTest, Validate) {
  EXPECT_TRUE(ValidateConfig(PolicyConfig{}).ok());
  std::vector<std::pair<std::string, PolicyConfig>> bad;
  PolicyConfig c;
  c.settle_window = -std::chrono::seconds(1);
  bad.emplace_back("negative settle", c);
  c = {};
  c.maintenance_drain_before = -std::chrono::seconds(1);
  bad.emplace_back("negative maintenance drain-before", c);
  c = {};
  c.on_demand_units = 0;
  bad.emplace_back("zero units", c);
  c = {};
  c.drain_batch_size = 11;
  bad.emplace_back("batch over the API limit", c);
  c = {};
  c.drain_batch_size = 0;
  bad.emplace_back("empty batch", c);
  for (const auto& [name, config] : bad) {
    EXPECT_EQ(ValidateConfig(config).code(), StatusCode::kInvalidArgument) << name;
  }
}

TEST(ParseContainerStatusTest, Statuses) {
  EXPECT_EQ(ParseContainerStatus("ACTIVE"), ContainerStatus::kActive);
  EXPECT_EQ(ParseContainerStatus("DRAINING"), ContainerStatus::kDraining);
  EXPECT_EQ(ParseContainerStatus("INACTIVE"), ContainerStatus::kOther);
}

}  // namespace
}  // namespace spk::policy
