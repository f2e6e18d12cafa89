// One signed call to moto_server on loopback, end to end: serialise, sign,
// send over a kept-alive connection, parse. Moto's own handling dominates;
// this bounds what a controller's AWS call costs locally.
#include <benchmark/benchmark.h>

#include <cstdio>

#include "aws/sts.h"
#include "support/moto_server.h"

namespace spk {
namespace {

testsupport::MotoServer* Moto() {
  static testsupport::MotoServer* moto = [] {
    auto s = testsupport::MotoServer::Start();
    if (!s.ok()) {
      std::fprintf(stderr, "cannot start moto_server: %s\n", s.status().ToString().c_str());
      std::exit(1);
    }
    return std::move(s).value().release();
  }();
  return moto;
}

void BM_MotoStsGetCallerIdentity(benchmark::State& state) {
  auto client = Moto()->NewClient();
  aws::StsClient sts(client->client);
  (void)sts.GetCallerIdentity();  // warm-up
  for (auto _ : state) {
    auto id = sts.GetCallerIdentity();
    if (!id.ok()) state.SkipWithError(id.status().ToString().c_str());
  }
}
BENCHMARK(BM_MotoStsGetCallerIdentity)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_MotoEcsListClusters(benchmark::State& state) {
  auto client = Moto()->NewClient();
  // moto loads a service's backend on its first call (about a second): warm up.
  (void)client->client.CallJson(aws::services::Ecs(), "ListClusters", nlohmann::json::object());
  for (auto _ : state) {
    auto r = client->client.CallJson(aws::services::Ecs(), "ListClusters", nlohmann::json::object());
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
  }
}
BENCHMARK(BM_MotoEcsListClusters)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace spk

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  delete spk::Moto();  // stops moto_server
  return 0;
}
