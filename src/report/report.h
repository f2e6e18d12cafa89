// The simulator's HTML report: one self-contained page for a simulation result.
//
// The input is the simulation result JSON (the contract between the simulator and
// the report, docs/simulator.md "The HTML report"): {"scenario": {...}, "runs": [...]}
// with one run per policy, each with a summary, per-service results, sampled time
// series and events.
//
// The page needs no network: no external script, style sheet, font or image. Charts
// are inline SVG drawn here; the policy switch is CSS only (no JavaScript). Every
// string taken from the JSON is escaped for HTML. The output depends only on the
// input: the same JSON gives the same bytes.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"

namespace spk::report {

// A self-contained HTML page (no network) for a simulation result (the JSON contract).
// kInvalidArgument when `result` does not follow the contract; the message names the
// offending field, e.g. "runs[1].series.cost: 49 values, series.t has 50".
Result<std::string> RenderHtmlReport(const nlohmann::json& result);

}  // namespace spk::report
