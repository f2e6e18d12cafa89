#include "cli/lambda_command.h"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <utility>
#include <vector>

#include "aws/session.h"
#include "aws/sqs.h"
#include "base/log.h"
#include "base/strings.h"
#include "controller/aws_cloud_view.h"
#include "controller/handler.h"
#include "controller/lambda_runtime.h"

namespace spk::cli {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
// The AWS calls' per-attempt timeout under Lambda (docs/lambda.md, "The time budget").
constexpr std::chrono::milliseconds kLambdaAttemptTimeout{10000};

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string item = Trim(text.substr(start, comma - start));
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

int Fail(const std::string& message, int code) {
  log::Error("lambda runtime cannot start", {{"error", message}});
  std::cerr << "spotkeeper lambda: " << message << "\n";
  return code;
}

}  // namespace

CLI::App* AddLambdaCommand(CLI::App& app) {
  return app.add_subcommand(
      "lambda",
      "Run the controller's handler under the AWS Lambda custom runtime (AWS_LAMBDA_RUNTIME_API);\n"
      "the binary started as `bootstrap` does the same. Settings: the handle-event settings as\n"
      "SPOTKEEPER_* variables (SPOTKEEPER_CLUSTER, SPOTKEEPER_SPOT_FLEET_ID,\n"
      "SPOTKEEPER_EC2_FLEET_ID, SPOTKEEPER_SPOT_ASG, SPOTKEEPER_ON_DEMAND_ASG,\n"
      "SPOTKEEPER_ON_DEMAND_UNITS, SPOTKEEPER_PENDING_SOURCE,\n"
      "SPOTKEEPER_SETTLE_WINDOW, SPOTKEEPER_GUARD_WINDOW, SPOTKEEPER_MAX_DRAIN_TIME,\n"
      "SPOTKEEPER_LAUNCH_TIMEOUT, SPOTKEEPER_MAINTENANCE_DRAIN_BEFORE, SPOTKEEPER_ON_REBALANCE,\n"
      "SPOTKEEPER_FALLBACK_SERVICE, SPOTKEEPER_FALLBACK_DISCOVER, SPOTKEEPER_FALLBACK_GRACE,\n"
      "SPOTKEEPER_FALLBACK_MAX, SPOTKEEPER_FALLBACK_CLUSTER_MAX, SPOTKEEPER_DRY_RUN,\n"
      "SPOTKEEPER_REGION).");
}

std::string ControllerOptionsFromEnv(const Env& env, ControllerOptions* o) {
  o->clusters = SplitList(env.GetOr("SPOTKEEPER_CLUSTER", ""));
  o->spot_fleet_ids = SplitList(env.GetOr("SPOTKEEPER_SPOT_FLEET_ID", ""));
  o->ec2_fleet_ids = SplitList(env.GetOr("SPOTKEEPER_EC2_FLEET_ID", ""));
  o->spot_asgs = SplitList(env.GetOr("SPOTKEEPER_SPOT_ASG", ""));
  o->on_demand_asg = Trim(env.GetOr("SPOTKEEPER_ON_DEMAND_ASG", ""));
  std::string units = Trim(env.GetOr("SPOTKEEPER_ON_DEMAND_UNITS", ""));
  if (!units.empty()) {
    char* end = nullptr;
    errno = 0;
    double v = std::strtod(units.c_str(), &end);
    if (errno != 0 || end != units.c_str() + units.size() || !(v > 0)) {
      return "SPOTKEEPER_ON_DEMAND_UNITS must be a positive number, not \"" + units + "\"";
    }
    o->on_demand_units = v;
  }
  o->pending_source = Trim(env.GetOr("SPOTKEEPER_PENDING_SOURCE", o->pending_source));
  o->settle_window = Trim(env.GetOr("SPOTKEEPER_SETTLE_WINDOW", o->settle_window));
  o->guard_window = Trim(env.GetOr("SPOTKEEPER_GUARD_WINDOW", o->guard_window));
  o->max_drain_time = Trim(env.GetOr("SPOTKEEPER_MAX_DRAIN_TIME", o->max_drain_time));
  o->launch_timeout = Trim(env.GetOr("SPOTKEEPER_LAUNCH_TIMEOUT", o->launch_timeout));
  o->maintenance_drain_before =
      Trim(env.GetOr("SPOTKEEPER_MAINTENANCE_DRAIN_BEFORE", o->maintenance_drain_before));
  o->on_rebalance = Trim(env.GetOr("SPOTKEEPER_ON_REBALANCE", o->on_rebalance));
  o->fallback_services = SplitList(env.GetOr("SPOTKEEPER_FALLBACK_SERVICE", ""));
  o->fallback_grace = Trim(env.GetOr("SPOTKEEPER_FALLBACK_GRACE", o->fallback_grace));
  o->fallback_max = Trim(env.GetOr("SPOTKEEPER_FALLBACK_MAX", o->fallback_max));
  if (std::string cap = Trim(env.GetOr("SPOTKEEPER_FALLBACK_CLUSTER_MAX", "")); !cap.empty()) {
    int v = 0;
    auto [end, ec] = std::from_chars(cap.data(), cap.data() + cap.size(), v);
    if (ec != std::errc() || end != cap.data() + cap.size() || v < 0) {
      return "SPOTKEEPER_FALLBACK_CLUSTER_MAX must be a whole number >= 0, not \"" +
             cap.substr(0, 32) + "\"";
    }
    o->fallback_cluster_max = v;
  }
  std::string discover = AsciiLower(Trim(env.GetOr("SPOTKEEPER_FALLBACK_DISCOVER", "false")));
  if (discover == "true" || discover == "1" || discover == "yes" || discover == "on") {
    o->fallback_discover = true;
  } else if (discover != "false" && discover != "0" && discover != "no" && discover != "off") {
    return "SPOTKEEPER_FALLBACK_DISCOVER must be true or false, not \"" + discover.substr(0, 32) +
           "\"";
  }
  std::string dry = AsciiLower(Trim(env.GetOr("SPOTKEEPER_DRY_RUN", "false")));
  if (dry == "true" || dry == "1" || dry == "yes" || dry == "on") {
    o->dry_run = true;
  } else if (dry == "false" || dry == "0" || dry == "no" || dry == "off") {
    o->dry_run = false;
  } else {
    return "SPOTKEEPER_DRY_RUN must be true or false, not \"" + dry + "\"";
  }
  o->region = Trim(env.GetOr("SPOTKEEPER_REGION", ""));
  // Under Lambda every setting is a variable: errors name it, not the flag.
  for (const char* flag :
       {"cluster",       "spot-fleet-id",        "ec2-fleet-id",      "spot-asg",
        "on-demand-asg", "on-demand-units",      "pending-source",    "settle-window",
        "guard-window",  "max-drain-time",       "launch-timeout",    "maintenance-drain-before",
        "on-rebalance",  "fallback-service",     "fallback-discover", "fallback-grace",
        "fallback-max",  "fallback-cluster-max", "dry-run",           "region"}) {
    std::string variable = "SPOTKEEPER_";
    for (const char* c = flag; *c; ++c) {
      variable += *c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(*c)));
    }
    if (!Trim(env.GetOr(variable, "")).empty()) o->sources[std::string("--") + flag] = variable;
  }
  return "";
}

bool StartedAsBootstrap(const char* argv0) {
  if (argv0 == nullptr) return false;
  std::string name(argv0);
  size_t slash = name.rfind('/');
  if (slash != std::string::npos) name = name.substr(slash + 1);
  return name == "bootstrap";
}

int RunLambda(const Env& env, net::HttpTransport& http, Clock& clock, Random& random) {
  auto api = controller::LambdaRuntime::RuntimeApiFromEnv(env);
  if (!api.ok()) return Fail(api.status().message(), kExitUsage);
  controller::LambdaRuntime runtime(http, *api);

  // Initialisation: a failure is reported to the Runtime API, which fails the
  // pending invocation with it (and Lambda logs it), then the process exits.
  auto init_error = [&](const std::string& type, const std::string& message) {
    Status posted = runtime.PostInitError(type, message);
    if (!posted.ok()) {
      log::Error("cannot report the init error", {{"error", posted.ToString()}});
    }
    return Fail(message, kExitUsage);
  };
  ControllerOptions options;
  if (std::string err = ControllerOptionsFromEnv(env, &options); !err.empty()) {
    return init_error("Spotkeeper.InvalidConfig", err);
  }
  controller::ControllerConfig config;
  if (std::string err = BuildControllerConfig(options, &config); !err.empty()) {
    return init_error("Spotkeeper.InvalidConfig", err);
  }
  aws::SessionOptions so;
  so.region = options.region;
  // One call with all its attempts fits in the invocation's budget (the
  // template's 60 s timeout - the 5 s reserve): 3 x 10 s + < 3 s of backoff.
  so.client.timeout = kLambdaAttemptTimeout;
  auto session = aws::AwsSession::Create(env, http, clock, random, so);
  if (!session.ok()) {
    return init_error(
        "Spotkeeper.InvalidConfig",
        "no AWS region: set AWS_REGION (or SPOTKEEPER_REGION): " + session.status().message());
  }
  aws::AwsClient& client = (*session)->client();
  controller::AwsCloudView cloud(client);
  controller::Handler handler(cloud, config, clock);
  aws::SqsClient sqs(client);
  controller::LambdaHandlerOptions handler_options;
  handler_options.clock = &clock;
  handler_options.client = &client;
  handler_options.redeliver = controller::MakeSqsRedeliver(sqs, (*session)->endpoints());
  log::Info("lambda runtime ready", {{"runtime_api", *api}});
  Status ended =
      runtime.Run(controller::MakeControllerLambdaHandler(handler, std::move(handler_options)));
  if (!ended.ok()) {
    log::Error("lambda runtime stopped", {{"error", ended.ToString()},
                                          {"invocations", std::to_string(runtime.invocations())}});
    return kExitFailed;
  }
  return 0;
}

}  // namespace spk::cli
