// Auto Scaling terminate lifecycle hooks answered by `spotkeeper controller`
// against moto_server, through tests/tools/lifecycle_peer.py.
//
// moto 5.2 keeps lifecycle hooks (PutLifecycleHook, DescribeLifecycleHooks)
// but implements neither CompleteLifecycleAction nor
// RecordLifecycleActionHeartbeat, and never holds an instance in
// Terminating:Wait. The peer (the controller's AWS_ENDPOINT_URL_AUTO_SCALING)
// answers those two calls, checking each against botocore's Auto Scaling
// model and recording it, and forwards every other Auto Scaling call to moto.
// The test tells the peer which instance waits on which hook with which token
// (as Auto Scaling would when it starts terminating it); the peer then shows
// that instance as Terminating:Wait in DescribeAutoScalingGroups until the
// action is completed (then Terminating:Proceed). Everything else (the
// group, the hook, ECS, SQS) is moto's.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "aws/autoscaling.h"
#include "aws/ecs.h"
#include "aws/sqs.h"
#include "net/curl_transport.h"
#include "support/child_process.h"
#include "support/controller_world.h"
#include "support/moto_server.h"
#include "support/process.h"
#include "support/python_peer.h"

namespace spk {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testsupport::ChildProcess;
using testsupport::ControllerWorld;
using testsupport::SpotkeeperBinary;

constexpr const char* kHook = "spotkeeper-drain";
constexpr const char* kTerminating = "autoscaling:EC2_INSTANCE_TERMINATING";
// Short, so that a message left undeleted is visible again soon after the
// controller stopped.
constexpr int kVisibilityS = 2;

template <typename F>
bool Eventually(F done, milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(100));
  }
  return done();
}

class LifecycleHookTest : public testsupport::ControllerWorldTest {
 protected:
  void SetUp() override {
    ControllerWorldTest::SetUp();
    if (HasFatalFailure()) return;
    peer_ = testsupport::StartPythonPeer("lifecycle_peer.py", server_->endpoint());
    ASSERT_FALSE(peer_.url.empty()) << peer_.process->Log();
    peer_url_ = peer_.url;
  }

  // A world: a fleet with nothing pending, an on-demand group of `count`
  // instances registered in a new cluster, the group's terminating hook
  // (heartbeat timeout `heartbeat_s`) and a queue.
  struct World {
    std::string fleet, group, cluster, queue;
    std::vector<std::string> ids;
    std::map<std::string, std::string> arns;
  };
  World MakeWorld(int count, int heartbeat_s) {
    World w;
    w.fleet = world_->MakeFleet();
    world_->PutFleetMetrics(w.fleet, 0, 16);
    w.group = world_->MakeOnDemandGroup(count);
    aws::AutoScalingClient asg(client());
    auto groups = asg.DescribeAutoScalingGroups({w.group});
    EXPECT_TRUE(groups.ok() && groups->size() == 1u);
    if (!groups.ok() || groups->empty()) return w;
    for (const aws::AsgInstance& i : groups->front().instances) w.ids.push_back(i.instance_id);
    EXPECT_EQ(w.ids.size(), static_cast<size_t>(count));
    w.cluster = ControllerWorld::Unique("hooks");
    w.arns = world_->MakeCluster(w.cluster, w.ids);
    auto hook = client().CallQuery(aws::services::AutoScaling(), "PutLifecycleHook",
                                   {{"LifecycleHookName", kHook},
                                    {"AutoScalingGroupName", w.group},
                                    {"LifecycleTransition", kTerminating},
                                    {"HeartbeatTimeout", std::to_string(heartbeat_s)},
                                    {"DefaultResult", "ABANDON"}});
    EXPECT_TRUE(hook.ok()) << hook.status().ToString();
    w.queue = world_->MakeQueue(kVisibilityS);
    return w;
  }

  // Tells the peer that `instance` waits on the hook (Terminating:Wait; with
  // `transition` "launching", Pending:Wait on `hook`).
  void StartTerminating(const World& w, const std::string& instance, const std::string& token,
                        const std::string& transition = "terminating",
                        const std::string& hook = kHook) {
    net::CurlTransport http;
    net::HttpRequest request;
    request.method = "POST";
    request.url = peer_url_ + "/__lifecycle_peer/pending";
    request.body = json{
        {"group", w.group},
        {"hook", hook},
        {"instance", instance},
        {"token", token},
        {"transition",
         transition}}.dump();
    auto r = http.Send(request);
    ASSERT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
  }

  // The calls the peer answered: [{"action", "params", "error"}].
  json PeerCalls() {
    net::CurlTransport http;
    net::HttpRequest request;
    request.method = "GET";
    request.url = peer_url_ + "/__lifecycle_peer/calls";
    auto r = http.Send(request);
    if (!r.ok() || r->status != 200) return json::array();
    return json::parse(r->body, nullptr, false);
  }
  std::vector<json> CallsFor(const std::string& action, const std::string& instance) {
    std::vector<json> out;
    for (const json& c : PeerCalls()) {
      if (c["action"] == action && c["params"].value("InstanceId", "") == instance) {
        out.push_back(c);
      }
    }
    return out;
  }

  void Send(const std::string& queue, const std::string& body) {
    aws::SqsClient sqs(client());
    auto sent = sqs.SendMessage(queue, body);
    ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  }

  // A controller on `w`, once its first reconcile is done.
  std::unique_ptr<ChildProcess> StartController(const World& w,
                                                const std::string& reconcile_interval,
                                                const std::vector<std::string>& extra = {}) {
    std::map<std::string, std::string> env = ControllerWorld::ProcessEnv(*server_);
    env["AWS_ENDPOINT_URL_AUTO_SCALING"] = peer_url_;
    std::vector<std::string> argv = {SpotkeeperBinary(),
                                     "--log-format",
                                     "json",
                                     "--log-level",
                                     "debug",
                                     "controller",
                                     "--queue-url",
                                     w.queue,
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
                                     "--wait-time",
                                     "1s",
                                     "--visibility-timeout",
                                     std::to_string(kVisibilityS) + "s",
                                     "--reconcile-interval",
                                     reconcile_interval,
                                     "--settle-window",
                                     "10m",
                                     "--max-drain-time",
                                     "10m",
                                     "--metrics-listen",
                                     "off"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto controller = std::make_unique<ChildProcess>(argv, env);
    EXPECT_TRUE(controller->WaitForLog("reconciled", seconds(30))) << controller->Log();
    return controller;
  }

  // The RecordLifecycleActionHeartbeat calls for `instance` with `token`.
  size_t HeartbeatsWithToken(const std::string& instance, const std::string& token) {
    size_t n = 0;
    for (const json& c : CallsFor("RecordLifecycleActionHeartbeat", instance)) {
      if (c["params"].value("LifecycleActionToken", "") == token) ++n;
    }
    return n;
  }

  static std::string TerminateEvent(const World& w, const std::string& instance,
                                    const std::string& token) {
    return json{{"version", "0"},
                {"id", ControllerWorld::Unique("lc-event")},
                {"detail-type", "EC2 Instance-terminate Lifecycle Action"},
                {"source", "aws.autoscaling"},
                {"account", "123456789012"},
                {"time", "2026-12-02T00:00:00Z"},
                {"region", "us-east-1"},
                {"resources", json::array()},
                {"detail",
                 {{"LifecycleActionToken", token},
                  {"AutoScalingGroupName", w.group},
                  {"LifecycleHookName", kHook},
                  {"EC2InstanceId", instance},
                  {"LifecycleTransition", kTerminating},
                  {"Origin", "AutoScalingGroup"},
                  {"Destination", "EC2"}}}}
        .dump();
  }

  testsupport::PythonPeer peer_;
  std::string peer_url_;
};

TEST_F(LifecycleHookTest, AnIdleInstanceIsDrainedAndCompletedAndTheTestNotificationAcknowledged) {
  World w = MakeWorld(2, 30);
  ASSERT_EQ(w.ids.size(), 2u);
  const std::string& leaving = w.ids[0];
  // Reconciles only at start: the action is answered by the event's decision.
  auto controller = StartController(w, "60s");
  StartTerminating(w, leaving, "11111111-2222-3333-4444-000000000001");
  // The hook's test notification (its SQS target's first message), then the
  // action as the hook's own notification would not name it: EventBridge's.
  Send(w.queue, json{{"AccountId", "123456789012"},
                     {"RequestId", "req-test"},
                     {"AutoScalingGroupARN",
                      "arn:aws:autoscaling:us-east-1:123456789012:"
                      "autoScalingGroup:x:autoScalingGroupName/" +
                          w.group},
                     {"AutoScalingGroupName", w.group},
                     {"Service", "AWS Auto Scaling"},
                     {"Event", "autoscaling:TEST_NOTIFICATION"},
                     {"Time", "2026-12-02T00:00:00.000Z"}}
                    .dump());
  Send(w.queue, TerminateEvent(w, leaving, "11111111-2222-3333-4444-000000000001"));
  ASSERT_TRUE(Eventually([&] { return !CallsFor("CompleteLifecycleAction", leaving).empty(); },
                         seconds(30)))
      << controller->Log();
  std::vector<json> completes = CallsFor("CompleteLifecycleAction", leaving);
  ASSERT_EQ(completes.size(), 1u) << json(completes).dump();
  const json& p = completes[0]["params"];
  EXPECT_EQ(completes[0]["error"], "") << completes[0].dump();
  EXPECT_EQ(p["LifecycleActionResult"], "CONTINUE");
  EXPECT_EQ(p["LifecycleHookName"], kHook);
  EXPECT_EQ(p["AutoScalingGroupName"], w.group);
  EXPECT_EQ(p["LifecycleActionToken"], "11111111-2222-3333-4444-000000000001");
  EXPECT_EQ(world_->ContainerStatus(w.cluster, w.arns[leaving]), "DRAINING");
  EXPECT_EQ(world_->ContainerStatus(w.cluster, w.arns[w.ids[1]]), "ACTIVE");
  EXPECT_TRUE(CallsFor("RecordLifecycleActionHeartbeat", leaving).empty());
  EXPECT_TRUE(controller->WaitForLog("event acknowledged and ignored", seconds(10)))
      << controller->Log();
  // Both messages were answered (deleted): nothing comes back once the
  // controller is gone and the visibility timeout has passed.
  EXPECT_EQ(controller->Stop(), 0) << controller->Log();
  std::this_thread::sleep_for(seconds(kVisibilityS + 1));
  aws::SqsClient sqs(client());
  aws::ReceiveOptions ro;
  ro.max_messages = 10;
  ro.wait_time_seconds = 0;
  auto left = sqs.ReceiveMessage(w.queue, ro);
  ASSERT_TRUE(left.ok()) << left.status().ToString();
  EXPECT_TRUE(left->empty()) << left->front().body;
}

TEST_F(LifecycleHookTest, ARunningTaskGetsHeartbeatsUntilItEndsAndARestartStillCompletes) {
  World w = MakeWorld(1, 4);  // heartbeats every 2 s
  ASSERT_EQ(w.ids.size(), 1u);
  const std::string& leaving = w.ids[0];
  const std::string family = ControllerWorld::Unique("hook-task");
  auto registered =
      client().CallJson(aws::services::Ecs(), "RegisterTaskDefinition",
                        {{"family", family},
                         {"containerDefinitions",
                          {{{"name", "app"}, {"image", "busybox"}, {"cpu", 64}, {"memory", 64}}}}});
  ASSERT_TRUE(registered.ok()) << registered.status().ToString();
  auto started = client().CallJson(aws::services::Ecs(), "StartTask",
                                   {{"cluster", w.cluster},
                                    {"taskDefinition", family},
                                    {"containerInstances", {w.arns[leaving]}}});
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  const std::string task = (*started)["tasks"][0]["taskArn"].get<std::string>();

  const std::string token = "11111111-2222-3333-4444-000000000002";
  auto first = StartController(w, "1s");
  StartTerminating(w, leaving, token);
  Send(w.queue, TerminateEvent(w, leaving, token));
  // Heartbeats every half timeout (2 s) with the event's token (a reconcile
  // that saw the action before the event came sends one by instance id).
  ASSERT_TRUE(Eventually([&] { return HeartbeatsWithToken(leaving, token) >= 2; }, seconds(30)))
      << first->Log();
  EXPECT_EQ(world_->ContainerStatus(w.cluster, w.arns[leaving]), "DRAINING");
  EXPECT_TRUE(CallsFor("CompleteLifecycleAction", leaving).empty());
  for (const json& c : CallsFor("RecordLifecycleActionHeartbeat", leaving)) {
    EXPECT_EQ(c["error"], "") << c.dump();
  }
  // A restart in the middle: the new controller knows no token; it finds the
  // action in AWS (Terminating:Wait) and goes on by instance id.
  first->Signal(SIGKILL);
  const size_t before = CallsFor("RecordLifecycleActionHeartbeat", leaving).size();
  auto second = StartController(w, "1s");
  ASSERT_TRUE(Eventually(
      [&] { return CallsFor("RecordLifecycleActionHeartbeat", leaving).size() > before; },
      seconds(30)))
      << second->Log();
  const json last = CallsFor("RecordLifecycleActionHeartbeat", leaving).back();
  EXPECT_EQ(last["error"], "") << last.dump();
  EXPECT_FALSE(last["params"].contains("LifecycleActionToken")) << last.dump();

  // The task ends: the action is completed.
  auto stopped =
      client().CallJson(aws::services::Ecs(), "StopTask", {{"cluster", w.cluster}, {"task", task}});
  ASSERT_TRUE(stopped.ok()) << stopped.status().ToString();
  ASSERT_TRUE(Eventually([&] { return !CallsFor("CompleteLifecycleAction", leaving).empty(); },
                         seconds(30)))
      << second->Log();
  std::vector<json> completes = CallsFor("CompleteLifecycleAction", leaving);
  ASSERT_EQ(completes.size(), 1u);
  EXPECT_EQ(completes[0]["error"], "") << completes[0].dump();
  EXPECT_EQ(completes[0]["params"]["LifecycleActionResult"], "CONTINUE");
  EXPECT_EQ(completes[0]["params"]["LifecycleHookName"], kHook);
  EXPECT_EQ(completes[0]["params"]["AutoScalingGroupName"], w.group);
  // Done: no more heartbeats or completions for it.
  std::this_thread::sleep_for(seconds(3));
  EXPECT_EQ(CallsFor("CompleteLifecycleAction", leaving).size(), 1u);
  EXPECT_EQ(second->Stop(), 0) << second->Log();
}

// Launching hooks: an instance whose container instance is ACTIVE is let in
// (CONTINUE); one whose container instance is not ACTIVE is abandoned once
// --launch-timeout has passed since EC2 launched it (moto's launch time).
TEST_F(LifecycleHookTest, ALaunchContinuesOnceActiveAndOneThatIsNotIsAbandonedAfterTheTimeout) {
  World w = MakeWorld(2, 30);
  ASSERT_EQ(w.ids.size(), 2u);
  constexpr const char* kLaunchHook = "spotkeeper-ready";
  auto hook = client().CallQuery(aws::services::AutoScaling(), "PutLifecycleHook",
                                 {{"LifecycleHookName", kLaunchHook},
                                  {"AutoScalingGroupName", w.group},
                                  {"LifecycleTransition", "autoscaling:EC2_INSTANCE_LAUNCHING"},
                                  {"HeartbeatTimeout", "300"},
                                  {"DefaultResult", "ABANDON"}});
  ASSERT_TRUE(hook.ok()) << hook.status().ToString();
  const std::string& ready = w.ids[0];
  const std::string& broken = w.ids[1];
  // The second one's agent registered, but its container instance is not
  // ACTIVE: it cannot run tasks.
  aws::EcsClient ecs(client());
  ASSERT_TRUE(ecs.UpdateContainerInstancesState(w.cluster, {w.arns[broken]}, "DRAINING").ok());
  StartTerminating(w, ready, "", "launching", kLaunchHook);
  StartTerminating(w, broken, "", "launching", kLaunchHook);
  auto controller = StartController(w, "1s", {"--launch-timeout", "1s"});
  ASSERT_TRUE(Eventually(
      [&] {
        return !CallsFor("CompleteLifecycleAction", ready).empty() &&
               !CallsFor("CompleteLifecycleAction", broken).empty();
      },
      seconds(30)))
      << controller->Log();
  std::vector<json> continued = CallsFor("CompleteLifecycleAction", ready);
  ASSERT_EQ(continued.size(), 1u) << json(continued).dump();
  EXPECT_EQ(continued[0]["error"], "");
  EXPECT_EQ(continued[0]["params"]["LifecycleActionResult"], "CONTINUE");
  EXPECT_EQ(continued[0]["params"]["LifecycleHookName"], kLaunchHook);
  EXPECT_EQ(continued[0]["params"]["AutoScalingGroupName"], w.group);
  std::vector<json> abandoned = CallsFor("CompleteLifecycleAction", broken);
  ASSERT_EQ(abandoned.size(), 1u) << json(abandoned).dump();
  EXPECT_EQ(abandoned[0]["error"], "");
  EXPECT_EQ(abandoned[0]["params"]["LifecycleActionResult"], "ABANDON");
  EXPECT_TRUE(controller->WaitForLog("abandoned", seconds(5))) << controller->Log();
  // Nothing drained for a launch: the ready one is still ACTIVE.
  EXPECT_EQ(world_->ContainerStatus(w.cluster, w.arns[ready]), "ACTIVE");
  EXPECT_EQ(controller->Stop(), 0) << controller->Log();
}

}  // namespace
}  // namespace spk
