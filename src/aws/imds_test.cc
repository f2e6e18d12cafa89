#include "aws/imds.h"

#include <gtest/gtest.h>

#include <atomic>

#include "net/fake_transport.h"

namespace spk::aws {
namespace {

using Vars = std::map<std::string, std::string>;

using net::HttpRequest;
using net::HttpResponse;

constexpr char kEndpoint[] = "http://imds.test";

std::optional<std::string> HeaderOf(const HttpRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (net::HeaderNameEquals(k, name)) return v;
  return std::nullopt;
}

HttpResponse Reply(int status, std::string body = "") {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// A scripted IMDS: hands out numbered tokens and serves paths that need a
// currently valid one (unless v1 is allowed).
struct FakeImds {
  int token_status = 200;  // what PUT /latest/api/token answers
  bool accept_v1 = false;  // serve reads without a token
  int tokens_issued = 0;
  int valid_token = 0;  // reads need "token-<valid_token>"
  std::map<std::string, HttpResponse> paths;

  Result<HttpResponse> Handle(const HttpRequest& r) {
    if (r.method == "PUT" && r.url == std::string(kEndpoint) + "/latest/api/token") {
      if (token_status != 200) return Reply(token_status);
      valid_token = ++tokens_issued;
      return Reply(200, "token-" + std::to_string(valid_token));
    }
    if (r.method != "GET") return Reply(405);
    auto token = HeaderOf(r, "X-aws-ec2-metadata-token");
    if (token) {
      if (*token != "token-" + std::to_string(valid_token)) return Reply(401);
    } else if (!accept_v1) {
      return Reply(401);
    }
    auto path = r.url.substr(std::string(kEndpoint).size());
    auto it = paths.find(path);
    if (it == paths.end()) return Reply(404, "Not Found");
    return it->second;
  }
};

class ImdsTest : public ::testing::Test {
 protected:
  ImdsTest() {
    fake.paths["/latest/meta-data/instance-id"] = Reply(200, "i-123");
    http.SetHandler([this](const HttpRequest& r) { return fake.Handle(r); });
  }
  ImdsOptions Options() {
    ImdsOptions o;
    o.endpoint = kEndpoint;
    return o;
  }
  size_t Count(const std::string& method) {
    size_t n = 0;
    for (const auto& r : http.requests()) n += r.method == method;
    return n;
  }

  FakeImds fake;
  net::FakeTransport http;
  ManualClock clock;
};

TEST(ImdsOptions, FromEnv) {
  auto d = ImdsOptions::FromEnv(MapEnv());
  EXPECT_EQ(d.endpoint, "http://169.254.169.254");
  EXPECT_FALSE(d.disabled);
  auto o =
      ImdsOptions::FromEnv(MapEnv(Vars{{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9/"},
                                       {"AWS_EC2_METADATA_DISABLED", "TRUE"}}));
  EXPECT_EQ(o.endpoint, "http://127.0.0.1:9");
  EXPECT_TRUE(o.disabled);
  EXPECT_FALSE(ImdsOptions::FromEnv(MapEnv(Vars{{"AWS_EC2_METADATA_DISABLED", "false"}})).disabled);
  EXPECT_FALSE(ImdsOptions::FromEnv(MapEnv(Vars{{"AWS_EC2_METADATA_DISABLED", "1"}})).disabled);
  EXPECT_EQ(ImdsOptions::FromEnv(MapEnv(Vars{{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6"}}))
                .endpoint,
            "http://[fd00:ec2::254]");
}

TEST_F(ImdsTest, V2TokenIsFetchedOnceAndReused) {
  ImdsClient imds(http, clock, Options());
  EXPECT_EQ(imds.mode(), ImdsClient::Mode::kUnknown);
  for (int i = 0; i < 3; ++i) {
    auto r = imds.Get("/latest/meta-data/instance-id");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, "i-123");
  }
  EXPECT_EQ(imds.mode(), ImdsClient::Mode::kV2);
  EXPECT_EQ(Count("PUT"), 1u);
  EXPECT_EQ(Count("GET"), 3u);
  auto reqs = http.requests();
  EXPECT_EQ(HeaderOf(reqs[0], "X-aws-ec2-metadata-token-ttl-seconds"), "21600");
  EXPECT_EQ(reqs[0].total_timeout, std::chrono::milliseconds(1000));
  EXPECT_EQ(reqs[1].url, std::string(kEndpoint) + "/latest/meta-data/instance-id");
  EXPECT_EQ(HeaderOf(reqs[1], "X-aws-ec2-metadata-token"), "token-1");
  EXPECT_EQ(reqs[1].total_timeout, std::chrono::milliseconds(1000));
}

TEST_F(ImdsTest, TokenRefreshedAboutAMinuteBeforeExpiry) {
  auto o = Options();
  o.token_ttl_seconds = 600;
  ImdsClient imds(http, clock, o);
  ASSERT_TRUE(imds.Get("/latest/meta-data/instance-id").ok());
  clock.Advance(std::chrono::seconds(600 - 120));
  ASSERT_TRUE(imds.Get("/latest/meta-data/instance-id").ok());
  EXPECT_EQ(Count("PUT"), 1u);
  clock.Advance(std::chrono::seconds(90));  // 30 s before expiry
  ASSERT_TRUE(imds.Get("/latest/meta-data/instance-id").ok());
  EXPECT_EQ(Count("PUT"), 2u);
  EXPECT_EQ(HeaderOf(http.requests().back(), "X-aws-ec2-metadata-token"), "token-2");
  EXPECT_EQ(HeaderOf(http.requests().front(), "X-aws-ec2-metadata-token-ttl-seconds"), "600");
}

TEST_F(ImdsTest, Unauthorized401FetchesNewTokenOnce) {
  ImdsClient imds(http, clock, Options());
  ASSERT_TRUE(imds.Get("/latest/meta-data/instance-id").ok());
  fake.valid_token = 99;  // IMDS forgot the token (restart)
  fake.tokens_issued = 98;
  auto r = imds.Get("/latest/meta-data/instance-id");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Count("PUT"), 2u);
  EXPECT_EQ(Count("GET"), 3u);
}

TEST_F(ImdsTest, Persistent401IsUnavailable) {
  http.SetHandler([](const HttpRequest& r) -> Result<HttpResponse> {
    return r.method == "PUT" ? Reply(200, "tok") : Reply(401);
  });
  ImdsClient imds(http, clock, Options());
  auto r = imds.Get("/latest/meta-data/instance-id");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_EQ(Count("PUT"), 2u);
  EXPECT_EQ(Count("GET"), 2u);
}

TEST_F(ImdsTest, FallsBackToV1WhenTokenCallUnsupported) {
  for (int status : {403, 404, 405}) {
    net::FakeTransport t;
    FakeImds f;
    f.token_status = status;
    f.accept_v1 = true;
    f.paths["/latest/meta-data/instance-id"] = Reply(200, "i-v1");
    t.SetHandler([&f](const HttpRequest& r) { return f.Handle(r); });
    ImdsClient imds(t, clock, Options());
    auto r = imds.Get("latest/meta-data/instance-id");  // leading '/' optional
    ASSERT_TRUE(r.ok()) << status << ": " << r.status().ToString();
    EXPECT_EQ(*r, "i-v1");
    EXPECT_EQ(imds.mode(), ImdsClient::Mode::kV1);
    ASSERT_TRUE(imds.Get("/latest/meta-data/instance-id").ok());
    auto reqs = t.requests();
    ASSERT_EQ(reqs.size(), 3u) << "the v1 fallback is remembered";
    EXPECT_FALSE(HeaderOf(reqs[1], "X-aws-ec2-metadata-token").has_value());
  }
}

TEST_F(ImdsTest, V1FallbackRecoversWhenTheServiceLaterRequiresV2) {
  fake.token_status = 403;  // the token call is refused for a while
  fake.accept_v1 = true;
  ImdsClient imds(http, clock, Options());
  ASSERT_TRUE(imds.Get("/latest/meta-data/instance-id").ok());
  EXPECT_EQ(imds.mode(), ImdsClient::Mode::kV1);
  fake.token_status = 200;  // back, IMDSv2 only
  fake.accept_v1 = false;
  auto r = imds.Get("/latest/meta-data/instance-id");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(imds.mode(), ImdsClient::Mode::kV2);
}

TEST_F(ImdsTest, ForceV1SendsNoTokenRequest) {
  fake.accept_v1 = true;
  auto o = Options();
  o.force_v1 = true;
  ImdsClient imds(http, clock, o);
  ASSERT_TRUE(imds.Get("/latest/meta-data/instance-id").ok());
  EXPECT_EQ(Count("PUT"), 0u);
  EXPECT_EQ(imds.mode(), ImdsClient::Mode::kV1);
}

TEST_F(ImdsTest, TokenServerErrorDoesNotFallBack) {
  fake.token_status = 500;
  fake.accept_v1 = true;
  ImdsClient imds(http, clock, Options());
  auto r = imds.Get("/latest/meta-data/instance-id");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(Count("GET"), 0u);
}

TEST_F(ImdsTest, TokenTimeoutIsDeadlineExceeded) {
  http.SetHandler([](const HttpRequest&) -> Result<HttpResponse> {
    return DeadlineExceededError("timed out");
  });
  ImdsClient imds(http, clock, Options());
  auto r = imds.Get("/latest/meta-data/instance-id");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(http.request_count(), 1u);
}

TEST_F(ImdsTest, RefusedIsUnavailable) {
  http.SetHandler(
      [](const HttpRequest&) -> Result<HttpResponse> { return UnavailableError("refused"); });
  ImdsClient imds(http, clock, Options());
  auto r = imds.Get("/latest/meta-data/instance-id");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

TEST_F(ImdsTest, ReadErrors) {
  fake.paths["/five"] = Reply(503);
  fake.paths["/forbidden"] = Reply(403, "disabled");
  ImdsClient imds(http, clock, Options());
  auto missing = imds.Get("/latest/meta-data/spot/instance-action");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(imds.Get("/five").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(imds.Get("/forbidden").status().code(), StatusCode::kPermissionDenied);

  net::FakeTransport t;
  t.Push(200, "tok");
  t.Push(Result<HttpResponse>(DeadlineExceededError("read timed out")));
  ImdsClient slow(t, clock, Options());
  EXPECT_EQ(slow.Get("/x").status().code(), StatusCode::kDeadlineExceeded);
}

TEST_F(ImdsTest, DisabledSendsNothing) {
  auto o = Options();
  o.disabled = true;
  ImdsClient imds(http, clock, o);
  auto r = imds.Get("/latest/meta-data/instance-id");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(http.request_count(), 0u);
}

TEST_F(ImdsTest, EndpointTrailingSlashAndTimeoutOption) {
  auto o = Options();
  o.endpoint = std::string(kEndpoint) + "/";
  o.timeout = std::chrono::milliseconds(250);
  ImdsClient imds(http, clock, o);
  ASSERT_TRUE(imds.Get("/latest/meta-data/instance-id").ok());
  for (const auto& r : http.requests()) {
    EXPECT_EQ(r.url.find("//latest"), std::string::npos) << r.url;
    EXPECT_EQ(r.connect_timeout, std::chrono::milliseconds(250));
    EXPECT_EQ(r.total_timeout, std::chrono::milliseconds(250));
  }
}

}  // namespace
}  // namespace spk::aws
