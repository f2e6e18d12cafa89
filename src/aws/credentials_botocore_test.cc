// Compares the credential source our chain picks with the one botocore picks,
// for the same environments. botocore runs in a child process
// (tests/tools/botocore_credential_source.py) whose environment is exactly
// PATH, HOME (a temp dir) and the case's variables; our chain gets the same
// variables through a MapEnv. Container and IMDS endpoints are LoopbackServers
// on 127.0.0.1; every case either points IMDS at one or disables it, so nothing
// reaches a non-loopback address.
//
// python3 (found through PATH) with botocore is required: without it the tests
// fail, they do not skip.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>

#include "aws/credentials.h"
#include "aws/imds.h"
#include "net/curl_transport.h"
#include "net/loopback_server.h"

namespace spk::aws {
namespace {

#ifndef SPK_SOURCE_DIR
#error "SPK_SOURCE_DIR must name the repository root"
#endif

constexpr char kDriver[] = SPK_SOURCE_DIR "/tests/tools/botocore_credential_source.py";
constexpr char kContainerToken[] = "Bearer container-secret-token";

// ---------------------------------------------------------------- mapping

// The kinds of source both sides can pick, and botocore's `method` for each.
const std::map<std::string, std::string>& BotocoreMethodToKind() {
  static const std::map<std::string, std::string> m = {
      {"env", "environment"},
      {"shared-credentials-file", "profile/credentials-file"},
      {"config-file", "profile/config-file"},
      {"container-role", "container"},
      {"iam-role", "imds"},
      {"none", "none"},
      {"error", "error"},  // the driver's exit status 3: botocore raised while resolving
  };
  return m;
}

std::string BotocoreKind(const std::string& method) {
  auto it = BotocoreMethodToKind().find(method);
  return it == BotocoreMethodToKind().end() ? "unmapped botocore method '" + method + "'"
                                            : it->second;
}

// Our Credentials.source (or the chain's failure) as one of the kinds above.
std::string OurKind(const Result<Credentials>& r) {
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kUnauthenticated) return "none";
    return "error";  // a source is configured but unusable
  }
  const std::string& s = r->source;
  auto ends_with = [&s](const std::string& suffix) { return s.ends_with(suffix); };
  if (s == "environment") return "environment";
  if (s.starts_with("profile ") && ends_with(" (credentials file)"))
    return "profile/credentials-file";
  if (s.starts_with("profile ") && ends_with(" (config file)")) return "profile/config-file";
  if (s == "container") return "container";
  if (s.starts_with("imds role ")) return "imds";
  return "unmapped source '" + s + "'";
}

// ---------------------------------------------------------------- helpers

std::string Replace(std::string s, const std::map<std::string, std::string>& vars) {
  for (const auto& [from, to] : vars) {
    for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
      s.replace(pos, from.size(), to);
    }
  }
  return s;
}

std::string FindInPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return "";
  std::string p = path;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string dir = p.substr(start, end - start);
    if (!dir.empty()) {
      std::string candidate = dir + "/" + program;
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    start = end + 1;
  }
  return "";
}

struct ChildResult {
  bool ran = false;  // false: could not be started or timed out
  int exit_code = -1;
  std::string out;
  std::string err;
  std::string problem;
};

// Runs `argv` with exactly `env` (NAME=value strings), capturing stdout and stderr.
ChildResult Run(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                const std::string& scratch_dir) {
  ChildResult res;
  int out_pipe[2];
  if (pipe(out_pipe) != 0) {
    res.problem = "pipe() failed";
    return res;
  }
  const std::string err_path = scratch_dir + "/driver.stderr";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_addclose(&fa, out_pipe[0]);
  posix_spawn_file_actions_addclose(&fa, out_pipe[1]);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, cargv[0], &fa, nullptr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&fa);
  close(out_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    res.problem = "posix_spawn(" + argv[0] + ") failed: " + std::strerror(rc);
    return res;
  }
  // Read until EOF, for at most 60 s.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool timed_out = false;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{out_pipe[0], POLLIN, 0};
    int pr = poll(&pfd, 1, static_cast<int>(left.count()));
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) {
      timed_out = pr == 0;
      break;
    }
    ssize_t n = read(out_pipe[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    res.out.append(buf, static_cast<size_t>(n));
  }
  close(out_pipe[0]);
  if (timed_out) kill(pid, SIGKILL);  // the child we started, by its pid
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  res.err = ReadFileToString(err_path).value_or("");
  if (timed_out) {
    res.problem = "timed out after 60 s";
    return res;
  }
  res.ran = true;
  res.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return res;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "spk-botocore-XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr);
    path_ = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ---------------------------------------------------------------- peers

std::string CredentialJson(const std::string& access_key) {
  const std::string exp = FormatIso8601(SystemClock::Instance().WallNow() + std::chrono::hours(6));
  return R"({"Code":"Success","Type":"AWS-HMAC","AccessKeyId":")" + access_key +
         R"(","SecretAccessKey":"secret","Token":"token","Expiration":")" + exp +
         R"(","LastUpdated":"2024-01-01T00:00:00Z"})";
}

net::HttpResponse Reply(int status, std::string body, std::string content_type = "text/plain") {
  net::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers.emplace_back("Content-Type", std::move(content_type));
  return r;
}

std::optional<std::string> HeaderOf(const net::ServerRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (net::HeaderNameEquals(k, name)) return v;
  return std::nullopt;
}

// An ECS-style credentials endpoint; with `token`, it requires that Authorization.
net::LoopbackServer::Handler ContainerHandler(std::string token) {
  return [token](const net::ServerRequest& r) {
    if (r.method != "GET" || r.path != "/v2/credentials/task") return Reply(404, "no such path");
    if (!token.empty() && HeaderOf(r, "Authorization") != token)
      return Reply(401, "bad authorization");
    return Reply(200, CredentialJson("ASIACONTAINER"), "application/json");
  };
}

// IMDS with the role "spot-role": IMDSv2 (tokens required) or IMDSv1 only.
net::LoopbackServer::Handler ImdsHandler(bool v2) {
  return [v2](const net::ServerRequest& r) {
    if (r.path == "/latest/api/token") {
      if (!v2) return Reply(404, "");
      if (r.method != "PUT" || !HeaderOf(r, "X-aws-ec2-metadata-token-ttl-seconds"))
        return Reply(400, "");
      return Reply(200, "imds-session-token");
    }
    if (r.method != "GET") return Reply(405, "");
    if (v2 && HeaderOf(r, "X-aws-ec2-metadata-token") != "imds-session-token")
      return Reply(401, "");
    if (r.path == "/latest/meta-data/iam/security-credentials/") return Reply(200, "spot-role");
    if (r.path == "/latest/meta-data/iam/security-credentials/spot-role") {
      return Reply(200, CredentialJson("ASIAIMDS"));
    }
    return Reply(404, "");
  };
}

// ---------------------------------------------------------------- cases

struct Case {
  std::string name;
  std::map<std::string, std::string>
      vars;  // placeholders {HOME} {CONTAINER} {CONTAINER_AUTH} {IMDS_V2} {IMDS_V1}
  std::map<std::string, std::string> files;  // path under HOME -> content (placeholders too)
  std::string expected_kind;
  std::string expected_source;  // our exact Credentials.source ("" for none)
};

const char kDefaultCreds[] = "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = s\n";

std::vector<Case> Cases() {
  const std::map<std::string, std::string> no_imds = {{"AWS_EC2_METADATA_DISABLED", "true"}};
  auto with = [&no_imds](std::map<std::string, std::string> v) {
    for (const auto& [k, x] : no_imds) v.emplace(k, x);
    return v;
  };
  return {
      {"EnvKeysOnly",
       with({{"AWS_ACCESS_KEY_ID", "AKIAENV"},
             {"AWS_SECRET_ACCESS_KEY", "s"},
             {"AWS_SESSION_TOKEN", "t"}}),
       {},
       "environment",
       "environment"},
      {"EnvBeatsProfileFile",
       with({{"AWS_ACCESS_KEY_ID", "AKIAENV"}, {"AWS_SECRET_ACCESS_KEY", "s"}}),
       {{".aws/credentials", kDefaultCreds}},
       "environment",
       "environment"},
      {"EnvBeatsAwsProfile",
       with({{"AWS_ACCESS_KEY_ID", "AKIAENV"},
             {"AWS_SECRET_ACCESS_KEY", "s"},
             {"AWS_PROFILE", "other"}}),
       {{".aws/credentials", "[other]\naws_access_key_id = O\naws_secret_access_key = s\n"}},
       "environment",
       "environment"},
      {"CredentialsFileDefault",
       with({}),
       {{".aws/credentials", kDefaultCreds}},
       "profile/credentials-file",
       "profile default (credentials file)"},
      {"AwsProfileOtherInCredentialsFile",
       with({{"AWS_PROFILE", "other"}}),
       {{".aws/credentials", std::string(kDefaultCreds) +
                                 "[other]\naws_access_key_id = O\naws_secret_access_key = s\n"}},
       "profile/credentials-file",
       "profile other (credentials file)"},
      {"SharedCredentialsFileVariable",
       with({{"AWS_SHARED_CREDENTIALS_FILE", "{HOME}/elsewhere/creds"}}),
       {{"elsewhere/creds", kDefaultCreds}},
       "profile/credentials-file",
       "profile default (credentials file)"},
      {"CredentialsFileBeatsConfigFile",
       with({}),
       {{".aws/credentials", kDefaultCreds},
        {".aws/config", "[default]\naws_access_key_id = AKIACFG\naws_secret_access_key = s\n"}},
       "profile/credentials-file",
       "profile default (credentials file)"},
      {"ConfigFileOnlyStaticKeys",
       with({}),
       {{".aws/config",
         "[default]\nregion = us-east-1\naws_access_key_id = AKIACFG\naws_secret_access_key = "
         "s\n"}},
       "profile/config-file",
       "profile default (config file)"},
      {"ConfigFileNamedProfileViaAwsConfigFile",
       with({{"AWS_CONFIG_FILE", "{HOME}/cfg"}, {"AWS_PROFILE", "dev"}}),
       {{"cfg", "[profile dev]\naws_access_key_id = AKIACFG\naws_secret_access_key = s\n"}},
       "profile/config-file",
       "profile dev (config file)"},
      {"ContainerFullUri",
       with({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "{CONTAINER}/v2/credentials/task"}}),
       {{".aws/config", "[default]\nregion = us-east-1\n"}},
       "container",
       "container"},
      {"ContainerFullUriWithAuthorizationToken",
       with({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "{CONTAINER_AUTH}/v2/credentials/task"},
             {"AWS_CONTAINER_AUTHORIZATION_TOKEN", kContainerToken}}),
       {},
       "container",
       "container"},
      {"ContainerFullUriWithAuthorizationTokenFile",
       with({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "{CONTAINER_AUTH}/v2/credentials/task"},
             {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "{HOME}/token"},
             {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer wrong"}}),
       {{"token", kContainerToken}},
       "container",
       "container"},
      {"ImdsV2",
       {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "{IMDS_V2}"}},
       {},
       "imds",
       "imds role spot-role"},
      {"ImdsV1Fallback",
       {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "{IMDS_V1}"}},
       {},
       "imds",
       "imds role spot-role"},
      {"ProfileWithoutKeysFallsThroughToImds",
       {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "{IMDS_V2}/"}},
       {{".aws/config", "[default]\nregion = us-east-1\n"}},
       "imds",
       "imds role spot-role"},
      {"NothingWithImdsDisabled", with({}), {}, "none", ""},
      // Both sides refuse to fall through to another source.
      {"HalfAnEnvironmentPair", with({{"AWS_ACCESS_KEY_ID", "AKIAENV"}}), {}, "error", ""},
      {"AwsProfileNamedButMissing",
       with({{"AWS_PROFILE", "typo"}}),
       {{".aws/credentials", kDefaultCreds}},
       "error",
       ""},
      {"PartialKeysInCredentialsFile",
       with({}),
       {{".aws/credentials", "[default]\naws_access_key_id = AKIAFILE\n"}},
       "error",
       ""},
      {"CredentialProcessProfile",  // botocore runs /bin/false and fails; we do not implement it
       with({}),
       {{".aws/config", "[default]\ncredential_process = /bin/false\n"}},
       "error",
       ""},
      {"ProfileRegionOnlyWithImdsDisabled",
       with({}),
       {{".aws/config", "[default]\nregion = eu-west-1\n"}},
       "none",
       ""},
  };
}

class BotocoreComparison : public ::testing::TestWithParam<Case> {
 protected:
  static void SetUpTestSuite() {
    container_ = std::make_unique<net::LoopbackServer>(ContainerHandler(""));
    container_auth_ = std::make_unique<net::LoopbackServer>(ContainerHandler(kContainerToken));
    imds_v2_ = std::make_unique<net::LoopbackServer>(ImdsHandler(true));
    imds_v1_ = std::make_unique<net::LoopbackServer>(ImdsHandler(false));
    for (auto* s : {container_.get(), container_auth_.get(), imds_v2_.get(), imds_v1_.get()}) {
      Status st = s->Start("127.0.0.1");
      ASSERT_TRUE(st.ok()) << st.ToString();
    }
  }
  static void TearDownTestSuite() {
    container_.reset();
    container_auth_.reset();
    imds_v2_.reset();
    imds_v1_.reset();
  }

  static std::unique_ptr<net::LoopbackServer> container_, container_auth_, imds_v2_, imds_v1_;
};

std::unique_ptr<net::LoopbackServer> BotocoreComparison::container_;
std::unique_ptr<net::LoopbackServer> BotocoreComparison::container_auth_;
std::unique_ptr<net::LoopbackServer> BotocoreComparison::imds_v2_;
std::unique_ptr<net::LoopbackServer> BotocoreComparison::imds_v1_;

// What botocore says: its method, or a failure explaining why it could not run.
::testing::AssertionResult RunBotocore(const std::map<std::string, std::string>& vars,
                                       const std::string& home, std::string* method) {
  const std::string python = FindInPath("python3");
  if (python.empty()) {
    return ::testing::AssertionFailure()
           << "python3 not found in PATH=" << std::getenv("PATH")
           << "; the botocore comparison needs python3 with botocore installed";
  }
  std::vector<std::string> env = {"PATH=" + std::string(std::getenv("PATH")), "HOME=" + home};
  // pyenv shims pick their interpreter from these; they do not affect botocore.
  for (const char* pass : {"PYENV_ROOT", "PYENV_VERSION"}) {
    if (const char* v = std::getenv(pass)) env.push_back(std::string(pass) + "=" + v);
  }
  for (const auto& [k, v] : vars) env.push_back(k + "=" + v);
  ChildResult r = Run({python, kDriver}, env, home);
  if (!r.ran)
    return ::testing::AssertionFailure()
           << "running " << python << " " << kDriver << ": " << r.problem;
  std::string out = r.out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  if (r.exit_code == 3 && out.starts_with("error:")) {
    *method = "error";  // botocore raised: it found a source it could not use
    return ::testing::AssertionSuccess() << out;
  }
  if (r.exit_code != 0 || out.empty()) {
    return ::testing::AssertionFailure()
           << python << " " << kDriver << " exited " << r.exit_code
           << (r.exit_code == 2 ? " (botocore is not installed for this python3)" : "")
           << "\nstdout: " << r.out << "\nstderr: " << r.err;
  }
  *method = out;
  return ::testing::AssertionSuccess();
}

TEST_P(BotocoreComparison, SameSource) {
  const Case& c = GetParam();
  TempDir home;
  const std::map<std::string, std::string> placeholders = {
      {"{HOME}", home.path()},
      {"{CONTAINER}", container_->url()},
      {"{CONTAINER_AUTH}", container_auth_->url()},
      {"{IMDS_V2}", imds_v2_->url()},
      {"{IMDS_V1}", imds_v1_->url()},
  };
  std::map<std::string, std::string> vars;
  for (const auto& [k, v] : c.vars) vars[k] = Replace(v, placeholders);
  // Never let either side reach the real IMDS address.
  auto imds_endpoint = vars.find("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  ASSERT_TRUE(
      vars.count("AWS_EC2_METADATA_DISABLED") > 0 ||
      (imds_endpoint != vars.end() && imds_endpoint->second.starts_with("http://127.0.0.1:")))
      << "case must disable IMDS or point it at a loopback server";
  for (const auto& [rel, text] : c.files) {
    std::filesystem::path p = std::filesystem::path(home.path()) / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << Replace(text, placeholders);
  }

  // Ours.
  MapEnv env;
  env.Set("HOME", home.path());
  for (const auto& [k, v] : vars) env.Set(k, v);
  net::CurlTransport http;
  SystemClock& clock = SystemClock::Instance();
  ImdsClient imds(http, clock, ImdsOptions::FromEnv(env));
  auto chain = CredentialChain::Default(env, http, imds, clock);
  Result<Credentials> ours = chain->Resolve();
  const std::string our_kind = OurKind(ours);

  // botocore's.
  std::string method;
  ::testing::AssertionResult ran = RunBotocore(vars, home.path(), &method);
  ASSERT_TRUE(ran);
  const std::string botocore_detail = ran.message();
  const std::string botocore_kind = BotocoreKind(method);

  EXPECT_EQ(our_kind, botocore_kind)
      << "ours: " << (ours.ok() ? ours->source : ours.status().ToString())
      << "\nbotocore: " << method << " " << botocore_detail;
  EXPECT_EQ(our_kind, c.expected_kind) << (ours.ok() ? ours->source : ours.status().ToString());
  if (ours.ok()) {
    EXPECT_EQ(ours->source, c.expected_source);
  }
}

INSTANTIATE_TEST_SUITE_P(Environments, BotocoreComparison, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& param) {
                           return param.param.name;
                         });

TEST(BotocoreMapping, EveryKindIsMapped) {
  for (const char* kind : {"environment", "profile/credentials-file", "profile/config-file",
                           "container", "imds", "none"}) {
    bool found = false;
    for (const auto& [method, k] : BotocoreMethodToKind()) found |= k == kind;
    EXPECT_TRUE(found) << kind;
  }
}

}  // namespace
}  // namespace spk::aws
