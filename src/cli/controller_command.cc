#include "cli/controller_command.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>

#include "aws/session.h"
#include "aws/sqs.h"
#include "base/log.h"
#include "base/redact.h"
#include "cli/agent_command.h"
#include "cli/config_file.h"
#include "cli/duration_setting.h"
#include "controller/aws_cloud_view.h"
#include "controller/event.h"
#include "controller/handler.h"
#include "controller/loop.h"
#include "controller/metrics.h"
#include "controller/queue.h"
#include "controller/self_instance.h"
#include "net/loopback_server.h"

namespace spk::cli {
namespace {

constexpr int kExitUsage = 2;
constexpr int kExitFailed = 1;

int UsageError(const std::string& message) {
  std::cerr << "spotkeeper handle-event: " << message << "\n";
  return kExitUsage;
}

void AddControllerOptions(CLI::App* cmd, ControllerOptions& o) {
  cmd->add_option("--cluster", o.clusters, "ECS cluster (repeatable)")
      ->allow_extra_args(false)  // one value per occurrence: FILE is not a cluster
      ->envname("SPOTKEEPER_CLUSTER")
      ->delimiter(',');
  cmd->add_option("--spot-fleet-id", o.spot_fleet_ids, "Spot Fleet request id (repeatable)")
      ->allow_extra_args(false)  // one value per occurrence: FILE is not a cluster
      ->envname("SPOTKEEPER_SPOT_FLEET_ID")
      ->delimiter(',');
  cmd->add_option("--ec2-fleet-id", o.ec2_fleet_ids, "EC2 Fleet id (repeatable)")
      ->allow_extra_args(false)  // one value per occurrence: FILE is not a cluster
      ->envname("SPOTKEEPER_EC2_FLEET_ID")
      ->delimiter(',');
  cmd->add_option("--spot-asg", o.spot_asgs, "Mixed-instances Auto Scaling group (repeatable)")
      ->allow_extra_args(false)  // one value per occurrence: FILE is not a cluster
      ->envname("SPOTKEEPER_SPOT_ASG")
      ->delimiter(',');
  cmd->add_option("--on-demand-asg", o.on_demand_asg, "The on-demand Auto Scaling group")
      ->envname("SPOTKEEPER_ON_DEMAND_ASG");
  cmd->add_option("--on-demand-units", o.on_demand_units,
                  "Units per on-demand instance (default: its type's vCPUs)")
      ->envname("SPOTKEEPER_ON_DEMAND_UNITS");
  cmd->add_option("--pending-source", o.pending_source, "api or cloudwatch")
      ->envname("SPOTKEEPER_PENDING_SOURCE")
      ->capture_default_str();
  cmd->add_option("--settle-window", o.settle_window, "Wait before scaling on-demand down")
      ->envname("SPOTKEEPER_SETTLE_WINDOW")
      ->capture_default_str();
  cmd->add_option("--guard-window", o.guard_window,
                  "A fleet whose target changed this recently is not covered")
      ->envname("SPOTKEEPER_GUARD_WINDOW")
      ->capture_default_str();
  cmd->add_option("--max-drain-time", o.max_drain_time,
                  "Remove a draining on-demand instance after this long")
      ->envname("SPOTKEEPER_MAX_DRAIN_TIME")
      ->capture_default_str();
  cmd->add_option("--launch-timeout", o.launch_timeout,
                  "Abandon a launch waiting on a launching lifecycle hook that is not an ACTIVE "
                  "container instance this long after EC2 launched it")
      ->envname("SPOTKEEPER_LAUNCH_TIMEOUT")
      ->capture_default_str();
  cmd->add_option("--maintenance-drain-before", o.maintenance_drain_before,
                  "Cover and drain scheduled maintenance this long before it starts")
      ->envname("SPOTKEEPER_MAINTENANCE_DRAIN_BEFORE")
      ->capture_default_str();
  cmd->add_option("--on-rebalance", o.on_rebalance, "ignore, drain or prepare")
      ->envname("SPOTKEEPER_ON_REBALANCE")
      ->capture_default_str();
  cmd->add_option("--fallback-service", o.fallback_services,
                  "PRIMARY=SHADOW or CLUSTER/PRIMARY=SHADOW: the on-demand shadow service that "
                  "runs what the primary's spot provider cannot place (repeatable)")
      ->allow_extra_args(false)
      ->envname("SPOTKEEPER_FALLBACK_SERVICE")
      ->delimiter(',');
  cmd->add_flag("--fallback-discover", o.fallback_discover,
                "Also pair every service of the clusters tagged spotkeeper:fallback-for=PRIMARY")
      ->envname("SPOTKEEPER_FALLBACK_DISCOVER");
  cmd->add_option("--fallback-grace", o.fallback_grace,
                  "A primary's task waiting in PROVISIONING on a spot provider this long is stuck")
      ->envname("SPOTKEEPER_FALLBACK_GRACE")
      ->capture_default_str();
  cmd->add_option("--fallback-max", o.fallback_max,
                  "Most tasks per shadow: N, P% of the primary's desired count, or N,P%")
      ->envname("SPOTKEEPER_FALLBACK_MAX")
      ->capture_default_str();
  cmd->add_option("--fallback-cluster-max", o.fallback_cluster_max,
                  "Most shadow tasks over all pairs (default: no such cap)")
      ->envname("SPOTKEEPER_FALLBACK_CLUSTER_MAX");
  cmd->add_flag("--dry-run", o.dry_run, "Decide, print, change nothing")
      ->envname("SPOTKEEPER_DRY_RUN");
  cmd->add_option("--region", o.region, "Region to use instead of resolving one")
      ->envname("SPOTKEEPER_REGION");
  AddConfigOption(cmd, o.config_file);
}

// The handler's config from the options; "" or the one-line error naming the
// flag (BuildConfig names where it was given).
std::string BuildConfigNamingFlags(const ControllerOptions& o,
                                   controller::ControllerConfig* config) {
  config->clusters = o.clusters;
  config->spot_fleet_ids = o.spot_fleet_ids;
  config->ec2_fleet_ids = o.ec2_fleet_ids;
  config->spot_asgs = o.spot_asgs;
  config->on_demand_asg = o.on_demand_asg;
  config->dry_run = o.dry_run;
  auto pending = controller::ParsePendingSource(o.pending_source);
  if (!pending.ok()) return "--pending-source: " + pending.status().message();
  config->pending_source = *pending;
  auto rebalance = policy::ParseRebalanceAction(o.on_rebalance);
  if (!rebalance.ok())
    return "--on-rebalance must be ignore, drain or prepare, not \"" + o.on_rebalance + "\"";
  config->policy.on_rebalance = *rebalance;
  struct DurationSetting {
    const char* flag;
    const std::string& text;
    Duration* out;
  };
  for (const DurationSetting& d :
       {DurationSetting{"--settle-window", o.settle_window, &config->policy.settle_window},
        DurationSetting{"--guard-window", o.guard_window, &config->policy.guard_window},
        DurationSetting{"--max-drain-time", o.max_drain_time, &config->policy.max_drain_time},
        DurationSetting{"--launch-timeout", o.launch_timeout, &config->launch_timeout},
        DurationSetting{"--maintenance-drain-before", o.maintenance_drain_before,
                        &config->policy.maintenance_drain_before},
        DurationSetting{"--fallback-grace", o.fallback_grace, &config->fallback.grace}}) {
    if (!ParseDurationSetting(d.text, d.out)) {
      return std::string(d.flag) + ": not a duration: \"" + d.text + "\" (e.g. 90s, 10m)";
    }
  }
  if (config->launch_timeout <= Duration::zero()) {
    return "--launch-timeout: must be more than 0 (e.g. 10m)";
  }
  config->fallback.settle_window = config->policy.settle_window;
  auto max = policy::ParseFallbackMax(o.fallback_max);
  if (!max.ok()) return "--fallback-max: " + max.status().message();
  config->fallback.max = *max;
  if (o.sources.count("--fallback-cluster-max") > 0 || o.fallback_cluster_max != 0) {
    if (o.fallback_cluster_max < 0) return "--fallback-cluster-max must not be negative";
    config->fallback.cluster_max = o.fallback_cluster_max;
  }
  config->fallback_discover = o.fallback_discover;
  for (const std::string& text : o.fallback_services) {
    auto pair = controller::ParseFallbackPair(text, o.clusters);
    if (!pair.ok()) return "--fallback-service: " + pair.status().message();
    config->fallback_pairs.push_back(*pair);
  }
  // 0 is not "unset": a setting that was given must be a positive number.
  if (o.sources.count("--on-demand-units") > 0 || o.on_demand_units != 0) {
    if (!std::isfinite(o.on_demand_units) || !(o.on_demand_units > 0)) {
      std::ostringstream value;
      value << o.on_demand_units;
      return "--on-demand-units must be a positive number of capacity units, not " + value.str() +
             " (leave it unset to use the instance type's vCPUs)";
    }
    config->policy.on_demand_units = o.on_demand_units;
  }
  Status valid = controller::ValidateControllerConfig(*config);
  if (!valid.ok()) return valid.message();
  return "";
}

std::string BuildConfig(const ControllerOptions& o, controller::ControllerConfig* config) {
  return NameSettingSource(BuildConfigNamingFlags(o, config), o.sources);
}

bool ReadInput(const std::string& file, std::istream& in, std::string* text) {
  std::ostringstream buffer;
  if (file == "-") {
    buffer << in.rdbuf();
  } else {
    std::ifstream f(file);
    if (!f) return false;
    buffer << f.rdbuf();
  }
  *text = buffer.str();
  return true;
}

}  // namespace

std::string BuildControllerConfig(const ControllerOptions& options,
                                  controller::ControllerConfig* config) {
  return BuildConfig(options, config);
}

CLI::App* AddHandleEventCommand(CLI::App& app, HandleEventOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "handle-event",
      "Apply the controller's handler to one event (agent message, CloudWatch alarm,\n"
      "{\"fleetID\": ...}, EventBridge spot or rebalance event; bare, in an SNS envelope or as\n"
      "an SQS body), once, and print the actions taken as JSON.");
  cmd->add_option("FILE", options.file, "The event, or - for stdin")->required();
  AddControllerOptions(cmd, options.controller);
  return cmd;
}

int RunHandleEvent(const HandleEventOptions& options, const Env& env, net::HttpTransport& http,
                   Clock& clock, Random& random, std::istream& in, std::ostream& out) {
  controller::ControllerConfig config;
  if (std::string err = BuildConfig(options.controller, &config); !err.empty()) {
    return UsageError(err);
  }
  std::string text;
  if (!ReadInput(options.file, in, &text)) {
    std::cerr << "spotkeeper handle-event: cannot read " << options.file << "\n";
    return kExitFailed;
  }
  auto event = controller::ParseEvent(text);
  if (!event.ok()) {
    // One line on stderr (issue 12), not a log line and this one.
    std::cerr << "spotkeeper handle-event: " << event.status().message() << "\n";
    return kExitFailed;
  }
  aws::SessionOptions so;
  so.region = options.controller.region;
  auto session = aws::AwsSession::Create(env, http, clock, random, so);
  if (!session.ok()) {
    return UsageError("no AWS region: set AWS_REGION (or --region / SPOTKEEPER_REGION): " +
                      session.status().message());
  }
  controller::AwsCloudView cloud((*session)->client());
  controller::Handler handler(cloud, config, clock);
  controller::HandleReport report = handler.Handle(*event);
  out << controller::ToJson(report).dump(2) << "\n";
  if (event->kind == controller::EventKind::kIgnored) {
    std::cerr << "spotkeeper handle-event: ignored: " << report.refused << "\n";
    return 0;  // understood: nothing to do
  }
  if (!report.refused.empty()) {
    std::cerr << "spotkeeper handle-event: refused: " << report.refused << "\n";
    return kExitFailed;
  }
  Status status = report.status();
  if (!status.ok()) {
    std::cerr << "spotkeeper handle-event: " << status.message() << "\n";
    return kExitFailed;
  }
  return 0;
}

bool ParseListenAddress(const std::string& text, std::string* host, int* port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  std::string port_text = text.substr(colon + 1);
  int p = 0;
  auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), p);
  if (port_text.size() > 5 || port_text[0] == '-' || error != std::errc() ||
      end != port_text.data() + port_text.size() || p > 65535) {
    return false;
  }
  *host = text.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  *port = p;
  return true;
}

CLI::App* AddControllerCommand(CLI::App& app, ControllerRunOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "controller",
      "Long-running controller: long-polls an SQS queue for notices and alarms, handles each\n"
      "(drain, on-demand fallback, scale-back), deletes a message only once handled, reconciles\n"
      "from AWS state every --reconcile-interval, serves /metrics and /healthz.");
  AddControllerOptions(cmd, options.controller);
  cmd->add_option("--queue-url", options.queue_url, "The SQS queue to consume")
      ->envname("SPOTKEEPER_QUEUE_URL");
  cmd->add_option("--reconcile-interval", options.reconcile_interval,
                  "Recompute everything from AWS state this often")
      ->envname("SPOTKEEPER_RECONCILE_INTERVAL")
      ->capture_default_str();
  cmd->add_option("--metrics-listen", options.metrics_listen,
                  "host:port for /metrics and /healthz (port 0: any free port; off: none)")
      ->envname("SPOTKEEPER_METRICS_LISTEN")
      ->capture_default_str();
  cmd->add_option("--wait-time", options.wait_time, "SQS long-poll wait, 1s-20s")
      ->envname("SPOTKEEPER_WAIT_TIME")
      ->capture_default_str();
  cmd->add_option("--visibility-timeout", options.visibility_timeout,
                  "Each received message stays invisible this long (2s-12h); one waiting for "
                  "its decision is kept invisible, renewed at half of it")
      ->envname("SPOTKEEPER_VISIBILITY_TIMEOUT")
      ->capture_default_str();
  cmd->add_option("--self-instance-id", options.self_instance_id,
                  "EC2 instance this controller runs on (default: from the ECS task metadata "
                  "endpoint when it runs as an ECS task)")
      ->envname("SPOTKEEPER_SELF_INSTANCE_ID");
  return cmd;
}

int RunController(const ControllerRunOptions& options, const Env& env, net::HttpTransport& http,
                  Clock& clock, Random& random, const std::atomic<bool>& stop) {
  auto usage = [](const std::string& message) {
    std::cerr << "spotkeeper controller: " << message << "\n";
    return kExitUsage;
  };
  controller::ControllerConfig config;
  if (std::string err = BuildConfig(options.controller, &config); !err.empty()) {
    return usage(err);
  }
  if (options.queue_url.empty()) {
    return usage("--queue-url (SPOTKEEPER_QUEUE_URL) is required");
  }
  controller::LoopOptions loop_options;
  if (!ParseDurationSetting(options.reconcile_interval, &loop_options.reconcile_interval)) {
    return usage("--reconcile-interval: not a duration: \"" + options.reconcile_interval +
                 "\" (e.g. 60s, 5m)");
  }
  if (!ParseDurationSetting(options.wait_time, &loop_options.wait_time)) {
    return usage("--wait-time: not a duration: \"" + options.wait_time + "\" (e.g. 20s)");
  }
  if (!ParseDurationSetting(options.visibility_timeout, &loop_options.visibility_timeout)) {
    return usage("--visibility-timeout: not a duration: \"" + options.visibility_timeout +
                 "\" (e.g. 60s, 5m)");
  }
  if (Status valid = controller::ValidateLoopOptions(loop_options); !valid.ok()) {
    return usage(valid.message());
  }
  std::string host;
  int port = 0;
  const bool serve = !options.metrics_listen.empty() && options.metrics_listen != "off";
  if (serve && !ParseListenAddress(options.metrics_listen, &host, &port)) {
    return usage("--metrics-listen must be host:port (e.g. 127.0.0.1:9102), not \"" +
                 options.metrics_listen + "\"");
  }
  aws::SessionOptions so;
  so.region = options.controller.region;
  auto session = aws::AwsSession::Create(env, http, clock, random, so);
  if (!session.ok()) {
    return usage("no AWS region: set AWS_REGION (or --region / SPOTKEEPER_REGION): " +
                 session.status().message());
  }
  if (Status s = aws::CheckQueueRegion(options.queue_url, (*session)->region().region); !s.ok()) {
    return usage("--queue-url (SPOTKEEPER_QUEUE_URL) " + s.message());
  }
  aws::AwsClient& client = (*session)->client();
  config.self_instance_id = options.self_instance_id;
  const std::string metadata_uri = env.GetOr("ECS_CONTAINER_METADATA_URI_V4", "");
  if (config.self_instance_id.empty() && !metadata_uri.empty()) {
    aws::EcsClient ecs(client);
    auto own = controller::FindOwnInstance(metadata_uri, http, ecs);
    if (own.ok()) {
      config.self_instance_id = *own;
    } else {
      log::Warn("the controller's own host is unknown: a notice for it is not recognised",
                {{"error", own.status().ToString()}});
    }
  }
  if (!config.self_instance_id.empty()) {
    log::Info("the controller's own host", {{"instance", config.self_instance_id}});
  }
  aws::SqsClient sqs(client);
  controller::SqsQueue queue(sqs, options.queue_url);
  controller::AwsCloudView cloud(client);
  controller::Handler handler(cloud, config, clock);
  // The decisions run beside the drains, on their own thread: their own AWS
  // client, queue handle and Handler (none of them is thread-safe).
  auto decision_session = aws::AwsSession::Create(env, http, clock, random, so);
  if (!decision_session.ok()) {
    return usage("no AWS region: set AWS_REGION (or --region / SPOTKEEPER_REGION): " +
                 decision_session.status().message());
  }
  aws::AwsClient& decision_client = (*decision_session)->client();
  aws::SqsClient decision_sqs(decision_client);
  controller::SqsQueue decision_queue(decision_sqs, options.queue_url);
  controller::AwsCloudView decision_cloud(decision_client);
  controller::Handler decision_handler(decision_cloud, config, clock);
  controller::MetricsRegistry metrics;
  controller::ControllerLoop loop(queue, handler, clock, metrics, loop_options,
                                  controller::DecisionSide{decision_queue, decision_handler});

  net::LoopbackServer server([&](const net::ServerRequest& request) {
    net::HttpResponse response;
    if (request.path == "/metrics") {
      controller::RecordAwsErrors(metrics, {&client.stats(), &decision_client.stats()});
      loop.RecordScrapeGauges();
      response.status = 200;
      response.headers.emplace_back("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      response.body = metrics.Render();
    } else if (request.path == "/healthz") {
      const std::string unhealthy = loop.Unhealthy();
      response.status = unhealthy.empty() ? 200 : 503;
      response.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
      response.body = unhealthy.empty() ? "ok\n" : unhealthy + "\n";
    } else {
      response.status = 404;
      response.body = "not found: try /metrics or /healthz\n";
    }
    return response;
  });
  if (serve) {
    Status started = server.Start(host, port);
    if (!started.ok()) {
      log::Error("cannot serve metrics",
                 {{"address", options.metrics_listen}, {"error", started.ToString()}});
      std::cerr << "spotkeeper controller: cannot listen on " << options.metrics_listen << ": "
                << started.message() << "\n";
      return kExitFailed;
    }
    log::Info("serving /metrics and /healthz",
              {{"address", host + ":" + std::to_string(server.port())}});
  }
  loop.Run(stop);
  server.Stop();
  return 0;
}

CLI::App* AddHealthcheckCommand(CLI::App& app, HealthcheckOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "healthcheck",
      "Ask a running controller's /healthz, as an ECS container health check does (the image\n"
      "has no curl): prints its answer on one line; exits 0 on 200 ok, 1 on any other answer\n"
      "or none, 2 on a malformed --url or --timeout.");
  cmd->add_option("--url", o.url, "The controller's /healthz (its --metrics-listen)")
      ->envname("SPOTKEEPER_HEALTHCHECK_URL")
      ->capture_default_str();
  cmd->add_option("--timeout", o.timeout, "How long to wait for the answer, up to 60s")
      ->envname("SPOTKEEPER_HEALTHCHECK_TIMEOUT")
      ->capture_default_str();
  return cmd;
}

namespace {

// The first line of a body read from outside, cut, with everything but
// printable ASCII shown as '?' (control characters, C1, bidi overrides): it
// goes to a terminal or the container's health log.
std::string FirstLine(const std::string& body) {
  std::string line = Truncate(body.substr(0, body.find('\n')), 200);
  for (char& c : line) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b >= 0x7F) c = '?';
  }
  return line;
}

}  // namespace

int RunHealthcheck(const HealthcheckOptions& o, net::HttpTransport& http, std::ostream& out) {
  net::Url url;
  if (!net::ParseUrl(o.url, &url)) {
    out << "spotkeeper healthcheck: --url must be an http:// or https:// URL, not \""
        << FirstLine(o.url) << "\"\n";
    return kExitUsage;
  }
  Duration timeout;
  // At least 1 ms once in milliseconds: curl takes 0 for "no timeout".
  if (!ParseDurationSetting(o.timeout, &timeout) || timeout < std::chrono::milliseconds(1) ||
      timeout > std::chrono::seconds(60)) {
    out << "spotkeeper healthcheck: --timeout must be a duration from 1ms to 60s, not \""
        << FirstLine(o.timeout) << "\"\n";
    return kExitUsage;
  }
  net::HttpRequest request;
  request.url = o.url;
  request.total_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  request.connect_timeout = std::min(request.connect_timeout, request.total_timeout);
  auto reply = http.Send(request);
  if (!reply.ok()) {
    // (The transport's message names the URL.)
    out << "unhealthy: no answer: " << FirstLine(reply.status().message()) << "\n";
    return kExitFailed;
  }
  if (reply->status == 200) {
    out << "healthy: " << FirstLine(reply->body) << "\n";
    return 0;
  }
  out << "unhealthy: HTTP " << reply->status << ": " << FirstLine(reply->body) << "\n";
  return kExitFailed;
}

}  // namespace spk::cli
