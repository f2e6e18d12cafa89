// The simulation result JSON (the contract between `spotkeeper simulate --json` and
// the HTML report), parsed and checked into plain structs.
//
// Checks: every field of the contract is present with its JSON type (numbers are
// finite JSON numbers, not booleans); every series array has as many values as
// series.t; series.t does not decrease; an event's kind is one of the known kinds;
// request counts are not negative; the optional "distribution" has p5 <= p50 <=
// p95 for each measure.
// Any violation is kInvalidArgument naming the field by its path, e.g.
// "runs[0].series.services[\"api\"].running: 3 values, series.t has 4".
//
// RunSummary, ServiceResult, RunSeries, Event, Percentiles and Distribution
// are also what the simulator fills (sim/simulation.h, sim/seeds.h): one
// definition for both sides of the contract. Counts (tasks lost,
// interruptions, seeds, instances and tasks in the series) are whole numbers
// held as doubles, like every JSON number; sim/output.cc prints them as
// integers.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"

namespace spk::report {

struct ScenarioInfo {
  std::string name;
  std::string description;
  double seed = 0;
  double duration_s = 0;
  double sample_interval_s = 0;
};

struct RunSummary {
  double availability = 0;
  std::string worst_service;
  double worst_service_availability = 0;
  double tasks_lost_without_drain = 0;
  double minutes_below_target = 0;
  double interruptions = 0;
  double spot_instance_hours = 0;
  double on_demand_instance_hours = 0;
  double cost = 0;
  double all_on_demand_cost = 0;
  double savings = 0;
  // Requests to the load-balanced services (sim/load_balancer.h): served,
  // failed (failed in flight, sent to dead targets, shed, or with no target),
  // and failed per million requests.
  double requests_served = 0;
  double failed_requests = 0;
  double failed_requests_per_million = 0;
};

struct ServiceResult {
  std::string name;
  double availability = 0;
  double tasks_lost_without_drain = 0;
  double requests_served = 0;  // 0 without a load balancer
  double failed_requests = 0;
  double failed_requests_per_million = 0;
};

// One named series of values, one per sample time.
struct NamedSeries {
  std::string name;
  std::vector<double> values;
};

struct ServiceSeries {
  std::string name;
  std::vector<double> desired;
  std::vector<double> running;
};

struct Event {
  double t = 0;
  std::string kind;  // one of EventKinds()
  std::string pool;
  std::string instance;  // "" for pool-wide events
};

struct RunSeries {
  std::vector<double> t;
  std::vector<NamedSeries> capacity;  // running instances per pool, sorted by name
  std::vector<double> target_units;
  std::vector<ServiceSeries> services;  // sorted by name
  std::vector<double> cost;             // cumulative USD
  std::vector<double> failed_requests;  // cumulative, all services
};

struct Run {
  std::string policy;
  RunSummary summary;
  std::vector<ServiceResult> services;
  RunSeries series;
  std::vector<Event> events;
};

// The 5th, 50th and 95th percentiles of one measure over the seeds.
struct Percentiles {
  double p5 = 0;
  double p50 = 0;
  double p95 = 0;
};

// `simulate --seeds N`: one policy's spread (the optional "distribution").
struct Distribution {
  std::string policy;
  double seeds = 0;
  Percentiles availability;
  Percentiles tasks_lost_without_drain;
  Percentiles failed_requests;
  Percentiles cost;
};

struct SimResult {
  ScenarioInfo scenario;
  std::vector<Run> runs;
  std::vector<Distribution> distribution;  // empty: one seed
};

// The event kinds of the contract.
const std::vector<std::string>& EventKinds();

// Parses and checks `result` (see the file comment). kInvalidArgument on a violation.
Result<SimResult> ParseSimResult(const nlohmann::json& result);

}  // namespace spk::report
