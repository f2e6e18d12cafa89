#include "aws/endpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "aws/imds.h"
#include "aws/temp_home_test_util.h"
#include "net/fake_transport.h"

namespace spk::aws {
namespace {

using Vars = std::map<std::string, std::string>;

using ::testing::HasSubstr;

net::HttpResponse Reply(int status, std::string body = "") {
  net::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// ---------------------------------------------------------------- region

TEST(ResolveRegion, EnvironmentOrder) {
  TempHome home;
  home.Write(".aws/config", "[default]\nregion = eu-west-1\n");
  MapEnv env(Vars{
      {"HOME", home.path()}, {"AWS_REGION", "us-west-2"}, {"AWS_DEFAULT_REGION", "us-east-2"}});
  auto r = ResolveRegion(env);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->region, "us-west-2");
  EXPECT_EQ(r->source, "AWS_REGION");
  env.Set("AWS_REGION", "");
  r = ResolveRegion(env);
  EXPECT_EQ(r->region, "us-east-2");
  EXPECT_EQ(r->source, "AWS_DEFAULT_REGION");
  env.Set("AWS_DEFAULT_REGION", "");
  r = ResolveRegion(env);
  EXPECT_EQ(r->region, "eu-west-1");
  EXPECT_EQ(r->source, "profile default");
}

TEST(ResolveRegion, NamedProfile) {
  TempHome home;
  home.Write(".aws/config", "[default]\nregion = eu-west-1\n[profile cn]\nregion = cn-north-1\n");
  auto r = ResolveRegion(MapEnv(Vars{{"HOME", home.path()}, {"AWS_PROFILE", "cn"}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->region, "cn-north-1");
  EXPECT_EQ(r->source, "profile cn");
}

TEST(ResolveRegion, FromImds) {
  net::FakeTransport http([](const net::HttpRequest& req) -> Result<net::HttpResponse> {
    if (req.method == "PUT") return Reply(200, "tok");
    if (req.url == "http://imds.test/latest/meta-data/placement/region")
      return Reply(200, "ap-southeast-2");
    return Reply(404);
  });
  ManualClock clock;
  ImdsOptions o;
  o.endpoint = "http://imds.test";
  ImdsClient imds(http, clock, o);
  TempHome home;
  auto r = ResolveRegion(MapEnv(Vars{{"HOME", home.path()}}), &imds);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->region, "ap-southeast-2");
  EXPECT_EQ(r->source, "imds");
}

TEST(ResolveRegion, NoneIsNotFoundNamingEveryPlace) {
  TempHome home;
  auto r = ResolveRegion(MapEnv(Vars{{"HOME", home.path()}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  const std::string& m = r.status().message();
  EXPECT_THAT(m, HasSubstr("AWS_REGION"));
  EXPECT_THAT(m, HasSubstr("AWS_DEFAULT_REGION"));
  EXPECT_THAT(m, HasSubstr("profile default"));
  EXPECT_THAT(m, HasSubstr("imds (not consulted)"));

  net::FakeTransport http;
  ManualClock clock;
  ImdsOptions o;
  o.disabled = true;
  ImdsClient imds(http, clock, o);
  r = ResolveRegion(MapEnv(Vars{{"HOME", home.path()}}), &imds);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("disabled"));
  EXPECT_EQ(http.request_count(), 0u);
}

TEST(ResolveRegion, InvalidRegionIsRejected) {
  auto r = ResolveRegion(MapEnv(Vars{{"AWS_REGION", "us east 1"}}));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("AWS_REGION"));
  auto trimmed = ResolveRegion(MapEnv(Vars{{"AWS_REGION", " us-east-1\n"}}));
  ASSERT_TRUE(trimmed.ok());
  EXPECT_EQ(trimmed->region, "us-east-1");
}

// ---------------------------------------------------------------- endpoint

TEST(EndpointResolver, Defaults) {
  EndpointResolver r(MapEnv(), "us-east-1");
  EXPECT_EQ(r.region(), "us-east-1");
  auto e = r.Resolve(services::Ecs());
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->url, "https://ecs.us-east-1.amazonaws.com");
  EXPECT_EQ(e->source, "default");
  EXPECT_EQ(r.Resolve(services::AutoScaling())->url, "https://autoscaling.us-east-1.amazonaws.com");
  EXPECT_EQ(r.Resolve(services::CloudWatch())->url, "https://monitoring.us-east-1.amazonaws.com");
  EndpointResolver cn(MapEnv(), "cn-northwest-1");
  EXPECT_EQ(cn.Resolve(services::Ec2())->url, "https://ec2.cn-northwest-1.amazonaws.com.cn");
}

TEST(EndpointResolver, NoRegionIsAnError) {
  EndpointResolver r(MapEnv(), "");
  EXPECT_EQ(r.Resolve(services::Ecs()).status().code(), StatusCode::kInvalidArgument);
  // A configured endpoint needs no region.
  EndpointResolver configured(MapEnv(Vars{{"AWS_ENDPOINT_URL", "http://127.0.0.1:4566"}}), "");
  EXPECT_TRUE(configured.Resolve(services::Ecs()).ok());
}

TEST(EndpointResolver, EnvironmentPerServiceThenGlobal) {
  MapEnv env(Vars{{"AWS_ENDPOINT_URL_AUTO_SCALING", "http://127.0.0.1:5000/"},
                  {"AWS_ENDPOINT_URL_ECS", "http://localhost:6000/base"},
                  {"AWS_ENDPOINT_URL", "http://127.0.0.1:4566"}});
  EndpointResolver r(env, "us-east-1");
  auto as = r.Resolve(services::AutoScaling());
  ASSERT_TRUE(as.ok());
  EXPECT_EQ(as->url, "http://127.0.0.1:5000");
  EXPECT_EQ(as->source, "AWS_ENDPOINT_URL_AUTO_SCALING");
  auto ecs = r.Resolve(services::Ecs());
  EXPECT_EQ(ecs->url, "http://localhost:6000/base");
  EXPECT_EQ(ecs->source, "AWS_ENDPOINT_URL_ECS");
  auto ec2 = r.Resolve(services::Ec2());
  EXPECT_EQ(ec2->url, "http://127.0.0.1:4566");
  EXPECT_EQ(ec2->source, "AWS_ENDPOINT_URL");
}

TEST(EndpointResolver, ProfileSettings) {
  TempHome home;
  home.Write(".aws/config",
             "[profile dev]\n"
             "endpoint_url = http://127.0.0.1:7000/\n"
             "services = local\n"
             "[services local]\n"
             "auto_scaling =\n"
             "  endpoint_url = http://127.0.0.1:7001\n"
             "sqs =\n"
             "  endpoint_url = http://127.0.0.1:7002\n");
  MapEnv env(Vars{{"HOME", home.path()}, {"AWS_PROFILE", "dev"}});
  {
    EndpointResolver r(env, "us-east-1");
    auto ecs = r.Resolve(services::Ecs());
    ASSERT_TRUE(ecs.ok()) << ecs.status().ToString();
    EXPECT_EQ(ecs->url, "http://127.0.0.1:7000");
    EXPECT_EQ(ecs->source, "profile dev");
    auto as = r.Resolve(services::AutoScaling());
    EXPECT_EQ(as->url, "http://127.0.0.1:7001");
    EXPECT_EQ(as->source, "profile dev services local");
    EXPECT_EQ(r.Resolve(services::Sqs())->url, "http://127.0.0.1:7002");
  }
  {
    // AWS_ENDPOINT_URL beats the profile, per-service section included (botocore's order).
    MapEnv with_global = env;
    with_global.Set("AWS_ENDPOINT_URL", "http://127.0.0.1:4566");
    EndpointResolver r(with_global, "us-east-1");
    EXPECT_EQ(r.Resolve(services::AutoScaling())->source, "AWS_ENDPOINT_URL");
  }
}

TEST(EndpointResolver, MissingServicesSectionIsAnError) {
  TempHome home;
  home.Write(".aws/config", "[default]\nservices = nowhere\n");
  EndpointResolver r(MapEnv(Vars{{"HOME", home.path()}}), "us-east-1");
  auto e = r.Resolve(services::Ecs());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(e.status().message(), HasSubstr("nowhere"));
}

TEST(EndpointResolver, IgnoreConfiguredEndpoints) {
  TempHome home;
  home.Write(".aws/config", "[default]\nendpoint_url = http://127.0.0.1:7000\n");
  MapEnv env(Vars{{"HOME", home.path()},
                  {"AWS_ENDPOINT_URL_ECS", "http://127.0.0.1:1"},
                  {"AWS_ENDPOINT_URL", "http://127.0.0.1:2"},
                  {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE"}});
  EndpointResolver r(env, "eu-west-1");
  EXPECT_EQ(r.Resolve(services::Ecs())->url, "https://ecs.eu-west-1.amazonaws.com");
  EXPECT_EQ(r.Resolve(services::Ec2())->source, "default");

  home.Write(
      ".aws/config",
      "[default]\nendpoint_url = http://127.0.0.1:7000\nignore_configured_endpoint_urls = true\n");
  EXPECT_EQ(EndpointResolver(MapEnv(Vars{{"HOME", home.path()}}), "eu-west-1")
                .Resolve(services::Ecs())
                ->source,
            "default");
  // The variable set to false overrides the profile.
  EXPECT_EQ(EndpointResolver(MapEnv(Vars{{"HOME", home.path()},
                                         {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false"}}),
                             "eu-west-1")
                .Resolve(services::Ecs())
                ->source,
            "profile default");
}

TEST(EndpointResolver, MalformedUrlsAreInvalidArgument) {
  for (const char* bad :
       {"localhost:4566", "ftp://x", "http://", "http://h:99999", "http://h/?q=1"}) {
    EndpointResolver r(MapEnv(Vars{{"AWS_ENDPOINT_URL_ECS", bad}}), "us-east-1");
    auto e = r.Resolve(services::Ecs());
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(e.status().message(), HasSubstr("AWS_ENDPOINT_URL_ECS")) << bad;
  }
}

}  // namespace
}  // namespace spk::aws
