#include "cli/agent_command.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <memory>

#include "agent/watch_plan.h"
#include "agent/watcher.h"
#include "aws/session.h"
#include "aws/sns.h"
#include "aws/sqs.h"
#include "base/json.h"
#include "base/log.h"
#include "base/redact.h"
#include "cloud/aws_container_instances.h"
#include "cloud/aws_metadata.h"
#include "cloud/child_call_exec.h"
#include "cloud/child_calls.h"
#include "cloud/sinks.h"
#include "cloud/webhook_notifier.h"

#ifndef SPK_VERSION
#define SPK_VERSION "0.0.0"
#endif

namespace spk::cli {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

int UsageError(const std::string& command, const std::string& message) {
  std::cerr << "spotkeeper " << command << ": " << message << "\n";
  return kExitUsage;
}

void AddSourceOptions(CLI::App* cmd, MetadataSourceOptions& o) {
  cmd->add_option("--imds-timeout", o.imds_timeout, "Timeout of each metadata read")
      ->envname("SPOTKEEPER_IMDS_TIMEOUT")
      ->capture_default_str();
  cmd->add_flag("--imds-v1", o.imds_v1, "Use IMDSv1 (no session token)")
      ->envname("SPOTKEEPER_IMDS_V1");
  cmd->add_option("--ecs-agent-endpoint", o.ecs_agent_endpoint,
                  "ECS agent introspection endpoint (GET <endpoint>/v1/metadata)")
      ->envname("SPOTKEEPER_ECS_AGENT_ENDPOINT")
      ->capture_default_str();
}

struct MetadataSource {
  aws::ImdsOptions imds;
  std::unique_ptr<cloud::AwsMetadata> metadata;
  std::unique_ptr<cloud::HttpEcsAgentIntrospection> ecs_agent;
};

// Validates the source settings; "" on success, else the one-line error.
std::string MakeSource(const MetadataSourceOptions& o, const Env& env, net::HttpTransport& http,
                       const Clock& clock, MetadataSource* out) {
  aws::ImdsOptions imds = aws::ImdsOptions::FromEnv(env);
  Duration timeout;
  if (!ParseDurationSetting(o.imds_timeout, &timeout) || timeout <= Duration::zero()) {
    return "--imds-timeout (SPOTKEEPER_IMDS_TIMEOUT) must be a duration such as 300ms, not \"" +
           o.imds_timeout + "\"";
  }
  net::Url url;
  if (!net::ParseUrl(imds.endpoint, &url)) {
    return "AWS_EC2_METADATA_SERVICE_ENDPOINT is not a URL: \"" + imds.endpoint + "\"";
  }
  if (!net::ParseUrl(o.ecs_agent_endpoint, &url)) {
    return "--ecs-agent-endpoint (SPOTKEEPER_ECS_AGENT_ENDPOINT) is not a URL: \"" +
           o.ecs_agent_endpoint + "\"";
  }
  imds.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  imds.force_v1 = o.imds_v1;
  out->imds = imds;
  out->metadata = std::make_unique<cloud::AwsMetadata>(http, clock, imds);
  out->ecs_agent = std::make_unique<cloud::HttpEcsAgentIntrospection>(http, o.ecs_agent_endpoint);
  return "";
}

// The watcher and its children make each AWS call once (the watcher retries,
// with its own backoff) with short timeouts.
aws::SessionOptions AgentSessionOptions(const std::string& region) {
  aws::SessionOptions so;
  so.region = region;
  so.client.retry.max_attempts = 1;
  so.client.connect_timeout = std::chrono::milliseconds(2000);
  so.client.timeout = std::chrono::milliseconds(5000);
  return so;
}

// The command line of an `agent-call` child of the binary at `self`.
std::vector<std::string> AgentCallArgv(const std::string& self, const std::string& log_format,
                                       const std::string& log_level, const std::string& region) {
  std::vector<std::string> argv = {self,          "--log-format", log_format,
                                   "--log-level", log_level,      "agent-call"};
  if (!region.empty()) argv.insert(argv.end(), {"--region", region});
  return argv;
}

// Replaces this process (exec, same PID) with spotkeeper-watch, the small
// long-lived watcher, handing it `base` over a pipe. Returns false when it
// cannot (logged): spotkeeper-watch is not beside this binary, an endpoint
// needs https (the watcher speaks plain HTTP), or exec failed; the caller then
// watches from this process. Returns true when `stop` was already set: the
// caller exits.
bool ExecWatcher(const agent::WatchPlan& base, const std::string& region,
                 const std::atomic<bool>& stop) {
  for (const std::string* endpoint : {&base.imds.endpoint, &base.ecs_agent_endpoint}) {
    net::Url url;
    if (net::ParseUrl(*endpoint, &url) && url.scheme != "http") {
      log::Warn(
          "an https metadata or ECS agent endpoint: watching from this process "
          "(spotkeeper-watch reads plain HTTP only)",
          {{"endpoint", *endpoint}});
      return false;
    }
  }
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::string watch = ec ? "" : (self.parent_path() / "spotkeeper-watch").string();
  if (watch.empty() || access(watch.c_str(), X_OK) != 0) {
    log::Warn(
        "spotkeeper-watch not found beside spotkeeper: watching from this process, which "
        "keeps the AWS and TLS libraries loaded (several times the memory)",
        {{"looked_for", watch.empty() ? "/proc/self/exe unreadable" : watch}});
    return false;
  }
  agent::WatchPlan plan = base;
  plan.child_argv = AgentCallArgv(self.string(), plan.log_format, plan.log_level, region);
  // Invalid UTF-8 (a webhook header) is replaced, not thrown.
  const std::string text =
      agent::WatchPlanToJson(plan).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    log::Warn("cannot hand the settings to spotkeeper-watch: watching from this process",
              {{"error", std::string("pipe: ") + std::strerror(errno)}});
    return false;
  }
  // The plan must fit the pipe's buffer: nobody reads it before the exec.
  if (fcntl(fds[1], F_GETPIPE_SZ) < static_cast<int>(text.size())) {
    ::close(fds[0]);
    ::close(fds[1]);
    log::Warn("cannot hand the settings to spotkeeper-watch: watching from this process",
              {{"error",
                "settings larger than a pipe buffer (" + std::to_string(text.size()) + " bytes)"}});
    return false;
  }
  size_t done = 0;
  while (done < text.size()) {
    ssize_t w = ::write(fds[1], text.data() + done, text.size() - done);
    if (w <= 0 && errno != EINTR) break;
    if (w > 0) done += static_cast<size_t>(w);
  }
  ::close(fds[1]);
  // A stop request from here on stays pending across the exec; the watcher
  // unblocks it once its own handlers are installed (cli/watch.cc).
  const sigset_t old = BlockStopSignals();
  if (stop.load()) {  // asked to stop during start-up
    sigprocmask(SIG_SETMASK, &old, nullptr);
    ::close(fds[0]);
    return true;
  }
  // Nothing but the plan reaches the watcher: libcurl's sockets (from the
  // region lookup) are not close-on-exec.
  close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  fcntl(fds[0], F_SETFD, 0);
  const std::string fd_arg = std::to_string(fds[0]);
  if (done == text.size()) {
    execl(watch.c_str(), watch.c_str(), "--plan-fd", fd_arg.c_str(), static_cast<char*>(nullptr));
  }
  const int err = errno;
  sigprocmask(SIG_SETMASK, &old, nullptr);
  ::close(fds[0]);
  log::Warn("cannot start spotkeeper-watch: watching from this process",
            {{"path", watch}, {"error", std::strerror(err)}});
  return false;
}

bool IsHttpUrl(const std::string& s) {
  net::Url url;
  return net::ParseUrl(s, &url) && (url.scheme == "http" || url.scheme == "https") &&
         !url.host.empty();
}

}  // namespace

CLI::App* AddAgentCommand(CLI::App& app, AgentOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "agent",
      "Watch instance metadata for spot interruption notices, rebalance recommendations and\n"
      "scheduled maintenance; publish each notice once to every sink (SNS, SQS, webhook).");
  AddSourceOptions(cmd, o.source);
  cmd->add_option("--sns-topic-arn", o.sns_topic_arn, "Publish notices to this SNS topic")
      ->envname("SPOTKEEPER_SNS_TOPIC_ARN");
  cmd->add_option("--sqs-queue-url", o.sqs_queue_url, "Send notices to this SQS queue")
      ->envname("SPOTKEEPER_SQS_QUEUE_URL");
  cmd->add_option("--webhook-url", o.webhook_url,
                  "POST notices as JSON to this URL (logged as scheme://host/...redacted: its\n"
                  "path, query and user info may hold a secret)")
      ->envname("SPOTKEEPER_WEBHOOK_URL");
  cmd->add_option("--webhook-header", o.webhook_headers,
                  "Extra webhook header 'Name: value' (repeatable; values are never logged)")
      ->allow_extra_args(false)
      ->envname("SPOTKEEPER_WEBHOOK_HEADER");
  cmd->add_flag("--drain", o.drain,
                "On a spot interruption notice, set this instance's ECS container instance to "
                "DRAINING")
      ->envname("SPOTKEEPER_DRAIN");
  cmd->add_flag("--no-lifecycle-attribute", o.no_lifecycle_attribute,
                "Do not set the spotkeeper.lifecycle ECS attribute at start")
      ->envname("SPOTKEEPER_NO_LIFECYCLE_ATTRIBUTE");
  cmd->add_flag("--terminate", o.terminate,
                "Publish a test notice to every sink now, then exit (0 once all accepted)");
  cmd->add_option("--terminate-timeout", o.terminate_timeout,
                  "How long --terminate retries before giving up")
      ->envname("SPOTKEEPER_TERMINATE_TIMEOUT")
      ->capture_default_str();
  cmd->add_option("--poll-interval", o.poll_interval, "How often spot/instance-action is read")
      ->envname("SPOTKEEPER_POLL_INTERVAL")
      ->capture_default_str();
  cmd->add_option("--slow-poll-interval", o.slow_poll_interval,
                  "How often rebalance, scheduled events and legacy termination-time are read")
      ->envname("SPOTKEEPER_SLOW_POLL_INTERVAL")
      ->capture_default_str();
  cmd->add_option("--region", o.region, "AWS region instead of resolving one")
      ->envname("SPOTKEEPER_REGION");
  return cmd;
}

CLI::App* AddMetadataCommand(CLI::App& app, MetadataSourceOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "metadata",
      "Print, as pretty JSON, the message the agent would send now (for the current notice,\n"
      "or a test notice when there is none). Exits 1 when IMDS does not answer.");
  AddSourceOptions(cmd, o);
  return cmd;
}

int RunAgent(const AgentOptions& o, const Env& env, net::HttpTransport& http, Clock& clock,
             Random& random, const std::atomic<bool>& stop) {
  const std::string cmd = "agent";
  agent::WatcherOptions wo;
  wo.agent_version = SPK_VERSION;
  wo.drain = o.drain;
  wo.lifecycle_attribute = !o.no_lifecycle_attribute;
  if (!ParseDurationSetting(o.poll_interval, &wo.poll_interval) ||
      wo.poll_interval < std::chrono::milliseconds(10)) {
    return UsageError(cmd,
                      "--poll-interval (SPOTKEEPER_POLL_INTERVAL) must be a duration of at "
                      "least 10ms, such as 200ms, not \"" +
                          o.poll_interval + "\"");
  }
  if (!ParseDurationSetting(o.slow_poll_interval, &wo.slow_poll_interval) ||
      wo.slow_poll_interval < wo.poll_interval) {
    return UsageError(cmd,
                      "--slow-poll-interval (SPOTKEEPER_SLOW_POLL_INTERVAL) must be a "
                      "duration no shorter than --poll-interval, not \"" +
                          o.slow_poll_interval + "\"");
  }
  Duration terminate_timeout;
  if (!ParseDurationSetting(o.terminate_timeout, &terminate_timeout)) {
    return UsageError(cmd,
                      "--terminate-timeout (SPOTKEEPER_TERMINATE_TIMEOUT) must be a "
                      "duration such as 60s, not \"" +
                          o.terminate_timeout + "\"");
  }
  if (o.sns_topic_arn.empty() && o.sqs_queue_url.empty() && o.webhook_url.empty()) {
    return UsageError(cmd,
                      "no sink configured: set --sns-topic-arn (SPOTKEEPER_SNS_TOPIC_ARN), "
                      "--sqs-queue-url (SPOTKEEPER_SQS_QUEUE_URL) or --webhook-url "
                      "(SPOTKEEPER_WEBHOOK_URL)");
  }
  if (!o.sns_topic_arn.empty() && o.sns_topic_arn.rfind("arn:", 0) != 0) {
    return UsageError(cmd,
                      "--sns-topic-arn (SPOTKEEPER_SNS_TOPIC_ARN) must be a topic ARN "
                      "(arn:aws:sns:...), not \"" +
                          o.sns_topic_arn + "\"");
  }
  if (!o.sqs_queue_url.empty() && !IsHttpUrl(o.sqs_queue_url)) {
    return UsageError(cmd,
                      "--sqs-queue-url (SPOTKEEPER_SQS_QUEUE_URL) must be a queue URL, not \"" +
                          o.sqs_queue_url + "\"");
  }
  if (!o.webhook_url.empty() && !IsHttpUrl(o.webhook_url)) {
    // Shown redacted: a mistyped webhook URL still holds its secret.
    return UsageError(cmd, "--webhook-url (SPOTKEEPER_WEBHOOK_URL) must be an http(s) URL, not \"" +
                               RedactUrl(o.webhook_url) + "\"");
  }
  net::Headers headers;
  for (const auto& h : o.webhook_headers) {
    std::pair<std::string, std::string> parsed;
    if (!cloud::ParseHeader(h, &parsed)) {
      // Not echoed: without its ':' the whole text may be the secret.
      return UsageError(cmd,
                        "--webhook-header (SPOTKEEPER_WEBHOOK_HEADER) must be 'Name: value' "
                        "(what was given is not shown: it may hold a secret)");
    }
    headers.push_back(parsed);
  }
  MetadataSource source;
  if (auto err = MakeSource(o.source, env, http, clock, &source); !err.empty()) {
    return UsageError(cmd, err);
  }

  // AWS: needed for SNS, SQS and the ECS calls (drain, lifecycle attribute).
  const bool needs_aws = !o.sns_topic_arn.empty() || !o.sqs_queue_url.empty() || o.drain;
  auto session = aws::AwsSession::Create(env, http, clock, random, AgentSessionOptions(o.region));
  if (!session.ok()) {
    if (needs_aws) {
      return UsageError(cmd, "no AWS region: set AWS_REGION (or --region / SPOTKEEPER_REGION): " +
                                 session.status().message());
    }
    log::Warn("no AWS session: the lifecycle attribute will not be set",
              {{"error", session.status().message()}});
  } else {
    const std::string& region = (*session)->region().region;
    if (Status s = aws::CheckTopicRegion(o.sns_topic_arn, region); !s.ok()) {
      return UsageError(cmd, "--sns-topic-arn (SPOTKEEPER_SNS_TOPIC_ARN) " + s.message());
    }
    if (Status s = aws::CheckQueueRegion(o.sqs_queue_url, region); !s.ok()) {
      return UsageError(cmd, "--sqs-queue-url (SPOTKEEPER_SQS_QUEUE_URL) " + s.message());
    }
  }

  std::vector<cloud::SinkSpec> specs;
  if (!o.sns_topic_arn.empty()) specs.push_back({cloud::SinkSpec::Type::kSns, o.sns_topic_arn, {}});
  if (!o.sqs_queue_url.empty()) specs.push_back({cloud::SinkSpec::Type::kSqs, o.sqs_queue_url, {}});
  if (!o.webhook_url.empty()) {
    specs.push_back({cloud::SinkSpec::Type::kWebhook, o.webhook_url, headers});
  }

  if (!o.terminate) {
    // The long-lived watcher runs as spotkeeper-watch (this process, exec'd),
    // which returns here only when it could not be started.
    agent::WatchPlan plan;
    plan.imds = source.imds;
    plan.ecs_agent_endpoint = o.source.ecs_agent_endpoint;
    plan.sinks = specs;
    plan.ecs_calls = session.ok();
    plan.watcher = wo;
    plan.log_format = o.log_format;
    plan.log_level = o.log_level;
    if (ExecWatcher(plan, session.ok() ? (*session)->region().region : "", stop)) return 0;
  }

  aws::AwsClient* client = session.ok() ? &(*session)->client() : nullptr;
  std::vector<std::unique_ptr<cloud::Notifier>> owned;
  std::vector<cloud::Notifier*> sinks;
  std::unique_ptr<cloud::ContainerInstances> ecs;
  // Watching from this process: the calls still run in `agent-call` children
  // of this binary, so that they never hold up polling; in-process (one after
  // another) only for --terminate or when this binary cannot be found.
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!o.terminate && !ec) {
    // Children must be waitable, whatever the parent of the agent set (as in cli/watch.cc).
    signal(SIGCHLD, SIG_DFL);
    const cloud::ChildCommand command{AgentCallArgv(
        self.string(), o.log_format, o.log_level, session.ok() ? (*session)->region().region : "")};
    for (const auto& spec : specs) {
      owned.push_back(std::make_unique<cloud::ChildNotifier>(command, spec));
      sinks.push_back(owned.back().get());
    }
    if (client != nullptr) ecs = std::make_unique<cloud::ChildContainerInstances>(command);
  } else {
    for (const auto& spec : specs) {
      auto n = cloud::MakeNotifier(spec, client, http);
      if (!n.ok()) return UsageError(cmd, n.status().message());
      owned.push_back(std::move(*n));
      sinks.push_back(owned.back().get());
    }
    if (client != nullptr) ecs = std::make_unique<cloud::AwsContainerInstances>(*client);
  }

  agent::Watcher watcher(*source.metadata, *source.ecs_agent, sinks, ecs.get(), clock, random, wo);
  if (o.terminate) {
    agent::Notice test;
    test.kind = agent::NoticeKind::kTest;
    test.action = "test";
    test.time = FormatIso8601(clock.WallNow(), /*millis=*/true);
    auto message = watcher.Compose(test);
    if (!message.ok()) {
      std::cerr << "spotkeeper agent: cannot build the test notice: " << message.status().ToString()
                << "\n";
      return kExitFailed;
    }
    Status st = watcher.DeliverAll(*message, terminate_timeout, &stop);
    if (!st.ok()) {
      std::cerr << "spotkeeper agent: test notice not accepted: " << st.ToString() << "\n";
      return kExitFailed;
    }
    return 0;
  }
  watcher.Run(stop);
  return 0;
}

CLI::App* AddAgentCallCommand(CLI::App& app, AgentCallOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "agent-call",
      "Internal, started by the agent's watcher: makes one call (JSON request on standard\n"
      "input) and prints its status as JSON.");
  cmd->group("");  // not listed in --help
  cmd->add_option("--region", o.region, "AWS region (none: webhook calls only)");
  return cmd;
}

int RunAgentCall(const AgentCallOptions& o, const Env& env, net::HttpTransport& http, Clock& clock,
                 Random& random, std::istream& in, std::ostream& out) {
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const auto request = ParseJsonOrDiscarded(text, kMaxLocalDocumentBytes);
  Status st;
  if (request.is_discarded()) {
    st = InvalidArgumentError("agent-call: standard input is not a JSON document");
  } else {
    std::unique_ptr<aws::AwsSession> session;
    if (!o.region.empty()) {
      auto s = aws::AwsSession::Create(env, http, clock, random, AgentSessionOptions(o.region));
      if (s.ok()) session = std::move(*s);
    }
    st = cloud::ExecuteChildCall(request, session ? &session->client() : nullptr, http);
  }
  out << cloud::StatusToJson(st).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
      << std::endl;
  if (st.code() == StatusCode::kInvalidArgument) return kExitUsage;
  return st.ok() ? 0 : kExitFailed;
}

int RunMetadata(const MetadataSourceOptions& o, const Env& env, net::HttpTransport& http,
                Clock& clock, Random& random, std::ostream& out) {
  MetadataSource source;
  if (auto err = MakeSource(o, env, http, clock, &source); !err.empty()) {
    return UsageError("metadata", err);
  }
  agent::WatcherOptions wo;
  wo.agent_version = SPK_VERSION;
  wo.lifecycle_attribute = false;
  agent::Watcher watcher(*source.metadata, *source.ecs_agent, {}, nullptr, clock, random, wo);
  std::vector<agent::Notice> notices;
  Status st = watcher.PollNotices(/*include_slow=*/true, &notices);
  if (!st.ok()) {
    std::cerr << "spotkeeper metadata: instance metadata did not answer at "
              << source.metadata->Describe() << ": " << st.ToString() << "\n";
    return kExitFailed;
  }
  agent::Notice notice;
  if (!notices.empty()) {
    notice = notices.front();
  } else {
    notice.kind = agent::NoticeKind::kTest;
    notice.action = "test";
    notice.time = FormatIso8601(clock.WallNow(), /*millis=*/true);
  }
  auto message = watcher.Compose(notice);
  if (!message.ok()) {
    std::cerr << "spotkeeper metadata: instance metadata did not answer at "
              << source.metadata->Describe() << ": " << message.status().ToString() << "\n";
    return kExitFailed;
  }
  out << message->json.dump(2) << "\n";
  return 0;
}

}  // namespace spk::cli
