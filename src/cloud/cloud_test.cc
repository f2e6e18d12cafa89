#include <gtest/gtest.h>

#include "base/clock.h"
#include "cloud/aws_metadata.h"
#include "cloud/webhook_notifier.h"
#include "net/fake_transport.h"

namespace spk::cloud {
namespace {

using net::FakeTransport;
using net::HttpRequest;
using net::HttpResponse;

TEST(WebhookNotifierTest, PostsJsonWithHeaders) {
  FakeTransport http;
  http.Push(204, "");
  WebhookNotifier w(http, "http://127.0.0.1:9/hook", {{"Authorization", "Bearer x"}});
  ASSERT_TRUE(w.Publish(R"({"a":"b"})", "id-1").ok());
  auto reqs = http.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].url, "http://127.0.0.1:9/hook");
  EXPECT_EQ(reqs[0].body, R"({"a":"b"})");
  HttpResponse as_headers{200, reqs[0].headers, ""};
  EXPECT_EQ(as_headers.Header("content-type"), "application/json");
  EXPECT_EQ(as_headers.Header("authorization"), "Bearer x");
  EXPECT_EQ(as_headers.Header("x-spotkeeper-message-id"), "id-1");
  EXPECT_EQ(w.name(), "webhook:http://127.0.0.1:9/...redacted");
}

// The secret of a webhook URL (path, query, user info) and its header values
// never appear in its name or in its errors; a refusing body is cut.
TEST(WebhookNotifierTest, ErrorsNeverCarryTheUrlsSecretOrHeaders) {
  FakeTransport http;
  const std::string url = "https://u:PASS@hooks.slack.com/services/T0/B0/SECRET?sig=QSECRET";
  WebhookNotifier w(http, url, {{"Authorization", "Bearer HSECRET"}});
  std::vector<Status> errors;
  http.Push(403, "invalid_token");
  errors.push_back(w.Publish("{}", "id"));
  http.Push(500, std::string(5000, 'x'));
  errors.push_back(w.Publish("{}", "id"));
  // A transport error that names the URL, as curl's do.
  http.Push(Result<HttpResponse>(DeadlineExceededError("POST " + url + ": timed out")));
  errors.push_back(w.Publish("{}", "id"));
  for (const Status& s : errors) {
    ASSERT_FALSE(s.ok());
    for (const char* secret : {"PASS", "SECRET", "T0", "HSECRET"}) {
      EXPECT_EQ(s.ToString().find(secret), std::string::npos) << s.ToString();
    }
    EXPECT_NE(s.message().find("https://hooks.slack.com/...redacted"), std::string::npos)
        << s.ToString();
  }
  EXPECT_NE(errors[0].message().find("HTTP 403: invalid_token"), std::string::npos);
  EXPECT_EQ(errors[2].code(), StatusCode::kDeadlineExceeded);  // the code is kept
  EXPECT_NE(errors[1].message().find("...[truncated, 5000 bytes]"), std::string::npos);
  EXPECT_LT(errors[1].message().size(), 700u);
  EXPECT_EQ(w.name().find("SECRET"), std::string::npos);
}

TEST(WebhookNotifierTest, StatusesMapToRetryability) {
  FakeTransport http;
  WebhookNotifier w(http, "http://127.0.0.1:9/hook", {});
  http.Push(503, "busy");
  Status s = w.Publish("{}", "id");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  http.Push(429, "slow down");
  EXPECT_EQ(w.Publish("{}", "id").code(), StatusCode::kUnavailable);
  http.Push(404, "no");
  EXPECT_EQ(w.Publish("{}", "id").code(), StatusCode::kFailedPrecondition);
  http.Push(Result<HttpResponse>(UnavailableError("connection refused")));
  EXPECT_EQ(w.Publish("{}", "id").code(), StatusCode::kUnavailable);
}

TEST(WebhookNotifierTest, ParseHeader) {
  std::pair<std::string, std::string> h;
  ASSERT_TRUE(ParseHeader("X-Token:  abc def ", &h));
  EXPECT_EQ(h.first, "X-Token");
  EXPECT_EQ(h.second, "abc def");
  EXPECT_FALSE(ParseHeader("no colon", &h));
  EXPECT_FALSE(ParseHeader(": empty name", &h));
  EXPECT_FALSE(ParseHeader("bad name: x", &h));
}

TEST(EcsAgentIntrospectionTest, ParsesClusterAndArn) {
  FakeTransport http;
  http.Push(200,
            R"({"Cluster":"prod","ContainerInstanceArn":"arn:x","Version":"Amazon ECS Agent"})");
  HttpEcsAgentIntrospection agent(http, "http://127.0.0.1:51678/");
  auto info = agent.Get();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->cluster, "prod");
  EXPECT_EQ(info->container_instance_arn, "arn:x");
  EXPECT_EQ(http.requests()[0].url, "http://127.0.0.1:51678/v1/metadata");
  EXPECT_EQ(HttpEcsAgentIntrospection(http, "http://h:1/v1/metadata").url(),
            "http://h:1/v1/metadata");

  http.Push(Result<HttpResponse>(UnavailableError("connection refused")));
  EXPECT_FALSE(agent.Get().ok());
  http.Push(200, "garbage");
  EXPECT_EQ(agent.Get().status().code(), StatusCode::kInternal);
  http.Push(500, "");
  EXPECT_FALSE(agent.Get().ok());
}

// An IMDS that can refuse the token (answering 403, as a proxy blocking
// PUT would) and otherwise serves IMDSv2 only.
class FakeImds {
 public:
  Result<HttpResponse> Handle(const HttpRequest& r) {
    if (r.method == "PUT") {
      if (refuse_token) return HttpResponse{403, {}, "forbidden"};
      return HttpResponse{200, {}, "TOKEN"};
    }
    bool has_token = false;
    for (const auto& [k, v] : r.headers)
      if (net::HeaderNameEquals(k, "X-aws-ec2-metadata-token") && v == "TOKEN") has_token = true;
    if (!has_token) return HttpResponse{401, {}, ""};
    if (r.url.find("instance-action") != std::string::npos) return HttpResponse{404, {}, ""};
    return HttpResponse{200, {}, "i-0abc"};
  }
  bool refuse_token = false;
};

TEST(AwsMetadataTest, ReadsIMDSv2AndMaps404ToNotFound) {
  FakeImds imds;
  FakeTransport http([&](const HttpRequest& r) { return imds.Handle(r); });
  ManualClock clock;
  aws::ImdsOptions o;
  o.endpoint = "http://127.0.0.1:1";
  AwsMetadata md(http, clock, o);
  auto id = md.Get("/latest/meta-data/instance-id");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, "i-0abc");
  EXPECT_EQ(md.Get(kInstanceActionPath).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(md.mode(), aws::ImdsClient::Mode::kV2);
  // One token for all reads.
  int puts = 0;
  for (const auto& r : http.requests()) puts += r.method == "PUT";
  EXPECT_EQ(puts, 1);
}

TEST(AwsMetadataTest, RecoversToIMDSv2AfterTheTokenWasRefused) {
  FakeImds imds;
  FakeTransport http([&](const HttpRequest& r) { return imds.Handle(r); });
  ManualClock clock;
  aws::ImdsOptions o;
  o.endpoint = "http://127.0.0.1:1";
  AwsMetadata md(http, clock, o);
  imds.refuse_token = true;
  for (int i = 0; i < 3; ++i) {
    auto r = md.Get("/latest/meta-data/instance-id");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().code(), StatusCode::kNotFound) << r.status().ToString();
  }
  imds.refuse_token = false;
  auto r = md.Get("/latest/meta-data/instance-id");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(md.mode(), aws::ImdsClient::Mode::kV2);
}

}  // namespace
}  // namespace spk::cloud
