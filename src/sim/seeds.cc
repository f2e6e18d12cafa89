#include "sim/seeds.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

namespace spk::sim {
namespace {

report::Percentiles SpreadOf(const std::vector<double>& values) {
  return {Quantile(values, 0.05), Quantile(values, 0.5), Quantile(values, 0.95)};
}

}  // namespace

double Quantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const double at = q * static_cast<double>(values.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(at));
  const size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (values[hi] - values[lo]) * (at - static_cast<double>(lo));
}

std::vector<SeedSample> RunSeeds(const Scenario& scenario, const std::vector<PolicyKind>& policies,
                                 int n, int threads, const ProgressFn& progress) {
  std::vector<SeedSample> samples(static_cast<size_t>(n) * policies.size());
  std::atomic<int> next{0};
  std::atomic<int> done{0};
  // Each worker takes the next seed and fills that seed's slots only.
  auto work = [&](bool report) {
    for (int i = next++; i < n; i = next++) {
      Scenario drawn = scenario;
      drawn.seed = scenario.seed + static_cast<uint64_t>(i);
      for (size_t p = 0; p < policies.size(); ++p) {
        SeedSample& slot = samples[static_cast<size_t>(i) * policies.size() + p];
        slot.seed = drawn.seed;
        slot.policy = policies[p];
        slot.summary = RunSimulation(drawn, policies[p]).summary;
      }
      const int finished = ++done;
      if (report && progress) progress(static_cast<double>(finished) / n);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::max(1, threads); ++t) pool.emplace_back(work, false);
  work(true);
  for (std::thread& t : pool) t.join();
  return samples;
}

std::vector<report::Distribution> SummarizeSeeds(const std::vector<SeedSample>& samples) {
  std::vector<PolicyKind> order;
  for (const SeedSample& s : samples) {
    if (std::find(order.begin(), order.end(), s.policy) == order.end()) order.push_back(s.policy);
  }
  std::vector<report::Distribution> out;
  for (PolicyKind policy : order) {
    std::vector<double> availability, lost, failed, cost;
    for (const SeedSample& s : samples) {
      if (s.policy != policy) continue;
      availability.push_back(s.summary.availability);
      lost.push_back(s.summary.tasks_lost_without_drain);
      failed.push_back(s.summary.failed_requests);
      cost.push_back(s.summary.cost);
    }
    out.push_back({PolicyName(policy), static_cast<double>(availability.size()),
                   SpreadOf(availability), SpreadOf(lost), SpreadOf(failed), SpreadOf(cost)});
  }
  return out;
}

}  // namespace spk::sim
