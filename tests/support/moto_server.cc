#include "support/moto_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <regex>
#include <thread>
#include <vector>

#include "base/clock.h"

extern char** environ;

namespace spk::testsupport {
namespace {

constexpr int kNoAuthActions = 4;  // CreateUser, CreateAccessKey, CreatePolicy, AttachUserPolicy
constexpr auto kStopGrace = std::chrono::seconds(5);

bool PortAcceptsConnections(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

std::string XmlText(const aws::XmlReply& reply, const char* outer, const char* name) {
  pugi::xml_node n = reply->document_element().find_node(
      [&](const pugi::xml_node& x) { return std::strcmp(x.name(), outer) == 0; });
  return n.child(name).text().get();
}

}  // namespace

const aws::ServiceInfo& IamService() {
  static const aws::ServiceInfo s{"IAM", "iam", "iam", aws::Protocol::kQuery, "2010-05-08", ""};
  return s;
}

aws::ClientOptions TestClientOptions() {
  aws::ClientOptions o;
  o.retry.base_delay = std::chrono::milliseconds(20);
  o.retry.max_backoff = std::chrono::milliseconds(200);
  o.user_agent = "spotkeeper-test";
  return o;
}

MotoClient::MotoClient(MapEnv environment, aws::ClientOptions options)
    : env(std::move(environment)),
      random(42),
      credentials(env),
      endpoints(env, env.GetOr("AWS_REGION", "us-east-1")),
      client(http, SystemClock::Instance(), random, credentials, endpoints, std::move(options)) {}

Result<std::unique_ptr<MotoServer>> MotoServer::Start(const MotoOptions& options) {
  std::unique_ptr<MotoServer> server(new MotoServer());
  Status st = server->Launch(options);
  if (st.ok()) st = server->CreateUser(options);
  if (!st.ok()) {
    std::string tail = server->LogTail(2000);
    server->Stop();
    return Status(st.code(), st.message() + "\n--- moto log ---\n" + tail);
  }
  return server;
}

Status MotoServer::Launch(const MotoOptions& options) {
  char log_template[] = "/tmp/spk-moto-XXXXXX.log";
  int log_fd = ::mkstemps(log_template, 4);
  if (log_fd < 0) return UnavailableError(std::string("mkstemps: ") + std::strerror(errno));
  log_path_ = log_template;

  const char* py_env = std::getenv("SPK_PYTHON");
  std::string python = py_env && *py_env ? py_env : "python3";
  std::vector<std::string> args = {python, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"};

  // The child's environment: ours, with moto's auth switch set.
  std::vector<std::string> env_strings;
  for (char** e = environ; e && *e; ++e) {
    if (std::strncmp(*e, "INITIAL_NO_AUTH_ACTION_COUNT=", 29) == 0) continue;
    if (std::strncmp(*e, "PYTHONUNBUFFERED=", 17) == 0) continue;
    env_strings.emplace_back(*e);
  }
  env_strings.push_back("INITIAL_NO_AUTH_ACTION_COUNT=" + std::to_string(kNoAuthActions));
  env_strings.push_back("PYTHONUNBUFFERED=1");

  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls.
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    return UnavailableError(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::close_range(3, ~0U, 0);  // no inherited sockets or files beyond stdio
    ::execvpe(argv[0], argv.data(), envp.data());
    static const char kMsg[] = "spotkeeper test: exec of python failed\n";
    ssize_t ignored = ::write(2, kMsg, sizeof(kMsg) - 1);
    (void)ignored;
    ::_exit(127);
  }
  ::close(log_fd);
  pid_ = pid;

  // Wait for "Running on http://127.0.0.1:PORT", then for the port to accept.
  static const std::regex kRunning(R"(Running on http://127\.0\.0\.1:(\d+))");
  auto deadline = std::chrono::steady_clock::now() + options.start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int wstatus = 0;
    if (::waitpid(pid_, &wstatus, WNOHANG) == pid_) {
      pid_ = -1;
      return UnavailableError("moto_server exited during start (" + python +
                              " -m moto.server; is moto[server] installed? SPK_PYTHON selects "
                              "the interpreter)");
    }
    if (port_ == 0) {
      std::smatch m;
      std::string log = ReadFileToString(log_path_).value_or("");
      if (std::regex_search(log, m, kRunning)) port_ = std::stoi(m[1].str());
    }
    if (port_ != 0 && PortAcceptsConnections(port_)) {
      endpoint_ = "http://127.0.0.1:" + std::to_string(port_);
      return Status::Ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return UnavailableError("moto_server did not start within " +
                          std::to_string(options.start_timeout.count()) + " s");
}

Status MotoServer::CreateUser(const MotoOptions& options) {
  // Any key signs the unauthenticated calls; one attempt each, since a retry
  // would spend one of the few calls moto lets through.
  MapEnv env = Env();
  env.Set("AWS_ACCESS_KEY_ID", "AKIASPOTKEEPERSETUP0");
  env.Set("AWS_SECRET_ACCESS_KEY", "setup");
  aws::ClientOptions setup_options = TestClientOptions();
  setup_options.retry.max_attempts = 1;
  MotoClient setup(std::move(env), setup_options);
  const aws::ServiceInfo& iam = IamService();

  auto user = setup.client.CallQuery(iam, "CreateUser", {{"UserName", options.user_name}});
  if (!user.ok()) return user.status().WithContext("iam CreateUser");
  user_arn_ = XmlText(*user, "User", "Arn");

  auto key = setup.client.CallQuery(iam, "CreateAccessKey", {{"UserName", options.user_name}});
  if (!key.ok()) return key.status().WithContext("iam CreateAccessKey");
  access_key_id_ = XmlText(*key, "AccessKey", "AccessKeyId");
  secret_access_key_ = XmlText(*key, "AccessKey", "SecretAccessKey");
  if (access_key_id_.empty() || secret_access_key_.empty()) {
    return InternalError("iam CreateAccessKey: reply has no key");
  }

  static const char kPolicy[] =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})";
  auto policy = setup.client.CallQuery(
      iam, "CreatePolicy",
      {{"PolicyName", options.user_name + "-all"}, {"PolicyDocument", kPolicy}});
  if (!policy.ok()) return policy.status().WithContext("iam CreatePolicy");
  std::string policy_arn = XmlText(*policy, "Policy", "Arn");

  auto attach = setup.client.CallQuery(
      iam, "AttachUserPolicy", {{"UserName", options.user_name}, {"PolicyArn", policy_arn}});
  if (!attach.ok()) return attach.status().WithContext("iam AttachUserPolicy");
  return Status::Ok();
}

MotoServer::~MotoServer() {
  Stop();
  if (!log_path_.empty() && std::getenv("SPK_KEEP_MOTO_LOG") == nullptr) {
    ::unlink(log_path_.c_str());
  }
}

void MotoServer::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + kStopGrace;
  int wstatus = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    pid_t r = ::waitpid(pid_, &wstatus, WNOHANG);
    if (r == pid_ || r < 0) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &wstatus, 0);
  pid_ = -1;
}

MapEnv MotoServer::Env() const {
  MapEnv env;
  env.Set("AWS_ENDPOINT_URL", endpoint_);
  env.Set("AWS_REGION", "us-east-1");
  env.Set("AWS_ACCESS_KEY_ID", access_key_id_);
  env.Set("AWS_SECRET_ACCESS_KEY", secret_access_key_);
  env.Set("AWS_EC2_METADATA_DISABLED", "true");
  env.Set("AWS_CONFIG_FILE", "/dev/null");
  env.Set("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
  return env;
}

std::unique_ptr<MotoClient> MotoServer::NewClient(aws::ClientOptions options) const {
  return std::make_unique<MotoClient>(Env(), std::move(options));
}

std::unique_ptr<MotoClient> MotoServer::NewClientWithSecret(const std::string& secret,
                                                            aws::ClientOptions options) const {
  MapEnv env = Env();
  env.Set("AWS_SECRET_ACCESS_KEY", secret);
  return std::make_unique<MotoClient>(std::move(env), std::move(options));
}

std::string MotoServer::LogTail(size_t bytes) const {
  std::string log = ReadFileToString(log_path_).value_or("");
  return log.size() > bytes ? log.substr(log.size() - bytes) : log;
}

}  // namespace spk::testsupport
