// `spotkeeper handle-event FILE|-`: the controller's handler applied to one
// event, once; prints the report (actions taken, skipped parts, shortfall) as
// JSON on stdout. Settings from flags or SPOTKEEPER_* variables (flags win;
// repeatable settings take a comma-separated list from the variable); a wrong
// one is a one-line error naming it, exit code 2.
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/env.h"
#include "base/random.h"
#include "cli/config_file.h"
#include "controller/handler.h"
#include "net/http.h"

namespace spk::cli {

struct ControllerOptions {
  std::vector<std::string> clusters;
  std::vector<std::string> spot_fleet_ids;
  std::vector<std::string> ec2_fleet_ids;
  std::vector<std::string> spot_asgs;
  std::string on_demand_asg;
  double on_demand_units = 0;  // not given: the group's instance type's vCPUs
  std::string pending_source = "api";
  std::string settle_window = "10m";
  std::string guard_window = "10m";
  std::string max_drain_time = "15m";
  std::string launch_timeout = "10m";  // SPOTKEEPER_LAUNCH_TIMEOUT
  std::string maintenance_drain_before = "10m";
  std::string on_rebalance = "ignore";
  // The on-demand fallback of capacity-provider clusters (docs/capacity-providers.md).
  std::vector<std::string> fallback_services;  // PRIMARY=SHADOW or CLUSTER/PRIMARY=SHADOW
  bool fallback_discover = false;              // also pairs tagged spotkeeper:fallback-for
  std::string fallback_grace = "3m";
  std::string fallback_max = "100%";
  int fallback_cluster_max = 0;  // applies only when given
  bool dry_run = false;
  std::string region;
  std::string config_file;  // --config / SPOTKEEPER_CONFIG: YAML settings (config_file.h)
  // Where each given setting came from (flag, variable or file and key), so
  // that an error names it; a setting absent here was left at its default.
  SettingSources sources;
};

struct HandleEventOptions {
  ControllerOptions controller;
  std::string file;  // "-" for stdin
};

// `spotkeeper controller`: the handle-event settings plus the loop's.
struct ControllerRunOptions {
  ControllerOptions controller;
  std::string queue_url;                          // SPOTKEEPER_QUEUE_URL
  std::string reconcile_interval = "60s";         // SPOTKEEPER_RECONCILE_INTERVAL
  std::string metrics_listen = "127.0.0.1:9102";  // SPOTKEEPER_METRICS_LISTEN; "" or "off": none
  std::string wait_time = "20s";                  // SPOTKEEPER_WAIT_TIME, 1-20 s
  std::string visibility_timeout = "60s";         // SPOTKEEPER_VISIBILITY_TIMEOUT, 2s-12h
  // SPOTKEEPER_SELF_INSTANCE_ID: the EC2 instance it runs on; "": found from
  // ECS_CONTAINER_METADATA_URI_V4 when set (controller/self_instance.h).
  std::string self_instance_id;
};

// Adds the subcommand to `app`; the options are filled on parse.
CLI::App* AddHandleEventCommand(CLI::App& app, HandleEventOptions& options);
CLI::App* AddControllerCommand(CLI::App& app, ControllerRunOptions& options);

// Exit codes: 0 handled (every part decided, every action applied, or a
// duplicate), 1 the event could not be read or parsed, an AWS call failed or
// a part was skipped (retry), 2 configuration.
int RunHandleEvent(const HandleEventOptions& options, const Env& env, net::HttpTransport& http,
                   Clock& clock, Random& random, std::istream& in, std::ostream& out);

// The long-running controller: consumes the queue, reconciles every
// --reconcile-interval and serves /metrics and /healthz on --metrics-listen
// until `stop` is set (after the current long poll). Exit codes: 0 stopped,
// 1 the metrics address could not be bound, 2 configuration.
int RunController(const ControllerRunOptions& options, const Env& env, net::HttpTransport& http,
                  Clock& clock, Random& random, const std::atomic<bool>& stop);

// `spotkeeper healthcheck`: asks a running controller's /healthz, for an ECS
// container health check (the image has no curl or wget).
struct HealthcheckOptions {
  std::string url = "http://127.0.0.1:9102/healthz";  // SPOTKEEPER_HEALTHCHECK_URL
  std::string timeout = "5s";                         // SPOTKEEPER_HEALTHCHECK_TIMEOUT
};
CLI::App* AddHealthcheckCommand(CLI::App& app, HealthcheckOptions& options);
// Prints one line: "healthy: ok", "unhealthy: HTTP 503: <the body's first
// line>" or "unhealthy: no answer: <why>". Exit codes: 0 on 200, 1 on
// any other answer or none, 2 on a malformed --url or --timeout.
int RunHealthcheck(const HealthcheckOptions& options, net::HttpTransport& http, std::ostream& out);

// "host:port" (port 0-65535; 0: any free port); false when malformed.
bool ParseListenAddress(const std::string& text, std::string* host, int* port);

// The handler's config from the options (as handle-event checks them): "" or
// the one-line error naming the bad setting where it was given
// (options.sources: the flag, the variable, or the file and key). Used by
// `spotkeeper lambda`.
std::string BuildControllerConfig(const ControllerOptions& options,
                                  controller::ControllerConfig* config);

}  // namespace spk::cli
