// `spotkeeper handle-event FILE|-`: the controller's handler applied to one
// event, once; prints the report (actions taken, skipped parts, shortfall) as
// JSON on stdout. Settings from flags or SPOTKEEPER_* variables (flags win;
// repeatable settings take a comma-separated list from the variable); a wrong
// one is a one-line error naming it, exit code 2.
#pragma once

#include <CLI/CLI.hpp>
#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/env.h"
#include "base/random.h"
#include "net/http.h"

namespace spk::cli {

struct ControllerOptions {
  std::vector<std::string> clusters;
  std::vector<std::string> spot_fleet_ids;
  std::vector<std::string> spot_asgs;
  std::string on_demand_asg;
  double on_demand_units = 0;  // 0: the group's instance type's vCPUs
  std::string pending_source = "api";
  std::string settle_window = "10m";
  std::string guard_window = "10m";
  std::string max_drain_time = "15m";
  std::string on_rebalance = "ignore";
  bool dry_run = false;
  std::string region;
};

struct HandleEventOptions {
  ControllerOptions controller;
  std::string file;  // "-" for stdin
};

// Adds the subcommand to `app`; the options are filled on parse.
CLI::App* AddHandleEventCommand(CLI::App& app, HandleEventOptions& options);

// Exit codes: 0 handled (every part decided, every action applied, or a
// duplicate), 1 the event could not be read or parsed, an AWS call failed or
// a part was skipped (retry), 2 configuration.
int RunHandleEvent(const HandleEventOptions& options, const Env& env, net::HttpTransport& http,
                   Clock& clock, Random& random, std::istream& in, std::ostream& out);

}  // namespace spk::cli
