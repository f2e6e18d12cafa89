#include "aws/credentials.h"

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

using net::HttpRequest;
using net::HttpResponse;
using ::testing::HasSubstr;

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

const char kCredentialJson[] =
    R"({"AccessKeyId":"ASIACONT","SecretAccessKey":"contsecret","Token":"conttoken",)"
    R"("Expiration":"2024-01-01T06:00:00Z","RoleArn":"arn:aws:iam::1:role/r"})";

// ---------------------------------------------------------------- environment

TEST(EnvironmentProvider, KeysAndToken) {
  MapEnv env(Vars{{"AWS_ACCESS_KEY_ID", "AKID"},
                  {"AWS_SECRET_ACCESS_KEY", "SECRET"},
                  {"AWS_SESSION_TOKEN", "TOK"}});
  EnvironmentProvider p(env);
  auto c = p.Resolve();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKID");
  EXPECT_EQ(c->secret_access_key, "SECRET");
  EXPECT_EQ(c->session_token, "TOK");
  EXPECT_FALSE(c->expiration.has_value());
  EXPECT_EQ(c->source, "environment");
  EXPECT_EQ(p.name(), "environment");
}

TEST(EnvironmentProvider, NotSetIsNotFound) {
  auto c = EnvironmentProvider(MapEnv()).Resolve();
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(c.status().message(), HasSubstr("AWS_ACCESS_KEY_ID not set"));
  // Empty values count as unset.
  MapEnv empty(Vars{{"AWS_ACCESS_KEY_ID", ""}, {"AWS_SECRET_ACCESS_KEY", ""}});
  EXPECT_EQ(EnvironmentProvider(empty).Resolve().status().code(), StatusCode::kNotFound);
}

TEST(EnvironmentProvider, HalfAPairIsAConfigurationError) {
  auto a = EnvironmentProvider(MapEnv(Vars{{"AWS_ACCESS_KEY_ID", "AKID"}})).Resolve();
  EXPECT_EQ(a.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(a.status().message(), HasSubstr("AWS_SECRET_ACCESS_KEY"));
  auto b = EnvironmentProvider(MapEnv(Vars{{"AWS_SECRET_ACCESS_KEY", "S"}})).Resolve();
  EXPECT_EQ(b.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(b.status().message(), HasSubstr("AWS_ACCESS_KEY_ID"));
}

TEST(EnvironmentProvider, Expiration) {
  MapEnv env(Vars{{"AWS_ACCESS_KEY_ID", "A"},
                  {"AWS_SECRET_ACCESS_KEY", "S"},
                  {"AWS_CREDENTIAL_EXPIRATION", "2024-01-01T01:00:00Z"}});
  auto c = EnvironmentProvider(env).Resolve();
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->expiration.has_value());
  EXPECT_EQ(FormatIso8601(*c->expiration), "2024-01-01T01:00:00Z");
  env.Set("AWS_CREDENTIAL_EXPIRATION", "tomorrow");
  EXPECT_EQ(EnvironmentProvider(env).Resolve().status().code(), StatusCode::kFailedPrecondition);
}

// ---------------------------------------------------------------- profile

class ProfileTest : public ::testing::Test {
 protected:
  Result<Credentials> Resolve(std::map<std::string, std::string> extra = {}) {
    MapEnv env(Vars{{"HOME", home.path()}});
    for (const auto& [k, v] : extra) env.Set(k, v);
    return ProfileProvider(env).Resolve();
  }
  TempHome home;
};

TEST_F(ProfileTest, CredentialsFileDefault) {
  home.Write(".aws/credentials",
             "[default]\naws_access_key_id = AKID\naws_secret_access_key = S\n");
  auto c = Resolve();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKID");
  EXPECT_EQ(c->secret_access_key, "S");
  EXPECT_EQ(c->session_token, "");
  EXPECT_EQ(c->source, "profile default (credentials file)");
}

TEST_F(ProfileTest, ConfigFileOnly) {
  home.Write(
      ".aws/config",
      "[profile dev]\naws_access_key_id = CFG\naws_secret_access_key = S\naws_session_token = T\n");
  auto c = Resolve({{"AWS_PROFILE", "dev"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "CFG");
  EXPECT_EQ(c->session_token, "T");
  EXPECT_EQ(c->source, "profile dev (config file)");
}

TEST_F(ProfileTest, CredentialsFileWinsOverConfigFile) {
  home.Write(".aws/credentials",
             "[default]\naws_access_key_id = FROMCREDS\naws_secret_access_key = S\n");
  home.Write(".aws/config",
             "[default]\naws_access_key_id = FROMCONFIG\naws_secret_access_key = S\n");
  auto c = Resolve();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "FROMCREDS");
}

TEST_F(ProfileTest, NamedProfileAndOverridesOfPaths) {
  std::string creds = home.Write("x/creds",
                                 "[default]\naws_access_key_id = D\naws_secret_access_key = S\n"
                                 "[other]\naws_access_key_id = O\naws_secret_access_key = S\n");
  auto a = Resolve({{"AWS_SHARED_CREDENTIALS_FILE", creds}, {"AWS_PROFILE", "other"}});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->access_key_id, "O");
  EXPECT_EQ(a->source, "profile other (credentials file)");
  auto b = Resolve({{"AWS_SHARED_CREDENTIALS_FILE", creds}, {"AWS_DEFAULT_PROFILE", "other"}});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->access_key_id, "O");

  std::string config =
      home.Write("y/cfg", "[profile p]\naws_access_key_id = P\naws_secret_access_key = S\n");
  auto c = Resolve({{"AWS_CONFIG_FILE", config}, {"AWS_PROFILE", "p"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "P");
}

TEST_F(ProfileTest, NoFilesIsNotFound) {
  auto c = Resolve();
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(c.status().message(), HasSubstr("no [default]"));
  EXPECT_THAT(c.status().message(), HasSubstr(home.path() + "/.aws/credentials"));
}

TEST_F(ProfileTest, ExplicitProfileMissingEverywhereIsAnError) {
  home.Write(".aws/credentials", "[default]\naws_access_key_id = D\naws_secret_access_key = S\n");
  auto c = Resolve({{"AWS_PROFILE", "typo"}});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(c.status().message(), HasSubstr("AWS_PROFILE names profile 'typo'"));
  auto d = Resolve({{"AWS_DEFAULT_PROFILE", "typo"}});
  EXPECT_THAT(d.status().message(), HasSubstr("AWS_DEFAULT_PROFILE"));
}

TEST_F(ProfileTest, ProfileWithoutKeysIsNotFound) {
  home.Write(".aws/config", "[default]\nregion = us-east-1\n");
  auto c = Resolve();
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(c.status().message(), HasSubstr("no aws_access_key_id"));
}

TEST_F(ProfileTest, UnsupportedMechanismsAreUnimplemented) {
  struct Case {
    std::string config;
    std::string key;
  };
  for (const Case& k : std::vector<Case>{
           {"[profile x]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = default\n",
            "role_arn"},
           {"[profile x]\nrole_arn = arn:aws:iam::1:role/r\nweb_identity_token_file = /t\n",
            "web_identity_token_file"},
           {"[profile x]\nsso_session = s\nsso_account_id = 1\nsso_role_name = r\n", "sso_session"},
           {"[profile x]\nsso_start_url = https://x.awsapps.com/start\n", "sso_start_url"},
           {"[profile x]\ncredential_process = /bin/creds\n", "credential_process"},
       }) {
    home.Write(".aws/config", k.config);
    auto c = Resolve({{"AWS_PROFILE", "x"}});
    ASSERT_FALSE(c.ok()) << k.key;
    EXPECT_EQ(c.status().code(), StatusCode::kUnimplemented) << k.key;
    EXPECT_THAT(c.status().message(), HasSubstr(k.key));
    EXPECT_THAT(c.status().message(), HasSubstr("profile x"));
  }
}

TEST_F(ProfileTest, RoleArnBeatsStaticKeysAsInBotocore) {
  home.Write(
      ".aws/credentials",
      "[x]\naws_access_key_id = A\naws_secret_access_key = S\nrole_arn = arn:aws:iam::1:role/r\n");
  EXPECT_EQ(Resolve({{"AWS_PROFILE", "x"}}).status().code(), StatusCode::kUnimplemented);
}

TEST_F(ProfileTest, CredentialsFileKeysBeatConfigCredentialProcess) {
  home.Write(".aws/credentials", "[default]\naws_access_key_id = A\naws_secret_access_key = S\n");
  home.Write(".aws/config", "[default]\ncredential_process = /bin/creds\n");
  auto c = Resolve();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->source, "profile default (credentials file)");
}

TEST_F(ProfileTest, WebIdentityEnvironmentIsUnimplemented) {
  auto c = Resolve({{"AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"},
                    {"AWS_ROLE_ARN", "arn:aws:iam::1:role/r"}});
  EXPECT_EQ(c.status().code(), StatusCode::kUnimplemented);
  EXPECT_THAT(c.status().message(), HasSubstr("AWS_WEB_IDENTITY_TOKEN_FILE"));
}

TEST_F(ProfileTest, PartialKeysAreAConfigurationError) {
  home.Write(".aws/credentials", "[default]\naws_access_key_id = A\n");
  auto c = Resolve();
  EXPECT_EQ(c.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(c.status().message(), HasSubstr("aws_secret_access_key"));
}

TEST_F(ProfileTest, LabelNamesTheProfile) {
  MapEnv env(Vars{{"AWS_PROFILE", "dev"}});
  EXPECT_EQ(ProfileProvider(env).label(), "profile dev");
  EXPECT_EQ(ProfileProvider(env).name(), "profile");
}

// ---------------------------------------------------------------- container

TEST(ContainerProvider, NotConfigured) {
  net::FakeTransport http;
  auto c = ContainerProvider(MapEnv(), http).Resolve();
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(http.request_count(), 0u);
}

TEST(ContainerProvider, RelativeUri) {
  net::FakeTransport http;
  http.Push(200, kCredentialJson);
  MapEnv env(Vars{{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"},
                  {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/ignored"}});
  auto c = ContainerProvider(env, http).Resolve();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "ASIACONT");
  EXPECT_EQ(c->secret_access_key, "contsecret");
  EXPECT_EQ(c->session_token, "conttoken");
  ASSERT_TRUE(c->expiration.has_value());
  EXPECT_EQ(FormatIso8601(*c->expiration), "2024-01-01T06:00:00Z");
  EXPECT_EQ(c->source, "container");
  auto reqs = http.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].url, "http://169.254.170.2/v2/credentials/abc");
  EXPECT_FALSE(HeaderOf(reqs[0], "Authorization").has_value());
}

TEST(ContainerProvider, FullUriWithAuthorizationToken) {
  net::FakeTransport http;
  http.Push(200, kCredentialJson);
  MapEnv env(Vars{{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:51679/creds"},
                  {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer abc"}});
  auto c = ContainerProvider(env, http).Resolve();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto reqs = http.requests();
  EXPECT_EQ(reqs[0].url, "http://127.0.0.1:51679/creds");
  EXPECT_EQ(HeaderOf(reqs[0], "Authorization"), "Bearer abc");
}

TEST(ContainerProvider, TokenFileIsPreferred) {
  TempHome dir;
  std::string file = dir.Write("token", "from-file\n");
  net::FakeTransport http;
  http.Push(200, kCredentialJson);
  MapEnv env(Vars{{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials"},
                  {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "from-env"},
                  {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", file}});
  ASSERT_TRUE(ContainerProvider(env, http).Resolve().ok());
  EXPECT_EQ(HeaderOf(http.requests()[0], "Authorization"), "from-file");

  env.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", dir.path() + "/missing");
  auto c = ContainerProvider(env, http).Resolve();
  EXPECT_EQ(c.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(c.status().message(), HasSubstr("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"));
}

TEST(ContainerProvider, FullUriHostRules) {
  for (const char* ok : {"http://127.0.0.1:80/c", "http://127.1.2.3/c", "http://localhost:8080/c",
                         "http://[::1]:9/c", "http://169.254.170.2/c", "http://169.254.170.23/c",
                         "http://[fd00:ec2::23]/c", "https://creds.example.com/c"}) {
    net::FakeTransport http;
    http.Push(200, kCredentialJson);
    auto c =
        ContainerProvider(MapEnv(Vars{{"AWS_CONTAINER_CREDENTIALS_FULL_URI", ok}}), http).Resolve();
    EXPECT_TRUE(c.ok()) << ok << ": " << c.status().ToString();
  }
  for (const char* bad : {"http://10.0.0.1/c", "http://creds.example.com/c",
                          "http://169.254.169.254/c", "not a url"}) {
    net::FakeTransport http;
    auto c = ContainerProvider(MapEnv(Vars{{"AWS_CONTAINER_CREDENTIALS_FULL_URI", bad}}), http)
                 .Resolve();
    EXPECT_EQ(c.status().code(), StatusCode::kFailedPrecondition) << bad;
    EXPECT_EQ(http.request_count(), 0u) << bad;
  }
}

TEST(ContainerProvider, Errors) {
  MapEnv env(Vars{{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/c"}});
  {
    net::FakeTransport http(
        [](const HttpRequest&) -> Result<HttpResponse> { return Reply(500, "boom"); });
    auto c = ContainerProvider(env, http).Resolve();
    EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
    EXPECT_EQ(http.request_count(), 2u);  // retried once
  }
  {
    net::FakeTransport http;
    http.Push(403, "bad token");
    auto c = ContainerProvider(env, http).Resolve();
    EXPECT_EQ(c.status().code(), StatusCode::kUnauthenticated);
    EXPECT_THAT(c.status().message(), HasSubstr("bad token"));
  }
  {
    net::FakeTransport http;
    http.Push(200, "not json");
    EXPECT_EQ(ContainerProvider(env, http).Resolve().status().code(), StatusCode::kInternal);
  }
  {
    net::FakeTransport http(
        [](const HttpRequest&) -> Result<HttpResponse> { return UnavailableError("refused"); });
    auto c = ContainerProvider(env, http).Resolve();
    EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
    EXPECT_THAT(c.status().message(), HasSubstr("container credentials endpoint"));
  }
}

// ---------------------------------------------------------------- imds

const char kImdsJson[] =
    R"({"Code":"Success","LastUpdated":"2024-01-01T00:00:00Z","Type":"AWS-HMAC","AccessKeyId":"ASIAIMDS",)"
    R"("SecretAccessKey":"imdssecret","Token":"imdstoken","Expiration":"2024-01-01T06:00:00Z"})";

// IMDS with role "web-role" (v2 tokens accepted unchecked).
net::FakeTransport::Handler ImdsHandler(std::string role_doc = kImdsJson, int roles_status = 200) {
  return [role_doc, roles_status](const HttpRequest& r) -> Result<HttpResponse> {
    if (r.method == "PUT") return Reply(200, "tok");
    if (r.url.ends_with("/latest/meta-data/iam/security-credentials/"))
      return Reply(roles_status, "web-role\n");
    if (r.url.ends_with("/latest/meta-data/iam/security-credentials/web-role"))
      return Reply(200, role_doc);
    return Reply(404);
  };
}

ImdsOptions TestImdsOptions() {
  ImdsOptions o;
  o.endpoint = "http://imds.test";
  return o;
}

TEST(ImdsProvider, RoleCredentials) {
  net::FakeTransport http(ImdsHandler());
  ManualClock clock;
  ImdsClient imds(http, clock, TestImdsOptions());
  auto c = ImdsProvider(imds).Resolve();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "ASIAIMDS");
  EXPECT_EQ(c->session_token, "imdstoken");
  EXPECT_EQ(c->source, "imds role web-role");
  ASSERT_TRUE(c->expiration.has_value());
  auto reqs = http.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[1].url, "http://imds.test/latest/meta-data/iam/security-credentials/");
  EXPECT_EQ(reqs[2].url, "http://imds.test/latest/meta-data/iam/security-credentials/web-role");
}

TEST(ImdsProvider, CodeOtherThanSuccessIsAnError) {
  net::FakeTransport http(
      ImdsHandler(R"({"Code":"AssumeRoleUnauthorizedAccess","Message":"not trusted"})"));
  ManualClock clock;
  ImdsClient imds(http, clock, TestImdsOptions());
  auto c = ImdsProvider(imds).Resolve();
  EXPECT_EQ(c.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(c.status().message(), HasSubstr("AssumeRoleUnauthorizedAccess"));
}

TEST(ImdsProvider, NotConfiguredCases) {
  ManualClock clock;
  {
    net::FakeTransport http(ImdsHandler());
    auto o = TestImdsOptions();
    o.disabled = true;
    ImdsClient imds(http, clock, o);
    auto c = ImdsProvider(imds).Resolve();
    EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
    EXPECT_THAT(c.status().message(), HasSubstr("AWS_EC2_METADATA_DISABLED"));
    EXPECT_EQ(http.request_count(), 0u);
  }
  {
    net::FakeTransport http(
        [](const HttpRequest&) -> Result<HttpResponse> { return UnavailableError("refused"); });
    ImdsClient imds(http, clock, TestImdsOptions());
    auto c = ImdsProvider(imds).Resolve();
    EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
    EXPECT_THAT(c.status().message(), HasSubstr("not reachable"));
  }
  {
    net::FakeTransport http(
        [](const HttpRequest&) -> Result<HttpResponse> { return DeadlineExceededError("slow"); });
    ImdsClient imds(http, clock, TestImdsOptions());
    EXPECT_EQ(ImdsProvider(imds).Resolve().status().code(), StatusCode::kNotFound);
  }
  {
    net::FakeTransport http(ImdsHandler(kImdsJson, 404));  // no instance profile
    ImdsClient imds(http, clock, TestImdsOptions());
    auto c = ImdsProvider(imds).Resolve();
    EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
    EXPECT_THAT(c.status().message(), HasSubstr("no IAM role"));
  }
}

// ---------------------------------------------------------------- chain

// A provider that answers from a script and counts its calls.
class ScriptedProvider final : public CredentialProvider {
 public:
  ScriptedProvider(std::string name, std::function<Result<Credentials>()> fn, int* calls)
      : name_(std::move(name)), fn_(std::move(fn)), calls_(calls) {}
  Result<Credentials> Resolve() override {
    ++*calls_;
    return fn_();
  }
  std::string name() const override { return name_; }

 private:
  std::string name_;
  std::function<Result<Credentials>()> fn_;
  int* calls_;
};

Credentials Make(const std::string& id, std::optional<WallTime> expiration = std::nullopt) {
  Credentials c;
  c.access_key_id = id;
  c.secret_access_key = "s";
  c.expiration = expiration;
  c.source = id;
  return c;
}

TEST(CredentialChain, FirstConfiguredProviderWins) {
  int a = 0, b = 0, c = 0;
  std::vector<std::unique_ptr<CredentialProvider>> p;
  p.push_back(std::make_unique<ScriptedProvider>(
      "a", [] { return Result<Credentials>(NotFoundError("no a")); }, &a));
  p.push_back(std::make_unique<ScriptedProvider>(
      "b", [] { return Result<Credentials>(Make("B")); }, &b));
  p.push_back(std::make_unique<ScriptedProvider>(
      "c", [] { return Result<Credentials>(Make("C")); }, &c));
  ManualClock clock;
  CredentialChain chain(std::move(p), clock);
  auto r = chain.Resolve();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->access_key_id, "B");
  EXPECT_EQ(c, 0);
  auto attempts = chain.attempts();
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].provider, "a");
  EXPECT_EQ(attempts[0].status.code(), StatusCode::kNotFound);
  EXPECT_EQ(attempts[1].provider, "b");
  EXPECT_TRUE(attempts[1].status.ok());
}

TEST(CredentialChain, BrokenSourceStopsTheChain) {
  int a = 0, b = 0;
  std::vector<std::unique_ptr<CredentialProvider>> p;
  p.push_back(std::make_unique<ScriptedProvider>(
      "a", [] { return Result<Credentials>(FailedPreconditionError("half configured")); }, &a));
  p.push_back(std::make_unique<ScriptedProvider>(
      "b", [] { return Result<Credentials>(Make("B")); }, &b));
  ManualClock clock;
  CredentialChain chain(std::move(p), clock);
  auto r = chain.Resolve();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("half configured"));
  EXPECT_THAT(r.status().message(), HasSubstr("from a"));
  EXPECT_EQ(b, 0);
}

TEST(CredentialChain, CachesNonExpiringCredentialsUntilInvalidated) {
  int a = 0;
  std::vector<std::unique_ptr<CredentialProvider>> p;
  p.push_back(std::make_unique<ScriptedProvider>(
      "a", [] { return Result<Credentials>(Make("A")); }, &a));
  ManualClock clock;
  CredentialChain chain(std::move(p), clock);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(chain.Resolve().ok());
  clock.Advance(std::chrono::hours(1000));
  ASSERT_TRUE(chain.Resolve().ok());
  EXPECT_EQ(a, 1);
  chain.Invalidate();
  ASSERT_TRUE(chain.Resolve().ok());
  EXPECT_EQ(a, 2);
}

TEST(CredentialChain, RefreshesWithinRefreshBeforeOfExpiry) {
  ManualClock clock;
  int a = 0;
  int generation = 0;
  std::vector<std::unique_ptr<CredentialProvider>> p;
  p.push_back(std::make_unique<ScriptedProvider>(
      "a",
      [&clock, &generation] {
        ++generation;
        return Result<Credentials>(
            Make("A" + std::to_string(generation), clock.WallNow() + std::chrono::hours(1)));
      },
      &a));
  CredentialChain chain(std::move(p), clock, std::chrono::minutes(5));
  EXPECT_EQ(chain.Resolve()->access_key_id, "A1");
  clock.Advance(std::chrono::minutes(54));
  EXPECT_EQ(chain.Resolve()->access_key_id, "A1");
  EXPECT_EQ(a, 1);
  clock.Advance(std::chrono::minutes(2));  // 4 minutes before expiry
  EXPECT_EQ(chain.Resolve()->access_key_id, "A2");
  EXPECT_EQ(a, 2);
  EXPECT_EQ(chain.Resolve()->access_key_id, "A2");
  EXPECT_EQ(a, 2);
}

TEST(CredentialChain, FailedRefreshServesUnexpiredCacheThenFails) {
  ManualClock clock;
  int a = 0;
  bool fail = false;
  std::vector<std::unique_ptr<CredentialProvider>> p;
  p.push_back(std::make_unique<ScriptedProvider>(
      "a",
      [&clock, &fail]() -> Result<Credentials> {
        if (fail) return UnavailableError("endpoint down");
        return Make("A", clock.WallNow() + std::chrono::hours(1));
      },
      &a));
  CredentialChain chain(std::move(p), clock);
  ASSERT_TRUE(chain.Resolve().ok());
  fail = true;
  clock.Advance(std::chrono::minutes(57));
  auto r = chain.Resolve();
  ASSERT_TRUE(r.ok()) << "still valid for 3 minutes";
  EXPECT_EQ(a, 2);
  EXPECT_EQ(chain.attempts()[0].status.code(), StatusCode::kUnavailable);
  clock.Advance(std::chrono::minutes(4));
  r = chain.Resolve();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

TEST(CredentialChain, DefaultChainReportsEverySourceTried) {
  TempHome home;
  MapEnv env(
      Vars{{"HOME", home.path()}, {"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://imds.test"}});
  net::FakeTransport http([](const HttpRequest&) -> Result<HttpResponse> {
    return UnavailableError("connection refused");
  });
  ManualClock clock;
  ImdsClient imds(http, clock, ImdsOptions::FromEnv(env));
  auto chain = CredentialChain::Default(env, http, imds, clock);
  auto r = chain->Resolve();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  const std::string& m = r.status().message();
  EXPECT_THAT(m,
              HasSubstr("no AWS credentials found; tried: environment (AWS_ACCESS_KEY_ID not set), "
                        "profile default (no [default] in "));
  EXPECT_THAT(m,
              HasSubstr("container (AWS_CONTAINER_CREDENTIALS_* not set), imds (not reachable: "));
  EXPECT_THAT(m, HasSubstr("connection refused"));
  auto attempts = chain->attempts();
  ASSERT_EQ(attempts.size(), 4u);
  EXPECT_EQ(attempts[0].provider, "environment");
  EXPECT_EQ(attempts[1].provider, "profile");
  EXPECT_EQ(attempts[2].provider, "container");
  EXPECT_EQ(attempts[3].provider, "imds");
  for (const auto& a : attempts) EXPECT_EQ(a.status.code(), StatusCode::kNotFound) << a.provider;
  for (const auto& req : http.requests())
    EXPECT_EQ(req.url.rfind("http://imds.test/", 0), 0u) << req.url;
}

TEST(CredentialChain, DefaultChainOrder) {
  TempHome home;
  home.Write(".aws/credentials",
             "[default]\naws_access_key_id = PROFILE\naws_secret_access_key = S\n");
  MapEnv env(Vars{{"HOME", home.path()},
                  {"AWS_EC2_METADATA_DISABLED", "true"},
                  {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/c"}});
  net::FakeTransport http;
  ManualClock clock;
  ImdsClient imds(http, clock, ImdsOptions::FromEnv(env));
  {
    MapEnv with_keys = env;
    with_keys.Set("AWS_ACCESS_KEY_ID", "ENV");
    with_keys.Set("AWS_SECRET_ACCESS_KEY", "S");
    auto r = CredentialChain::Default(with_keys, http, imds, clock)->Resolve();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->source, "environment");
  }
  {
    auto r = CredentialChain::Default(env, http, imds, clock)->Resolve();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->source, "profile default (credentials file)");
  }
  {
    MapEnv no_profile = env;
    no_profile.Set("HOME", home.path() + "/empty");
    http.Push(200, kCredentialJson);
    auto r = CredentialChain::Default(no_profile, http, imds, clock)->Resolve();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->source, "container");
  }
  {
    MapEnv only_imds(Vars{{"HOME", home.path() + "/empty"},
                          {"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://imds.test"}});
    net::FakeTransport imds_http(ImdsHandler());
    ImdsClient imds2(imds_http, clock, ImdsOptions::FromEnv(only_imds));
    auto r = CredentialChain::Default(only_imds, imds_http, imds2, clock)->Resolve();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->source, "imds role web-role");
  }
  EXPECT_EQ(http.request_count(), 1u);
}

}  // namespace
}  // namespace spk::aws
