// `spotkeeper controller` as a process against moto_server with SigV4
// checking on: the reference's SNS termination message delivered through
// SNS -> SQS; a malformed message left in the queue while the controller keeps
// serving /healthz and /metrics; hostile messages (issue 12) left in the
// queue while the valid one of the same receive is handled; SIGKILL in the
// middle of a burst of notices and a restart that still handles every one of
// them; a notice for the controller's own host (found through a loopback ECS
// task metadata endpoint and moto's ECS) warned about, drained, and its
// message deleted before SIGTERM ends the process.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "aws/ecs.h"
#include "aws/sns.h"
#include "aws/sqs.h"
#include "net/curl_transport.h"
#include "net/loopback_server.h"
#include "support/child_process.h"
#include "support/controller_world.h"
#include "support/moto_server.h"
#include "support/process.h"

namespace spk {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testsupport::AgentMessage;
using testsupport::ChildProcess;
using testsupport::ControllerWorld;
using testsupport::MotoServer;
using testsupport::ProcessResult;
using testsupport::RunProcess;
using testsupport::SpotkeeperBinary;

// Polls `done` every 50 ms until it holds or `timeout` passes.
template <typename F>
bool Eventually(F done, milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return done();
}

// The queue's messages by id, received until at least `count` were seen or
// `timeout` passed.
std::map<std::string, std::string> ReceiveAtLeast(aws::SqsClient& sqs, const std::string& queue,
                                                  size_t count, milliseconds timeout) {
  std::map<std::string, std::string> bodies;
  Eventually(
      [&] {
        aws::ReceiveOptions ro;
        ro.max_messages = 10;
        ro.wait_time_seconds = 1;
        auto got = sqs.ReceiveMessage(queue, ro);
        if (got.ok()) {
          for (const auto& m : *got) bodies[m.message_id] = m.body;
        }
        return bodies.size() >= count;
      },
      timeout);
  return bodies;
}

// What SNS delivers into a subscribed queue (raw delivery off).
std::string SnsEnvelope(const std::string& message, const std::string& id) {
  return json{{"Type", "Notification"},
              {"MessageId", id},
              {"TopicArn", "arn:aws:sns:us-east-1:123456789012:spot"},
              {"Message", message}}
      .dump();
}

class ControllerLoopTest : public testsupport::ControllerWorldTest {
 protected:
  // The controller on `queue_url`, metrics on a free loopback port.
  std::unique_ptr<ChildProcess> StartController(const std::string& queue_url,
                                                const std::string& cluster,
                                                const std::string& fleet,
                                                const std::string& group) {
    std::vector<std::string> argv = {SpotkeeperBinary(), "--log-format", "json", "controller",
                                     "--queue-url", queue_url, "--cluster", cluster,
                                     "--spot-fleet-id", fleet, "--on-demand-asg", group,
                                     "--pending-source", "cloudwatch", "--wait-time", "1s",
                                     // Messages left in the queue come back soon.
                                     "--visibility-timeout", "2s", "--reconcile-interval", "2s",
                                     "--metrics-listen", "127.0.0.1:0"};
    return std::make_unique<ChildProcess>(argv, ControllerWorld::ProcessEnv(*server_));
  }

  // The metrics address the controller logged ("127.0.0.1:PORT"), "" when none yet.
  static std::string MetricsAddress(ChildProcess& child) {
    if (!child.WaitForLog("serving /metrics and /healthz", seconds(15))) return "";
    std::string log = child.Log();
    size_t line_start = log.rfind('\n', log.find("serving /metrics and /healthz"));
    line_start = line_start == std::string::npos ? 0 : line_start + 1;
    std::string line = log.substr(line_start, log.find('\n', line_start) - line_start);
    json j = json::parse(line, nullptr, false);
    return j.is_object() ? j.value("address", "") : "";
  }

  static net::HttpResponse Get(const std::string& address, const std::string& path) {
    net::CurlTransport http;
    net::HttpRequest request;
    request.url = "http://" + address + path;
    auto r = http.Send(request);
    return r.ok() ? *r : net::HttpResponse{};
  }
};

TEST_F(ControllerLoopTest, SnsTerminationMessageThroughSqsDrainsAndScalesOnDemand) {
  std::string fleet = world_->MakeFleet();
  ASSERT_FALSE(fleet.empty());
  auto instances = world_->FleetInstances(fleet);
  ASSERT_FALSE(instances.empty());
  aws::SpotFleetInstance victim = instances.front();
  for (const auto& i : instances) {
    if (i.instance_type == "c5.4xlarge") victim = i;
  }
  std::vector<std::string> ids;
  for (const auto& i : instances) ids.push_back(i.instance_id);
  std::string cluster = ControllerWorld::Unique("loop-cluster");
  auto arns = world_->MakeCluster(cluster, ids);
  std::string group = world_->MakeOnDemandGroup();
  const double pending = 6;
  world_->PutFleetMetrics(fleet, pending, 16);
  std::string queue_arn;
  std::string queue = world_->MakeQueue(30, &queue_arn);
  std::string topic = world_->MakeTopicFor(queue_arn);

  auto controller = StartController(queue, cluster, fleet, group);
  std::string address = MetricsAddress(*controller);
  ASSERT_FALSE(address.empty()) << controller->Log();

  // The reference notifier publishes its message to SNS; SNS delivers the
  // envelope into the queue.
  aws::SnsClient sns(moto_->client);
  auto published = sns.Publish(topic, AgentMessage(victim.instance_id, victim.instance_type,
                                                   cluster, arns[victim.instance_id]));
  ASSERT_TRUE(published.ok()) << published.status().ToString();

  const double weight = victim.instance_type == "c5.4xlarge" ? 16 : 2;
  const int expected = static_cast<int>(std::ceil((pending + weight) / 4));
  EXPECT_TRUE(Eventually(
      [&] { return world_->ContainerStatus(cluster, arns[victim.instance_id]) == "DRAINING"; },
      seconds(20)))
      << controller->Log();
  EXPECT_TRUE(Eventually([&] { return world_->Desired(group) == expected; }, seconds(10)))
      << "desired " << world_->Desired(group) << " want " << expected << "\n"
      << controller->Log();
  for (const auto& [id, arn] : arns) {
    if (id != victim.instance_id) {
      EXPECT_EQ(world_->ContainerStatus(cluster, arn), "ACTIVE");
    }
  }
  // Handled, so deleted: nothing comes back. The decision's metrics are
  // recorded when it has ended (after its state write-back), a moment after
  // the group's desired changed.
  ASSERT_TRUE(Eventually(
      [&] {
        const std::string body = Get(address, "/metrics").body;
        return body.find("spotkeeper_messages_total{outcome=\"handled\"} 1") != std::string::npos &&
               body.find("spotkeeper_on_demand_desired " + std::to_string(expected) + "\n") !=
                   std::string::npos;
      },
      seconds(10)))
      << Get(address, "/metrics").body;
  std::string metrics = Get(address, "/metrics").body;
  EXPECT_NE(metrics.find("spotkeeper_notices_total{kind=\"spot-interruption\",source=\"agent\"} 1"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("spotkeeper_drains_total 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("spotkeeper_on_demand_desired " + std::to_string(expected) + "\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("spotkeeper_notice_to_draining_seconds_count 1\n"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("spotkeeper_reconcile_duration_seconds_count"), std::string::npos);
  EXPECT_NE(metrics.find("spotkeeper_decision_duration_seconds_count"), std::string::npos);
  EXPECT_NE(metrics.find("\nspotkeeper_decision_in_flight_seconds "), std::string::npos);
  aws::SqsClient sqs(moto_->client);
  aws::ReceiveOptions ro;
  ro.wait_time_seconds = 0;
  auto left = sqs.ReceiveMessage(queue, ro);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());

  // Another notice for the same instance, delivered 100 times (SQS redelivers
  // the same body): handled once, 99 duplicates, nothing drained or scaled again.
  const std::string again = SnsEnvelope(
      AgentMessage(victim.instance_id, victim.instance_type, cluster, arns[victim.instance_id]),
      "redelivered-1");
  // The counter line of applied SetDesiredCapacity calls so far (the start's
  // reconcile may have made one before the notice).
  auto set_desired_line = [](const std::string& text) {
    const std::string key =
        "spotkeeper_actions_total{action=\"set-desired-capacity\",result=\"applied\"} ";
    size_t at = text.find(key);
    return at == std::string::npos ? std::string() : text.substr(at, text.find('\n', at) - at);
  };
  const std::string set_desired_before = set_desired_line(metrics);
  ASSERT_FALSE(set_desired_before.empty()) << metrics;
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(sqs.SendMessage(queue, again).ok());
  ASSERT_TRUE(Eventually(
      [&] {
        return Get(address, "/metrics")
                   .body.find("spotkeeper_messages_total{outcome=\"duplicate\"} 99\n") !=
               std::string::npos;
      },
      seconds(60)))
      << Get(address, "/metrics").body;
  metrics = Get(address, "/metrics").body;
  EXPECT_NE(metrics.find("spotkeeper_messages_total{outcome=\"handled\"} 2\n"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("spotkeeper_drains_total 1\n"), std::string::npos) << metrics;
  EXPECT_EQ(set_desired_line(metrics), set_desired_before) << metrics;
  EXPECT_EQ(world_->Desired(group), expected);

  EXPECT_EQ(controller->Signal(SIGTERM), 0) << controller->Log();
  EXPECT_NE(controller->Log().find("controller stopping"), std::string::npos);
}

TEST_F(ControllerLoopTest, MalformedMessageStaysInTheQueueAndTheControllerKeepsServing) {
  std::string fleet = world_->MakeFleet();
  ASSERT_FALSE(fleet.empty());
  std::vector<std::string> ids;
  for (const auto& i : world_->FleetInstances(fleet)) ids.push_back(i.instance_id);
  std::string cluster = ControllerWorld::Unique("loop-cluster");
  world_->MakeCluster(cluster, ids);
  std::string group = world_->MakeOnDemandGroup();
  world_->PutFleetMetrics(fleet, 0, 16);
  std::string queue = world_->MakeQueue(1);

  auto controller = StartController(queue, cluster, fleet, group);
  std::string address = MetricsAddress(*controller);
  ASSERT_FALSE(address.empty()) << controller->Log();
  aws::SqsClient sqs(moto_->client);
  auto sent = sqs.SendMessage(queue, "{\"Records\": [");
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  auto unknown = sqs.SendMessage(queue, R"({"detail-type": "Something Else", "detail": {}})");
  ASSERT_TRUE(unknown.ok());

  ASSERT_TRUE(Eventually(
      [&] {
        return Get(address, "/metrics")
                   .body.find("spotkeeper_messages_total{outcome=\"unsupported\"}") !=
               std::string::npos;
      },
      seconds(15)))
      << controller->Log();
  // Logged with its message id; still serving.
  EXPECT_TRUE(controller->WaitForLog(sent->message_id, seconds(10))) << controller->Log();
  EXPECT_TRUE(controller->WaitForLog(unknown->message_id, seconds(10))) << controller->Log();
  net::HttpResponse health = Get(address, "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  // What the template's container health check runs.
  ProcessResult check =
      RunProcess({SpotkeeperBinary(), "healthcheck", "--url", "http://" + address + "/healthz"},
                 {{"PATH", "/usr/bin:/bin"}}, seconds(30));
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_EQ(check.out, "healthy: ok\n");
  EXPECT_TRUE(controller->Running());
  EXPECT_EQ(Get(address, "/nothing").status, 404);
  std::string metrics;
  // The start-up reconcile runs beside the drains: done soon, not first.
  EXPECT_TRUE(Eventually(
      [&] {
        metrics = Get(address, "/metrics").body;
        return metrics.find("spotkeeper_reconciles_total{result=\"ok\"}") != std::string::npos;
      },
      seconds(15)))
      << metrics;
  EXPECT_NE(metrics.find("# TYPE spotkeeper_messages_total counter"), std::string::npos);

  // Stopped cleanly; both messages are still in the queue.
  EXPECT_EQ(controller->Signal(SIGTERM), 0) << controller->Log();
  std::map<std::string, std::string> bodies = ReceiveAtLeast(sqs, queue, 2, seconds(10));
  EXPECT_EQ(bodies.count(sent->message_id), 1u);
  EXPECT_EQ(bodies.count(unknown->message_id), 1u);
}

// The value of the metric line starting with `key` (name and labels), -1 when absent.
double MetricValue(const std::string& metrics, const std::string& key) {
  size_t at = metrics.find(key + " ");
  if (at == std::string::npos) return -1;
  return std::strtod(metrics.c_str() + at + key.size() + 1, nullptr);
}

// EventBridge's spot interruption warning with `time` as its time.
std::string EventBridgeWarning(const std::string& time) {
  return R"({"version":"0","id":"eb-1","detail-type":"EC2 Spot Instance Interruption Warning",)"
         R"("source":"aws.ec2","time":")" +
         time + R"(","detail":{"instance-id":"i-0eb","instance-action":"terminate"}})";
}

// Issue 12: hostile bodies in the same receive as a valid notice. The valid
// one is handled and deleted; each hostile one is logged with its id and left
// in the queue (for the dead-letter queue); the controller keeps serving.
TEST_F(ControllerLoopTest, HostileMessagesAreLeftWhileTheValidOneOfTheReceiveIsHandled) {
  std::string fleet = world_->MakeFleet();
  ASSERT_FALSE(fleet.empty());
  auto instances = world_->FleetInstances(fleet);
  ASSERT_FALSE(instances.empty());
  std::vector<std::string> ids;
  for (const auto& i : instances) ids.push_back(i.instance_id);
  std::string cluster = ControllerWorld::Unique("loop-cluster");
  auto arns = world_->MakeCluster(cluster, ids);
  std::string group = world_->MakeOnDemandGroup();
  world_->PutFleetMetrics(fleet, 0, 16);
  std::string queue = world_->MakeQueue(1);
  const aws::SpotFleetInstance& victim = instances.front();
  const std::string agent =
      AgentMessage(victim.instance_id, victim.instance_type, cluster, arns[victim.instance_id]);

  const std::vector<std::string> hostile = {
      EventBridgeWarning("2030-01-01T00:00:00+ab:cd"),  // std::stoi threw on this
      EventBridgeWarning("2030-01-01T00:02:nan"),
      EventBridgeWarning("2030-01-01T00:00:00\\u0000Z"),
      std::string(50000, '[') + std::string(50000, ']'),  // SIGSEGV when parsed recursively
      SnsEnvelope(std::string(1000, '[') + std::string(1000, ']'), "sns-deep"),
      R"({"fleetID": )" + std::string(5000, '9') + "}",
      R"({"fleetID": "\ud800"})",
      SnsEnvelope(agent, "sns-truncated").substr(0, 60),
      R"({"terminationNotificiation": "true", "instanceId": ["i-1"], "ecsCluster": "x"})",
  };
  aws::SqsClient sqs(moto_->client);
  std::vector<std::string> hostile_ids;
  for (const std::string& body : hostile) {
    auto sent = sqs.SendMessage(queue, body);
    ASSERT_TRUE(sent.ok()) << sent.status().ToString();
    hostile_ids.push_back(sent->message_id);
  }
  auto valid = sqs.SendMessage(queue, SnsEnvelope(agent, "sns-valid"));
  ASSERT_TRUE(valid.ok()) << valid.status().ToString();

  auto controller = StartController(queue, cluster, fleet, group);
  std::string address = MetricsAddress(*controller);
  ASSERT_FALSE(address.empty()) << controller->Log();
  EXPECT_TRUE(Eventually(
      [&] { return world_->ContainerStatus(cluster, arns[victim.instance_id]) == "DRAINING"; },
      seconds(20)))
      << controller->Log();
  EXPECT_TRUE(controller->WaitForLog(valid->message_id, seconds(10))) << controller->Log();
  const std::string unsupported = "spotkeeper_messages_total{outcome=\"unsupported\"}";
  ASSERT_TRUE(Eventually(
      [&] {
        return MetricValue(Get(address, "/metrics").body, unsupported) >=
               static_cast<double>(hostile.size());
      },
      seconds(20)))
      << Get(address, "/metrics").body << controller->Log();
  for (const std::string& id : hostile_ids) {
    EXPECT_TRUE(controller->WaitForLog(id, seconds(10))) << id << "\n" << controller->Log();
  }
  std::string metrics = Get(address, "/metrics").body;
  EXPECT_EQ(MetricValue(metrics, "spotkeeper_messages_total{outcome=\"handled\"}"), 1) << metrics;
  EXPECT_EQ(MetricValue(metrics, "spotkeeper_messages_total{outcome=\"failed\"}"), -1) << metrics;
  net::HttpResponse health = Get(address, "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_TRUE(controller->Running());
  EXPECT_EQ(controller->Log().find("internal error"), std::string::npos) << controller->Log();

  // Stopped cleanly; every hostile message is still in the queue, the valid one is not.
  EXPECT_EQ(controller->Signal(SIGTERM), 0) << controller->Log();
  std::map<std::string, std::string> bodies =
      ReceiveAtLeast(sqs, queue, hostile.size(), seconds(15));
  EXPECT_EQ(bodies.size(), hostile.size());
  for (const std::string& id : hostile_ids) EXPECT_EQ(bodies.count(id), 1u) << id;
  EXPECT_EQ(bodies.count(valid->message_id), 0u);
}

TEST_F(ControllerLoopTest, SigkillInTheMiddleOfABurstThenRestartHandlesEveryNotice) {
  std::string fleet = world_->MakeFleet();
  ASSERT_FALSE(fleet.empty());
  std::vector<std::string> ids;
  for (const auto& i : world_->FleetInstances(fleet)) ids.push_back(i.instance_id);
  const int kBurst = 8;
  std::vector<std::string> noticed = world_->RunInstances(kBurst);
  ASSERT_EQ(noticed.size(), static_cast<size_t>(kBurst));
  ids.insert(ids.end(), noticed.begin(), noticed.end());
  std::string cluster = ControllerWorld::Unique("loop-cluster");
  auto arns = world_->MakeCluster(cluster, ids);
  std::string group = world_->MakeOnDemandGroup();
  world_->PutFleetMetrics(fleet, 0, 16);
  std::string queue = world_->MakeQueue(2);

  auto first = StartController(queue, cluster, fleet, group);
  ASSERT_TRUE(first->WaitForLog("controller started", seconds(15))) << first->Log();
  aws::SqsClient sqs(moto_->client);
  for (int i = 0; i < kBurst; ++i) {
    const std::string& id = noticed[i];
    auto sent = sqs.SendMessage(
        queue, SnsEnvelope(AgentMessage(id, "m5.large", cluster, arns[id]), "sns-burst-" + id));
    ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  }
  // Killed as soon as it has handled the first one: the rest were received
  // (in flight) or still queued, not deleted.
  ASSERT_TRUE(first->WaitForLog("message handled and deleted", seconds(20))) << first->Log();
  first->Signal(SIGKILL);
  int draining_at_kill = 0;
  for (const std::string& id : noticed) {
    draining_at_kill += world_->ContainerStatus(cluster, arns[id]) == "DRAINING";
  }
  std::cout << draining_at_kill << " of " << kBurst << " DRAINING when killed\n";

  auto second = StartController(queue, cluster, fleet, group);
  EXPECT_TRUE(Eventually(
      [&] {
        for (const std::string& id : noticed) {
          if (world_->ContainerStatus(cluster, arns[id]) != "DRAINING") return false;
        }
        return true;
      },
      seconds(30)))
      << first->Log() << "\n---- after restart ----\n"
      << second->Log();
  // The fleet's own instances were not noticed: still ACTIVE.
  for (const auto& [id, arn] : arns) {
    if (std::find(noticed.begin(), noticed.end(), id) == noticed.end()) {
      EXPECT_EQ(world_->ContainerStatus(cluster, arn), "ACTIVE");
    }
  }
  // Every message ends deleted.
  EXPECT_TRUE(Eventually(
      [&] {
        aws::ReceiveOptions ro;
        ro.wait_time_seconds = 0;
        ro.visibility_timeout = 0;
        auto got = sqs.ReceiveMessage(queue, ro);
        return got.ok() && got->empty();
      },
      seconds(15)));
  EXPECT_EQ(second->Signal(SIGTERM), 0) << second->Log();
}

TEST_F(ControllerLoopTest, ANoticeForItsOwnHostIsRecognisedDrainedAndDeleted) {
  std::string fleet = world_->MakeFleet();
  ASSERT_FALSE(fleet.empty());
  const std::vector<std::string> host = world_->RunInstances(1, "m5.xlarge");
  ASSERT_EQ(host.size(), 1u);
  std::string cluster = ControllerWorld::Unique("self-cluster");
  auto arns = world_->MakeCluster(cluster, host);
  // The controller's task, which moto places on the cluster's only container
  // instance.
  const std::string family = ControllerWorld::Unique("spk-controller");
  auto registered = client().CallJson(
      aws::services::Ecs(), "RegisterTaskDefinition",
      {{"family", family},
       {"containerDefinitions",
        json::array({{{"name", "controller"}, {"image", "spotkeeper"}, {"memory", 128}}})}});
  ASSERT_TRUE(registered.ok()) << registered.status().ToString();
  auto ran = client().CallJson(aws::services::Ecs(), "RunTask",
                               {{"cluster", cluster}, {"taskDefinition", family}, {"count", 1}});
  ASSERT_TRUE(ran.ok()) << ran.status().ToString();
  ASSERT_FALSE(ran.value()["tasks"].empty()) << ran.value().dump();
  const std::string task_arn = ran.value()["tasks"][0].value("taskArn", "");
  ASSERT_EQ(ran.value()["tasks"][0].value("containerInstanceArn", ""), arns[host[0]]);
  // The ECS task metadata endpoint v4 of that task, on loopback.
  net::LoopbackServer metadata([&](const net::ServerRequest& request) {
    net::HttpResponse response;
    response.status = request.path == "/v4/abc/task" ? 200 : 404;
    response.body = json{{"Cluster", cluster}, {"TaskARN", task_arn}, {"LaunchType", "EC2"}}.dump();
    return response;
  });
  ASSERT_TRUE(metadata.Start().ok());
  std::string queue = world_->MakeQueue(30);
  std::vector<std::string> argv = {SpotkeeperBinary(), "controller", "--queue-url", queue,
                                   "--cluster",        cluster,      "--wait-time", "1s",
                                   "--metrics-listen", "off"};
  auto env = ControllerWorld::ProcessEnv(*server_);
  env["ECS_CONTAINER_METADATA_URI_V4"] = metadata.url() + "/v4/abc";
  ChildProcess controller(argv, env);
  ASSERT_TRUE(controller.WaitForLog("the controller's own host", seconds(15))) << controller.Log();
  EXPECT_NE(controller.Log().find(host[0]), std::string::npos) << controller.Log();

  aws::SqsClient sqs(moto_->client);
  ASSERT_TRUE(
      sqs.SendMessage(queue, AgentMessage(host[0], "m5.xlarge", cluster, arns[host[0]])).ok());
  ASSERT_TRUE(controller.WaitForLog("this notice is for the controller's own host", seconds(20)))
      << controller.Log();
  // Handled as any other: drained (ECS would now stop this task and start it
  // elsewhere, with SIGTERM), and its message finished and deleted.
  EXPECT_TRUE(Eventually(
      [&] { return world_->ContainerStatus(cluster, arns[host[0]]) == "DRAINING"; }, seconds(10)))
      << controller.Log();
  ASSERT_TRUE(controller.WaitForLog("message handled and deleted", seconds(20)))
      << controller.Log();
  EXPECT_EQ(controller.Signal(SIGTERM), 0) << controller.Log();
  aws::ReceiveOptions ro;
  ro.wait_time_seconds = 0;
  ro.visibility_timeout = 0;
  auto left = sqs.ReceiveMessage(queue, ro);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());

  // Without the endpoint (not an ECS task) and without --self-instance-id: unknown, said once.
  env.erase("ECS_CONTAINER_METADATA_URI_V4");
  ChildProcess plain(argv, env);
  ASSERT_TRUE(plain.WaitForLog("controller started", seconds(15))) << plain.Log();
  EXPECT_EQ(plain.Log().find("the controller's own host"), std::string::npos) << plain.Log();
  EXPECT_EQ(plain.Signal(SIGTERM), 0);
  // --self-instance-id wins and needs no endpoint.
  std::vector<std::string> with_flag = argv;
  with_flag.insert(with_flag.end(), {"--self-instance-id", "i-0123456789abcdef0"});
  ChildProcess flagged(with_flag, env);
  ASSERT_TRUE(flagged.WaitForLog("the controller's own host", seconds(15))) << flagged.Log();
  EXPECT_NE(flagged.Log().find("i-0123456789abcdef0"), std::string::npos) << flagged.Log();
  EXPECT_EQ(flagged.Signal(SIGTERM), 0);
}

TEST_F(ControllerLoopTest, WrongSettingsAreOneLineAndExit2) {
  auto env = ControllerWorld::ProcessEnv(*server_);
  auto no_queue = testsupport::RunProcess({SpotkeeperBinary(), "controller"}, env, seconds(30));
  EXPECT_EQ(no_queue.exit_code, 2);
  EXPECT_NE(no_queue.err.find("--queue-url"), std::string::npos) << no_queue.err;
  auto bad_listen = testsupport::RunProcess({SpotkeeperBinary(), "controller", "--queue-url",
                                             "http://127.0.0.1:1/q", "--metrics-listen", "nowhere"},
                                            env, seconds(30));
  EXPECT_EQ(bad_listen.exit_code, 2);
  EXPECT_NE(bad_listen.err.find("--metrics-listen"), std::string::npos) << bad_listen.err;
  auto bad_wait = testsupport::RunProcess({SpotkeeperBinary(), "controller", "--queue-url",
                                           "http://127.0.0.1:1/q", "--wait-time", "30s"},
                                          env, seconds(30));
  EXPECT_EQ(bad_wait.exit_code, 2);
  EXPECT_NE(bad_wait.err.find("--wait-time"), std::string::npos) << bad_wait.err;
}

}  // namespace
}  // namespace spk
