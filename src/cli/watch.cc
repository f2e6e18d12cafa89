#include "cli/watch.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <vector>

#include "agent/watch_plan.h"
#include "agent/watcher.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"
#include "base/random.h"
#include "cli/signals.h"
#include "cloud/aws_metadata.h"
#include "cloud/child_calls.h"
#include "net/event_transport.h"

namespace spk::cli {
namespace {

#ifndef SPK_VERSION
#define SPK_VERSION "0.0.0"
#endif

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

int Fail(const std::string& message, int code = kExitUsage) {
  std::cerr << "spotkeeper-watch: " << message << "\n";
  return code;
}

}  // namespace

int RunWatch(int plan_fd, const std::atomic<bool>& stop) {
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t r = ::read(plan_fd, buf, sizeof buf);
    if (r > 0) {
      text.append(buf, static_cast<size_t>(r));
    } else if (r == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(plan_fd);
  // A bad plan is an internal error, not a wrong setting: exit 1, which the
  // systemd unit restarts (it does not restart exit 2).
  auto json = ParseJsonOrDiscarded(text, kMaxLocalDocumentBytes);
  if (json.is_discarded()) {
    return Fail("the plan on fd " + std::to_string(plan_fd) + " is not JSON", kExitFailed);
  }
  auto plan = agent::WatchPlanFromJson(json);
  if (!plan.ok()) {
    std::string version = JsonStringField(json, "agentVersion");
    if (version.empty()) version = "?";
    return Fail(plan.status().message() + " (plan from spotkeeper " + version +
                    ", this is spotkeeper-watch " + SPK_VERSION +
                    ": install both binaries from the same build)",
                kExitFailed);
  }
  log::Format format;
  log::Level level;
  if (log::ParseFormat(plan->log_format, &format) && log::ParseLevel(plan->log_level, &level)) {
    log::Configure(format, level);
  }
  // A peer closing a connection must not kill the watcher.
  signal(SIGPIPE, SIG_IGN);

  net::EventHttpTransport http;
  Clock& clock = SystemClock::Instance();
  SeededRandom random(SeedFromOs());
  cloud::AwsMetadata metadata(http, clock, plan->imds);
  cloud::HttpEcsAgentIntrospection ecs_agent(http, plan->ecs_agent_endpoint);
  const cloud::ChildCommand command{plan->child_argv};
  std::vector<std::unique_ptr<cloud::Notifier>> owned;
  std::vector<cloud::Notifier*> sinks;
  for (const auto& spec : plan->sinks) {
    owned.push_back(std::make_unique<cloud::ChildNotifier>(command, spec));
    sinks.push_back(owned.back().get());
  }
  std::unique_ptr<cloud::ChildContainerInstances> ecs;
  if (plan->ecs_calls) ecs = std::make_unique<cloud::ChildContainerInstances>(command);
  agent::Watcher watcher(metadata, ecs_agent, sinks, ecs.get(), clock, random, plan->watcher);
  watcher.Run(stop);
  return 0;
}

int WatchMain(int argc, char** argv) {
  if (argc != 3 || std::strcmp(argv[1], "--plan-fd") != 0) {
    return Fail("started by `spotkeeper agent`, not by hand: run `spotkeeper agent --help`");
  }
  char* end = nullptr;
  long fd = std::strtol(argv[2], &end, 10);
  if (end == argv[2] || *end != '\0' || fd < 0 || fd > 1 << 20) {
    return Fail("--plan-fd must be a file descriptor number, not \"" + std::string(argv[2]) + "\"");
  }
  // `spotkeeper agent` blocked SIGTERM/SIGINT across the exec: handlers first,
  // then a stop requested meanwhile is delivered. Children must be waitable,
  // whatever the parent of the agent set.
  const std::atomic<bool>& stop = InstallStopSignalHandlers();
  signal(SIGCHLD, SIG_DFL);
  UnblockStopSignals();
  return RunWatch(static_cast<int>(fd), stop);
}

}  // namespace spk::cli
