#include "cli/app.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <vector>

#include "base/clock.h"
#include "base/env.h"
#include "base/log.h"
#include "base/random.h"
#include "cli/agent_command.h"
#include "cli/config_file.h"
#include "cli/controller_command.h"
#include "cli/doctor.h"
#include "cli/lambda_command.h"
#include "cli/simulate_command.h"
#include "net/curl_transport.h"

#ifndef SPK_VERSION
#define SPK_VERSION "0.0.0"
#endif

namespace spk::cli {
namespace {

constexpr int kExitUsage = 2;

struct GlobalOptions {
  std::string log_format = "text";
  std::string log_level = "info";
};

// Applies --log-format/--log-level (or SPOTKEEPER_LOG_FORMAT/_LEVEL).
bool ConfigureLogging(const GlobalOptions& g) {
  log::Format format;
  log::Level level;
  if (!log::ParseFormat(g.log_format, &format)) {
    std::cerr << "spotkeeper: --log-format must be text or json, not \"" << g.log_format << "\"\n";
    return false;
  }
  if (!log::ParseLevel(g.log_level, &level)) {
    std::cerr << "spotkeeper: --log-level must be debug, info, warn, error or off, not \""
              << g.log_level << "\"\n";
    return false;
  }
  log::Configure(format, level);
  return true;
}

// CLI11 names the flag when a value read from its variable is rejected
// (SPOTKEEPER_DRY_RUN=maybe: "--dry-run: ..."): name the variable that was
// set, with its value: the message to print. "" when no variable explains the
// error.
std::string VariableBehind(const CLI::App& app, const std::string& error) {
  std::vector<const CLI::App*> apps = {&app};
  for (const CLI::App* sub : app.get_subcommands()) apps.push_back(sub);
  for (const CLI::App* a : apps) {
    for (const CLI::Option* opt : a->get_options()) {
      const std::string& variable = opt->get_envname();
      if (variable.empty() || opt->get_lnames().empty()) continue;
      const char* value = std::getenv(variable.c_str());
      const auto& given = a->parse_order();
      if (value == nullptr || *value == '\0' ||
          std::find(given.begin(), given.end(), opt) != given.end() ||
          error.find("--" + opt->get_single_name()) == std::string::npos) {
        continue;
      }
      if (opt->get_expected_max() == 0) {  // a switch
        return variable + " must be true or false (or 1/0, yes/no, on/off), not \"" + value + "\"";
      }
      return variable + "=\"" + value + "\": " + error;
    }
  }
  return "";
}

int RunMain(int argc, char** argv) {
  CLI::App app{
      "spotkeeper keeps ECS services on EC2 Spot capacity available and cheap: it sees spot\n"
      "interruption notices early, drains the affected container instances, covers the gap\n"
      "with on-demand capacity and gives it back when spot returns.",
      "spotkeeper"};
  app.set_version_flag("--version", std::string("spotkeeper ") + SPK_VERSION);
  app.require_subcommand(1);
  app.fallthrough();

  GlobalOptions global;
  app.add_option("--log-format", global.log_format, "Log lines as text or json")
      ->envname("SPOTKEEPER_LOG_FORMAT")
      ->capture_default_str();
  app.add_option("--log-level", global.log_level, "debug, info, warn, error or off")
      ->envname("SPOTKEEPER_LOG_LEVEL")
      ->capture_default_str();

  DoctorOptions doctor;
  CLI::App* doctor_cmd = app.add_subcommand(
      "doctor",
      "Check the AWS setup: region, credential source, caller identity (STS), endpoints, IMDS,\n"
      "and the on-demand group's units per instance (--on-demand-asg).\n"
      "Exits 0 when a region is set, credentials resolve, STS accepts them and every endpoint\n"
      "is valid (and the group's units per instance are known); 1 otherwise, naming each\n"
      "problem on the result line.");
  doctor_cmd->add_option("--region", doctor.region, "Region to use instead of resolving one")
      ->envname("SPOTKEEPER_REGION");
  doctor_cmd->add_flag("--json", doctor.json, "Print the report as JSON");
  doctor_cmd
      ->add_option("--on-demand-asg", doctor.on_demand_asg,
                   "The controller's on-demand Auto Scaling group: say how its units per\n"
                   "instance are found (exit 1 when they are unknown)")
      ->envname("SPOTKEEPER_ON_DEMAND_ASG");
  doctor_cmd
      ->add_option("--on-demand-units", doctor.on_demand_units,
                   "The controller's units per on-demand instance, when set")
      ->envname("SPOTKEEPER_ON_DEMAND_UNITS");
  doctor_cmd
      ->add_option("--cluster", doctor.clusters,
                   "The controller's ECS clusters (repeatable): with --on-demand-asg, say\n"
                   "whether one of their capacity providers sizes the group (managed scaling)")
      ->delimiter(',')
      ->envname("SPOTKEEPER_CLUSTER");
  doctor_cmd
      ->add_option("--fallback-service", doctor.fallback_services,
                   "The controller's fallback pairs (repeatable): check each is set up right\n"
                   "and show what the fallback would do now (exit 1 on a problem)")
      ->delimiter(',')
      ->envname("SPOTKEEPER_FALLBACK_SERVICE");
  doctor_cmd
      ->add_option("--spot-asg", doctor.spot_asgs,
                   "The controller's spot Auto Scaling groups (repeatable): with the fallback\n"
                   "options, they count as spot capacity")
      ->delimiter(',')
      ->envname("SPOTKEEPER_SPOT_ASG");
  doctor_cmd
      ->add_flag("--fallback-discover", doctor.fallback_discover,
                 "Also check every shadow of the --cluster's tagged spotkeeper:fallback-for")
      ->envname("SPOTKEEPER_FALLBACK_DISCOVER");
  doctor_cmd
      ->add_option("--fallback-grace", doctor.fallback_grace,
                   "The controller's --fallback-grace, for the decision shown")
      ->envname("SPOTKEEPER_FALLBACK_GRACE")
      ->capture_default_str();
  doctor_cmd
      ->add_option("--fallback-max", doctor.fallback_max,
                   "The controller's --fallback-max, for the decision shown")
      ->envname("SPOTKEEPER_FALLBACK_MAX")
      ->capture_default_str();
  doctor_cmd
      ->add_option("--fallback-cluster-max", doctor.fallback_cluster_max,
                   "The controller's --fallback-cluster-max, for the decision shown")
      ->envname("SPOTKEEPER_FALLBACK_CLUSTER_MAX");
  doctor_cmd
      ->add_option("--settle-window", doctor.settle_window,
                   "The controller's --settle-window, for the decision shown")
      ->envname("SPOTKEEPER_SETTLE_WINDOW")
      ->capture_default_str();
  AddConfigOption(doctor_cmd, doctor.config_file)
      ->description(
          "The controller's settings file (its --config): the settings above are\n"
          "read from it and its others skipped; flags and SPOTKEEPER_* variables\n"
          "win over it");

  AgentOptions agent;
  CLI::App* agent_cmd = AddAgentCommand(app, agent);
  MetadataSourceOptions metadata;
  CLI::App* metadata_cmd = AddMetadataCommand(app, metadata);
  AgentCallOptions agent_call;
  CLI::App* agent_call_cmd = AddAgentCallCommand(app, agent_call);
  HandleEventOptions handle_event;
  CLI::App* handle_event_cmd = AddHandleEventCommand(app, handle_event);
  CLI::App* lambda_cmd = AddLambdaCommand(app);
  ControllerRunOptions controller_run;
  CLI::App* controller_cmd = AddControllerCommand(app, controller_run);
  SimulateOptions simulate;
  CLI::App* simulate_cmd = AddSimulateCommand(app, simulate);
  HealthcheckOptions healthcheck;
  CLI::App* healthcheck_cmd = AddHealthcheckCommand(app, healthcheck);

  // Started as `bootstrap` (a Lambda custom runtime): the `lambda` command.
  static char kLambda[] = "lambda";
  std::vector<char*> args(argv, argv + argc);
  if (argc >= 1 && StartedAsBootstrap(argv[0])) args.insert(args.begin() + 1, kLambda);
  try {
    app.parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::ParseError& e) {
    if (std::string problem = VariableBehind(app, e.what()); !problem.empty()) {
      std::cerr << "spotkeeper: " << problem << "\n";
      return kExitUsage;
    }
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  if (!ConfigureLogging(global)) return kExitUsage;
  // --config files of the controller commands fill what flags and variables left.
  // Then each given setting's source is noted, so an error can name it.
  for (auto [cmd, options] : {std::pair{handle_event_cmd, &handle_event.controller},
                              std::pair{controller_cmd, &controller_run.controller}}) {
    if (!cmd->parsed()) continue;
    std::vector<std::string> file_keys;
    if (!options->config_file.empty()) {
      if (std::string err = ApplyConfigFile(cmd, options->config_file, &file_keys); !err.empty()) {
        std::cerr << "spotkeeper " << cmd->get_name() << ": " << err << "\n";
        return kExitUsage;
      }
    }
    options->sources = DescribeSettingSources(cmd, options->config_file, file_keys);
  }
  // doctor reads the controller's file for the settings they share.
  if (doctor_cmd->parsed() && !doctor.config_file.empty()) {
    if (std::string err =
            ApplyConfigFile(doctor_cmd, doctor.config_file, &doctor.config_keys, controller_cmd);
        !err.empty()) {
      std::cerr << "spotkeeper doctor: " << err << "\n";
      return kExitUsage;
    }
  }

  net::CurlTransport http;
  SeededRandom random(SeedFromOs());
  if (simulate_cmd->parsed()) {
    return RunSimulate(simulate, std::cout, std::cerr, isatty(STDERR_FILENO) == 1,
                       SystemClock::Instance());
  }
  if (doctor_cmd->parsed()) {
    const bool units_given =
        doctor_cmd->count("--on-demand-units") > 0 || doctor.on_demand_units != 0;
    if (units_given && !(std::isfinite(doctor.on_demand_units) && doctor.on_demand_units > 0)) {
      std::cerr << "spotkeeper doctor: --on-demand-units must be a positive number of capacity "
                   "units\n";
      return kExitUsage;
    }
    return RunDoctor(doctor, ProcessEnv::Instance(), http, SystemClock::Instance(), random,
                     std::cout);
  }
  if (agent_cmd->parsed()) {
    agent.log_format = global.log_format;
    agent.log_level = global.log_level;
    const std::atomic<bool>& stop = InstallStopSignalHandlers();
    return RunAgent(agent, ProcessEnv::Instance(), http, SystemClock::Instance(), random, stop);
  }
  if (agent_call_cmd->parsed()) {
    return RunAgentCall(agent_call, ProcessEnv::Instance(), http, SystemClock::Instance(), random,
                        std::cin, std::cout);
  }
  if (metadata_cmd->parsed()) {
    return RunMetadata(metadata, ProcessEnv::Instance(), http, SystemClock::Instance(), random,
                       std::cout);
  }
  if (controller_cmd->parsed()) {
    const std::atomic<bool>& stop = InstallStopSignalHandlers();
    return RunController(controller_run, ProcessEnv::Instance(), http, SystemClock::Instance(),
                         random, stop);
  }
  if (healthcheck_cmd->parsed()) return RunHealthcheck(healthcheck, http, std::cout);
  if (handle_event_cmd->parsed()) {
    return RunHandleEvent(handle_event, ProcessEnv::Instance(), http, SystemClock::Instance(),
                          random, std::cin, std::cout);
  }
  if (lambda_cmd->parsed()) {
    return RunLambda(ProcessEnv::Instance(), http, SystemClock::Instance(), random);
  }
  return kExitUsage;
}

}  // namespace

int Main(int argc, char** argv) {
  // The last line (issue 12): every parser of outside data returns a Status
  // and is fuzzed, so nothing should get here; if something does, it is one
  // clear line naming the command, and exit 1, never std::terminate.
  std::string what;
  try {
    return RunMain(argc, argv);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception";
  }
  const std::string command = argc > 1 ? argv[1] : "";
  try {
    log::Error("internal error", {{"command", command}, {"error", what}});
  } catch (...) {
    std::cerr << "spotkeeper " << command << ": internal error: " << what << "\n";
  }
  return 1;
}

}  // namespace spk::cli
