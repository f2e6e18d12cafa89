#include "policy/drain_planner.h"

#include <gtest/gtest.h>

#include <set>

#include "policy/policy_test_util.h"

namespace spk::policy {
namespace {

using namespace testing_world;  // NOLINT: test builders

std::vector<size_t> BatchSizes(const std::vector<Action>& actions) {
  std::vector<size_t> sizes;
  for (const Action& action : actions) {
    sizes.push_back(std::get<DrainContainerInstances>(action.what).container_instance_arns.size());
  }
  return sizes;
}

struct BatchCase {
  std::string name;
  int instances;
  size_t batch_size;
  std::vector<size_t> expected_sizes;
};

TEST(DrainPlannerTest, BatchesOfAtMostTen) {
  const std::vector<BatchCase> cases = {
      {"none", 0, 10, {}},
      {"one", 1, 10, {1}},
      {"exactly ten", 10, 10, {10}},
      {"eleven", 11, 10, {10, 1}},
      {"23 instances -> 10, 10, 3", 23, 10, {10, 10, 3}},
      {"smaller configured batch", 7, 3, {3, 3, 1}},
  };
  for (const BatchCase& c : cases) {
    SCOPED_TRACE(c.name);
    Observation observation = World();
    observation.container_instances.clear();
    for (int i = 0; i < c.instances; ++i) {
      std::string id = "i-" + std::string(i < 10 ? "0" : "") + std::to_string(i);
      observation.container_instances.push_back(Container(id));
      observation.notices.push_back(Interruption(id, 4));
    }
    PolicyConfig config;
    config.drain_batch_size = c.batch_size;
    DrainPlan plan = PlanNoticeDrains(observation, config, false);
    EXPECT_EQ(BatchSizes(plan.actions), c.expected_sizes);
  }
}

TEST(DrainPlannerTest, EveryNoticedInstanceDrainedExactlyOnce) {
  Observation observation = World();
  observation.container_instances.clear();
  for (int i = 0; i < 23; ++i) {
    std::string id = "i-" + std::to_string(100 + i);
    observation.container_instances.push_back(Container(id));
    observation.notices.push_back(Interruption(id, 4));
    observation.notices.push_back(Interruption(id, 4));  // duplicate delivery
  }
  DrainPlan plan = PlanNoticeDrains(observation, PolicyConfig{}, false);
  std::set<std::string> arns;
  size_t total = 0;
  for (const Action& action : plan.actions) {
    for (const auto& arn : std::get<DrainContainerInstances>(action.what).container_instance_arns) {
      arns.insert(arn);
      ++total;
    }
  }
  EXPECT_EQ(total, 23u);
  EXPECT_EQ(arns.size(), 23u);
}

TEST(DrainPlannerTest, SecondPlanAfterDrainingIsEmpty) {
  Observation observation = World();
  observation.notices = {Interruption("i-s1", 4), Interruption("i-s2", 4)};
  DrainPlan first = PlanNoticeDrains(observation, PolicyConfig{}, false);
  ASSERT_EQ(first.actions.size(), 1u);
  // The world after the drain call succeeded.
  for (auto& container : observation.container_instances) {
    if (container.ec2_instance_id == "i-s1" || container.ec2_instance_id == "i-s2") {
      container.status = ContainerStatus::kDraining;
    }
  }
  DrainPlan second = PlanNoticeDrains(observation, PolicyConfig{}, false);
  EXPECT_TRUE(second.actions.empty());
  EXPECT_EQ(second.notes.size(), 2u);
}

TEST(DrainPlannerTest, SoonestTerminationFirst) {
  Observation observation = World();
  observation.notices = {Interruption("i-s1", 4), Interruption("i-s2", 4), Interruption("i-s3", 4)};
  observation.notices[0].termination_time = At(100);
  observation.notices[1].termination_time = At(20);
  observation.notices[2].termination_time = At(60);
  PolicyConfig config;
  config.drain_batch_size = 1;
  DrainPlan plan = PlanNoticeDrains(observation, config, false);
  EXPECT_EQ(plan.actions, (std::vector<Action>{Drain({"i-s2"}), Drain({"i-s3"}), Drain({"i-s1"})}));
}

}  // namespace
}  // namespace spk::policy
