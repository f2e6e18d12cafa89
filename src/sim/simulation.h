// One simulation run: a scenario's spot market, Spot Fleet, on-demand Auto
// Scaling group and ECS cluster, driven by one policy, in virtual time.
//
// The `spotkeeper` policy is the controller's own decision code
// (policy::Decide) on an Observation built from the simulated world; the
// `reference` policy is policy::DecideReference on the triggers the reference
// Lambda gets. See docs/simulator.md for every model's facts and
// simplifications.
//
// Deterministic: the same scenario and policy give the same RunResult, bit for
// bit. Nothing here reads a clock, sleeps, uses the C library's random
// numbers or reads the environment; randomness comes from SeededRandom streams seeded by
// Scenario::seed (the market's streams do not depend on the policy, so every
// policy meets the same interruptions as long as it launches the same spot
// instances).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "report/contract.h"
#include "sim/engine.h"
#include "sim/scenario.h"

namespace spk::sim {

enum class PolicyKind { kNone, kEcsAgent, kReference, kSpotkeeper };

// "none" | "ecs-agent" | "reference" | "spotkeeper".
const char* PolicyName(PolicyKind policy);
// Parses the above; kInvalidArgument otherwise.
Result<PolicyKind> ParsePolicy(const std::string& text);
// The four, in the order above.
std::vector<PolicyKind> AllPolicies();

struct RunResult {
  PolicyKind policy = PolicyKind::kNone;
  // The summary, per-service results, series and events are the result JSON's
  // own structs (report/contract.h); sim/output.h prints them. The series are
  // sampled every Scenario::sample_interval from 0 to the duration; capacity:
  // "spot TYPE ZONE" per fleet pool and "on-demand", instances launched and not
  // terminated.
  report::RunSummary summary;
  std::vector<report::ServiceResult> services;  // in the scenario's order
  report::RunSeries series;
  std::vector<report::Event> events;
  // Diagnostics (not part of the JSON contract).
  uint64_t engine_events = 0;
  int64_t spot_launches = 0;
  int64_t on_demand_launches = 0;
  int64_t rejected_scaling_calls = 0;  // SetDesiredCapacity refused (min/max, cooldown)
  int64_t provisioning_timeouts = 0;   // capacity providers: tasks stopped in PROVISIONING
};

// Called now and then with the share of virtual time done, in [0, 1].
using ProgressFn = std::function<void(double)>;

// Runs `scenario` under `policy`. REQUIRES: the scenario came from ParseScenario
// (or is otherwise valid).
RunResult RunSimulation(const Scenario& scenario, PolicyKind policy,
                        const ProgressFn& progress = nullptr);

}  // namespace spk::sim
