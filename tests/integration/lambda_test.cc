// `spotkeeper lambda` under the AWS Lambda Runtime Interface Emulator
// (aws-lambda-rie), against moto_server with SigV4 checking on. The binary is
// started as `bootstrap` (a symlink in a temporary directory), as
// provided.al2023 starts it, so this also proves the argv[0] mode. Hostile
// records and events (issue 12) are reported while the runtime keeps serving.
// Everything listens on 127.0.0.1.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "aws/ec2.h"
#include "aws/sqs.h"
#include "net/curl_transport.h"
#include "support/controller_world.h"
#include "support/moto_server.h"
#include "support/process.h"

namespace spk {
namespace {

using nlohmann::json;
using testsupport::AgentMessage;
using testsupport::ControllerWorld;
using testsupport::MotoServer;
using testsupport::SpotkeeperBinary;

// A free TCP port on 127.0.0.1 (bound, read, released).
int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

bool PortAccepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

// A port on 127.0.0.1 that accepts connections (the kernel completes them into
// the backlog) and never answers: an AWS endpoint that hangs.
class SilentPort {
 public:
  SilentPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        ::listen(fd_, 64) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
  }
  ~SilentPort() { ::close(fd_); }
  SilentPort(const SilentPort&) = delete;
  SilentPort& operator=(const SilentPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// aws-lambda-rie from PATH (ctest puts tools/bin on it), else tools/bin.
std::string RieBinary() {
  if (const char* path = std::getenv("PATH")) {
    std::stringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
      std::string candidate = dir + "/aws-lambda-rie";
      if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  std::string local = std::string(SPK_SOURCE_DIR) + "/tools/bin/aws-lambda-rie";
  return ::access(local.c_str(), X_OK) == 0 ? local : "";
}

// The emulator running `dir`/bootstrap (a symlink to build/spotkeeper) with
// exactly `env`; its output in `dir`/rie.log. Stopped (its process group:
// the emulator and the runtime it started) by the destructor.
class Emulator {
 public:
  Emulator(const std::string& rie, const std::map<std::string, std::string>& env) {
    char tmpl[] = "/tmp/spk-lambda-XXXXXX";
    dir_ = ::mkdtemp(tmpl) ? tmpl : "";
    if (dir_.empty()) return;
    std::filesystem::create_symlink(SpotkeeperBinary(), dir_ + "/bootstrap");
    port_ = FreePort();
    int api_port = FreePort();
    std::vector<std::string> args = {rie,
                                     "--runtime-interface-emulator-address",
                                     "127.0.0.1:" + std::to_string(port_),
                                     "--runtime-api-address",
                                     "127.0.0.1:" + std::to_string(api_port),
                                     dir_ + "/bootstrap"};
    std::vector<std::string> envs;
    for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
    std::string log = dir_ + "/rie.log";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      int devnull = ::open("/dev/null", O_RDONLY);
      ::dup2(devnull, 0);
      ::chdir(dir_.c_str());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      std::vector<char*> envp;
      for (auto& e : envs) envp.push_back(e.data());
      envp.push_back(nullptr);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::setpgid(pid_, pid_);
    for (int i = 0; i < 200 && !PortAccepts(port_); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~Emulator() {
    if (pid_ > 0) {
      const pid_t group = pid_;  // the emulator leads its own process group
      ::kill(-group, SIGTERM);
      int status = 0;
      for (int i = 0; i < 100; ++i) {
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (pid_ > 0) {
        ::kill(-group, SIGKILL);
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
      }
      ::kill(-group, SIGKILL);  // a runtime left behind in the group (no-op when none)
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  bool ready() const { return pid_ > 0 && PortAccepts(port_); }

  // POST the event to the function; the HTTP status and the body.
  std::pair<int, std::string> Invoke(const std::string& event) {
    net::HttpRequest request;
    request.method = "POST";
    request.url =
        "http://127.0.0.1:" + std::to_string(port_) + "/2015-03-31/functions/function/invocations";
    request.body = event;
    request.total_timeout = std::chrono::seconds(60);
    auto reply = http_.Send(request);
    if (!reply.ok()) return {0, reply.status().ToString()};
    return {reply->status, reply->body};
  }

  std::string Log() const {
    std::ifstream f(dir_ + "/rie.log");
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
  }

  // How many times the emulator started the runtime (INIT START in its log).
  size_t Inits() const {
    const std::string log = Log();
    size_t inits = 0;
    for (size_t pos = log.find("INIT START"); pos != std::string::npos;
         pos = log.find("INIT START", pos + 1)) {
      ++inits;
    }
    return inits;
  }

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  net::CurlTransport http_;
};

class LambdaTest : public testsupport::ControllerWorldTest {
 protected:
  void SetUp() override {
    rie_ = RieBinary();
    if (rie_.empty()) GTEST_SKIP() << "aws-lambda-rie not installed (scripts/setup.sh)";
    ControllerWorldTest::SetUp();
  }
  static std::string Unique(const std::string& prefix) {
    return ControllerWorld::Unique(prefix + "-lambda");
  }

  std::map<std::string, std::string> LambdaEnv(const std::string& cluster, const std::string& fleet,
                                               const std::string& group) const {
    std::map<std::string, std::string> env = ControllerWorld::ProcessEnv(*server_);
    env["PATH"] = "/usr/bin:/bin";
    env["SPOTKEEPER_CLUSTER"] = cluster;
    env["SPOTKEEPER_SPOT_FLEET_ID"] = fleet;
    env["SPOTKEEPER_ON_DEMAND_ASG"] = group;
    env["SPOTKEEPER_PENDING_SOURCE"] = "cloudwatch";
    return env;
  }

  static json ParseOrNull(const std::string& text) {
    return json::parse(text, nullptr, /*allow_exceptions=*/false);
  }

  std::string rie_;
};

// The reference Lambda's number: int((pending + modifier) / 4 + 0.999999),
// the modifier from the type's name (0 for an alarm or a direct invocation).
int ReferenceInstancesRequired(double pending, double modifier) {
  return static_cast<int>((pending + modifier) / 4 + 0.999999);
}
double ReferenceModifier(const std::string& type) {
  return type.find("2xlarge") != std::string::npos  ? 8
         : type.find("xlarge") != std::string::npos ? 4
                                                    : 2;
}

std::string SnsWrap(const std::string& message) {
  return json{{"Records",
               {{{"EventSource", "aws:sns"},
                 {"EventVersion", "1.0"},
                 {"Sns", {{"Type", "Notification"}, {"Message", message}}}}}}}
      .dump();
}

TEST_F(LambdaTest, SnsTerminationMessageUnderTheEmulatorDrainsAndScalesOnDemand) {
  std::string fleet = world_->MakeFleet();
  ASSERT_FALSE(fleet.empty());
  aws::Ec2Client ec2(client());
  auto instances = ec2.DescribeSpotFleetInstances(fleet);
  ASSERT_TRUE(instances.ok() && !instances->empty()) << instances.status().ToString();
  aws::SpotFleetInstance victim = instances->front();
  for (const auto& i : *instances) {
    if (i.instance_type == "c5.4xlarge") victim = i;
  }
  std::vector<std::string> ids;
  for (const auto& i : *instances) ids.push_back(i.instance_id);
  std::string cluster = Unique("spot-cluster");
  auto arns = world_->MakeCluster(cluster, ids);
  std::string group = world_->MakeOnDemandGroup();
  const double pending = 6;
  world_->PutFleetMetrics(fleet, pending, 16);

  Emulator rie(rie_, LambdaEnv(cluster, fleet, group));
  ASSERT_TRUE(rie.ready()) << rie.Log();

  const std::string sns_event = SnsWrap(
      AgentMessage(victim.instance_id, victim.instance_type, cluster, arns[victim.instance_id]));
  auto [status, body] = rie.Invoke(sns_event);
  ASSERT_EQ(status, 200) << body << rie.Log();
  json report = ParseOrNull(body);
  ASSERT_TRUE(report.is_object()) << body << rie.Log();
  ASSERT_FALSE(report.contains("errorType")) << body << rie.Log();
  EXPECT_EQ(report["event"]["kind"], "notice");
  EXPECT_EQ(report["event"]["envelope"], "sns");
  EXPECT_EQ(report["fast_path"].size(), 1u) << body;
  EXPECT_EQ(world_->ContainerStatus(cluster, arns[victim.instance_id]), "DRAINING");
  for (const auto& [id, arn] : arns) {
    if (id != victim.instance_id) {
      EXPECT_EQ(world_->ContainerStatus(cluster, arn), "ACTIVE");
    }
  }
  const double weight = victim.instance_type == "c5.4xlarge" ? 16 : 2;
  const int spotkeeper = static_cast<int>(std::ceil((pending + weight) / 4));
  EXPECT_EQ(world_->Desired(group), spotkeeper) << body;
  EXPECT_EQ(report["on_demand_needed"], spotkeeper) << body;
  const int reference =
      ReferenceInstancesRequired(pending, ReferenceModifier(victim.instance_type));
  if (victim.instance_type == "m5.large") {
    EXPECT_EQ(spotkeeper, reference);
  } else {
    EXPECT_EQ(reference, 3);  // the reference guesses 4 units from the name, not the weight 16
    EXPECT_EQ(spotkeeper, 6);
  }

  // A malformed event: an error response, nothing changed ...
  auto [bad_status, bad_body] = rie.Invoke("{\"Records\": [");
  EXPECT_EQ(bad_status, 200) << bad_body;
  json bad = ParseOrNull(bad_body);
  ASSERT_TRUE(bad.is_object()) << bad_body << rie.Log();
  EXPECT_EQ(bad.value("errorType", ""), "Spotkeeper.InvalidEvent") << bad_body;
  EXPECT_NE(bad.value("errorMessage", "").find("not JSON"), std::string::npos) << bad_body;
  auto [unknown_status, unknown_body] = rie.Invoke("{\"hello\": \"world\"}");
  EXPECT_EQ(ParseOrNull(unknown_body).value("errorType", ""), "Spotkeeper.InvalidEvent")
      << unknown_body;
  EXPECT_EQ(world_->Desired(group), spotkeeper);

  // ... and the runtime keeps serving: the same notice again is a duplicate
  // (the warm runtime remembers it), nothing drained or scaled again.
  auto [again_status, again_body] = rie.Invoke(sns_event);
  ASSERT_EQ(again_status, 200) << again_body << rie.Log();
  json again = ParseOrNull(again_body);
  ASSERT_TRUE(again.is_object()) << again_body;
  EXPECT_EQ(again["duplicate"], true) << again_body;
  EXPECT_TRUE(again["fast_path"].empty()) << again_body;
  EXPECT_TRUE(again["actions"].empty()) << again_body;
  EXPECT_EQ(world_->Desired(group), spotkeeper);

  // One runtime process served every invocation (init happened once).
  EXPECT_EQ(rie.Inits(), 1u) << rie.Log();
}

// Issue 13: the Lambda takes SPOTKEEPER_EC2_FLEET_ID. The reference
// termination message for an EC2 Fleet's instance drains it and sizes the
// on-demand group from the fleet's weight; SPOTKEEPER_PENDING_SOURCE
// cloudwatch does not apply to an EC2 Fleet (no AWS/EC2Spot metrics exist
// for it here: reading them would fail the source).
TEST_F(LambdaTest, Ec2FleetFromItsVariableDrainsAndSizesFromItsWeights) {
  const std::string fleet = world_->MakeEc2Fleet({{"c5.4xlarge", 8}}, 16);
  ASSERT_FALSE(fleet.empty());
  aws::Ec2Client ec2(client());
  auto instances = ec2.DescribeFleetInstances(fleet);
  ASSERT_TRUE(instances.ok() && !instances->empty()) << instances.status().ToString();
  const aws::SpotFleetInstance victim = instances->front();
  std::vector<std::string> ids;
  for (const auto& i : *instances) ids.push_back(i.instance_id);
  const std::string cluster = Unique("ec2-fleet-cluster");
  auto arns = world_->MakeCluster(cluster, ids);
  const std::string group = world_->MakeOnDemandGroup(0);
  auto env = LambdaEnv(cluster, "", group);
  env.erase("SPOTKEEPER_SPOT_FLEET_ID");
  env["SPOTKEEPER_EC2_FLEET_ID"] = fleet;

  Emulator rie(rie_, env);
  ASSERT_TRUE(rie.ready()) << rie.Log();
  auto [status, body] = rie.Invoke(SnsWrap(
      AgentMessage(victim.instance_id, victim.instance_type, cluster, arns[victim.instance_id])));
  ASSERT_EQ(status, 200) << body << rie.Log();
  json report = ParseOrNull(body);
  ASSERT_TRUE(report.is_object() && !report.contains("errorType")) << body << rie.Log();
  EXPECT_TRUE(report["skipped"].empty()) << body;
  EXPECT_EQ(world_->ContainerStatus(cluster, arns[victim.instance_id]), "DRAINING");
  // Pending (moto fulfils the fleet at once: 0) plus the weight 8, over 4 vCPUs.
  auto fleets = ec2.DescribeFleets({fleet});
  ASSERT_TRUE(fleets.ok() && fleets->size() == 1) << fleets.status().ToString();
  const double pending = std::max(0.0, static_cast<double>(fleets->front().total_target_capacity) -
                                           fleets->front().fulfilled_capacity);
  EXPECT_EQ(world_->Desired(group), static_cast<int>(std::ceil((pending + 8) / 4))) << body;
}

TEST_F(LambdaTest, CloudWatchAlarmAndDirectInvocationGiveTheReferenceCount) {
  std::string fleet = world_->MakeFleet();
  ASSERT_FALSE(fleet.empty());
  std::string cluster = Unique("alarm-cluster");
  world_->MakeCluster(cluster, {});
  std::string group = world_->MakeOnDemandGroup();
  const double pending = 6;
  world_->PutFleetMetrics(fleet, pending, 16);

  Emulator rie(rie_, LambdaEnv(cluster, fleet, group));
  ASSERT_TRUE(rie.ready()) << rie.Log();

  const int expected = static_cast<int>(std::ceil(pending / 4));
  EXPECT_EQ(expected, ReferenceInstancesRequired(pending, 0));  // no defect involved: the same

  // The CloudWatch alarm, delivered through SNS.
  json alarm = {{"AlarmName", "fleet-pending-capacity"},
                {"NewStateValue", "ALARM"},
                {"Trigger",
                 {{"MetricName", "PendingCapacity"},
                  {"Namespace", "AWS/EC2Spot"},
                  {"Dimensions", {{{"name", "FleetRequestId"}, {"value", fleet}}}}}}};
  auto [status, body] = rie.Invoke(SnsWrap(alarm.dump()));
  ASSERT_EQ(status, 200) << body << rie.Log();
  json report = ParseOrNull(body);
  ASSERT_TRUE(report.is_object() && !report.contains("errorType")) << body << rie.Log();
  EXPECT_EQ(report["event"]["kind"], "fleet-alarm");
  EXPECT_EQ(report["event"]["fleet_id"], fleet);
  EXPECT_EQ(report["on_demand_needed"], expected) << body;
  EXPECT_EQ(world_->Desired(group), expected);

  // {"fleetID": ...}: the same state, the same count; nothing left to do.
  auto [direct_status, direct_body] = rie.Invoke(json{{"fleetID", fleet}}.dump());
  ASSERT_EQ(direct_status, 200) << direct_body << rie.Log();
  json direct = ParseOrNull(direct_body);
  ASSERT_TRUE(direct.is_object() && !direct.contains("errorType")) << direct_body;
  EXPECT_EQ(direct["event"]["kind"], "direct");
  EXPECT_EQ(direct["event"]["fleet_id"], fleet);
  EXPECT_EQ(direct["on_demand_needed"], expected) << direct_body;
  EXPECT_TRUE(direct["actions"].empty()) << direct_body;
  EXPECT_EQ(world_->Desired(group), expected);
}

// Issue 12: an SQS batch with hostile records beside a valid notice, and
// hostile whole events. The valid record is handled, the hostile ones are
// named in batchItemFailures, a hostile event is an error, and the one
// runtime process keeps serving.
TEST_F(LambdaTest, HostileRecordsAreReportedAndTheRuntimeKeepsServing) {
  std::string fleet = world_->MakeFleet();
  ASSERT_FALSE(fleet.empty());
  aws::Ec2Client ec2(client());
  auto instances = ec2.DescribeSpotFleetInstances(fleet);
  ASSERT_TRUE(instances.ok() && !instances->empty()) << instances.status().ToString();
  std::vector<std::string> ids;
  for (const auto& i : *instances) ids.push_back(i.instance_id);
  std::string cluster = Unique("hostile-cluster");
  auto arns = world_->MakeCluster(cluster, ids);
  std::string group = world_->MakeOnDemandGroup();
  world_->PutFleetMetrics(fleet, 0, 16);
  const aws::SpotFleetInstance& victim = instances->front();

  Emulator rie(rie_, LambdaEnv(cluster, fleet, group));
  ASSERT_TRUE(rie.ready()) << rie.Log();

  const std::string notice =
      AgentMessage(victim.instance_id, victim.instance_type, cluster, arns[victim.instance_id]);
  const std::string warning =
      R"({"detail-type":"EC2 Spot Instance Interruption Warning","source":"aws.ec2",)"
      R"("detail":{"instance-id":"i-0eb","instance-action":"terminate"},"time":")";
  const std::vector<std::string> hostile = {
      warning + "2030-01-01T00:00:00+ab:cd\"}",
      warning + "2030-01-01T00:02:nan\"}",
      std::string(50000, '[') + std::string(50000, ']'),
      R"({"fleetID": )" + std::string(5000, '9') + "}",
      R"({"fleetID": "\ud800"})",
      notice.substr(0, notice.size() - 3),
  };
  json records = json::array();
  json expected_failures = json::array();
  for (size_t i = 0; i < hostile.size(); ++i) {
    const std::string id = "hostile-" + std::to_string(i);
    records.push_back({{"messageId", id}, {"body", hostile[i]}, {"eventSource", "aws:sqs"}});
    expected_failures.push_back({{"itemIdentifier", id}});
  }
  records.push_back({{"messageId", "valid"}, {"body", notice}, {"eventSource", "aws:sqs"}});
  auto [status, body] = rie.Invoke(json{{"Records", records}}.dump());
  ASSERT_EQ(status, 200) << body << rie.Log();
  EXPECT_EQ(ParseOrNull(body), (json{{"batchItemFailures", expected_failures}})) << body;
  EXPECT_EQ(world_->ContainerStatus(cluster, arns[victim.instance_id]), "DRAINING");

  // Hostile whole events: one error each, no crash.
  for (const std::string& event : {warning + "2030-01-01T00:00:00+ab:cd\"}",
                                   std::string(100000, '[') + std::string(100000, ']'),
                                   std::string("{\"a\":") + std::string(3000, '[')}) {
    auto [bad_status, bad_body] = rie.Invoke(event);
    EXPECT_EQ(bad_status, 200) << bad_body;
    EXPECT_EQ(ParseOrNull(bad_body).value("errorType", ""), "Spotkeeper.InvalidEvent")
        << bad_body << rie.Log();
  }

  // Still serving, in the same process.
  auto [direct_status, direct_body] = rie.Invoke(json{{"fleetID", fleet}}.dump());
  ASSERT_EQ(direct_status, 200) << direct_body << rie.Log();
  json direct = ParseOrNull(direct_body);
  ASSERT_TRUE(direct.is_object() && !direct.contains("errorType")) << direct_body;
  EXPECT_EQ(direct["event"]["kind"], "direct");
  EXPECT_EQ(rie.Inits(), 1u) << rie.Log();
}

// Issue 11: the invocation's time budget. ECS accepts connections and never
// answers; the function's timeout is 12 s (so its budget is 12 - 5 = 7 s).
// The handler answers before the deadline (the emulator would otherwise fail
// the invocation with a timeout), names both messages in batchItemFailures,
// and makes them visible again after the controller's retry backoff (5 s),
// so they come back from the queue within seconds, not after its 360 s
// visibility timeout.
TEST_F(LambdaTest, HangingAwsEndsBeforeTheDeadlineAndTheMessagesComeBackInSeconds) {
  std::string queue_arn;
  const std::string queue = world_->MakeQueue(360, &queue_arn);
  ASSERT_FALSE(queue_arn.empty());
  aws::SqsClient sqs(client());
  const std::string cluster = Unique("budget-cluster");
  for (const char* instance : {"i-0budget1", "i-0budget2"}) {
    auto sent = sqs.SendMessage(
        queue, AgentMessage(instance, "m5.large", cluster,
                            "arn:aws:ecs:us-east-1:123456789012:container-instance/" + cluster +
                                "/" + instance));
    ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  }
  // Received as the event source mapping would: invisible for 360 s now.
  std::vector<aws::SqsMessage> received;
  for (int i = 0; i < 10 && received.size() < 2; ++i) {
    aws::ReceiveOptions ro;
    ro.max_messages = 10;
    ro.wait_time_seconds = 1;
    auto got = sqs.ReceiveMessage(queue, ro);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    received.insert(received.end(), got->begin(), got->end());
  }
  ASSERT_EQ(received.size(), 2u);
  json records = json::array();
  json expected_failures = json::array();
  for (const aws::SqsMessage& m : received) {
    records.push_back(
        {{"messageId", m.message_id},
         {"receiptHandle", m.receipt_handle},
         {"body", m.body},
         {"attributes", {{"ApproximateReceiveCount", std::to_string(m.receive_count())}}},
         {"eventSource", "aws:sqs"},
         {"eventSourceARN", queue_arn},
         {"awsRegion", "us-east-1"}});
    expected_failures.push_back({{"itemIdentifier", m.message_id}});
  }

  SilentPort ecs;
  ASSERT_GT(ecs.port(), 0);
  auto env = LambdaEnv(cluster, "sfr-0budget", "od-budget");
  env["AWS_ENDPOINT_URL_ECS"] = "http://127.0.0.1:" + std::to_string(ecs.port());
  env["AWS_LAMBDA_FUNCTION_TIMEOUT"] = "12";
  Emulator rie(rie_, env);
  ASSERT_TRUE(rie.ready()) << rie.Log();
  auto [status, body] = rie.Invoke(json{{"Records", records}}.dump());
  ASSERT_EQ(status, 200) << body << rie.Log();
  EXPECT_EQ(ParseOrNull(body), (json{{"batchItemFailures", expected_failures}}))
      << body << rie.Log();
  const std::string log = rie.Log();
  EXPECT_NE(log.find("call deadline"), std::string::npos) << log;
  EXPECT_NE(log.find("the decision not started"), std::string::npos) << log;
  EXPECT_EQ(log.find("Task timed out"), std::string::npos) << log;

  // Visible again after 5 s (not 360 s): both come back, received twice now.
  std::map<std::string, int64_t> again;
  for (int i = 0; i < 30 && again.size() < 2; ++i) {
    aws::ReceiveOptions ro;
    ro.max_messages = 10;
    ro.wait_time_seconds = 1;
    auto got = sqs.ReceiveMessage(queue, ro);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    for (const aws::SqsMessage& m : *got) again[m.message_id] = m.receive_count();
  }
  ASSERT_EQ(again.size(), 2u) << log;
  for (const aws::SqsMessage& m : received) EXPECT_EQ(again[m.message_id], 2) << m.message_id;
}

TEST_F(LambdaTest, WrongSettingIsAnInitError) {
  auto env = LambdaEnv("c", "sfr-x", "g");
  env["SPOTKEEPER_ON_REBALANCE"] = "panic";
  Emulator rie(rie_, env);
  ASSERT_TRUE(rie.ready()) << rie.Log();
  auto [status, body] = rie.Invoke("{\"fleetID\": \"sfr-x\"}");
  json error = ParseOrNull(body);
  ASSERT_TRUE(error.is_object()) << status << " " << body << rie.Log();
  EXPECT_EQ(error.value("errorType", ""), "Spotkeeper.InvalidConfig") << body;
  EXPECT_NE(error.value("errorMessage", "").find("SPOTKEEPER_ON_REBALANCE"), std::string::npos)
      << body;
}

}  // namespace
}  // namespace spk
