#include "aws/client.h"

#include <gtest/gtest.h>

#include <string>

#include "base/env.h"
#include "net/fake_transport.h"

namespace spk::aws {
namespace {

using net::HttpRequest;

class StaticCredentials final : public CredentialProvider {
 public:
  Result<Credentials> Resolve() override {
    if (!fail.ok()) return fail;
    return creds;
  }
  std::string name() const override { return "static"; }

  Credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", std::nullopt,
                    "test"};
  Status fail;
};

int CountHeaders(const HttpRequest& r, const std::string& name) {
  int n = 0;
  for (const auto& [k, v] : r.headers) n += net::HeaderNameEquals(k, name) ? 1 : 0;
  return n;
}

std::string HeaderOf(const HttpRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (net::HeaderNameEquals(k, name)) return v;
  }
  return "";
}

constexpr const char* kThrottleJson =
    R"({"__type":"ThrottlingException","message":"Rate exceeded"})";
constexpr const char* kOkXml =
    "<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
    "<requestId>req-ok</requestId><reservationSet/></DescribeInstancesResponse>";
constexpr const char* kUnavailableXml =
    "<ErrorResponse><Error><Code>ServiceUnavailable</Code><Message>busy</Message></Error>"
    "<RequestId>r503</RequestId></ErrorResponse>";

class AwsClientTest : public ::testing::Test {
 protected:
  explicit AwsClientTest(std::string endpoint = "http://127.0.0.1:1")
      : env_({{"AWS_ENDPOINT_URL", std::move(endpoint)}}),
        endpoints_(env_, "us-east-1"),
        client_(http_, clock_, random_, credentials_, endpoints_) {}

  Result<nlohmann::json> DescribeClusters() {
    return client_.CallJson(services::Ecs(), "DescribeClusters", {{"clusters", {"prod"}}});
  }

  net::FakeTransport http_;
  ManualClock clock_;
  SeededRandom random_{1};
  StaticCredentials credentials_;
  MapEnv env_;
  EndpointResolver endpoints_;
  AwsClient client_;
};

TEST_F(AwsClientTest, QueryRequestShape) {
  http_.Push(200, kOkXml);
  auto reply = client_.CallQuery(services::Ec2(), "DescribeInstances",
                                 {{"InstanceId.1", "i-1 2"},
                                  {"Filter.1.Name", "instance-state-name"},
                                  {"Filter.1.Value.1", "running/*"}});
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(XmlChildText(**reply, "requestId"), "req-ok");
  EXPECT_TRUE((*reply)->child("DescribeInstancesResponse"));

  ASSERT_EQ(http_.request_count(), 1u);
  HttpRequest r = http_.requests()[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "http://127.0.0.1:1/");
  EXPECT_EQ(r.body,
            "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=instance-state-name"
            "&Filter.1.Value.1=running%2F%2A&InstanceId.1=i-1+2");
  EXPECT_EQ(HeaderOf(r, "Content-Type"), "application/x-www-form-urlencoded; charset=utf-8");
  EXPECT_EQ(HeaderOf(r, "User-Agent"), "spotkeeper");
  EXPECT_EQ(HeaderOf(r, "X-Amz-Date"), "20240101T000000Z");
  EXPECT_EQ(CountHeaders(r, "X-Amz-Target"), 0);
  EXPECT_EQ(CountHeaders(r, "X-Amz-Security-Token"), 0);
  EXPECT_EQ(
      HeaderOf(r, "Authorization")
          .rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/ec2/aws4_request", 0),
      0u)
      << HeaderOf(r, "Authorization");
  EXPECT_EQ(r.connect_timeout, std::chrono::milliseconds(3000));
  EXPECT_EQ(r.total_timeout, std::chrono::milliseconds(20000));
  EXPECT_EQ(client_.stats().calls, 1);
  EXPECT_EQ(client_.stats().attempts, 1);
  EXPECT_EQ(client_.stats().errors, 0);
}

TEST_F(AwsClientTest, JsonRequestShape) {
  http_.Push(200, R"({"clusters":[{"clusterName":"prod","status":"ACTIVE"}],"failures":[]})",
             {{"x-amzn-RequestId", "abc"}});
  auto reply = DescribeClusters();
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ((*reply)["clusters"][0]["status"], "ACTIVE");

  HttpRequest r = http_.requests().at(0);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "http://127.0.0.1:1/");
  EXPECT_EQ(nlohmann::json::parse(r.body), nlohmann::json({{"clusters", {"prod"}}}));
  EXPECT_EQ(HeaderOf(r, "Content-Type"), "application/x-amz-json-1.1");
  EXPECT_EQ(HeaderOf(r, "X-Amz-Target"), "AmazonEC2ContainerServiceV20141113.DescribeClusters");
  EXPECT_NE(HeaderOf(r, "Authorization").find("/us-east-1/ecs/aws4_request"), std::string::npos);
  EXPECT_NE(HeaderOf(r, "Authorization").find("x-amz-target"), std::string::npos)
      << "X-Amz-Target must be signed";
}

TEST_F(AwsClientTest, PerCallTimeoutOverridesTheClients) {
  http_.Push(200, "{}");
  http_.Push(200, "{}");
  CallOptions long_poll;
  long_poll.timeout = std::chrono::seconds(30);
  ASSERT_TRUE(client_.CallJson(services::Sqs(), "ReceiveMessage", {}, long_poll).ok());
  ASSERT_TRUE(client_.CallJson(services::Sqs(), "ReceiveMessage", {}).ok());
  ASSERT_EQ(http_.request_count(), 2u);
  EXPECT_EQ(http_.requests()[0].total_timeout, std::chrono::seconds(30));
  EXPECT_EQ(http_.requests()[1].total_timeout, ClientOptions().timeout);
}

TEST_F(AwsClientTest, JsonNullBodyAndEmptyReply) {
  credentials_.creds.session_token = "TOKEN";
  http_.Push(200, "");
  auto reply = client_.CallJson(services::Sqs(), "ListQueues", nullptr);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(*reply, nlohmann::json::object());
  HttpRequest r = http_.requests().at(0);
  EXPECT_EQ(r.body, "{}");
  EXPECT_EQ(HeaderOf(r, "Content-Type"), "application/x-amz-json-1.0");
  EXPECT_EQ(HeaderOf(r, "X-Amz-Target"), "AmazonSQS.ListQueues");
  EXPECT_EQ(HeaderOf(r, "X-Amz-Security-Token"), "TOKEN");
}

TEST_F(AwsClientTest, BrokenSuccessBodiesAreInternal) {
  http_.Push(200, "<html><body>captive portal");
  auto xml = client_.CallQuery(services::Ec2(), "DescribeInstances", {});
  ASSERT_FALSE(xml.ok());
  EXPECT_EQ(xml.status().code(), StatusCode::kInternal);
  EXPECT_NE(xml.status().message().find("captive portal"), std::string::npos);

  http_.Push(200, "not json");
  auto json = DescribeClusters();
  ASSERT_FALSE(json.ok());
  EXPECT_EQ(json.status().code(), StatusCode::kInternal);
  EXPECT_NE(json.status().message().find("not json"), std::string::npos);
  EXPECT_EQ(http_.request_count(), 2u);  // not retried
  EXPECT_EQ(client_.stats().errors, 2);
}

TEST_F(AwsClientTest, ErrorReplyMapped) {
  http_.Push(
      400,
      R"({"__type":"com.amazonaws.ecs#ClusterNotFoundException","message":"Cluster not found."})",
      {{"x-amzn-RequestId", "rid"}});
  auto reply = DescribeClusters();
  ASSERT_FALSE(reply.ok());
  const Status& s = reply.status();
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "ecs DescribeClusters: ClusterNotFoundException: Cluster not found.");
  ASSERT_TRUE(s.remote());
  EXPECT_EQ(s.remote()->service, "ecs");
  EXPECT_EQ(s.remote()->error_code, "ClusterNotFoundException");
  EXPECT_EQ(s.remote()->http_status, 400);
  EXPECT_EQ(s.remote()->request_id, "rid");
  EXPECT_EQ(http_.request_count(), 1u);
  EXPECT_EQ(client_.stats().errors, 1);
}

TEST_F(AwsClientTest, ThrottlingThenSuccess) {
  http_.Push(400, kThrottleJson);
  http_.Push(200, "{}");
  auto reply = DescribeClusters();
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(http_.request_count(), 2u);
  EXPECT_EQ(client_.stats().attempts, 2);
  EXPECT_EQ(client_.stats().retries, 1);
  EXPECT_GT(clock_.slept(), Duration::zero());
  EXPECT_LT(clock_.slept(), std::chrono::seconds(1));
  EXPECT_EQ(client_.quota().available(), 500);  // 5 taken, 5 refunded
  // Each attempt is signed afresh: one Authorization header, never two.
  for (const auto& r : http_.requests()) EXPECT_EQ(CountHeaders(r, "Authorization"), 1);
}

TEST_F(AwsClientTest, Unavailable503ThreeTimesFails) {
  for (int i = 0; i < 3; ++i) http_.Push(503, kUnavailableXml);
  http_.Push(200, kOkXml);  // never reached
  auto reply = client_.CallQuery(services::Ec2(), "DescribeInstances", {});
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(reply.status().message().find("after 3 attempts"), std::string::npos)
      << reply.status().message();
  ASSERT_TRUE(reply.status().remote());
  EXPECT_EQ(reply.status().remote()->request_id, "r503");
  EXPECT_EQ(http_.request_count(), 3u);
  EXPECT_EQ(client_.stats().retries, 2);
  EXPECT_EQ(client_.stats().errors, 1);
  EXPECT_EQ(client_.quota().available(), 490);
}

TEST_F(AwsClientTest, ValidationErrorNotRetried) {
  http_.Push(400,
             "<ErrorResponse><Error><Code>ValidationError</Code><Message>bad</Message></Error>"
             "</ErrorResponse>");
  auto reply = client_.CallQuery(services::AutoScaling(), "SetDesiredCapacity", {});
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(reply.status().message(), "autoscaling SetDesiredCapacity: ValidationError: bad");
  EXPECT_EQ(http_.request_count(), 1u);
  EXPECT_EQ(clock_.slept(), Duration::zero());
  EXPECT_EQ(client_.quota().available(), 500);
}

TEST_F(AwsClientTest, FailedCallsCountedByServiceAndCode) {
  http_.Push(400,
             "<ErrorResponse><Error><Code>ValidationError</Code><Message>bad</Message></Error>"
             "</ErrorResponse>");
  EXPECT_FALSE(client_.CallQuery(services::AutoScaling(), "SetDesiredCapacity", {}).ok());
  http_.Push(400,
             "<ErrorResponse><Error><Code>ValidationError</Code><Message>bad</Message></Error>"
             "</ErrorResponse>");
  EXPECT_FALSE(client_.CallQuery(services::AutoScaling(), "SetDesiredCapacity", {}).ok());
  http_.Push(InvalidArgumentError("bad url"));
  EXPECT_FALSE(DescribeClusters().ok());
  auto counts = client_.stats().ErrorsByCode();
  EXPECT_EQ((counts[{"autoscaling", "ValidationError"}]), 2);
  EXPECT_EQ((counts[{"ecs", "INVALID_ARGUMENT"}]), 1);
  EXPECT_EQ(client_.stats().errors, 3);
}

TEST_F(AwsClientTest, AuthErrorNotRetried) {
  http_.Push(403,
             "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code></Error></ErrorResponse>");
  auto reply = client_.CallQuery(services::Ec2(), "DescribeInstances", {});
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(http_.request_count(), 1u);
}

TEST_F(AwsClientTest, AccessDeniedNotRetried) {
  http_.Push(400, R"({"__type":"AccessDeniedException","message":"no"})");
  auto reply = DescribeClusters();
  EXPECT_EQ(reply.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(http_.request_count(), 1u);
}

TEST_F(AwsClientTest, ClockSkewCorrected) {
  // The server's clock is an hour ahead of ours.
  http_.Push(400,
             "<Response><Errors><Error><Code>RequestExpired</Code><Message>Request has expired."
             "</Message></Error></Errors><RequestID>x</RequestID></Response>",
             {{"Date", "Mon, 01 Jan 2024 01:00:00 GMT"}});
  http_.SetHandler([](const HttpRequest& r) -> Result<net::HttpResponse> {
    net::HttpResponse ok;
    if (HeaderOf(r, "X-Amz-Date") != "20240101T010000Z") {
      ok.status = 400;
      ok.body = "<Response><Errors><Error><Code>RequestExpired</Code></Error></Errors></Response>";
      return ok;
    }
    ok.status = 200;
    ok.body = kOkXml;
    return ok;
  });
  auto reply = client_.CallQuery(services::Ec2(), "DescribeInstances", {});
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  auto requests = http_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(HeaderOf(requests[0], "X-Amz-Date"), "20240101T000000Z");
  EXPECT_EQ(HeaderOf(requests[1], "X-Amz-Date"), "20240101T010000Z");
  EXPECT_NE(HeaderOf(requests[1], "Authorization").find("Credential=AKIDEXAMPLE/20240101/"),
            std::string::npos);
  EXPECT_EQ(client_.clock_skew(), std::chrono::hours(1));
  EXPECT_EQ(client_.stats().attempts, 2);

  // Later calls keep the correction.
  http_.Push(200, kOkXml);
  ASSERT_TRUE(client_.CallQuery(services::Ec2(), "DescribeInstances", {}).ok());
  EXPECT_EQ(HeaderOf(http_.requests().at(2), "X-Amz-Date"), "20240101T010000Z");
}

TEST_F(AwsClientTest, ClockSkewWithoutDateHeaderNotRetried) {
  http_.Push(403, R"({"__type":"RequestTimeTooSkewed"})");
  auto reply = DescribeClusters();
  EXPECT_EQ(reply.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(http_.request_count(), 1u);
  EXPECT_EQ(client_.clock_skew(), Duration::zero());
}

TEST_F(AwsClientTest, TransportUnavailableRetried) {
  http_.Push(UnavailableError("connection refused"));
  http_.Push(200, "{}");
  auto reply = DescribeClusters();
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(http_.request_count(), 2u);
  EXPECT_EQ(client_.stats().retries, 1);
}

TEST_F(AwsClientTest, TransportTimeoutRetriedAtTimeoutCost) {
  http_.Push(DeadlineExceededError("timed out"));
  http_.Push(DeadlineExceededError("timed out"));
  http_.Push(DeadlineExceededError("timed out"));
  auto reply = DescribeClusters();
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(reply.status().message().find("ecs DescribeClusters: timed out"), std::string::npos);
  EXPECT_EQ(http_.request_count(), 3u);
  EXPECT_EQ(client_.quota().available(), 480);
}

TEST_F(AwsClientTest, TransportInvalidArgumentNotRetried) {
  http_.Push(InvalidArgumentError("bad URL"));
  EXPECT_EQ(DescribeClusters().status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(http_.request_count(), 1u);
}

TEST_F(AwsClientTest, CredentialFailureSendsNothing) {
  credentials_.fail = UnauthenticatedError("no credentials: environment, profile, imds");
  auto reply = DescribeClusters();
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(reply.status().message().find("no credentials"), std::string::npos);
  EXPECT_EQ(http_.request_count(), 0u);
  EXPECT_EQ(client_.stats().attempts, 0);
  EXPECT_EQ(client_.stats().errors, 1);
}

TEST_F(AwsClientTest, QuotaStopsRetryStorm) {
  http_.SetHandler([](const HttpRequest&) -> Result<net::HttpResponse> {
    net::HttpResponse r;
    r.status = 503;
    r.body = kUnavailableXml;
    return r;
  });
  // Each failing call takes 2 retries at 5: the 500 bucket pays for 50 such calls.
  for (int call = 0; call < 50; ++call) {
    size_t before = http_.request_count();
    auto reply = client_.CallQuery(services::Ec2(), "DescribeInstances", {});
    ASSERT_FALSE(reply.ok());
    ASSERT_EQ(http_.request_count() - before, 3u) << "call " << call;
  }
  EXPECT_EQ(client_.quota().available(), 0);
  for (int call = 0; call < 20; ++call) {
    size_t before = http_.request_count();
    auto reply = client_.CallQuery(services::Ec2(), "DescribeInstances", {});
    ASSERT_FALSE(reply.ok());
    EXPECT_EQ(reply.status().code(), StatusCode::kUnavailable);
    EXPECT_NE(reply.status().message().find("retry quota exhausted"), std::string::npos);
    ASSERT_EQ(http_.request_count() - before, 1u) << "call " << call;
  }
  EXPECT_EQ(client_.stats().calls, 70);
  EXPECT_EQ(client_.stats().attempts, 170);
  EXPECT_EQ(client_.stats().retries, 100);
  EXPECT_EQ(client_.stats().errors, 70);

  // Successes refill the bucket one token at a time; 5 buy one retry again.
  http_.SetHandler([](const HttpRequest&) -> Result<net::HttpResponse> {
    net::HttpResponse r;
    r.status = 200;
    r.body = kOkXml;
    return r;
  });
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client_.CallQuery(services::Ec2(), "X", {}).ok());
  EXPECT_EQ(client_.quota().available(), 5);
  http_.Push(503, kUnavailableXml);
  ASSERT_TRUE(client_.CallQuery(services::Ec2(), "X", {}).ok());
  EXPECT_EQ(client_.quota().available(), 5);  // 5 taken, 5 refunded
}

TEST_F(AwsClientTest, MaxAttemptsOneNeverRetries) {
  ClientOptions options;
  options.retry.max_attempts = 1;
  AwsClient client(http_, clock_, random_, credentials_, endpoints_, options);
  http_.Push(400, kThrottleJson);
  auto reply = client.CallJson(services::Ecs(), "ListClusters", nullptr);
  EXPECT_EQ(reply.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(http_.request_count(), 1u);
}

TEST_F(AwsClientTest, OptionsTimeoutsAndUserAgent) {
  ClientOptions options;
  options.connect_timeout = std::chrono::milliseconds(100);
  options.timeout = std::chrono::milliseconds(200);
  options.user_agent = "spotkeeper/test";
  AwsClient client(http_, clock_, random_, credentials_, endpoints_, options);
  http_.Push(200, "{}");
  ASSERT_TRUE(client.CallJson(services::Ecs(), "ListClusters", nullptr).ok());
  HttpRequest r = http_.requests().at(0);
  EXPECT_EQ(r.connect_timeout, std::chrono::milliseconds(100));
  EXPECT_EQ(r.total_timeout, std::chrono::milliseconds(200));
  EXPECT_EQ(HeaderOf(r, "User-Agent"), "spotkeeper/test");
  EXPECT_EQ(CountHeaders(r, "User-Agent"), 1);
}

// --- the call deadline (the Lambda runtime's budget) ---

TEST_F(AwsClientTest, NoCallDeadlineByDefault) {
  EXPECT_FALSE(client_.call_deadline().has_value());
  http_.Push(200, "{}");
  ASSERT_TRUE(DescribeClusters().ok());
  EXPECT_EQ(http_.requests()[0].total_timeout, std::chrono::milliseconds(20000));
  EXPECT_EQ(http_.requests()[0].connect_timeout, std::chrono::milliseconds(3000));
}

TEST_F(AwsClientTest, CallDeadlineCapsEachAttemptsTimeouts) {
  client_.SetCallDeadline(clock_.MonotonicNow() + std::chrono::milliseconds(5000));
  http_.Push(200, "{}");
  ASSERT_TRUE(DescribeClusters().ok());
  EXPECT_EQ(http_.requests()[0].total_timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(http_.requests()[0].connect_timeout, std::chrono::milliseconds(3000));

  client_.SetCallDeadline(clock_.MonotonicNow() + std::chrono::milliseconds(1500));
  http_.Push(200, "{}");
  ASSERT_TRUE(DescribeClusters().ok());
  EXPECT_EQ(http_.requests()[1].total_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(http_.requests()[1].connect_timeout, std::chrono::milliseconds(1500));

  // A per-call timeout (an SQS long poll) is capped as well.
  CallOptions call;
  call.timeout = std::chrono::seconds(30);
  http_.Push(200, "{}");
  ASSERT_TRUE(client_.CallJson(services::Sqs(), "ReceiveMessage", {}, call).ok());
  EXPECT_EQ(http_.requests()[2].total_timeout, std::chrono::milliseconds(1500));
}

TEST_F(AwsClientTest, CallWithoutTimeLeftFailsAtOnceAndSendsNothing) {
  client_.SetCallDeadline(clock_.MonotonicNow() + std::chrono::milliseconds(40));
  auto reply = DescribeClusters();
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(reply.status().message(), "ecs DescribeClusters: call deadline: 40 ms left");
  EXPECT_EQ(http_.request_count(), 0u);
  EXPECT_EQ(client_.stats().errors, 1);
  EXPECT_EQ(clock_.slept(), Duration::zero());

  // Past the deadline: "0 ms left", never negative.
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(DescribeClusters().status().message(),
            "ecs DescribeClusters: call deadline: 0 ms left");
}

// Attempts that time out (the transport takes its whole total timeout): with
// 25 s left, the first attempt gets 20 s, the second what is left, and no
// third starts; the call ends by the deadline, not after 3 x 20 s + backoff.
TEST_F(AwsClientTest, SlowAttemptsStopAtTheCallDeadline) {
  http_.SetHandler([this](const HttpRequest& r) -> Result<net::HttpResponse> {
    clock_.Advance(r.total_timeout);
    return DeadlineExceededError("timed out");
  });
  const MonoTime start = clock_.MonotonicNow();
  client_.SetCallDeadline(start + std::chrono::seconds(25));
  auto reply = DescribeClusters();
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_LE(clock_.MonotonicNow() - start, std::chrono::seconds(25));
  auto requests = http_.requests();
  ASSERT_EQ(requests.size(), 2u) << reply.status().ToString();
  EXPECT_EQ(requests[0].total_timeout, std::chrono::seconds(20));
  EXPECT_LT(requests[1].total_timeout, std::chrono::seconds(5));
  EXPECT_GT(requests[1].total_timeout, std::chrono::seconds(3));
  EXPECT_NE(reply.status().message().find("call deadline"), std::string::npos)
      << reply.status().ToString();
}

// The same slow endpoint without a deadline: all three attempts, 60 s and more.
TEST_F(AwsClientTest, SlowAttemptsWithoutDeadlineTakeEveryAttempt) {
  http_.SetHandler([this](const HttpRequest& r) -> Result<net::HttpResponse> {
    clock_.Advance(r.total_timeout);
    return DeadlineExceededError("timed out");
  });
  const MonoTime start = clock_.MonotonicNow();
  EXPECT_FALSE(DescribeClusters().ok());
  EXPECT_EQ(http_.request_count(), 3u);
  EXPECT_GE(clock_.MonotonicNow() - start, std::chrono::seconds(60));
}

// A retry whose backoff would end too close to the deadline is not made: the
// last failure is returned at once, without sleeping.
TEST_F(AwsClientTest, NoRetryWhoseBackoffCannotFinishBeforeTheDeadline) {
  http_.SetHandler([](const HttpRequest&) -> Result<net::HttpResponse> {
    net::HttpResponse r;
    r.status = 503;
    r.body = R"({"__type":"ServiceUnavailableException","message":"busy"})";
    return r;
  });
  // Retry delays with this seed are well above 0.1 s (checked without a deadline).
  client_.SetCallDeadline(clock_.MonotonicNow() + std::chrono::milliseconds(150));
  auto reply = DescribeClusters();
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(reply.status().message().find("no time left to retry: 150 ms to the call deadline"),
            std::string::npos)
      << reply.status().ToString();
  EXPECT_EQ(http_.request_count(), 1u);
  EXPECT_EQ(clock_.slept(), Duration::zero());
  EXPECT_EQ(client_.stats().retries, 0);
  EXPECT_EQ(client_.quota().available(), 500);  // nothing taken for a retry not made
}

TEST_F(AwsClientTest, ScopedCallDeadlineRestoresThePreviousOne) {
  const MonoTime outer = clock_.MonotonicNow() + std::chrono::seconds(50);
  client_.SetCallDeadline(outer);
  {
    ScopedCallDeadline scoped(client_, clock_.MonotonicNow() + std::chrono::seconds(5));
    EXPECT_EQ(client_.call_deadline(), clock_.MonotonicNow() + std::chrono::seconds(5));
  }
  EXPECT_EQ(client_.call_deadline(), outer);
  client_.SetCallDeadline(std::nullopt);
  { ScopedCallDeadline scoped(client_, outer); }
  EXPECT_FALSE(client_.call_deadline().has_value());
}

class CountingProvider final : public CredentialProvider {
 public:
  explicit CountingProvider(int* count) : count_(count) {}
  Result<Credentials> Resolve() override {
    ++*count_;
    return Credentials{"ASIAEXAMPLE", "secret", "token-" + std::to_string(*count_), std::nullopt,
                       "counting"};
  }
  std::string name() const override { return "counting"; }

 private:
  int* count_;
};

TEST_F(AwsClientTest, ExpiredTokenInvalidatesCredentialChain) {
  int resolved = 0;
  std::vector<std::unique_ptr<CredentialProvider>> providers;
  providers.push_back(std::make_unique<CountingProvider>(&resolved));
  CredentialChain chain(std::move(providers), clock_);
  AwsClient client(http_, clock_, random_, chain, endpoints_);

  http_.Push(200, "{}");
  ASSERT_TRUE(client.CallJson(services::Ecs(), "ListClusters", nullptr).ok());
  http_.Push(200, "{}");
  ASSERT_TRUE(client.CallJson(services::Ecs(), "ListClusters", nullptr).ok());
  EXPECT_EQ(resolved, 1);  // cached by the chain

  http_.Push(400, R"({"__type":"ExpiredTokenException","message":"expired"})");
  auto expired = client.CallJson(services::Ecs(), "ListClusters", nullptr);
  EXPECT_EQ(expired.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(http_.request_count(), 3u);  // not retried

  http_.Push(200, "{}");
  ASSERT_TRUE(client.CallJson(services::Ecs(), "ListClusters", nullptr).ok());
  EXPECT_EQ(resolved, 2);  // resolved afresh after the rejection
  EXPECT_EQ(HeaderOf(http_.requests().at(3), "X-Amz-Security-Token"), "token-2");
}

class AwsClientPathTest : public AwsClientTest {
 protected:
  AwsClientPathTest() : AwsClientTest("http://127.0.0.1:1/moto") {}
};

TEST_F(AwsClientPathTest, EndpointPathKept) {
  http_.Push(200, kOkXml);
  ASSERT_TRUE(client_.CallQuery(services::Ec2(), "DescribeInstances", {}).ok());
  EXPECT_EQ(http_.requests().at(0).url, "http://127.0.0.1:1/moto");
}

TEST(XmlChildTextTest, FindsDescendantsIgnoringNamespaces) {
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(
      "<a:Root xmlns:a=\"urn:x\"><a:Outer><a:Name>first</a:Name></a:Outer><Name>second</Name>"
      "<Empty/></a:Root>"));
  EXPECT_EQ(XmlChildText(doc, "Name"), "first");
  EXPECT_EQ(XmlChildText(doc, "Outer"), "");  // no text of its own
  EXPECT_EQ(XmlChildText(doc, "Empty"), "");
  EXPECT_EQ(XmlChildText(doc, "Missing"), "");
}

}  // namespace
}  // namespace spk::aws
