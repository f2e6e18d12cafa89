// What `spotkeeper simulate` prints: the result JSON (the contract the HTML
// report reads, docs/simulator.md "Result JSON"), a terminal table and CSV,
// one row per policy.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/scenario.h"
#include "sim/seeds.h"
#include "sim/simulation.h"

namespace spk::sim {

// {"scenario": {...}, "runs": [...]} with numbers rounded for stable, readable
// output (availabilities to 6 decimals, hours to 3, USD to 4, failed requests
// per million to 3). Counts (tasks lost, interruptions, seeds), held as
// doubles in the result structs (report/contract.h), print here as integers;
// requests (fractional in the model) to the nearest integer.
nlohmann::json ResultToJson(const Scenario& scenario, const std::vector<RunResult>& runs);

// A fixed-width table with a header and one row per run.
std::string FormatTable(const std::vector<RunResult>& runs);

// A header line and one line per run; columns as in the JSON summary, after
// "policy" (see kCsvColumns).
std::string FormatCsv(const std::vector<RunResult>& runs);

extern const char* const kCsvColumns;

// --seeds: one row per policy, p50 with the p5-p95 range.
std::string FormatSpreadTable(const std::vector<report::Distribution>& spreads);

// --seeds --csv: a header (kSpreadCsvColumns) and one line per policy.
std::string FormatSpreadCsv(const std::vector<report::Distribution>& spreads);
extern const char* const kSpreadCsvColumns;

// {"policy", "seeds", "availability": {"p5", "p50", "p95"},
// "tasks_lost_without_drain": {...}, "failed_requests": {...}, "cost": {...}}
// per policy: the result JSON's "distribution" (docs/simulator.md).
nlohmann::json SpreadJson(const std::vector<report::Distribution>& spreads);

}  // namespace spk::sim
