#include "sim/market.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace spk::sim
