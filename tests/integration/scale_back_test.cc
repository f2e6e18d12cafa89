// Scale-back of the on-demand group by one long-running `spotkeeper
// controller` against moto_server: the shortfall falls, and only after the
// settle window are the extra on-demand instances drained and then exactly
// those removed (TerminateInstanceInAutoScalingGroup with decrement); an
// extra instance still running a task stays in the group until the max drain
// time has passed.
//
// The world: an on-demand group of three InService m5.xlarge (4 units each)
// registered as ECS container instances; the fleet's PendingCapacity is 2
// units, so the shortfall holds one on-demand instance. The three run 2, 0
// and 1 tasks (StartTask on each container instance; moto counts them in
// runningTasksCount), so the controller keeps the busiest one and removes the
// other two: the idle one as soon as it is DRAINING, the one with a task only
// after --max-drain-time.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "aws/autoscaling.h"
#include "aws/ecs.h"
#include "support/child_process.h"
#include "support/controller_world.h"
#include "support/moto_server.h"
#include "support/process.h"

namespace spk {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using testsupport::ChildProcess;
using testsupport::ControllerWorld;
using testsupport::MotoServer;
using testsupport::SpotkeeperBinary;

constexpr auto kSettleWindow = seconds(3);
constexpr auto kMaxDrainTime = seconds(8);

// Polls `done` every 50 ms until it holds or `timeout` passes.
template <typename F>
bool Eventually(F done, milliseconds timeout) {
  auto end = steady_clock::now() + timeout;
  while (steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return done();
}

class ScaleBackTest : public testsupport::ControllerWorldTest {
 protected:
  // The group's instances: id -> lifecycle state; empty when it cannot be read.
  std::map<std::string, std::string> GroupInstances(const std::string& group) {
    aws::AutoScalingClient asg(moto_->client);
    auto r = asg.DescribeAutoScalingGroups({group});
    std::map<std::string, std::string> out;
    if (!r.ok() || r->empty()) return out;
    for (const aws::AsgInstance& i : r->front().instances) out[i.instance_id] = i.lifecycle_state;
    return out;
  }

  bool InGroup(const std::string& group, const std::string& id) {
    return GroupInstances(group).count(id) > 0;
  }

  int64_t RunningTasks(const std::string& cluster, const std::string& arn) {
    aws::EcsClient ecs(moto_->client);
    auto r = ecs.DescribeContainerInstances(cluster, {arn});
    if (!r.ok() || r->container_instances.empty()) return -1;
    return r->container_instances[0].running_tasks_count;
  }

  // Starts `count` tasks of `task_definition` on the container instance `arn`.
  void StartTasks(const std::string& cluster, const std::string& task_definition,
                  const std::string& arn, int count) {
    for (int i = 0; i < count; ++i) {
      auto r = moto_->client.CallJson(aws::services::Ecs(), "StartTask",
                                      {{"cluster", cluster},
                                       {"taskDefinition", task_definition},
                                       {"containerInstances", {arn}}});
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
  }

  // The value of custom attribute `name` on container instance `arn`, "" when absent.
  std::string Attribute(const std::string& cluster, const std::string& arn,
                        const std::string& name) {
    aws::EcsClient ecs(moto_->client);
    auto r = ecs.DescribeContainerInstances(cluster, {arn});
    if (!r.ok() || r->container_instances.empty()) return "";
    auto it = r->container_instances[0].attributes.find(name);
    return it == r->container_instances[0].attributes.end() ? "" : it->second;
  }

  // Two InService on-demand instances registered in a new cluster, `busy`
  // running one task and `idle` none; the fleet's pending capacity is 0, so
  // neither is needed.
  struct TwoExtra {
    std::string fleet, group, cluster, busy, idle;
    std::map<std::string, std::string> arns;
  };
  TwoExtra MakeTwoExtra() {
    TwoExtra w;
    w.fleet = world_->MakeFleet();
    EXPECT_FALSE(w.fleet.empty());
    world_->PutFleetMetrics(w.fleet, 0, 16);
    w.group = world_->MakeOnDemandGroup();
    aws::AutoScalingClient asg(moto_->client);
    EXPECT_TRUE(asg.SetDesiredCapacity(w.group, 2, /*honor_cooldown=*/false).ok());
    std::vector<std::string> ids;
    for (const auto& [id, state] : GroupInstances(w.group)) ids.push_back(id);
    EXPECT_EQ(ids.size(), 2u);
    if (ids.size() != 2) return w;
    w.busy = ids[0];
    w.idle = ids[1];
    w.cluster = ControllerWorld::Unique("restart-cluster");
    w.arns = world_->MakeCluster(w.cluster, ids);
    const std::string family = ControllerWorld::Unique("restart-task");
    auto registered = moto_->client.CallJson(
        aws::services::Ecs(), "RegisterTaskDefinition",
        {{"family", family},
         {"containerDefinitions",
          {{{"name", "app"}, {"image", "busybox"}, {"cpu", 64}, {"memory", 64}}}}});
    EXPECT_TRUE(registered.ok()) << registered.status().ToString();
    StartTasks(w.cluster, family, w.arns[w.busy], 1);
    return w;
  }

  // Starts a controller (max drain time 10 minutes) on `w`, waits until the
  // busy instance is DRAINING for removal (marked spotkeeper.removing) and,
  // with `idle_gone`, the idle one has left the group; then SIGKILLs it.
  // Returns the killed controller (for its log).
  std::unique_ptr<ChildProcess> KillMidRemoval(const TwoExtra& w, bool idle_gone) {
    auto controller = StartController(world_->MakeQueue(30), w.cluster, w.fleet, w.group, "10m");
    const std::string busy_arn = w.arns.at(w.busy);
    EXPECT_TRUE(Eventually(
        [&] {
          return (!idle_gone || !InGroup(w.group, w.idle)) &&
                 world_->ContainerStatus(w.cluster, busy_arn) == "DRAINING" &&
                 !Attribute(w.cluster, busy_arn, "spotkeeper.removing").empty();
        },
        seconds(30)))
        << controller->Log();
    controller->Signal(SIGKILL);
    return controller;
  }

  // `spotkeeper handle-event` given {"fleetID": ...}: a decider started from
  // nothing (a Lambda cold start, a restarted controller).
  testsupport::ProcessResult FreshDecider(const TwoExtra& w,
                                          const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {SpotkeeperBinary(),
                                     "handle-event",
                                     "-",
                                     "--cluster",
                                     w.cluster,
                                     "--spot-fleet-id",
                                     w.fleet,
                                     "--on-demand-asg",
                                     w.group,
                                     "--on-demand-units",
                                     "4",
                                     "--pending-source",
                                     "cloudwatch",
                                     "--settle-window",
                                     "2s"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return testsupport::RunProcess(argv, ControllerWorld::ProcessEnv(*server_), seconds(60),
                                   json{{"fleetID", w.fleet}}.dump());
  }

  std::unique_ptr<ChildProcess> StartController(const std::string& queue_url,
                                                const std::string& cluster,
                                                const std::string& fleet, const std::string& group,
                                                const std::string& max_drain_time = "8s",
                                                const std::string& settle_window = "3s") {
    std::vector<std::string> argv = {SpotkeeperBinary(),
                                     "--log-format",
                                     "json",
                                     "controller",
                                     "--queue-url",
                                     queue_url,
                                     "--cluster",
                                     cluster,
                                     "--spot-fleet-id",
                                     fleet,
                                     "--on-demand-asg",
                                     group,
                                     "--on-demand-units",
                                     "4",
                                     "--pending-source",
                                     "cloudwatch",
                                     "--wait-time",
                                     "1s",
                                     "--reconcile-interval",
                                     "1s",
                                     "--settle-window",
                                     settle_window,
                                     "--max-drain-time",
                                     max_drain_time,
                                     "--metrics-listen",
                                     "127.0.0.1:0"};
    return std::make_unique<ChildProcess>(argv, ControllerWorld::ProcessEnv(*server_));
  }
};

TEST_F(ScaleBackTest, AfterTheSettleWindowDrainsThenRemovesExactlyTheExtraInstances) {
  std::string fleet = world_->MakeFleet();
  ASSERT_FALSE(fleet.empty());
  // Two units pending: the shortfall holds ceil(2 / 4) = 1 on-demand instance.
  world_->PutFleetMetrics(fleet, 2, 16);

  std::string group = world_->MakeOnDemandGroup();
  aws::AutoScalingClient asg(moto_->client);
  Status grown = asg.SetDesiredCapacity(group, 3, /*honor_cooldown=*/false);
  ASSERT_TRUE(grown.ok()) << grown.ToString();
  std::map<std::string, std::string> members = GroupInstances(group);
  ASSERT_EQ(members.size(), 3u);
  std::vector<std::string> ids;
  for (const auto& [id, state] : members) {
    EXPECT_EQ(state, "InService") << id;
    ids.push_back(id);
  }
  ASSERT_EQ(world_->Desired(group), 3);

  std::string cluster = ControllerWorld::Unique("scale-back-cluster");
  auto arns = world_->MakeCluster(cluster, ids);
  ASSERT_EQ(arns.size(), 3u);
  const std::string family = ControllerWorld::Unique("scale-back-task");
  auto registered = moto_->client.CallJson(
      aws::services::Ecs(), "RegisterTaskDefinition",
      {{"family", family},
       {"containerDefinitions",
        {{{"name", "app"}, {"image", "busybox"}, {"cpu", 64}, {"memory", 64}}}}});
  ASSERT_TRUE(registered.ok()) << registered.status().ToString();

  // kept runs 2 tasks, idle none, busy one: the controller keeps the
  // instance with the most tasks and removes the other two.
  const std::string kept = ids[0];
  const std::string idle = ids[1];
  const std::string busy = ids[2];
  StartTasks(cluster, family, arns[kept], 2);
  StartTasks(cluster, family, arns[busy], 1);
  ASSERT_EQ(RunningTasks(cluster, arns[kept]), 2);
  ASSERT_EQ(RunningTasks(cluster, arns[idle]), 0);
  ASSERT_EQ(RunningTasks(cluster, arns[busy]), 1);

  std::string queue = world_->MakeQueue(30);
  const auto started = steady_clock::now();
  auto controller = StartController(queue, cluster, fleet, group);

  // Before the settle window has passed (it cannot have begun before the
  // controller started): nothing drained, nothing removed.
  const auto settle_end = started + kSettleWindow - milliseconds(300);
  while (steady_clock::now() < settle_end) {
    for (const auto& [id, arn] : arns) {
      ASSERT_EQ(world_->ContainerStatus(cluster, arn), "ACTIVE") << id << "\n" << controller->Log();
    }
    ASSERT_EQ(GroupInstances(group).size(), 3u) << controller->Log();
    ASSERT_EQ(world_->Desired(group), 3) << controller->Log();
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_TRUE(controller->Running()) << controller->Log();

  // After it: the two extra instances are DRAINING, each while it is still in
  // the group (drained first, removed after). The busy one was last seen
  // ACTIVE at busy_last_active: it cannot have been chosen (its drain time
  // began) much before that.
  auto busy_last_active = steady_clock::now();
  bool idle_drained_in_group = false;
  bool busy_drained_in_group = false;
  ASSERT_TRUE(Eventually(
      [&] {
        bool busy_in_group = InGroup(group, busy);
        std::string busy_status = world_->ContainerStatus(cluster, arns[busy]);
        if (busy_status == "ACTIVE") busy_last_active = steady_clock::now();
        if (busy_status == "DRAINING" && busy_in_group) busy_drained_in_group = true;
        if (world_->ContainerStatus(cluster, arns[idle]) == "DRAINING" && InGroup(group, idle)) {
          idle_drained_in_group = true;
        }
        return idle_drained_in_group && busy_drained_in_group;
      },
      seconds(30)))
      << "idle drained in group " << idle_drained_in_group << ", busy drained in group "
      << busy_drained_in_group << "\n"
      << controller->Log();
  EXPECT_EQ(world_->ContainerStatus(cluster, arns[kept]), "ACTIVE");

  // The idle one (DRAINING, no tasks) is terminated with decrement: it leaves
  // the group and the desired count drops to 2.
  ASSERT_TRUE(Eventually([&] { return !InGroup(group, idle); }, seconds(30))) << controller->Log();
  EXPECT_TRUE(Eventually([&] { return world_->Desired(group) == 2; }, seconds(10)))
      << "desired " << world_->Desired(group) << "\n"
      << controller->Log();

  // The busy one still runs its task: it stays in the group, DRAINING, until
  // the max drain time has passed since it was chosen. Checked up to 3 s before
  // the earliest moment it may go (a margin for when the controller read the
  // world before draining it).
  const auto still_until = busy_last_active + kMaxDrainTime - seconds(3);
  while (steady_clock::now() < still_until) {
    ASSERT_TRUE(InGroup(group, busy)) << "removed before --max-drain-time\n" << controller->Log();
    ASSERT_EQ(world_->ContainerStatus(cluster, arns[busy]), "DRAINING");
    ASSERT_EQ(RunningTasks(cluster, arns[busy]), 1);
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_TRUE(InGroup(group, busy)) << controller->Log();

  // After it, the busy one is removed too (its task still running).
  ASSERT_TRUE(Eventually([&] { return !InGroup(group, busy); }, seconds(30))) << controller->Log();
  EXPECT_TRUE(Eventually([&] { return world_->Desired(group) == 1; }, seconds(10)))
      << "desired " << world_->Desired(group) << "\n"
      << controller->Log();

  // Exactly those two were removed: the kept one is InService and ACTIVE, and
  // stays so over a few more reconciles (nothing else is removed).
  std::this_thread::sleep_for(seconds(2) + kSettleWindow);
  std::map<std::string, std::string> left = GroupInstances(group);
  ASSERT_EQ(left.size(), 1u) << controller->Log();
  EXPECT_EQ(left.begin()->first, kept);
  EXPECT_EQ(left.begin()->second, "InService");
  EXPECT_EQ(world_->Desired(group), 1);
  EXPECT_EQ(world_->ContainerStatus(cluster, arns[kept]), "ACTIVE");
  EXPECT_EQ(RunningTasks(cluster, arns[kept]), 2);

  // One termination each, nothing else terminated.
  std::string log = controller->Log();
  // Lines logging an applied action that contain `text`.
  auto count = [&](const std::string& text) {
    size_t n = 0;
    size_t start = 0;
    while (start < log.size()) {
      size_t end = log.find('\n', start);
      if (end == std::string::npos) end = log.size();
      std::string line = log.substr(start, end - start);
      if (line.find(text) != std::string::npos && line.find("\"applied\"") != std::string::npos) {
        ++n;
      }
      start = end + 1;
    }
    return n;
  };
  EXPECT_EQ(count("scale-in of on-demand instance " + idle), 1u) << log;
  EXPECT_EQ(count("scale-in of on-demand instance " + busy), 1u) << log;
  EXPECT_EQ(count("scale-in of on-demand instance " + kept), 0u) << log;

  EXPECT_EQ(controller->Signal(SIGTERM), 0) << controller->Log();
}

// Issue 11: a controller SIGKILLed while an on-demand instance is DRAINING
// for removal. The removal is marked on the container instance
// (spotkeeper.removing), so the next controller finishes it: nothing stays
// DRAINING unowned, and the instance that is still needed is not counted.
TEST_F(ScaleBackTest, ARemovalASigkilledControllerBeganIsFinishedByTheNext) {
  TwoExtra w = MakeTwoExtra();
  ASSERT_EQ(w.arns.size(), 2u);
  auto first = KillMidRemoval(w, /*idle_gone=*/false);
  ASSERT_TRUE(InGroup(w.group, w.busy));
  // The idle one was removed by the first (or is being: DRAINING and marked).
  // The next controller, with a short max drain time, finishes both; with a
  // settle window of 10 minutes it could not have chosen them itself.
  auto next = StartController(world_->MakeQueue(30), w.cluster, w.fleet, w.group, "2s", "10m");
  ASSERT_TRUE(Eventually([&] { return !InGroup(w.group, w.busy) && !InGroup(w.group, w.idle); },
                         seconds(30)))
      << next->Log();
  EXPECT_TRUE(Eventually([&] { return world_->Desired(w.group) == 0; }, seconds(10)))
      << "desired " << world_->Desired(w.group) << "\n"
      << next->Log();
  // It finished what the first began rather than choosing anew: no new marks.
  EXPECT_EQ(next->Log().find("marked for removal"), std::string::npos) << next->Log();
  EXPECT_NE(first->Log().find("marked for removal"), std::string::npos) << first->Log();
  EXPECT_EQ(next->Signal(SIGTERM), 0) << next->Log();
}

// The same removal, but the need returns before anyone finishes it: a fresh
// decider re-activates the marked instance instead of launching a new one.
TEST_F(ScaleBackTest, AFreshDeciderReactivatesARemovalWhenTheNeedReturns) {
  TwoExtra w = MakeTwoExtra();
  ASSERT_EQ(w.arns.size(), 2u);
  KillMidRemoval(w, /*idle_gone=*/true);
  const int64_t desired = world_->Desired(w.group);
  ASSERT_EQ(desired, 1);
  ASSERT_TRUE(InGroup(w.group, w.busy));
  // Four units pending: one m5.xlarge is needed again.
  world_->PutFleetMetrics(w.fleet, 4, 16);
  auto r = FreshDecider(w, {"--max-drain-time", "10m"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(world_->ContainerStatus(w.cluster, w.arns[w.busy]), "ACTIVE") << r.out;
  EXPECT_TRUE(InGroup(w.group, w.busy));
  EXPECT_EQ(world_->Desired(w.group), desired) << "re-activated, not replaced\n" << r.out;
}

// Issue 11: every decision by a new process (what Lambda cold starts do):
// the settle window lives in tags on the group, so the extra on-demand
// capacity is still given back.
TEST_F(ScaleBackTest, ColdStartsStillGiveBackOnDemandCapacity) {
  TwoExtra w = MakeTwoExtra();
  ASSERT_EQ(w.arns.size(), 2u);
  // One m5.xlarge held (2 units pending): the idle one is the extra.
  world_->PutFleetMetrics(w.fleet, 2, 16);
  auto r = FreshDecider(w);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(world_->Desired(w.group), 2);
  std::this_thread::sleep_for(seconds(3));  // past the 2 s settle window
  bool gone = Eventually(
      [&] {
        auto again = FreshDecider(w);
        EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
        return !InGroup(w.group, w.idle);
      },
      seconds(30));
  ASSERT_TRUE(gone) << "the idle instance was never removed";
  EXPECT_EQ(world_->Desired(w.group), 1);
  EXPECT_TRUE(InGroup(w.group, w.busy));
  EXPECT_EQ(world_->ContainerStatus(w.cluster, w.arns[w.busy]), "ACTIVE");
}

}  // namespace
}  // namespace spk