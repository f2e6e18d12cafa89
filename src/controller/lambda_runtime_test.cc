#include "controller/lambda_runtime.h"

#include <gtest/gtest.h>

#include <deque>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/endpoint.h"
#include "base/random.h"
#include "controller/controller_test_util.h"
#include "controller/fake_cloud_view.h"
#include "net/fake_transport.h"

namespace spk::controller {
namespace {

using nlohmann::json;

constexpr char kApi[] = "127.0.0.1:9001";
constexpr char kBase[] = "http://127.0.0.1:9001/2018-06-01";

// A Runtime API: hands out `events` (request id, body) from /next, records
// the posts, answers 202; /next with nothing left fails (connection refused),
// which ends Run().
class FakeRuntimeApi {
 public:
  void Queue(std::string id, std::string body) { events_.emplace_back(std::move(id), body); }

  net::FakeTransport transport{[this](const net::HttpRequest& r) -> Result<net::HttpResponse> {
    if (r.method == "GET" && r.url == std::string(kBase) + "/runtime/invocation/next") {
      if (events_.empty()) return UnavailableError("connection refused");
      auto [id, body] = events_.front();
      events_.pop_front();
      net::HttpResponse reply;
      reply.status = 200;
      reply.body = body;
      reply.headers = {{"Lambda-Runtime-Aws-Request-Id", id},
                       {"Lambda-Runtime-Deadline-Ms", "1700000000000"},
                       {"Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:fn"},
                       {"Lambda-Runtime-Trace-Id", "Root=1-abc"}};
      return reply;
    }
    net::HttpResponse reply;
    reply.status = 202;
    reply.body = "{\"status\":\"OK\"}";
    return reply;
  }};

  std::vector<net::HttpRequest> Posts() const {
    std::vector<net::HttpRequest> posts;
    for (const auto& r : transport.requests()) {
      if (r.method == "POST") posts.push_back(r);
    }
    return posts;
  }

 private:
  std::deque<std::pair<std::string, std::string>> events_;
};

std::string HeaderOf(const net::HttpRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (net::HeaderNameEquals(k, name)) return v;
  }
  return "";
}

TEST(LambdaRuntimeTest, RuntimeApiFromEnv) {
  MapEnv env;
  EXPECT_EQ(LambdaRuntime::RuntimeApiFromEnv(env).status().code(), StatusCode::kFailedPrecondition);
  env.Set("AWS_LAMBDA_RUNTIME_API", kApi);
  auto api = LambdaRuntime::RuntimeApiFromEnv(env);
  ASSERT_TRUE(api.ok());
  EXPECT_EQ(*api, kApi);
}

TEST(LambdaRuntimeTest, NextIsALongPollAndCarriesTheInvocation) {
  FakeRuntimeApi api;
  api.Queue("req-1", "{\"fleetID\":\"sfr-1\"}");
  LambdaRuntime runtime(api.transport, kApi);
  auto next = runtime.Next();
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->request_id, "req-1");
  EXPECT_EQ(next->body, "{\"fleetID\":\"sfr-1\"}");
  EXPECT_EQ(next->deadline_ms, 1700000000000);
  EXPECT_EQ(next->function_arn, "arn:aws:lambda:fn");
  EXPECT_EQ(next->trace_id, "Root=1-abc");
  ASSERT_EQ(api.transport.request_count(), 1u);
  EXPECT_EQ(api.transport.requests()[0].total_timeout.count(), 0);  // no timeout
}

TEST(LambdaRuntimeTest, NextWithoutRequestIdOrWithAnErrorStatusFails) {
  net::FakeTransport http;
  http.Push(200, "{}");
  http.Push(500, "boom", {{"Lambda-Runtime-Aws-Request-Id", "x"}});
  LambdaRuntime runtime(http, kApi);
  EXPECT_FALSE(runtime.Next().ok());
  EXPECT_FALSE(runtime.Next().ok());
}

TEST(LambdaRuntimeTest, NextThenResponseWithTheRequestId) {
  FakeRuntimeApi api;
  api.Queue("req-a", "{\"n\":1}");
  api.Queue("req-b", "{\"n\":2}");
  LambdaRuntime runtime(api.transport, kApi);
  std::vector<std::string> seen;
  Status s = runtime.Run([&](const LambdaInvocation& inv) {
    seen.push_back(inv.request_id);
    return LambdaResult::Response("{\"echo\":" + inv.body + "}");
  });
  // The loop ends only when the API stops answering.
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(runtime.invocations(), 2);
  EXPECT_EQ(seen, (std::vector<std::string>{"req-a", "req-b"}));
  auto posts = api.Posts();
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(posts[0].url, std::string(kBase) + "/runtime/invocation/req-a/response");
  EXPECT_EQ(posts[0].body, "{\"echo\":{\"n\":1}}");
  EXPECT_EQ(posts[1].url, std::string(kBase) + "/runtime/invocation/req-b/response");
  EXPECT_EQ(posts[1].body, "{\"echo\":{\"n\":2}}");
}

TEST(LambdaRuntimeTest, ErrorResultAndExceptionArePostedAsErrorsAndTheLoopGoesOn) {
  FakeRuntimeApi api;
  api.Queue("r1", "bad");
  api.Queue("r2", "throw");
  api.Queue("r3", "good");
  LambdaRuntime runtime(api.transport, kApi);
  LambdaRunOptions options;
  options.max_invocations = 3;
  Status s = runtime.Run(
      [](const LambdaInvocation& inv) {
        if (inv.body == "bad") return LambdaResult::Error("Spotkeeper.InvalidEvent", "not JSON");
        if (inv.body == "throw") throw std::runtime_error("kaput\nsecond line");
        return LambdaResult::Response("{}");
      },
      options);
  EXPECT_TRUE(s.ok()) << s.ToString();
  auto posts = api.Posts();
  ASSERT_EQ(posts.size(), 3u);
  EXPECT_EQ(posts[0].url, std::string(kBase) + "/runtime/invocation/r1/error");
  EXPECT_EQ(HeaderOf(posts[0], "Lambda-Runtime-Function-Error-Type"), "Spotkeeper.InvalidEvent");
  json e = json::parse(posts[0].body);
  EXPECT_EQ(e["errorType"], "Spotkeeper.InvalidEvent");
  EXPECT_EQ(e["errorMessage"], "not JSON");
  EXPECT_EQ(posts[1].url, std::string(kBase) + "/runtime/invocation/r2/error");
  json ex = json::parse(posts[1].body);
  EXPECT_EQ(ex["errorType"], "Spotkeeper.HandlerException");
  EXPECT_EQ(ex["errorMessage"], "kaput second line");
  EXPECT_EQ(posts[2].url, std::string(kBase) + "/runtime/invocation/r3/response");
}

TEST(LambdaRuntimeTest, RejectedResponseBecomesAnError) {
  net::FakeTransport http;
  http.Push(200, "{}", {{"Lambda-Runtime-Aws-Request-Id", "big"}});
  http.Push(413, "{\"errorType\":\"RequestEntityTooLarge\"}");
  http.Push(202, "");
  LambdaRuntime runtime(http, kApi);
  LambdaRunOptions options;
  options.max_invocations = 1;
  Status s =
      runtime.Run([](const LambdaInvocation&) { return LambdaResult::Response("{}"); }, options);
  EXPECT_TRUE(s.ok()) << s.ToString();
  auto requests = http.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[2].url, std::string(kBase) + "/runtime/invocation/big/error");
  EXPECT_EQ(json::parse(requests[2].body)["errorType"], "Spotkeeper.ResponseRejected");
}

TEST(LambdaRuntimeTest, InitError) {
  net::FakeTransport http;
  http.Push(202, "");
  LambdaRuntime runtime(http, kApi);
  Status s = runtime.PostInitError("Spotkeeper.InvalidConfig", "SPOTKEEPER_ON_REBALANCE: panic");
  EXPECT_TRUE(s.ok()) << s.ToString();
  auto requests = http.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].url, std::string(kBase) + "/runtime/init/error");
  EXPECT_EQ(HeaderOf(requests[0], "Lambda-Runtime-Function-Error-Type"),
            "Spotkeeper.InvalidConfig");
  json body = json::parse(requests[0].body);
  EXPECT_EQ(body["errorType"], "Spotkeeper.InvalidConfig");
  EXPECT_EQ(body["errorMessage"], "SPOTKEEPER_ON_REBALANCE: panic");
}

TEST(LambdaRuntimeTest, StopFlagEndsTheLoopBeforeThePoll) {
  net::FakeTransport http;
  LambdaRuntime runtime(http, kApi);
  std::atomic<bool> stop{true};
  LambdaRunOptions options;
  options.stop = &stop;
  EXPECT_TRUE(
      runtime.Run([](const LambdaInvocation&) { return LambdaResult::Response(""); }, options)
          .ok());
  EXPECT_EQ(http.request_count(), 0u);
}

TEST(LambdaRuntimeTest, ErrorBodyIsValidJsonForInvalidUtf8) {
  json body = json::parse(LambdaErrorBody("T", std::string("bad \xff byte")));
  EXPECT_EQ(body["errorType"], "T");
}

// The controller's handler under the loop, in the shared world
// (controller_test_util.h) cut down to one spot instance, i-spot1 = "arn:c1".
class ControllerLambdaTest : public ControllerWorldTest {
 protected:
  void SetUp() override {
    ControllerWorldTest::SetUp();
    SpotSourceRead& fleet = cloud.fleets["sfr-1"];
    fleet.source.weights = {{"c5.2xlarge", 8}};
    fleet.source.instance_ids = {"i-spot1"};
    fleet.instance_types = {{"i-spot1", "c5.2xlarge"}};
    cloud.clusters["web"] = {{"web", "arn:c1", "i-spot1", policy::ContainerStatus::kActive, 3, 0}};
  }
};

TEST_F(ControllerLambdaTest, SnsNoticeIsHandledMalformedIsAnErrorAndTheLoopGoesOn) {
  Handler handler(cloud, config, clock);
  json message = {{"terminationNotificiation", "true"},
                  {"instanceId", "i-spot1"},
                  {"instanceType", "c5.2xlarge"},
                  {"ecsCluster", "web"},
                  {"ecsContainer", "arn:c1"}};
  json sns = {{"Records", {{{"EventSource", "aws:sns"}, {"Sns", {{"Message", message.dump()}}}}}}};
  FakeRuntimeApi api;
  api.Queue("bad", "{\"Records\": [");
  api.Queue("unknown", "{\"hello\": 1}");
  api.Queue("sns", sns.dump());
  api.Queue("direct", "{\"fleetID\": \"sfr-1\"}");
  LambdaRuntime runtime(api.transport, kApi);
  LambdaRunOptions options;
  options.max_invocations = 4;
  ASSERT_TRUE(runtime.Run(MakeControllerLambdaHandler(handler), options).ok());

  auto posts = api.Posts();
  ASSERT_EQ(posts.size(), 4u);
  EXPECT_EQ(posts[0].url, std::string(kBase) + "/runtime/invocation/bad/error");
  EXPECT_EQ(json::parse(posts[0].body)["errorType"], "Spotkeeper.InvalidEvent");
  EXPECT_NE(json::parse(posts[0].body)["errorMessage"].get<std::string>().find("not JSON"),
            std::string::npos);
  EXPECT_EQ(posts[1].url, std::string(kBase) + "/runtime/invocation/unknown/error");
  EXPECT_EQ(posts[2].url, std::string(kBase) + "/runtime/invocation/sns/response");
  json report = json::parse(posts[2].body);
  EXPECT_EQ(report["event"]["kind"], "notice");
  EXPECT_EQ(report["fast_path"].size(), 1u);
  EXPECT_EQ(cloud.Find("web", "arn:c1")->status, policy::ContainerStatus::kDraining);
  EXPECT_EQ(posts[3].url, std::string(kBase) + "/runtime/invocation/direct/response");
  EXPECT_EQ(json::parse(posts[3].body)["event"]["kind"], "direct");
}

TEST_F(ControllerLambdaTest, FailedReadIsAnErrorSoTheInvocationIsRetried) {
  cloud.failures["ReadSpotFleet"] = UnavailableError("throttled");
  Handler handler(cloud, config, clock);
  LambdaHandlerFn fn = MakeControllerLambdaHandler(handler);
  LambdaInvocation inv;
  inv.request_id = "r";
  inv.body = "{\"fleetID\": \"sfr-1\"}";
  LambdaResult result = fn(inv);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error_type, "Spotkeeper.HandlingFailed");
}

TEST_F(ControllerLambdaTest, SqsBatchIsHandledTogetherAndNamesTheRecordsToLeave) {
  cloud.clusters["web"].push_back(
      {"web", "arn:c2", "i-spot2", policy::ContainerStatus::kActive, 1, 0});
  cloud.fleets["sfr-1"].source.instance_ids.push_back("i-spot2");
  cloud.fleets["sfr-1"].instance_types["i-spot2"] = "c5.2xlarge";
  Handler handler(cloud, config, clock);
  auto notice = [](const std::string& instance, const std::string& arn) {
    return json{{"terminationNotificiation", "true"},
                {"instanceId", instance},
                {"instanceType", "c5.2xlarge"},
                {"ecsCluster", "web"},
                {"ecsContainer", arn}}
        .dump();
  };
  auto record = [](const std::string& id, const std::string& body) {
    return json{{"messageId", id}, {"body", body}, {"eventSource", "aws:sqs"}};
  };
  json batch = {
      {"Records",
       {record("m1", notice("i-spot1", "arn:c1")), record("m2", "{\"hello\": 1}"),
        record("m3", notice("i-spot2", "arn:c2")), record("m4", notice("i-spot1", "arn:c1"))}}};
  LambdaHandlerFn fn = MakeControllerLambdaHandler(handler);
  LambdaResult result = fn({"r1", batch.dump()});
  ASSERT_TRUE(result.ok) << result.error_message;
  // Only the unsupported record stays in the queue (for the dead-letter queue).
  EXPECT_EQ(json::parse(result.payload),
            (json{{"batchItemFailures", {{{"itemIdentifier", "m2"}}}}}));
  // Both noticed instances drained in one call; 2 x weight 8 over 4 vCPUs.
  EXPECT_EQ(cloud.Find("web", "arn:c1")->status, policy::ContainerStatus::kDraining);
  EXPECT_EQ(cloud.Find("web", "arn:c2")->status, policy::ContainerStatus::kDraining);
  int drains = 0;
  for (const policy::Action& a : cloud.applied) {
    drains += std::holds_alternative<policy::DrainContainerInstances>(a.what);
  }
  EXPECT_EQ(drains, 1);
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 4);

  // A failed handling leaves every record that is not a duplicate.
  cloud.failures["ReadOnDemandGroup"] = UnavailableError("Throttling");
  json again = {
      {"Records",
       {record("m5", "{\"fleetID\": \"sfr-1\"}"), record("m6", notice("i-spot1", "arn:c1"))}}};
  LambdaResult failed = fn({"r2", again.dump()});
  ASSERT_TRUE(failed.ok);
  EXPECT_EQ(json::parse(failed.payload),
            (json{{"batchItemFailures", {{{"itemIdentifier", "m5"}}}}}));
}

TEST_F(ControllerLambdaTest, StateChangesAndHealthEventsInOneSqsBatch) {
  cloud.clusters["web"].push_back(
      {"web", "arn:c2", "i-spot2", policy::ContainerStatus::kActive, 1, 0});
  Handler handler(cloud, config, clock);
  auto state = [](const std::string& instance, const std::string& to) {
    return json{{"version", "0"},
                {"id", "sc-" + instance + "-" + to},
                {"detail-type", "EC2 Instance State-change Notification"},
                {"source", "aws.ec2"},
                {"time", "2024-01-01T00:00:00Z"},
                {"resources", {"arn:aws:ec2:us-east-1:123456789012:instance/" + instance}},
                {"detail", {{"instance-id", instance}, {"state", to}}}}
        .dump();
  };
  auto health = [](const std::string& service, const std::string& code) {
    return json{{"version", "0"},
                {"id", "h-" + code},
                {"detail-type", "AWS Health Event"},
                {"source", "aws.health"},
                {"resources", {"i-spot2"}},
                {"detail",
                 {{"service", service},
                  {"eventTypeCode", code},
                  {"eventTypeCategory", "scheduledChange"},
                  {"startTime", "Wed, 05 Apr 2023 12:00:00 GMT"},
                  {"affectedEntities", {{{"entityValue", "i-spot2"}}}}}}}
        .dump();
  };
  auto record = [](const std::string& id, const std::string& body) {
    return json{{"messageId", id}, {"body", body}, {"eventSource", "aws:sqs"}};
  };
  json batch = {{"Records",
                 {record("m1", state("i-spot1", "stopping")), record("m2", state("i-spot2", "running")),
                  record("m3", state("i-gone", "terminated")),
                  record("m4", health("EC2", "AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED")),
                  record("m5", health("RDS", "AWS_RDS_MAINTENANCE_SCHEDULED"))}}};
  LambdaHandlerFn fn = MakeControllerLambdaHandler(handler);
  LambdaResult result = fn({"r1", batch.dump()});
  ASSERT_TRUE(result.ok) << result.error_message;
  // Every record answered: none left for redelivery.
  EXPECT_EQ(json::parse(result.payload), (json{{"batchItemFailures", json::array()}}));
  EXPECT_EQ(cloud.Find("web", "arn:c1")->status, policy::ContainerStatus::kDraining);
  EXPECT_EQ(cloud.Find("web", "arn:c1")->attributes[kNoticeAttribute].rfind("instance-stopping@", 0),
            0u);
  // The retirement is recorded as scheduled maintenance, dated at its start.
  EXPECT_EQ(cloud.Find("web", "arn:c2")->attributes[kNoticeAttribute],
            "scheduled-maintenance@2023-04-05T12:00:00Z");
}

TEST_F(ControllerLambdaTest, ThrowingBatchNamesEveryRecordAndTheRuntimeGoesOn) {
  Handler handler(cloud, config, clock);
  json notice = {{"terminationNotificiation", "true"},
                 {"instanceId", "i-spot1"},
                 {"instanceType", "c5.2xlarge"},
                 {"ecsCluster", "web"},
                 {"ecsContainer", "arn:c1"}};
  auto record = [](const std::string& id, const std::string& body) {
    return json{{"messageId", id}, {"body", body}, {"eventSource", "aws:sqs"}};
  };
  json batch = {{"Records",
                 {record("m1", notice.dump()), record("m2", "{\"hello\": 1}"),
                  record("m3", "{\"fleetID\": \"sfr-1\"}")}}};
  cloud.throws["DescribeContainerInstances"] = "boom";
  FakeRuntimeApi api;
  api.Queue("r1", batch.dump());
  api.Queue("r2", batch.dump());
  api.Queue("r3", "{\"fleetID\": \"sfr-1\"}");
  LambdaRuntime runtime(api.transport, kApi);
  LambdaRunOptions options;
  options.max_invocations = 1;
  LambdaHandlerFn fn = MakeControllerLambdaHandler(handler);
  ASSERT_TRUE(runtime.Run(fn, options).ok());
  auto posts = api.Posts();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].url, std::string(kBase) + "/runtime/invocation/r1/response");
  // Every record is left: the unsupported one, and those whose handling threw.
  EXPECT_EQ(
      json::parse(posts[0].body),
      (json{
          {"batchItemFailures",
           {{{"itemIdentifier", "m2"}}, {{"itemIdentifier", "m1"}}, {{"itemIdentifier", "m3"}}}}}))
      << posts[0].body;
  EXPECT_EQ(cloud.Find("web", "arn:c1")->status, policy::ContainerStatus::kActive);
  // The redelivered batch is handled (not taken for duplicates), and the
  // runtime goes on serving.
  cloud.throws.clear();
  options.max_invocations = 3;  // counted over the runtime's life
  ASSERT_TRUE(runtime.Run(fn, options).ok());
  posts = api.Posts();
  ASSERT_EQ(posts.size(), 3u);
  EXPECT_EQ(json::parse(posts[1].body), (json{{"batchItemFailures", {{{"itemIdentifier", "m2"}}}}}))
      << posts[1].body;
  EXPECT_EQ(cloud.Find("web", "arn:c1")->status, policy::ContainerStatus::kDraining);
  EXPECT_EQ(posts[2].url, std::string(kBase) + "/runtime/invocation/r3/response");
}

// --- the time budget (issue 11) ---

constexpr char kQueueArn[] = "arn:aws:sqs:us-east-1:123456789012:notices";

class LambdaBudgetTest : public ControllerLambdaTest {
 protected:
  struct Redelivery {
    std::string arn;
    std::string message_id;
    std::string receipt_handle;
    Duration delay;
    std::optional<MonoTime> call_deadline;  // the client's, during the call
  };

  void SetUp() override {
    ControllerLambdaTest::SetUp();
    options.clock = &clock;
    options.client = &client;
    options.redeliver = [this](const std::string& arn, const QueueMessage& m, Duration delay) {
      redeliveries.push_back({arn, m.id, m.receipt_handle, delay, client.call_deadline()});
      return redeliver_status;
    };
  }

  static json Notice() {
    return json{{"terminationNotificiation", "true"},
                {"instanceId", "i-spot1"},
                {"instanceType", "c5.2xlarge"},
                {"ecsCluster", "web"},
                {"ecsContainer", "arn:c1"}};
  }
  static json Record(const std::string& id, const std::string& body, int receive_count) {
    return json{{"messageId", id},
                {"receiptHandle", "rh-" + id},
                {"body", body},
                {"attributes", {{"ApproximateReceiveCount", std::to_string(receive_count)}}},
                {"eventSourceARN", kQueueArn},
                {"eventSource", "aws:sqs"}};
  }
  // An invocation whose deadline is `left` from now.
  LambdaInvocation Invocation(const std::string& body, Duration left) const {
    LambdaInvocation inv;
    inv.request_id = "r";
    inv.body = body;
    inv.deadline_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          clock.WallNow().time_since_epoch() + left)
                          .count();
    return inv;
  }
  static json Failures(const LambdaResult& result) {
    return json::parse(result.payload)["batchItemFailures"];
  }
  static json Ids(std::initializer_list<const char*> ids) {
    json out = json::array();
    for (const char* id : ids) out.push_back({{"itemIdentifier", id}});
    return out;
  }

  net::FakeTransport http;
  SeededRandom random{1};
  MapEnv env;
  aws::EndpointResolver endpoints{env, "us-east-1"};
  aws::EnvironmentProvider credentials{env};
  aws::AwsClient client{http, clock, random, credentials, endpoints};
  LambdaHandlerOptions options;
  std::vector<Redelivery> redeliveries;
  Status redeliver_status;
};

// 6 s to the deadline - the 5 s reserve = 1 s, less than a phase needs: the
// batch is not started; its parsed messages are reported and made visible
// again after the controller's backoff for their receive count; the
// unparseable one is left alone (for the dead-letter queue).
TEST_F(LambdaBudgetTest, BatchWithoutTimeLeftIsNotStartedAndComesBackInSeconds) {
  Handler handler(cloud, config, clock);
  json batch = {{"Records",
                 {Record("m1", Notice().dump(), 1), Record("m2", "{\"hello\": 1}", 1),
                  Record("m3", "{\"fleetID\": \"sfr-1\"}", 3)}}};
  LambdaResult result = MakeControllerLambdaHandler(
      handler, options)(Invocation(batch.dump(), std::chrono::seconds(6)));
  ASSERT_TRUE(result.ok) << result.error_message;
  EXPECT_EQ(Failures(result), Ids({"m2", "m1", "m3"})) << result.payload;
  EXPECT_TRUE(cloud.calls.empty());  // no AWS call started
  EXPECT_EQ(cloud.Find("web", "arn:c1")->status, policy::ContainerStatus::kActive);
  ASSERT_EQ(redeliveries.size(), 2u);
  EXPECT_EQ(redeliveries[0].arn, kQueueArn);
  EXPECT_EQ(redeliveries[0].message_id, "m1");
  EXPECT_EQ(redeliveries[0].receipt_handle, "rh-m1");
  EXPECT_EQ(redeliveries[0].delay, std::chrono::seconds(5));
  EXPECT_EQ(redeliveries[1].message_id, "m3");
  EXPECT_EQ(redeliveries[1].delay, std::chrono::seconds(20));  // 5 s x 2^(3-1)
  // The redeliveries' calls end 1 s before the invocation's deadline.
  EXPECT_EQ(redeliveries[0].call_deadline, clock.MonotonicNow() + std::chrono::seconds(5));
  EXPECT_FALSE(client.call_deadline().has_value());  // restored after the invocation
}

// The admission (the drain) takes most of the budget: the decision is not
// started, the notice is reported and redelivered soon, and its redelivery
// (with time enough) is handled, not taken for a duplicate.
TEST_F(LambdaBudgetTest, DecisionNotStartedWhenTheAdmissionUsedTheBudget) {
  Handler handler(cloud, config, clock);
  std::vector<std::optional<MonoTime>> deadlines_seen;
  cloud.before = [&](const std::string& method) {
    deadlines_seen.push_back(client.call_deadline());
    if (method == "Apply") clock.Advance(std::chrono::seconds(9));
  };
  const MonoTime start = clock.MonotonicNow();
  LambdaHandlerFn fn = MakeControllerLambdaHandler(handler, options);
  json batch = {{"Records", {Record("m1", Notice().dump(), 1)}}};
  LambdaResult result = fn(Invocation(batch.dump(), std::chrono::seconds(15)));
  ASSERT_TRUE(result.ok) << result.error_message;
  EXPECT_EQ(Failures(result), Ids({"m1"})) << result.payload;
  EXPECT_EQ(cloud.Find("web", "arn:c1")->status, policy::ContainerStatus::kDraining);
  EXPECT_EQ(cloud.calls["ReadSpotFleet"], 0);  // no decision
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 0);
  ASSERT_EQ(redeliveries.size(), 1u);
  EXPECT_EQ(redeliveries[0].delay, std::chrono::seconds(5));
  // Every call of the work had the budget's end as its deadline: 15 s - 5 s.
  ASSERT_FALSE(deadlines_seen.empty());
  for (const auto& d : deadlines_seen) EXPECT_EQ(d, start + std::chrono::seconds(10));

  cloud.before = nullptr;
  result = fn(Invocation(batch.dump(), std::chrono::seconds(60)));
  ASSERT_TRUE(result.ok) << result.error_message;
  EXPECT_EQ(Failures(result), json::array()) << result.payload;
  EXPECT_GT(cloud.calls["ReadSpotFleet"], 0);
  EXPECT_EQ(cloud.on_demand_groups["od"].group.desired_capacity, 2);  // weight 8 over 4 vCPUs
  EXPECT_EQ(redeliveries.size(), 1u);
}

// A failed ChangeMessageVisibility is logged; the answer is the same.
TEST_F(LambdaBudgetTest, FailedRedeliveryDoesNotChangeTheAnswer) {
  cloud.failures["ReadOnDemandGroup"] = UnavailableError("Throttling");
  redeliver_status = UnavailableError("sqs ChangeMessageVisibility: timed out");
  Handler handler(cloud, config, clock);
  json batch = {{"Records", {Record("m1", Notice().dump(), 2), Record("m2", "{\"hello\": 1}", 1)}}};
  LambdaResult result = MakeControllerLambdaHandler(
      handler, options)(Invocation(batch.dump(), std::chrono::seconds(60)));
  ASSERT_TRUE(result.ok) << result.error_message;
  EXPECT_EQ(Failures(result), Ids({"m2", "m1"})) << result.payload;
  ASSERT_EQ(redeliveries.size(), 1u);
  EXPECT_EQ(redeliveries[0].delay, std::chrono::seconds(10));
}

// Without a deadline (or a clock) there is no budget: handled as before, and
// a retry_backoff of 0 leaves the visibility alone.
TEST_F(LambdaBudgetTest, NoDeadlineNoBudget) {
  Handler handler(cloud, config, clock);
  std::vector<std::optional<MonoTime>> deadlines_seen;
  cloud.before = [&](const std::string&) { deadlines_seen.push_back(client.call_deadline()); };
  LambdaInvocation inv = Invocation(json{{"Records", {Record("m1", Notice().dump(), 1)}}}.dump(),
                                    std::chrono::seconds(1));
  inv.deadline_ms.reset();
  LambdaResult result = MakeControllerLambdaHandler(handler, options)(inv);
  EXPECT_EQ(Failures(result), json::array()) << result.payload;
  ASSERT_FALSE(deadlines_seen.empty());
  for (const auto& d : deadlines_seen) EXPECT_FALSE(d.has_value());

  cloud.failures["ReadOnDemandGroup"] = UnavailableError("Throttling");
  options.retry_backoff = Duration::zero();
  inv.body = json{{"Records", {Record("m2", "{\"fleetID\": \"sfr-1\"}", 1)}}}.dump();
  result = MakeControllerLambdaHandler(handler, options)(inv);
  EXPECT_EQ(Failures(result), Ids({"m2"})) << result.payload;
  EXPECT_TRUE(redeliveries.empty());
}

// A deadline more than a day away (or before) is ignored, never overflows:
// no budget. One in the past (less than a day): nothing starts.
TEST_F(LambdaBudgetTest, ImplausibleDeadlineIsIgnoredAndAPastOneStartsNothing) {
  Handler handler(cloud, config, clock);
  LambdaHandlerFn fn = MakeControllerLambdaHandler(handler, options);
  LambdaInvocation inv = Invocation("{\"fleetID\": \"sfr-1\"}", std::chrono::seconds(0));
  for (int64_t wild : {INT64_MAX, INT64_MIN, int64_t{0}, int64_t{-1}}) {
    inv.deadline_ms = wild;
    LambdaResult result = fn(inv);
    EXPECT_TRUE(result.ok) << wild << ": " << result.error_message;
  }
  inv = Invocation("{\"fleetID\": \"sfr-1\"}", -std::chrono::hours(1));
  LambdaResult result = fn(inv);
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error_message.find("not started: 0 ms left"), std::string::npos)
      << result.error_message;
}

// A single event (SNS, an alarm, {"fleetID"}) without time left is an error
// at once, so that Lambda retries it; nothing is called.
TEST_F(LambdaBudgetTest, SingleEventWithoutTimeLeftIsAHandlingFailure) {
  Handler handler(cloud, config, clock);
  LambdaResult result = MakeControllerLambdaHandler(
      handler, options)(Invocation("{\"fleetID\": \"sfr-1\"}", std::chrono::milliseconds(6500)));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error_type, "Spotkeeper.HandlingFailed");
  EXPECT_NE(result.error_message.find("not started: 1500 ms left"), std::string::npos)
      << result.error_message;
  EXPECT_TRUE(cloud.calls.empty());
  // With time: handled, its calls bounded by the budget.
  std::vector<std::optional<MonoTime>> deadlines_seen;
  cloud.before = [&](const std::string&) { deadlines_seen.push_back(client.call_deadline()); };
  const MonoTime start = clock.MonotonicNow();
  result = MakeControllerLambdaHandler(
      handler, options)(Invocation("{\"fleetID\": \"sfr-1\"}", std::chrono::seconds(30)));
  EXPECT_TRUE(result.ok) << result.error_message;
  ASSERT_FALSE(deadlines_seen.empty());
  for (const auto& d : deadlines_seen) EXPECT_EQ(d, start + std::chrono::seconds(25));
  EXPECT_FALSE(client.call_deadline().has_value());
}

}  // namespace
}  // namespace spk::controller
