// `spotkeeper simulate --seeds N`: one scenario under N seeds (seed, seed+1,
// ...), every policy each, in parallel, and the spread of the results per
// policy (5th, 50th and 95th percentiles).
//
// Deterministic: the same scenario, policies and N give the same samples in
// the same order whatever the number of threads (each seed's runs are
// independent; a worker writes only its seed's slot).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "report/contract.h"
#include "sim/scenario.h"
#include "sim/simulation.h"

namespace spk::sim {

// The summary of one policy's run under one seed.
struct SeedSample {
  uint64_t seed = 0;
  PolicyKind policy = PolicyKind::kNone;
  report::RunSummary summary;
};

// The q-quantile (q in [0, 1]) of `values` by linear interpolation between the
// closest ranks (the sample's own values at q = 0 and 1). REQUIRES: non-empty.
double Quantile(std::vector<double> values, double q);

// Runs `scenario` with seeds scenario.seed .. scenario.seed + n - 1 under each
// policy, on `threads` threads (at least 1). Samples ordered by seed, then by
// policy in the given order. `progress` (if set) is called from the calling
// thread with the share of seeds done.
std::vector<SeedSample> RunSeeds(const Scenario& scenario, const std::vector<PolicyKind>& policies,
                                 int n, int threads, const ProgressFn& progress = nullptr);

// Per policy (in the order they first appear in `samples`), the spread: the
// result JSON's "distribution" (report/contract.h), named by PolicyName.
std::vector<report::Distribution> SummarizeSeeds(const std::vector<SeedSample>& samples);

}  // namespace spk::sim
