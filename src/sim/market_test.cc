#include "sim/market.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "sim/scenario.h"
#include "sim/simulation.h"
#include "sim/world.h"

namespace spk::sim {
namespace {

Scenario TwoPrices() {
  Scenario s;
  PoolSpec pool;
  pool.instance_type = "m5.large";
  pool.zone = "us-east-1a";
  pool.spot_prices = {{0, 0.10}, {kHour, 0.30}};
  s.pools.push_back(pool);
  s.on_demand.price = 0.096;
  return s;
}

TEST(Market, PriceIntegralFollowsThePiecewiseSpotPrice) {
  Scenario s = TwoPrices();
  World w(s);
  Market market(w);
  // USD * ms / h: an hour at 0.10, then half an hour at 0.30.
  EXPECT_DOUBLE_EQ(market.PriceIntegral(0, 0, kHour + 30 * kMinute),
                   0.10 * kHour + 0.30 * 30 * kMinute);
  EXPECT_DOUBLE_EQ(market.PriceIntegral(0, 30 * kMinute, 2 * kHour),
                   0.10 * 30 * kMinute + 0.30 * kHour);
  EXPECT_DOUBLE_EQ(market.PriceIntegral(kOnDemandPool, 0, kHour), 0.096 * kHour);
}

TEST(Market, SpotPriceIsThePriceInForceNow) {
  Scenario s = TwoPrices();
  World w(s);
  Market market(w);
  EXPECT_DOUBLE_EQ(market.SpotPrice(0), 0.10);
  w.q.Push(kHour, kSample);
  w.q.Pop();
  EXPECT_DOUBLE_EQ(market.SpotPrice(0), 0.30);
}

// Calibration: of the instances a pool in each Spot Instance Advisor band
// starts with, the share interrupted within 30 days lies inside the band
// (200 instances x 10 seeds per band).
TEST(Market, EachAdvisorBandInterruptsInsideItsRangeOver30Days) {
  struct Band {
    const char* name;
    double low, high;
  };
  for (const Band& band :
       {Band{"<5%", 0, 0.05}, Band{"5-10%", 0.05, 0.10}, Band{"10-15%", 0.10, 0.15},
        Band{"15-20%", 0.15, 0.20}, Band{">20%", 0.20, 1.0}}) {
    SCOPED_TRACE(band.name);
    auto parsed = ParseScenario(std::string(R"(
duration: 30d
sample_interval: 6h
pools: [{type: m5.large, zone: us-east-1a, band: ")") +
                                band.name + R"("}]
fleet: {target_capacity: 400}
ecs: {services: [{name: app, desired: 1}]}
)");
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    Scenario s = *parsed;
    constexpr int kInstances = 200;  // 400 units of 2 vCPUs, launched first
    constexpr int kSeeds = 10;
    int interrupted = 0;
    for (int seed = 1; seed <= kSeeds; ++seed) {
      s.seed = static_cast<uint64_t>(seed);
      RunResult r = RunSimulation(s, PolicyKind::kNone);
      std::set<std::string> hit;
      for (const report::Event& e : r.events) {
        if (e.kind == "spot-interruption") hit.insert(e.instance);
      }
      for (int i = 0; i < kInstances; ++i)
        interrupted += static_cast<int>(hit.count(World::InstanceId(i)));
    }
    const double share = static_cast<double>(interrupted) / (kInstances * kSeeds);
    EXPECT_GT(share, band.low);
    EXPECT_LT(share, band.high);
  }
}

}  // namespace
}  // namespace spk::sim
