// `spotkeeper agent` (with `--terminate`) and `spotkeeper metadata`: the
// on-instance watcher's command lines. Settings come from flags or
// SPOTKEEPER_* variables (flags win); a wrong or missing one is a one-line
// error naming it, exit code 2.
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
#include "cli/duration_setting.h"
#include "cli/signals.h"
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
  // The global --log-format and --log-level, handed on to the watcher.
  std::string log_format = "text";
  std::string log_level = "info";
};

// `agent-call` (internal): one call of the watcher's, made in a child process.
struct AgentCallOptions {
  std::string region;
};

// Adds the subcommands to `app`; the options are filled on parse.
CLI::App* AddAgentCommand(CLI::App& app, AgentOptions& options);
CLI::App* AddMetadataCommand(CLI::App& app, MetadataSourceOptions& options);
CLI::App* AddAgentCallCommand(CLI::App& app, AgentCallOptions& options);

// Runs until `stop` is set (the caller's SIGTERM/SIGINT handler sets it), or,
// with --terminate, publishes a test notice and exits. Exit codes: 0, 1 (the
// test notice was not accepted by every sink), 2 (configuration).
int RunAgent(const AgentOptions& options, const Env& env, net::HttpTransport& http, Clock& clock,
             Random& random, const std::atomic<bool>& stop);

// Reads one request (cloud/child_calls.h) from `in`, makes the call, writes
// its status as one JSON line to `out`. Exit codes: 0 (the call succeeded),
// 1 (it failed; the status says how), 2 (the request is malformed).
int RunAgentCall(const AgentCallOptions& options, const Env& env, net::HttpTransport& http,
                 Clock& clock, Random& random, std::istream& in, std::ostream& out);

// Prints, as pretty JSON, the message the agent would send now: for the
// current notice, or a test notice when there is none. 1 when IMDS does not
// answer.
int RunMetadata(const MetadataSourceOptions& options, const Env& env, net::HttpTransport& http,
                Clock& clock, Random& random, std::ostream& out);

}  // namespace spk::cli
