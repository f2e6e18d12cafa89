// The on-demand fallback of capacity-provider clusters (controller/fallback.h)
// run by `spotkeeper handle-event` against moto_server through
// tests/tools/fallback_peer.py.
//
// moto 5.2 implements capacity providers and services (tags, UpdateService,
// TagResource, UntagResource), but launches no task, never holds one in
// PROVISIONING, does not return a service's capacityProviderStrategy, and
// has no scaling activities. The peer (the process's AWS_ENDPOINT_URL_ECS
// and AWS_ENDPOINT_URL_AUTO_SCALING) answers those from what each test tells
// it and forwards everything else to moto. Each handle-event is a fresh
// process: whatever a step knows, it read back from AWS.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "aws/ecs.h"
#include "base/clock.h"
#include "net/curl_transport.h"
#include "support/child_process.h"
#include "support/controller_world.h"
#include "support/moto_server.h"
#include "support/process.h"
#include "support/python_peer.h"

namespace spk {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using testsupport::ChildProcess;
using testsupport::ControllerWorld;
using testsupport::ProcessResult;
using testsupport::RunProcess;
using testsupport::SpotkeeperBinary;

const std::string kScheduledEvent =
    R"({"version": "0", "id": "sched-1", "detail-type": "Scheduled Event",
        "source": "aws.events", "time": "2026-12-02T00:00:00Z", "detail": {}})";

class FallbackTest : public testsupport::ControllerWorldTest {
 protected:
  void SetUp() override {
    ControllerWorldTest::SetUp();
    if (HasFatalFailure()) return;
    peer_ = testsupport::StartPythonPeer("fallback_peer.py", server_->endpoint());
    ASSERT_FALSE(peer_.url.empty()) << peer_.process->Log();
    peer_url_ = peer_.url;
  }

  void Control(const std::string& what, const json& spec) {
    net::CurlTransport http;
    net::HttpRequest request;
    request.method = "POST";
    request.url = peer_url_ + "/__fallback_peer/" + what;
    request.body = spec.dump();
    auto r = http.Send(request);
    ASSERT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
  }

  json Ecs(const std::string& op, const json& body) {
    auto r = client().CallJson(aws::services::Ecs(), op, body);
    EXPECT_TRUE(r.ok()) << op << ": " << r.status().ToString();
    return r.ok() ? *r : json::object();
  }

  // A group of m5.xlarge on a launch template; mixed instances, all spot,
  // when `spot`.
  std::string MakeGroup(const std::string& prefix, bool spot, int desired, int max) {
    const std::string lt = world_->MakeLaunchTemplate(prefix + "-lt", "m5.xlarge");
    const std::string group = ControllerWorld::Unique(prefix);
    std::map<std::string, std::string> params = {{"AutoScalingGroupName", group},
                                                 {"MinSize", "0"},
                                                 {"MaxSize", std::to_string(max)},
                                                 {"DesiredCapacity", std::to_string(desired)},
                                                 {"AvailabilityZones.member.1", "us-east-1a"}};
    if (spot) {
      const std::string mip = "MixedInstancesPolicy.";
      params[mip + "LaunchTemplate.LaunchTemplateSpecification.LaunchTemplateName"] = lt;
      params[mip + "LaunchTemplate.LaunchTemplateSpecification.Version"] = "$Latest";
      params[mip + "LaunchTemplate.Overrides.member.1.InstanceType"] = "m5.xlarge";
      params[mip + "InstancesDistribution.OnDemandPercentageAboveBaseCapacity"] = "0";
      params[mip + "InstancesDistribution.SpotAllocationStrategy"] = "price-capacity-optimized";
    } else {
      params["LaunchTemplate.LaunchTemplateName"] = lt;
      params["LaunchTemplate.Version"] = "$Latest";
    }
    auto r = client().CallQuery(aws::services::AutoScaling(), "CreateAutoScalingGroup", params);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return group;
  }

  // Cluster with spot provider (group spot_group) and on-demand provider,
  // primary "web" (desired 3, spot strategy as the peer shows it) and its
  // shadow "web-od" (desired 0, tagged spotkeeper:fallback-for=web).
  void MakeCluster(int spot_desired, int spot_max) {
    cluster_ = ControllerWorld::Unique("cp-cluster");
    world_->MakeCluster(cluster_, {});
    spot_group_ = MakeGroup("spot", true, spot_desired, spot_max);
    od_group_ = MakeGroup("od", false, 0, 10);
    spot_provider_ = ControllerWorld::Unique("cp-spot");
    const std::string od_provider = ControllerWorld::Unique("cp-od");
    for (const auto& [provider, group] :
         {std::pair{spot_provider_, spot_group_}, std::pair{od_provider, od_group_}}) {
      Ecs("CreateCapacityProvider",
          {{"name", provider},
           {"autoScalingGroupProvider",
            {{"autoScalingGroupArn", world_->GroupArn(group)},
             {"managedScaling", {{"status", "ENABLED"}, {"targetCapacity", 100}}},
             {"managedTerminationProtection", "DISABLED"}}}});
    }
    Ecs("PutClusterCapacityProviders", {{"cluster", cluster_},
                                        {"capacityProviders", {spot_provider_, od_provider}},
                                        {"defaultCapacityProviderStrategy", json::array()}});
    const std::string family = ControllerWorld::Unique("web");
    Ecs("RegisterTaskDefinition",
        {{"family", family},
         {"containerDefinitions", {{{"name", "web"}, {"image", "nginx"}, {"memory", 128}}}}});
    Ecs("CreateService", {{"cluster", cluster_},
                          {"serviceName", "web"},
                          {"taskDefinition", family},
                          {"desiredCount", 3},
                          {"capacityProviderStrategy", {{{"capacityProvider", spot_provider_}}}}});
    Ecs("CreateService", {{"cluster", cluster_},
                          {"serviceName", "web-od"},
                          {"taskDefinition", family},
                          {"desiredCount", 0},
                          {"tags", {{{"key", "spotkeeper:fallback-for"}, {"value", "web"}}}}});
    Control("service", {{"service", "web"},
                        {"runningCount", 0},
                        {"capacityProviderStrategy",
                         {{{"capacityProvider", spot_provider_}, {"weight", 1}, {"base", 0}}}}});
  }

  // Three of the primary's tasks waiting on the spot provider for 10 minutes.
  void TasksStuck() {
    const double created = static_cast<double>(std::time(nullptr) - 600);
    json tasks = json::array();
    for (int i = 0; i < 3; ++i)
      tasks.push_back({{"provider", spot_provider_}, {"created_at", created}});
    Control("tasks", {{"cluster", cluster_}, {"service", "web"}, {"tasks", tasks}});
  }

  void SpotFailure(int minutes_ago) {
    const std::string at =
        FormatIso8601(std::chrono::system_clock::now() - std::chrono::minutes(minutes_ago));
    Control("activities",
            {{"group", spot_group_},
             {"activities",
              {{{"StatusCode", "Failed"},
                {"StatusMessage",
                 "Could not launch Spot Instances. InsufficientInstanceCapacity - There is no "
                 "Spot capacity available that matches your request. Launching EC2 instance "
                 "failed."},
                {"Description", "Launching a new EC2 instance.  Status Reason: Could not launch"},
                {"Cause", "At " + at + " an instance was started in response to a difference"},
                {"StartTime", at},
                {"EndTime", at}}}}});
  }

  // One decision by a fresh process.
  ProcessResult Decide(const std::vector<std::string>& extra = {}) {
    std::map<std::string, std::string> env = ControllerWorld::ProcessEnv(*server_);
    env["AWS_ENDPOINT_URL_ECS"] = peer_url_;
    env["AWS_ENDPOINT_URL_AUTO_SCALING"] = peer_url_;
    std::vector<std::string> argv = {
        SpotkeeperBinary(),    "handle-event",    "-", "--cluster", cluster_,
        "--fallback-discover", "--settle-window", "3s"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunProcess(argv, env, seconds(60), kScheduledEvent);
  }

  ProcessResult Doctor(const std::vector<std::string>& extra) {
    std::map<std::string, std::string> env = ControllerWorld::ProcessEnv(*server_);
    env["AWS_ENDPOINT_URL_ECS"] = peer_url_;
    env["AWS_ENDPOINT_URL_AUTO_SCALING"] = peer_url_;
    std::vector<std::string> argv = {SpotkeeperBinary(), "doctor", "--cluster", cluster_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunProcess(argv, env, seconds(60));
  }

  json Shadow() {
    json d = Ecs("DescribeServices",
                 {{"cluster", cluster_}, {"services", {"web-od"}}, {"include", {"TAGS"}}});
    return d.value("services", json::array()).empty() ? json::object() : d["services"][0];
  }
  int ShadowDesired() { return Shadow().value("desiredCount", -1); }
  bool ShadowHasSettleTag() {
    for (const json& t : Shadow().value("tags", json::array())) {
      if (t.value("key", "") == "spotkeeper:shortfall-ended-at") return true;
    }
    return false;
  }

  testsupport::PythonPeer peer_;
  std::string peer_url_;
  std::string cluster_, spot_group_, od_group_, spot_provider_;
};

TEST_F(FallbackTest, StuckTasksOnShortSpotRunOnTheShadowThenStepDownAcrossRestarts) {
  MakeCluster(/*spot_desired=*/0, /*spot_max=*/10);
  TasksStuck();
  SpotFailure(1);
  // doctor checks the pair and shows what a decision would do, changing nothing.
  ProcessResult doctor = Doctor({"--fallback-discover"});
  EXPECT_EQ(doctor.exit_code, 0) << doctor.out << doctor.err;
  EXPECT_NE(doctor.out.find("web asks for spot on " + spot_provider_), std::string::npos)
      << doctor.out;
  EXPECT_NE(doctor.out.find("now: 3 stuck, 3 confirmed short of spot: shadow 0 -> 3"),
            std::string::npos)
      << doctor.out;
  EXPECT_EQ(ShadowDesired(), 0);
  // The decision shown is the one the controller's own settings make.
  doctor = Doctor({"--fallback-discover", "--fallback-grace", "60m"});
  EXPECT_EQ(doctor.exit_code, 0) << doctor.out << doctor.err;
  EXPECT_NE(doctor.out.find("settings: grace 60m, max 100%, settle window 10m"), std::string::npos)
      << doctor.out;
  EXPECT_NE(doctor.out.find("now: 0 stuck, 0 confirmed short of spot: shadow 0 -> 0"),
            std::string::npos)
      << doctor.out;
  // The same from the controller's settings file, its other settings skipped.
  const std::string settings = ::testing::TempDir() + "/spotkeeper-doctor-config.yaml";
  std::ofstream(settings) << "fallback-grace: 60m\nqueue-url: http://127.0.0.1:9/q\n"
                             "fallback-discover: true\n";
  doctor = Doctor({"--config", settings});
  EXPECT_EQ(doctor.exit_code, 0) << doctor.out << doctor.err;
  EXPECT_NE(doctor.out.find("config:      " + settings +
                            " (used here: fallback-grace, fallback-discover)"),
            std::string::npos)
      << doctor.out;
  EXPECT_NE(doctor.out.find("settings: grace 60m, max 100%, settle window 10m"), std::string::npos)
      << doctor.out;
  EXPECT_NE(doctor.out.find("now: 0 stuck, 0 confirmed short of spot: shadow 0 -> 0"),
            std::string::npos)
      << doctor.out;
  std::ofstream(settings) << "fallback-grace: 60m\nfallback-grase: 1m\n";
  doctor = Doctor({"--config", settings});
  EXPECT_EQ(doctor.exit_code, 2) << doctor.out << doctor.err;
  EXPECT_NE(doctor.err.find("spotkeeper doctor: --config " + settings +
                            ": unknown setting \"fallback-grase\""),
            std::string::npos)
      << doctor.err;
  doctor = Doctor({"--fallback-discover", "--fallback-max", "1"});
  EXPECT_NE(doctor.out.find("now: 3 stuck, 3 confirmed short of spot: shadow 0 -> 1"),
            std::string::npos)
      << doctor.out;
  doctor = Doctor({"--fallback-discover", "--fallback-grace", "soon"});
  EXPECT_EQ(doctor.exit_code, 1) << doctor.out << doctor.err;
  EXPECT_NE(doctor.out.find("--fallback-grace: not a duration"), std::string::npos) << doctor.out;
  doctor = Doctor({"--fallback-service", "web=nope"});
  EXPECT_EQ(doctor.exit_code, 1) << doctor.out << doctor.err;
  EXPECT_NE(doctor.out.find("problem: shadow service nope not found"), std::string::npos)
      << doctor.out;
  // Two deciders at once: both set 3, never 6.
  auto other = std::async(std::launch::async, [&] { return Decide(); });
  ProcessResult r = Decide();
  ProcessResult r2 = other.get();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_EQ(r2.exit_code, 0) << r2.out << r2.err;
  EXPECT_EQ(ShadowDesired(), 3) << r.out;
  json report = json::parse(r.out);
  ASSERT_EQ(report["fallback"].size(), 1u) << r.out;
  EXPECT_EQ(report["fallback"][0]["confirmed"], 3) << r.out;
  EXPECT_EQ(report["fallback"][0]["desired"], 3) << r.out;
  // ECS sizes the providers' groups: spotkeeper never resized them.
  EXPECT_EQ(world_->Desired(spot_group_), 0);
  EXPECT_EQ(world_->Desired(od_group_), 0);

  // Spot is back: the primary runs 3, nothing waits, the failure is old.
  Control("tasks", {{"cluster", cluster_}, {"service", "web"}, {"tasks", json::array()}});
  Control("service", {{"service", "web"}, {"runningCount", 3}});
  SpotFailure(30);
  r = Decide();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ShadowDesired(), 3) << r.out;  // settling
  EXPECT_TRUE(ShadowHasSettleTag()) << Shadow().dump();
  std::this_thread::sleep_for(seconds(4));  // past the 3 s settle window
  r = Decide();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ShadowDesired(), 1) << r.out;  // a step down by half
  r = Decide();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ShadowDesired(), 0) << r.out;
  EXPECT_FALSE(ShadowHasSettleTag()) << Shadow().dump();
}

TEST_F(FallbackTest, AGroupAtItsMaxSizeIsReportedNotFallenBackFrom) {
  MakeCluster(/*spot_desired=*/2, /*spot_max=*/2);
  TasksStuck();  // no failed spot launch: the group is simply full
  ProcessResult r = Decide();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ShadowDesired(), 0) << r.out;
  EXPECT_NE(r.out.find("is at its MaxSize 2"), std::string::npos) << r.out;
  EXPECT_EQ(world_->Desired(spot_group_), 2);
  // --dry-run with evidence: says what it would do, changes nothing.
  SpotFailure(1);
  r = Decide({"--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  json report = json::parse(r.out);
  ASSERT_EQ(report["fallback"].size(), 1u) << r.out;
  // A failed spot launch is evidence even at MaxSize: spot, not the size, is short.
  EXPECT_EQ(report["fallback"][0]["desired"], 3) << r.out;
  EXPECT_EQ(report["fallback"][0]["dry_run"], true) << r.out;
  EXPECT_EQ(ShadowDesired(), 0);
}

// The cluster's PROVISIONING quota is full: ECS creates none of the
// primary's tasks (none PROVISIONING) and says so in the service's events.
// Read back from AWS by a fresh process, as every decision is.
TEST_F(FallbackTest, TasksECSCouldNotCreateRunOnTheShadowFromTheServiceEvents) {
  MakeCluster(/*spot_desired=*/0, /*spot_max=*/10);
  SpotFailure(1);
  const double now = static_cast<double>(std::time(nullptr));
  auto events = [&](double failing_for_s) {
    return json::array(
        {{{"id", "2"},
          {"createdAt", now - 30},
          {"message",
           "(service web) was unable to place a task. Reason: the cluster has reached the limit "
           "of tasks in the PROVISIONING state."}},
         {{"id", "1"},
          {"createdAt", now - failing_for_s},
          {"message", "(service web) was unable to place a task."}},
         {{"id", "0"},
          {"createdAt", now - failing_for_s - 60},
          {"message", "(service web) has reached a steady state."}}});
  };
  Control("service", {{"service", "web"}, {"pendingCount", 0}, {"events", events(60)}});
  ProcessResult r = Decide();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ShadowDesired(), 0) << r.out;  // failing for 1 minute: within the grace
  Control("service", {{"service", "web"}, {"events", events(400)}});
  r = Decide();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  json report = json::parse(r.out);
  ASSERT_EQ(report["fallback"].size(), 1u) << r.out;
  EXPECT_EQ(report["fallback"][0]["stuck"], 3) << r.out;
  EXPECT_EQ(report["fallback"][0]["confirmed"], 3) << r.out;
  EXPECT_EQ(ShadowDesired(), 3) << r.out;
  EXPECT_NE(r.out.find("3 task(s) not placed at all since"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace spk
