// `spotkeeper agent` and `spotkeeper metadata`, run as on an instance, against
// amazon-ec2-metadata-mock (IMDSv2 only), moto_server (signature checking on),
// a loopback webhook receiver, a fake ECS agent introspection endpoint and a
// fault-injecting IMDS. Everything on 127.0.0.1.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "aws/service.h"
#include "aws/sqs.h"
#include "base/clock.h"
#include "net/loopback_server.h"
#include "support/moto_server.h"
#include "support/process.h"

namespace spk::testsupport {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kAemmInstanceId[] = "i-1234567890abcdef0";

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

bool PortOpen(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// A child process with `env` exactly, output to a log file; SIGTERM on Stop().
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
    static std::atomic<int> n{0};
    log_ = ::testing::TempDir() + "/spk-agent-test-" + std::to_string(getpid()) + "-" +
           std::to_string(++n) + ".log";
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> cargv, cenv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    for (auto& e : env_strings) cenv.push_back(e.data());
    cenv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
      execve(cargv[0], cargv.data(), cenv.data());
      _exit(127);
    }
  }
  ~Child() { Stop(); }
  bool Running() {
    if (pid_ <= 0) return false;
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      pid_ = -1;
      return false;
    }
    return true;
  }
  // SIGTERM, then SIGKILL after 10 s; the exit code (-1 when killed).
  int Stop() {
    if (pid_ <= 0) return exit_code_;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 1000 && Running(); ++i) usleep(10000);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
      exit_code_ = -1;
    }
    return exit_code_;
  }
  std::string Log() const { return ReadFile(log_); }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
  std::string log_;
};

std::string AemmPath() {
  std::string p = std::string(SPK_SOURCE_DIR) + "/tools/bin/ec2-metadata-mock";
  return access(p.c_str(), X_OK) == 0 ? p : "ec2-metadata-mock";
}

// amazon-ec2-metadata-mock on a free loopback port, IMDSv2 only.
class Aemm {
 public:
  explicit Aemm(const std::vector<std::string>& args) : port_(FreePort()) {
    std::vector<std::string> argv = {AemmPath(), "-n", "127.0.0.1", "-p", std::to_string(port_),
                                     "-I"};
    argv.insert(argv.end(), args.begin(), args.end());
    child_ = std::make_unique<Child>(
        argv, std::map<std::string, std::string>{{"PATH", "/usr/bin:/bin"},
                                                 {"HOME", ::testing::TempDir()}});
    for (int i = 0; i < 500 && !PortOpen(port_); ++i) usleep(10000);
  }
  bool up() const { return PortOpen(port_); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string Log() const { return child_->Log(); }

 private:
  int port_;
  std::unique_ptr<Child> child_;
};

// Records what a webhook receiver got.
struct Received {
  std::mutex mu;
  std::vector<net::ServerRequest> requests;
  std::vector<json> bodies() {
    std::lock_guard<std::mutex> l(mu);
    std::vector<json> out;
    for (const auto& r : requests) out.push_back(json::parse(r.body, nullptr, false));
    return out;
  }
};

class AgentTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto s = MotoServer::Start();
    if (s.ok())
      moto_ = std::move(s).value().release();
    else
      *start_error_ = s.status().ToString();
  }
  static void TearDownTestSuite() {
    delete moto_;
    moto_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(moto_, nullptr) << "moto_server did not start: " << *start_error_;
    client_ = moto_->NewClient();
  }

  static std::string Unique(const std::string& prefix) {
    static std::atomic<int> n{0};
    return prefix + "-" + std::to_string(++n);
  }

  Result<json> Json(const aws::ServiceInfo& s, const std::string& op, const json& body) {
    return client_->client.CallJson(s, op, body);
  }

  // A queue subscribed to a new topic; sets *topic_arn, returns the queue URL.
  std::string TopicWithQueue(std::string* topic_arn) {
    auto q = Json(aws::services::Sqs(), "CreateQueue", {{"QueueName", Unique("spk-agent-q")}});
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    std::string url = q.ok() ? q.value().value("QueueUrl", "") : "";
    auto attrs = Json(aws::services::Sqs(), "GetQueueAttributes",
                      {{"QueueUrl", url}, {"AttributeNames", {"QueueArn"}}});
    std::string queue_arn = attrs.ok() ? attrs.value()["Attributes"].value("QueueArn", "") : "";
    auto t = client_->client.CallQuery(aws::services::Sns(), "CreateTopic",
                                       {{"Name", Unique("spk-agent-topic")}});
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    *topic_arn = t.ok() ? t.value()
                              ->document_element()
                              .child("CreateTopicResult")
                              .child("TopicArn")
                              .text()
                              .get()
                        : "";
    auto sub = client_->client.CallQuery(
        aws::services::Sns(), "Subscribe",
        {{"TopicArn", *topic_arn}, {"Protocol", "sqs"}, {"Endpoint", queue_arn}});
    EXPECT_TRUE(sub.ok()) << sub.status().ToString();
    return url;
  }

  // Receives (and deletes) what arrives within `wait`; the SNS envelopes'
  // Message fields parsed (or the raw bodies when not SNS envelopes).
  std::vector<json> Drain(const std::string& queue_url, seconds wait) {
    aws::SqsClient sqs(client_->client);
    std::vector<json> out;
    auto end = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < end) {
      aws::ReceiveOptions ro;
      ro.max_messages = 10;
      ro.wait_time_seconds = 1;
      auto got = sqs.ReceiveMessage(queue_url, ro);
      if (!got.ok()) continue;
      for (const auto& m : *got) {
        json body = json::parse(m.body, nullptr, false);
        if (body.is_object() && body.contains("Message"))
          body = json::parse(body["Message"].get<std::string>(), nullptr, false);
        out.push_back(body);
        (void)sqs.DeleteMessage(queue_url, m.receipt_handle);
      }
    }
    return out;
  }

  // Waits until `pred` or `limit`.
  template <typename P>
  static bool WaitFor(P pred, seconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (pred()) return true;
      usleep(50000);
    }
    return pred();
  }

  std::map<std::string, std::string> AgentEnv(const std::string& imds_url) {
    std::map<std::string, std::string> env = {
        {"PATH", "/usr/bin:/bin"},
        {"HOME", ::testing::TempDir()},
        {"AWS_REGION", "us-east-1"},
        {"AWS_ENDPOINT_URL", moto_->endpoint()},
        {"AWS_ACCESS_KEY_ID", moto_->access_key_id()},
        {"AWS_SECRET_ACCESS_KEY", moto_->secret_access_key()},
        {"AWS_CONFIG_FILE", "/nonexistent/spotkeeper-test/config"},
        {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/spotkeeper-test/credentials"},
        {"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds_url},
        // No ECS agent unless a test serves one.
        {"SPOTKEEPER_ECS_AGENT_ENDPOINT", "http://127.0.0.1:9"},
        {"NO_PROXY", "*"},
    };
    return env;
  }

  static MotoServer* moto_;
  static std::string* start_error_;
  std::unique_ptr<MotoClient> client_;
};
MotoServer* AgentTest::moto_ = nullptr;
std::string* AgentTest::start_error_ = new std::string();

std::vector<json> OfKind(const std::vector<json>& v, const std::string& kind) {
  std::vector<json> out;
  for (const auto& j : v)
    if (j.is_object() && j.value("kind", "") == kind) out.push_back(j);
  return out;
}

void ExpectAemmIdentity(const json& m) {
  EXPECT_EQ(m.value("instanceId", ""), kAemmInstanceId);
  EXPECT_EQ(m.value("instanceType", ""), "m4.xlarge");
  EXPECT_EQ(m.value("region", ""), "us-east-1");
  EXPECT_EQ(m.value("availabilityZone", ""), "us-east-1f");
  EXPECT_EQ(m.value("accountId", ""), "0123456789");
  EXPECT_EQ(m.value("agentVersion", "").empty(), false);
  EXPECT_EQ(m.value("messageId", "").size(), 32u);
  for (auto& [k, v] : m.items()) EXPECT_TRUE(v.is_string()) << k;
}

// The spot notice and the rebalance recommendation reach SNS->SQS and the
// webhook exactly once each, the container instance is drained, and the
// lifecycle attribute is set.
TEST_F(AgentTest, SpotNoticeAndRebalanceToSnsAndWebhookWithDrainAndLifecycle) {
  const std::string cluster = Unique("spk-agent-cluster");
  ASSERT_TRUE(Json(aws::services::Ecs(), "CreateCluster", {{"clusterName", cluster}}).ok());
  // moto registers only instances it knows, so the container instance sits on
  // a moto instance; the agent finds it through the ECS agent's introspection
  // (cluster and ARN), as on a real instance.
  auto run = client_->client.CallQuery(aws::services::Ec2(), "RunInstances",
                                       {{"ImageId", "ami-12c6146b"},
                                        {"MinCount", "1"},
                                        {"MaxCount", "1"},
                                        {"InstanceType", "m4.xlarge"}});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  const std::string ec2_id = run.value()
                                 ->document_element()
                                 .child("instancesSet")
                                 .child("item")
                                 .child("instanceId")
                                 .text()
                                 .get();
  auto reg = Json(
      aws::services::Ecs(), "RegisterContainerInstance",
      {{"cluster", cluster}, {"instanceIdentityDocument", json({{"instanceId", ec2_id}}).dump()}});
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  const std::string ci_arn = reg.value()["containerInstance"].value("containerInstanceArn", "");
  ASSERT_FALSE(ci_arn.empty());

  net::LoopbackServer ecs_agent([&](const net::ServerRequest& r) {
    if (r.path != "/v1/metadata") return net::HttpResponse{404, {}, ""};
    return net::HttpResponse{
        200,
        {},
        json({{"Cluster", cluster}, {"ContainerInstanceArn", ci_arn}, {"Version", "x"}}).dump()};
  });
  ASSERT_TRUE(ecs_agent.Start().ok());
  Received webhook;
  net::LoopbackServer receiver([&](const net::ServerRequest& r) {
    std::lock_guard<std::mutex> l(webhook.mu);
    webhook.requests.push_back(r);
    return net::HttpResponse{200, {}, "ok"};
  });
  ASSERT_TRUE(receiver.Start().ok());

  std::string topic_arn;
  const std::string queue = TopicWithQueue(&topic_arn);
  const std::string term_time = "2030-01-01T00:02:00Z";
  const std::string rebalance_time = "2030-01-01T00:00:00Z";
  Aemm aemm({"spot", "-d", "2", "-t", term_time, "-r", rebalance_time});
  ASSERT_TRUE(aemm.up()) << aemm.Log();

  auto env = AgentEnv(aemm.url());
  env["SPOTKEEPER_ECS_AGENT_ENDPOINT"] = ecs_agent.url();
  env["SPOTKEEPER_SLOW_POLL_INTERVAL"] = "500ms";  // env as well as flags
  Child agent({SpotkeeperBinary(), "--log-format", "json", "agent", "--sns-topic-arn", topic_arn,
               "--webhook-url", receiver.url() + "/hook", "--webhook-header",
               "Authorization: Bearer t0ken", "--drain"},
              env);

  auto messages = Drain(queue, seconds(6));
  ASSERT_TRUE(agent.Running()) << agent.Log();
  // Polls keep seeing both notices; nothing new is published.
  auto more = Drain(queue, seconds(2));
  EXPECT_TRUE(more.empty()) << more.size();
  EXPECT_EQ(agent.Stop(), 0) << agent.Log();

  auto spot = OfKind(messages, "spot-interruption");
  auto rebalance = OfKind(messages, "rebalance-recommendation");
  EXPECT_EQ(messages.size(), 2u) << agent.Log();
  ASSERT_EQ(spot.size(), 1u) << agent.Log();
  ASSERT_EQ(rebalance.size(), 1u) << agent.Log();
  ExpectAemmIdentity(spot[0]);
  EXPECT_EQ(spot[0]["terminationNotificiation"], "true");
  EXPECT_EQ(spot[0]["action"], "terminate");
  EXPECT_EQ(spot[0]["terminationTime"], term_time);
  EXPECT_EQ(spot[0]["ecsCluster"], cluster);
  EXPECT_EQ(spot[0]["ecsContainer"], ci_arn);
  ExpectAemmIdentity(rebalance[0]);
  EXPECT_EQ(rebalance[0]["terminationNotificiation"], "false");
  EXPECT_EQ(rebalance[0]["noticeTime"], rebalance_time);
  EXPECT_EQ(rebalance[0]["ecsCluster"], cluster);

  // The webhook got the same two messages, with the header.
  auto hooks = webhook.bodies();
  ASSERT_EQ(hooks.size(), 2u);
  ASSERT_EQ(OfKind(hooks, "spot-interruption").size(), 1u);
  EXPECT_EQ(OfKind(hooks, "spot-interruption")[0], spot[0]);
  EXPECT_EQ(OfKind(hooks, "rebalance-recommendation")[0], rebalance[0]);
  {
    std::lock_guard<std::mutex> l(webhook.mu);
    net::HttpResponse h{200, webhook.requests[0].headers, ""};
    EXPECT_EQ(webhook.requests[0].method, "POST");
    EXPECT_EQ(webhook.requests[0].path, "/hook");
    EXPECT_EQ(h.Header("authorization"), "Bearer t0ken");
    EXPECT_EQ(h.Header("content-type"), "application/json");
  }

  // --drain: DRAINING in moto; the lifecycle attribute from instance-life-cycle.
  auto described = Json(aws::services::Ecs(), "DescribeContainerInstances",
                        {{"cluster", cluster}, {"containerInstances", {ci_arn}}});
  ASSERT_TRUE(described.ok()) << described.status().ToString();
  const json& ci = described.value()["containerInstances"][0];
  EXPECT_EQ(ci.value("status", ""), "DRAINING");
  std::string lifecycle;
  for (const auto& a : ci["attributes"])
    if (a.value("name", "") == "spotkeeper.lifecycle") lifecycle = a.value("value", "");
  EXPECT_EQ(lifecycle, "on-demand");  // AEMM's instance-life-cycle

  const std::string log = agent.Log();
  EXPECT_THAT(log, ::testing::HasSubstr(R"("msg":"notice seen")"));
  // The line's own time is when it was written (this year), the notice's
  // time (2030) is its own field.
  int notice_lines = 0;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    json j = json::parse(line, nullptr, false);
    if (!j.is_object() || j.value("msg", "") != "notice seen" ||
        j.value("kind", "") != "spot-interruption") {
      continue;
    }
    ++notice_lines;
    EXPECT_EQ(j.value("notice_time", ""), term_time) << line;
    WallTime written;
    ASSERT_TRUE(ParseIso8601(j.value("time", ""), &written)) << line;
    EXPECT_LT(std::chrono::abs(written - SystemClock::Instance().WallNow()),
              std::chrono::minutes(5))
        << line;
  }
  EXPECT_EQ(notice_lines, 1) << log;
  EXPECT_THAT(log, ::testing::HasSubstr(R"("msg":"container instance draining")"));
  EXPECT_THAT(log, ::testing::HasSubstr(R"("msg":"agent stopped")"));
}

TEST_F(AgentTest, ScheduledEventArrivesOnceInSqs) {
  // Straight to a queue this time (--sqs-queue-url), no ECS agent.
  auto q = Json(aws::services::Sqs(), "CreateQueue", {{"QueueName", Unique("spk-agent-direct")}});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  const std::string queue = q.value().value("QueueUrl", "");
  Aemm aemm({"events", "-o", "instance-stop", "-b", "2030-02-01T00:00:00Z", "-a",
             "2030-02-08T00:00:00Z"});
  ASSERT_TRUE(aemm.up()) << aemm.Log();
  Child agent(
      {SpotkeeperBinary(), "agent", "--sqs-queue-url", queue, "--slow-poll-interval", "300ms"},
      AgentEnv(aemm.url()));
  auto messages = Drain(queue, seconds(5));
  EXPECT_TRUE(agent.Running());
  EXPECT_EQ(agent.Stop(), 0) << agent.Log();
  ASSERT_EQ(messages.size(), 1u) << agent.Log();
  const json& m = messages[0];
  ExpectAemmIdentity(m);
  EXPECT_EQ(m["kind"], "scheduled-maintenance");
  EXPECT_EQ(m["action"], "instance-stop");
  EXPECT_EQ(m["eventId"], "instance-event-1234567890abcdef0");
  EXPECT_EQ(m["noticeTime"], "2030-02-01T00:00:00Z");
  EXPECT_EQ(m["notAfter"], "2030-02-08T00:00:00Z");
  EXPECT_EQ(m["terminationNotificiation"], "false");
  EXPECT_EQ(m["ecsCluster"], "");  // no ECS agent: empty, with a warning
  EXPECT_THAT(agent.Log(), ::testing::HasSubstr("ECS agent not reachable"));
}

// The long-lived process is spotkeeper-watch (same PID: `agent` exec'd it),
// and it maps none of the TLS, libcurl or HTTP-server libraries: the message
// above went out through an `agent-call` child.
TEST_F(AgentTest, WatcherProcessMapsNoTlsOrCurlLibraries) {
  auto q = Json(aws::services::Sqs(), "CreateQueue", {{"QueueName", Unique("spk-agent-maps")}});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  const std::string queue = q.value().value("QueueUrl", "");
  Aemm aemm({"events", "-o", "instance-stop", "-b", "2030-02-01T00:00:00Z"});
  ASSERT_TRUE(aemm.up()) << aemm.Log();
  Child agent(
      {SpotkeeperBinary(), "agent", "--sqs-queue-url", queue, "--slow-poll-interval", "300ms"},
      AgentEnv(aemm.url()));
  auto messages = Drain(queue, seconds(4));
  ASSERT_EQ(messages.size(), 1u) << agent.Log();
  const std::string maps = ReadFile("/proc/" + std::to_string(agent.pid()) + "/maps");
  EXPECT_THAT(maps, ::testing::HasSubstr("/spotkeeper-watch"));
  for (const char* lib : {"libcurl", "libssl", "libcpp-httplib", "libgnutls", "libyaml-cpp"}) {
    EXPECT_THAT(maps, ::testing::Not(::testing::HasSubstr(lib))) << lib;
  }
  EXPECT_EQ(agent.Stop(), 0) << agent.Log();
  EXPECT_THAT(agent.Log(), ::testing::HasSubstr("agent stopped"));
}

// Without spotkeeper-watch beside the binary, `agent` says so and watches
// from its own process: the notice still arrives, once.
TEST_F(AgentTest, WithoutTheWatchBinaryTheAgentStillWorks) {
  const std::string dir = ::testing::TempDir() + "/spk-agent-alone-" + std::to_string(getpid());
  ASSERT_EQ(system(("mkdir -p " + dir + " && cp " + SpotkeeperBinary() + " " + dir).c_str()), 0);
  auto q = Json(aws::services::Sqs(), "CreateQueue", {{"QueueName", Unique("spk-agent-alone")}});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  const std::string queue = q.value().value("QueueUrl", "");
  Aemm aemm({"events", "-o", "instance-stop", "-b", "2030-02-01T00:00:00Z"});
  ASSERT_TRUE(aemm.up()) << aemm.Log();
  Child agent(
      {dir + "/spotkeeper", "agent", "--sqs-queue-url", queue, "--slow-poll-interval", "300ms"},
      AgentEnv(aemm.url()));
  auto messages = Drain(queue, seconds(4));
  EXPECT_EQ(agent.Stop(), 0) << agent.Log();
  ASSERT_EQ(messages.size(), 1u) << agent.Log();
  EXPECT_EQ(messages[0]["kind"], "scheduled-maintenance");
  EXPECT_THAT(agent.Log(), ::testing::HasSubstr("spotkeeper-watch not found"));
  system(("rm -rf " + dir).c_str());
}

// A fault-injecting IMDS (IMDSv2): stopped, 500s, garbage, a refused token.
// No notice is sent during the faults; the agent keeps running and reports
// the real notice once the service is back.
TEST_F(AgentTest, MetadataFaultsAreNeverNotices) {
  enum Mode { kOk, k500, kGarbage, kRefuseToken, kNotice };
  std::atomic<int> mode{kOk};
  std::atomic<int> reads{0};
  auto handler = [&](const net::ServerRequest& r) -> net::HttpResponse {
    ++reads;
    const int m = mode.load();
    if (m == k500) return {500, {}, "internal error"};
    if (r.method == "PUT") {
      if (m == kRefuseToken) return {403, {}, "forbidden"};
      return {200, {}, "TOKEN"};
    }
    bool token = false;
    for (const auto& [k, v] : r.headers)
      if (net::HeaderNameEquals(k, "X-aws-ec2-metadata-token") && v == "TOKEN") token = true;
    if (!token) return {401, {}, ""};
    if (m == kGarbage) return {200, {}, "<html>captive portal</html>"};
    if (r.path == "/latest/dynamic/instance-identity/document")
      return {200, {}, R"({"instanceId":"i-0fault","instanceType":"c5.large","region":"us-east-1",
                          "availabilityZone":"us-east-1b","accountId":"111122223333"})"};
    if (r.path == "/latest/meta-data/spot/instance-action" && m == kNotice)
      return {200, {}, R"({"action":"terminate","time":"2030-01-01T00:02:00Z"})"};
    return {404, {}, "not found"};
  };
  auto imds = std::make_unique<net::LoopbackServer>(handler);
  ASSERT_TRUE(imds->Start().ok());
  const int port = imds->port();

  Received webhook;
  net::LoopbackServer receiver([&](const net::ServerRequest& r) {
    std::lock_guard<std::mutex> l(webhook.mu);
    webhook.requests.push_back(r);
    return net::HttpResponse{200, {}, "ok"};
  });
  ASSERT_TRUE(receiver.Start().ok());
  Child agent({SpotkeeperBinary(), "agent", "--webhook-url", receiver.url(), "--poll-interval",
               "100ms", "--slow-poll-interval", "200ms"},
              AgentEnv(imds->url()));

  auto wait_reads = [&](int n) {
    const int start = reads.load();
    return WaitFor([&] { return reads.load() >= start + n; }, seconds(5));
  };
  ASSERT_TRUE(wait_reads(5));
  for (Mode m : {k500, kGarbage, kRefuseToken}) {
    mode = m;
    ASSERT_TRUE(wait_reads(8)) << "mode " << m;
    ASSERT_TRUE(agent.Running()) << agent.Log();
  }
  mode = kOk;
  imds->Stop();  // the metadata service is gone
  usleep(700000);
  ASSERT_TRUE(agent.Running()) << agent.Log();
  EXPECT_TRUE(webhook.bodies().empty()) << agent.Log();

  // It comes back on the same port, with a notice.
  imds = std::make_unique<net::LoopbackServer>(handler);
  ASSERT_TRUE(imds->Start("127.0.0.1", port).ok());
  mode = kNotice;
  ASSERT_TRUE(WaitFor([&] { return !webhook.bodies().empty(); }, seconds(10))) << agent.Log();
  usleep(500000);
  auto bodies = webhook.bodies();
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(bodies[0]["kind"], "spot-interruption");
  EXPECT_EQ(bodies[0]["instanceId"], "i-0fault");
  EXPECT_EQ(agent.Stop(), 0);
  const std::string log = agent.Log();
  EXPECT_THAT(log, ::testing::HasSubstr("metadata error streak began"));
  EXPECT_THAT(log, ::testing::HasSubstr("metadata error streak ended"));
  // Once per streak, not once per poll.
  size_t began = 0;
  for (size_t p = log.find("streak began"); p != std::string::npos;
       p = log.find("streak began", p + 1))
    ++began;
  EXPECT_LE(began, 6u) << log;
}

TEST_F(AgentTest, MetadataCommandAndTerminate) {
  Aemm aemm({"spot", "-t", "2030-01-01T00:02:00Z"});
  ASSERT_TRUE(aemm.up()) << aemm.Log();
  auto env = AgentEnv(aemm.url());

  auto md = RunProcess({SpotkeeperBinary(), "metadata"}, env, seconds(30));
  ASSERT_EQ(md.exit_code, 0) << md.out << md.err;
  auto j = json::parse(md.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << md.out;
  EXPECT_NE(md.out.find("\n  \"instanceId\""), std::string::npos) << md.out;  // pretty
  ExpectAemmIdentity(j);
  EXPECT_EQ(j["kind"], "spot-interruption");
  EXPECT_EQ(j["terminationTime"], "2030-01-01T00:02:00Z");

  std::string topic_arn;
  const std::string queue = TopicWithQueue(&topic_arn);
  Received webhook;
  net::LoopbackServer receiver([&](const net::ServerRequest& r) {
    std::lock_guard<std::mutex> l(webhook.mu);
    webhook.requests.push_back(r);
    return net::HttpResponse{200, {}, "ok"};
  });
  ASSERT_TRUE(receiver.Start().ok());
  auto t = RunProcess({SpotkeeperBinary(), "agent", "--terminate", "--sns-topic-arn", topic_arn,
                       "--webhook-url", receiver.url()},
                      env, seconds(30));
  EXPECT_EQ(t.exit_code, 0) << t.out << t.err;
  auto messages = Drain(queue, seconds(2));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0]["kind"], "test");
  EXPECT_EQ(messages[0]["terminationNotificiation"], "true");
  ExpectAemmIdentity(messages[0]);
  ASSERT_EQ(webhook.bodies().size(), 1u);
  EXPECT_EQ(webhook.bodies()[0], messages[0]);

  // A webhook that refuses: --terminate gives up and exits 1.
  auto refused = RunProcess({SpotkeeperBinary(), "agent", "--terminate", "--webhook-url",
                             "http://127.0.0.1:9/", "--terminate-timeout", "1s"},
                            env, seconds(30));
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;

  // No IMDS: metadata exits 1 with a reason.
  auto env_down = AgentEnv("http://127.0.0.1:9");
  auto down = RunProcess({SpotkeeperBinary(), "metadata"}, env_down, seconds(30));
  EXPECT_EQ(down.exit_code, 1) << down.out << down.err;
  EXPECT_THAT(down.err, ::testing::HasSubstr("instance metadata did not answer"));
}

// Nothing secret in the logs: the webhook URL carries tokens in its user
// info, path and query, a header carries a key, and the receiver refuses with
// a body holding a forged log line and a terminal escape. The run's captured
// standard error (the watcher's and its agent-call children's) holds none of
// the secrets, shows the host, and holds no forged line.
TEST_F(AgentTest, WebhookSecretsNeverReachTheLogs) {
  Received webhook;
  net::LoopbackServer receiver([&](const net::ServerRequest& r) {
    std::lock_guard<std::mutex> l(webhook.mu);
    webhook.requests.push_back(r);
    return net::HttpResponse{
        403, {}, "denied\n2030-01-01T00:00:00.000Z info published sink=FORGED\x1b[31m"};
  });
  ASSERT_TRUE(receiver.Start().ok());
  const std::string host = "127.0.0.1:" + std::to_string(receiver.port());
  const std::string url = "http://hookuser:PASSWORD-S1@" + host +
                          "/services/T0000/B0000/PATHTOKEN-S2?sig=QUERYTOKEN-S3";
  Aemm aemm({"events", "-o", "instance-stop", "-b", "2030-02-01T00:00:00Z"});
  ASSERT_TRUE(aemm.up()) << aemm.Log();
  Child agent({SpotkeeperBinary(), "agent", "--webhook-url", url, "--webhook-header",
               "X-Api-Key: HEADERKEY-S4", "--slow-poll-interval", "300ms"},
              AgentEnv(aemm.url()));
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> l(webhook.mu);
        return webhook.requests.size() >= 2;  // refused, and retried
      },
      seconds(10)));
  EXPECT_EQ(agent.Stop(), 0) << agent.Log();
  {
    // The receiver got the full URL and the header: the secrets were used.
    std::lock_guard<std::mutex> l(webhook.mu);
    EXPECT_EQ(webhook.requests[0].path, "/services/T0000/B0000/PATHTOKEN-S2");
    net::HttpResponse h{200, webhook.requests[0].headers, ""};
    EXPECT_EQ(h.Header("x-api-key"), "HEADERKEY-S4");
  }
  const std::string log = agent.Log();
  for (const char* secret :
       {"PASSWORD-S1", "hookuser", "PATHTOKEN-S2", "QUERYTOKEN-S3", "HEADERKEY-S4", "T0000"}) {
    EXPECT_THAT(log, ::testing::Not(::testing::HasSubstr(secret))) << log;
  }
  EXPECT_THAT(log, ::testing::HasSubstr("webhook:http://" + host + "/...redacted"));
  EXPECT_THAT(log, ::testing::HasSubstr("delivery failed, retrying"));
  EXPECT_THAT(log, ::testing::HasSubstr("answered HTTP 403"));
  // The body's newline and escape are escaped: no forged line, no raw ESC.
  EXPECT_THAT(log, ::testing::HasSubstr("denied\\n2030-01-01T00:00:00.000Z info published"));
  EXPECT_THAT(log, ::testing::Not(::testing::HasSubstr("\n2030-01-01T00:00:00.000Z info")));
  EXPECT_EQ(log.find('\x1b'), std::string::npos);

  // A mistyped URL and a malformed header are not echoed either.
  auto env = AgentEnv("http://127.0.0.1:9");
  auto bad_url = RunProcess({SpotkeeperBinary(), "agent", "--webhook-url", "htp://x/PATHTOKEN-S5"},
                            env, seconds(10));
  EXPECT_EQ(bad_url.exit_code, 2) << bad_url.err;
  EXPECT_THAT(bad_url.err, ::testing::HasSubstr("--webhook-url"));
  EXPECT_THAT(bad_url.err, ::testing::Not(::testing::HasSubstr("PATHTOKEN-S5")));
  auto bad_header = RunProcess({SpotkeeperBinary(), "agent", "--webhook-url", url,
                                "--webhook-header", "Bearer HEADERKEY-S6"},
                               env, seconds(10));
  EXPECT_EQ(bad_header.exit_code, 2) << bad_header.err;
  EXPECT_THAT(bad_header.err, ::testing::HasSubstr("--webhook-header"));
  EXPECT_THAT(bad_header.err, ::testing::Not(::testing::HasSubstr("HEADERKEY-S6")));
}

TEST_F(AgentTest, WrongOrMissingSettingsExitTwoNamingTheSetting) {
  auto env = AgentEnv("http://127.0.0.1:9");
  struct Case {
    std::vector<std::string> args;
    std::string names;
  };
  const std::vector<Case> cases = {
      {{"agent"}, "--sns-topic-arn"},
      {{"agent", "--webhook-url", "not a url"}, "--webhook-url"},
      {{"agent", "--sns-topic-arn", "topic"}, "--sns-topic-arn"},
      {{"agent", "--webhook-url", "http://127.0.0.1:9/", "--poll-interval", "fast"},
       "--poll-interval"},
      {{"agent", "--webhook-url", "http://127.0.0.1:9/", "--webhook-header", "nocolon"},
       "--webhook-header"},
      {{"metadata", "--imds-timeout", "-1"}, "--imds-timeout"},
      // AWS_REGION is us-east-1: a topic or queue of another region.
      {{"agent", "--sns-topic-arn", "arn:aws:sns:us-west-2:123456789012:notices"},
       "--sns-topic-arn (SPOTKEEPER_SNS_TOPIC_ARN) names a topic in us-west-2"},
      {{"agent", "--sqs-queue-url", "https://sqs.eu-west-1.amazonaws.com/123456789012/q"},
       "--sqs-queue-url (SPOTKEEPER_SQS_QUEUE_URL) names a queue in eu-west-1"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv = {SpotkeeperBinary()};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto r = RunProcess(argv, env, seconds(10));
    EXPECT_EQ(r.exit_code, 2) << c.names << ": " << r.err;
    EXPECT_THAT(r.err, ::testing::HasSubstr(c.names)) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  auto no_region = env;
  no_region.erase("AWS_REGION");
  no_region["AWS_EC2_METADATA_DISABLED"] = "true";
  auto r = RunProcess({SpotkeeperBinary(), "agent", "--sqs-queue-url", "http://127.0.0.1:9/q"},
                      no_region, seconds(10));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, ::testing::HasSubstr("AWS_REGION"));
}

}  // namespace
}  // namespace spk::testsupport
