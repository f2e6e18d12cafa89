// `spotkeeper lambda`: the controller's handler under the AWS Lambda custom
// runtime (AWS_LAMBDA_RUNTIME_API). The same binary started under the name
// `bootstrap` (as provided.al2023 starts it) runs this mode (cli/app.cc).
//
// Settings come from the environment only, as Lambda passes them: the
// handle-event settings as SPOTKEEPER_* variables (SPOTKEEPER_CLUSTER,
// SPOTKEEPER_SPOT_FLEET_ID, SPOTKEEPER_EC2_FLEET_ID, SPOTKEEPER_SPOT_ASG:
// comma-separated lists;
// SPOTKEEPER_ON_DEMAND_ASG, SPOTKEEPER_ON_DEMAND_UNITS,
// SPOTKEEPER_PENDING_SOURCE, SPOTKEEPER_SETTLE_WINDOW, SPOTKEEPER_GUARD_WINDOW,
// SPOTKEEPER_MAX_DRAIN_TIME, SPOTKEEPER_MAINTENANCE_DRAIN_BEFORE,
// SPOTKEEPER_ON_REBALANCE, SPOTKEEPER_DRY_RUN,
// SPOTKEEPER_REGION). A wrong setting is reported to the Runtime API as an
// init error (and on stderr), exit 2.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "base/clock.h"
#include "base/env.h"
#include "base/random.h"
#include "cli/controller_command.h"
#include "net/http.h"

namespace spk::cli {

// Adds the subcommand to `app`.
CLI::App* AddLambdaCommand(CLI::App& app);

// The SPOTKEEPER_* settings from `env` into `options`: "" or the one-line
// error naming the variable.
std::string ControllerOptionsFromEnv(const Env& env, ControllerOptions* options);

// True when the program was started as `bootstrap` (argv[0]'s basename).
bool StartedAsBootstrap(const char* argv0);

// Runs the runtime loop until the Runtime API stops answering. Exit codes:
// 1 the Runtime API failed (Lambda starts a new process), 2 configuration
// (AWS_LAMBDA_RUNTIME_API unset, a wrong SPOTKEEPER_* setting, no region).
int RunLambda(const Env& env, net::HttpTransport& http, Clock& clock, Random& random);

}  // namespace spk::cli
