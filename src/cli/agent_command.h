// `spotkeeper agent` (with `--terminate`) and `spotkeeper metadata`: the
// on-instance watcher's command lines. Settings come from flags or
// SPOTKEEPER_* variables (flags win); a wrong or missing one is a one-line
// error naming it, exit code 2.
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <ostream>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/env.h"
#include "base/random.h"
#include "net/http.h"

namespace spk::cli {

// Settings shared by `agent` and `metadata`: where the metadata comes from.
struct MetadataSourceOptions {
  std::string imds_timeout = "300ms";
  bool imds_v1 = false;
  std::string ecs_agent_endpoint = "http://localhost:51678";
};

struct AgentOptions {
  MetadataSourceOptions source;
  std::string sns_topic_arn;
  std::string sqs_queue_url;
  std::string webhook_url;
  std::vector<std::string> webhook_headers;
  bool drain = false;
  bool no_lifecycle_attribute = false;
  bool terminate = false;
  std::string terminate_timeout = "60s";
  std::string poll_interval = "200ms";
  std::string slow_poll_interval = "2s";
  std::string region;
};

// Adds the subcommands to `app`; the options are filled on parse.
CLI::App* AddAgentCommand(CLI::App& app, AgentOptions& options);
CLI::App* AddMetadataCommand(CLI::App& app, MetadataSourceOptions& options);

// Runs until `stop` is set (the caller's SIGTERM/SIGINT handler sets it), or,
// with --terminate, publishes a test notice and exits. Exit codes: 0, 1 (the
// test notice was not accepted by every sink), 2 (configuration).
int RunAgent(const AgentOptions& options, const Env& env, net::HttpTransport& http, Clock& clock,
             Random& random, const std::atomic<bool>& stop);

// Prints, as pretty JSON, the message the agent would send now: for the
// current notice, or a test notice when there is none. 1 when IMDS does not
// answer.
int RunMetadata(const MetadataSourceOptions& options, const Env& env, net::HttpTransport& http,
                Clock& clock, Random& random, std::ostream& out);

// "250ms", "2s", "1.5s", "1m", or a bare number of seconds; false when not.
bool ParseDurationSetting(const std::string& s, Duration* out);

// Installs SIGTERM and SIGINT handlers that set the returned flag.
const std::atomic<bool>& InstallStopSignalHandlers();

}  // namespace spk::cli
