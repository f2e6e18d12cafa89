#include "policy/reference_policy.h"

#include <gtest/gtest.h>

#include "policy/policy_test_util.h"

namespace spk::policy {
namespace {

using namespace testing_world;  // NOLINT: test builders

using Kind = ReferenceTrigger::Kind;

TEST(ReferencePolicyTest, CapacityModifierFromTheSizeName) {
  const std::vector<std::pair<std::string, double>> cases = {
      {"m5.large", 2},    {"t3.medium", 2},   {"m5.xlarge", 4},   {"m5.2xlarge", 8},
      {"m5.4xlarge", 4},  {"c5.12xlarge", 8},  // 48 vCPUs, "2xlarge" is in the name
      {"m5.24xlarge", 4}, {"m5.metal", 2},    {"c5.18xlarge", 4},
  };
  for (const auto& [type, expected] : cases) {
    EXPECT_EQ(ReferenceCapacityModifier(type), expected) << type;
  }
}

TEST(ReferencePolicyTest, RoundUpIsIntOfXPlus0999999) {
  const std::vector<std::pair<double, int>> cases = {
      {0, 0},        {0.25, 1}, {1, 1},   {1.0000001, 1},  // ceil would give 2
      {1.000001, 2}, {2.25, 3}, {7.5, 8}, {0.0000005, 0},  // ceil would give 1
  };
  for (const auto& [x, expected] : cases) EXPECT_EQ(ReferenceRoundUp(x), expected) << x;
}

struct ReferenceCase {
  std::string name;
  ReferenceTrigger trigger;
  ReferenceObservation observation;
  std::optional<int> instances_required;
  std::vector<Action> expected;
};

ReferenceTrigger Direct() { return {Kind::kDirect, "sfr-direct"}; }
ReferenceTrigger Alarm() { return {Kind::kAlarm, "sfr-alarm"}; }
ReferenceTrigger Termination(const std::string& type) {
  return {Kind::kTermination, "", type, "prod", Arn("i-s1")};
}

// Quiet fleet (TargetCapacity steady), `pending` pending, group at `desired`.
ReferenceObservation Reads(std::optional<double> pending, int desired) {
  return {std::vector<double>{16, 16, 16}, pending, 16.0, desired};
}

const std::string kGroup = "ecsSpotAutoScale";

TEST(ReferencePolicyTest, Table) {
  ReferenceObservation target_failed = Reads(8, 0);
  target_failed.target_capacity.reset();
  ReferenceObservation scaled = Reads(8, 0);
  scaled.target_capacity_maxima = std::vector<double>{16, 16, 20};
  ReferenceObservation maxima_failed = Reads(8, 0);
  maxima_failed.target_capacity_maxima.reset();
  ReferenceObservation no_maxima = Reads(8, 0);
  no_maxima.target_capacity_maxima = std::vector<double>{};

  const std::vector<ReferenceCase> cases = {
      {"direct: pending 8 -> 2, up without cooldown",
       Direct(),
       Reads(8, 0),
       2,
       {SetDesired(2, false, kGroup)}},
      {"alarm: pending 9 -> int(2.25 + 0.999999) = 3",
       Alarm(),
       Reads(9, 1),
       3,
       {SetDesired(3, false, kGroup)}},
      {"equal: nothing", Direct(), Reads(8, 2), 2, {}},
      {"down: pending 4, desired 3 -> 1 honoring cooldown",
       Direct(),
       Reads(4, 3),
       1,
       {SetDesired(1, true, kGroup)}},
      {"no clamp: pending 100 -> 25 whatever the group's max",
       Direct(),
       Reads(100, 0),
       25,
       {SetDesired(25, false, kGroup)}},
      {"rounding: pending 4.0000004 -> 1 (ceil: 2)",
       Direct(),
       Reads(4.0000004, 0),
       1,
       {SetDesired(1, false, kGroup)}},
      {"termination m5.2xlarge: drain, +8 -> 2",
       Termination("m5.2xlarge"),
       Reads(0, 0),
       2,
       {Drain({"i-s1"}), SetDesired(2, false, kGroup)}},
      {"termination m5.large: +2 -> int(0.5 + 0.999999) = 1",
       Termination("m5.large"),
       Reads(0, 0),
       1,
       {Drain({"i-s1"}), SetDesired(1, false, kGroup)}},
      {"termination c5.12xlarge: +8 from the name (weight would be 12)",
       Termination("c5.12xlarge"),
       Reads(4, 0),
       3,
       {Drain({"i-s1"}), SetDesired(3, false, kGroup)}},
      {"failed pending read becomes 0: scale-in to 0",
       Direct(),
       Reads(std::nullopt, 3),
       0,
       {SetDesired(0, true, kGroup)}},
      {"failed TargetCapacity read zeroes pending too", Direct(), target_failed, 0, {}},
      {"failed read with a termination: only the modifier",
       Termination("m5.xlarge"),
       Reads(std::nullopt, 3),
       1,
       {Drain({"i-s1"}), SetDesired(1, true, kGroup)}},
      {"recently scaled: nothing", Direct(), scaled, std::nullopt, {}},
      {"recently scaled: a termination still drains",
       Termination("m5.xlarge"),
       scaled,
       std::nullopt,
       {Drain({"i-s1"})}},
      {"TargetCapacity history read failed: treated as scaled",
       Alarm(),
       maxima_failed,
       std::nullopt,
       {}},
      {"no TargetCapacity datapoints: not scaled",
       Direct(),
       no_maxima,
       2,
       {SetDesired(2, false, kGroup)}},
  };
  for (const ReferenceCase& c : cases) {
    SCOPED_TRACE(c.name);
    ReferenceDecision decision = DecideReference(c.trigger, c.observation, ReferenceConfig{});
    EXPECT_EQ(decision.instances_required, c.instances_required);
    EXPECT_EQ(decision.actions, c.expected);
    EXPECT_EQ(decision.recently_scaled, !c.instances_required.has_value());
  }
}

TEST(ReferencePolicyTest, FleetIdHardCodedForTerminations) {
  ReferenceConfig config;
  EXPECT_EQ(ReferenceFleetId(Termination("m5.large"), config),
            "sfr-44def1f0-9e0c-4582-9ee3-95095db3805d");
  EXPECT_EQ(ReferenceFleetId(Direct(), config), "sfr-direct");
  EXPECT_EQ(ReferenceFleetId(Alarm(), config), "sfr-alarm");
  config.hard_coded_fleet_id = "sfr-mine";
  EXPECT_EQ(DecideReference(Termination("m5.large"), Reads(0, 0), config).fleet_id, "sfr-mine");
}

}  // namespace
}  // namespace spk::policy
