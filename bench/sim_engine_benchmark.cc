// The simulator's speed: the event engine alone (events per second, target
// >= 2 million on one core) and whole scenario runs.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "base/random.h"
#include "sim/engine.h"
#include "sim/scenario.h"
#include "sim/simulation.h"

namespace spk::sim {
namespace {

// A queue holding `range(0)` pending events; each step pops the earliest and
// schedules one at a random later time, as a running simulation does.
void BM_EventQueuePopPush(benchmark::State& state) {
  const size_t pending = static_cast<size_t>(state.range(0));
  SeededRandom random(1);
  std::vector<SimTime> deltas(1 << 16);
  for (auto& d : deltas) d = static_cast<SimTime>(random.Uniform() * 600 * kSecond);
  EventQueue q;
  q.Reserve(pending + 1);
  for (size_t i = 0; i < pending; ++i) q.Push(deltas[i & 0xffff], 1, static_cast<uint32_t>(i));
  size_t k = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    Event e = q.Pop();
    sum += e.a;
    q.Push(e.time + deltas[++k & 0xffff], e.kind, e.a);
  }
  benchmark::DoNotOptimize(sum);
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EventQueuePopPush)->Arg(1000)->Arg(100000);

// The built-in default day under one policy; counts the engine's events.
void BM_DefaultScenario(benchmark::State& state) {
  auto scenario = ParseScenario(DefaultScenarioYaml());
  if (!scenario.ok()) {
    state.SkipWithError("default scenario does not parse");
    return;
  }
  PolicyKind policy = AllPolicies()[static_cast<size_t>(state.range(0))];
  uint64_t events = 0;
  for (auto _ : state) events += RunSimulation(*scenario, policy).engine_events;
  state.SetLabel(PolicyName(policy));
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DefaultScenario)->DenseRange(0, 3)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace spk::sim

BENCHMARK_MAIN();
