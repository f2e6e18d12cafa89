#include "cloud/child_calls.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "cloud/child_call_exec.h"
#include "net/fake_transport.h"

namespace spk::cloud {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

TEST(ChildCallStatusTest, RoundTripsCodeMessageAndRemote) {
  EXPECT_TRUE(StatusFromJson(StatusToJson(Status::Ok())).ok());
  Status s = UnavailableError("sns Publish: throttled");
  s.set_remote({"sns", "Throttling", 400, "req-1"});
  Status back = StatusFromJson(StatusToJson(s));
  EXPECT_EQ(back.code(), StatusCode::kUnavailable);
  EXPECT_EQ(back.message(), "sns Publish: throttled");
  ASSERT_TRUE(back.remote().has_value());
  EXPECT_EQ(back.remote()->error_code, "Throttling");
  EXPECT_EQ(back.remote()->http_status, 400);
  EXPECT_EQ(back.remote()->request_id, "req-1");
  EXPECT_TRUE(back.retryable());
  EXPECT_EQ(StatusFromJson(json{{"code", "NOPE"}}).code(), StatusCode::kInternal);
  EXPECT_EQ(StatusFromJson(json::array()).code(), StatusCode::kInternal);
}

TEST(SinkSpecTest, RoundTripsAndRejectsBadSpecs) {
  SinkSpec hook{
      SinkSpec::Type::kWebhook, "https://hooks.example/x", {{"Authorization", "Bearer t"}}};
  auto back = SinkSpecFromJson(SinkSpecToJson(hook));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->target, "https://hooks.example/x");
  EXPECT_EQ(back->Name(), "webhook:https://hooks.example/...redacted");  // for logs
  ASSERT_EQ(back->headers.size(), 1u);
  EXPECT_EQ(back->headers[0].second, "Bearer t");
  EXPECT_EQ(SinkSpec({SinkSpec::Type::kSqs, "http://q", {}}).Name(), "sqs:http://q");
  EXPECT_FALSE(SinkSpecFromJson(json{{"type", "smtp"}, {"target", "x"}}).ok());
  EXPECT_FALSE(SinkSpecFromJson(json{{"type", "sns"}}).ok());
  EXPECT_FALSE(SinkSpecFromJson(json{{"type", "sns"}, {"target", ""}}).ok());
  EXPECT_FALSE(
      SinkSpecFromJson(json{{"type", "webhook"}, {"target", "x"}, {"headers", {"a"}}}).ok());
}

TEST(ExecuteChildCallTest, PublishesToAWebhook) {
  net::FakeTransport http;
  http.Push(202, "");
  json request = {{"call", "publish"},
                  {"sink", SinkSpecToJson({SinkSpec::Type::kWebhook, "http://127.0.0.1:9/h", {}})},
                  {"message", R"({"kind":"test"})"},
                  {"messageId", "m-1"}};
  ASSERT_TRUE(ExecuteChildCall(request, nullptr, http).ok());
  auto reqs = http.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].url, "http://127.0.0.1:9/h");
  EXPECT_EQ(reqs[0].body, R"({"kind":"test"})");
}

TEST(ExecuteChildCallTest, BadRequestsAreClearErrors) {
  net::FakeTransport http;
  EXPECT_EQ(ExecuteChildCall(json::array(), nullptr, http).code(), StatusCode::kInvalidArgument);
  Status s = ExecuteChildCall(json{{"call", "reboot"}}, nullptr, http);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("reboot"), std::string::npos);
  s = ExecuteChildCall(json{{"call", "drain"}, {"cluster", "web"}}, nullptr, http);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("containerInstance"), std::string::npos);
  // AWS sinks and ECS calls need a session.
  s = ExecuteChildCall(json{{"call", "drain"}, {"cluster", "web"}, {"containerInstance", "arn"}},
                       nullptr, http);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  s = ExecuteChildCall(json{{"call", "publish"},
                            {"sink", SinkSpecToJson({SinkSpec::Type::kSns, "arn:aws:sns:x", {}})},
                            {"message", "{}"},
                            {"messageId", "m"}},
                       nullptr, http);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(http.requests().empty());
}

// A stand-in for `spotkeeper agent-call`: saves its input, answers `answer`.
class FakeChild {
 public:
  explicit FakeChild(const std::string& answer) {
    char tmpl[] = "/tmp/spk-child-XXXXXX";
    dir_ = mkdtemp(tmpl);
    script_ = dir_ + "/agent-call";
    std::ofstream(script_) << "#!/bin/sh\ncat > " << dir_ << "/request.json\n" << answer << "\n";
    chmod(script_.c_str(), 0755);
  }
  ~FakeChild() { std::system(("rm -rf " + dir_).c_str()); }
  ChildCommand command() const { return {{script_, "agent-call"}, 5s}; }
  json request() const {
    std::ifstream in(dir_ + "/request.json");
    std::stringstream ss;
    ss << in.rdbuf();
    return json::parse(ss.str());
  }

 private:
  std::string dir_;
  std::string script_;
};

TEST(ChildNotifierTest, SendsTheRequestAndReturnsTheChildsStatus) {
  FakeChild child(R"(echo 'some log line'; echo '{"code":"OK"}')");
  ChildNotifier n(child.command(), {SinkSpec::Type::kSqs, "http://127.0.0.1:9/1/q", {}});
  EXPECT_EQ(n.name(), "sqs:http://127.0.0.1:9/1/q");
  ASSERT_TRUE(n.Publish(R"({"a":"b"})", "m-7").ok());
  json r = child.request();
  EXPECT_EQ(r["call"], "publish");
  EXPECT_EQ(r["sink"]["type"], "sqs");
  EXPECT_EQ(r["message"], R"({"a":"b"})");
  EXPECT_EQ(r["messageId"], "m-7");
}

TEST(ChildNotifierTest, ChildErrorsKeepTheirCode) {
  FakeChild child(
      R"(echo '{"code":"PERMISSION_DENIED","message":"sns Publish: AuthorizationError"}')");
  ChildNotifier n(child.command(), {SinkSpec::Type::kSns, "arn:aws:sns:us-east-1:1:t", {}});
  Status s = n.Publish("{}", "m");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "sns Publish: AuthorizationError");
  EXPECT_FALSE(s.retryable());
}

TEST(ChildContainerInstancesTest, DrainAndAttributeRequests) {
  FakeChild child(R"(echo '{"code":"OK"}')");
  ChildContainerInstances ecs(child.command());
  ASSERT_TRUE(ecs.Drain("web", "arn:ci/1").ok());
  EXPECT_EQ(child.request(),
            (json{{"call", "drain"}, {"cluster", "web"}, {"containerInstance", "arn:ci/1"}}));
  ASSERT_TRUE(ecs.PutAttribute("web", "arn:ci/1", "spotkeeper.lifecycle", "spot").ok());
  EXPECT_EQ(child.request()["name"], "spotkeeper.lifecycle");
  EXPECT_EQ(child.request()["value"], "spot");
}

TEST(RunChildCallTest, ChildFailuresAreErrorsNeverSuccess) {
  {
    FakeChild child("echo 'not json'; exit 1");
    Status s = RunChildCall(child.command(), {{"call", "drain"}});
    EXPECT_EQ(s.code(), StatusCode::kInternal);
    EXPECT_NE(s.message().find("not json"), std::string::npos);
  }
  {
    FakeChild child("exit 0");  // no answer at all
    EXPECT_EQ(RunChildCall(child.command(), {{"call", "drain"}}).code(), StatusCode::kInternal);
  }
  {
    FakeChild child("sleep 30");
    ChildCommand cmd = child.command();
    cmd.timeout = 200ms;
    EXPECT_EQ(RunChildCall(cmd, {{"call", "drain"}}).code(), StatusCode::kDeadlineExceeded);
  }
  Status s = RunChildCall({{"/nonexistent/spotkeeper", "agent-call"}, 5s}, {{"call", "drain"}});
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(s.retryable());
}

// Polls `call` until it finishes (at most 10 s).
Status Await(PendingCall& call) {
  for (int i = 0; i < 1000; ++i) {
    if (auto st = call.Poll()) return *st;
    usleep(10000);
  }
  return DeadlineExceededError("test: call did not finish");
}

TEST(StartChildCallTest, RunsWhileTheCallerGoesOn) {
  // The child answers only once the test creates the file `go`: a start or a
  // poll that waited for the child would never see it raised.
  const std::string go = ::testing::TempDir() + "/spk-go-" + std::to_string(getpid());
  FakeChild child("while [ ! -e " + go + R"( ]; do sleep 0.01; done; echo '{"code":"OK"}')");
  ChildNotifier n(child.command(), {SinkSpec::Type::kSqs, "http://127.0.0.1:9/1/q", {}});
  auto call = n.StartPublish(R"({"a":"b"})", "m-8");
  EXPECT_FALSE(call->Poll().has_value());
  EXPECT_FALSE(call->Poll().has_value());
  std::ofstream(go) << "";
  EXPECT_TRUE(Await(*call).ok());
  EXPECT_TRUE(call->Poll().has_value());
  EXPECT_EQ(child.request()["messageId"], "m-8");

  ChildContainerInstances ecs(child.command());
  auto drain = ecs.StartDrain("web", "arn:ci/1");
  EXPECT_TRUE(Await(*drain).ok());
  EXPECT_EQ(child.request()["call"], "drain");
  auto attr = ecs.StartPutAttribute("web", "arn:ci/1", "spotkeeper.lifecycle", "spot");
  EXPECT_TRUE(Await(*attr).ok());
  EXPECT_EQ(child.request()["value"], "spot");
  std::remove(go.c_str());
}

TEST(StartChildCallTest, FailuresAreErrorsNeverSuccess) {
  {
    FakeChild child("echo 'garbage'");
    auto call = StartChildCall(child.command(), {{"call", "drain"}});
    EXPECT_EQ(Await(*call).code(), StatusCode::kInternal);
  }
  {
    FakeChild child("sleep 30");
    ChildCommand cmd = child.command();
    cmd.timeout = 200ms;
    auto call = StartChildCall(cmd, {{"call", "drain"}});
    EXPECT_EQ(Await(*call).code(), StatusCode::kDeadlineExceeded);
  }
  auto call = StartChildCall({{"/nonexistent/spotkeeper", "agent-call"}, 5s}, {{"call", "drain"}});
  ASSERT_TRUE(call->Poll().has_value());  // finished at once
  EXPECT_EQ(call->Poll()->code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace spk::cloud
