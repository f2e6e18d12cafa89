// spotkeeper-watch: the agent's long-lived watcher process. `spotkeeper agent`
// validates its settings and execs this program (same PID) with the settings
// as a WatchPlan (agent/watch_plan.h) on an inherited pipe.
//
// It polls instance metadata and the ECS agent over plain HTTP
// (net/event_transport.h) and makes every delivery and ECS call in a
// short-lived `spotkeeper agent-call` child (cloud/child_calls.h), so it maps
// no TLS, SigV4 or libcurl code: about a third of the memory of a watcher
// that does its calls itself.
#pragma once

#include <atomic>
#include <string>

namespace spk::cli {

// Reads the plan from `plan_fd` (until EOF; the fd is closed), then watches
// until `stop` is set. Exit codes: 0 (stopped), 2 (no readable plan).
int RunWatch(int plan_fd, const std::atomic<bool>& stop);

// main() of spotkeeper-watch: `spotkeeper-watch --plan-fd N`.
int WatchMain(int argc, char** argv);

}  // namespace spk::cli
