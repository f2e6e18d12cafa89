// The load-balancer model against cases computed by hand: a target killed
// while registered, one drained, shedding above max_requests_per_task, and no
// target at all.
#include "sim/load_balancer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "sim/scenario.h"
#include "sim/world.h"

namespace spk::sim {
namespace {

// One load-balanced service "api": 400 requests/s, requests 100 ms long,
// health checks every 30 s, unhealthy after 2 failures, 6 s timeout (the
// ELBv2 defaults), deregistration delay 300 s.
Scenario ApiScenario() {
  Scenario s;
  ServiceSpec api;
  api.name = "api";
  api.desired = 4;
  api.load_balanced = true;
  api.requests_per_second = 400;
  api.request_duration = 100;
  s.ecs.services.push_back(api);
  ServiceSpec worker;  // no load balancer
  worker.name = "worker";
  s.ecs.services.push_back(worker);
  return s;
}

// A world with only the load balancer in it; time moves by AdvanceTo.
class LoadBalancerTest : public ::testing::Test {
 protected:
  explicit LoadBalancerTest(Scenario s = ApiScenario()) : s_(std::move(s)), w_(s_), lb_(w_) {
    w_.lb = &lb_;
  }

  // Runs the load balancer's own events (health checks marking targets
  // unhealthy) up to `t`, and sets the clock to `t`.
  void AdvanceTo(SimTime t) {
    w_.q.Push(t, kEnd);
    for (;;) {
      Event e = w_.q.Pop();
      if (e.kind == kEnd) break;
      ASSERT_EQ(e.kind, kTargetUnhealthy);
      unhealthy_at_.push_back(e.time);
      lb_.MarkedUnhealthy(e.a);
    }
  }

  Scenario s_;
  World w_;
  LoadBalancer lb_;
  std::vector<SimTime> unhealthy_at_;
};

TEST_F(LoadBalancerTest, FourHealthyTargetsServeEveryRequest) {
  for (uint32_t t = 0; t < 4; ++t) lb_.Register(t, 0);
  AdvanceTo(100 * kSecond);
  LoadBalancer::Requests r = lb_.Totals(0);
  EXPECT_DOUBLE_EQ(r.served, 400.0 * 100);
  EXPECT_DOUBLE_EQ(r.failed, 0);
}

TEST(LoadBalancerHealthChecks, UnhealthyAfterTheThresholdOfChecksAfterTheDeathTimesOut) {
  ServiceSpec spec;  // interval 30 s, threshold 2, timeout 6 s
  // Checked at 0, 30, 60, ...: killed at 45 s, the checks at 60 s and 90 s
  // fail; the second times out at 96 s.
  EXPECT_EQ(LoadBalancer::UnhealthyAt(spec, 0, 45 * kSecond), 96 * kSecond);
  // Killed right at a check (it answered): the next two fail.
  EXPECT_EQ(LoadBalancer::UnhealthyAt(spec, 0, 60 * kSecond), 126 * kSecond);
  // Anchored at 10 s, killed at 11 s: checks at 40 s and 70 s, out at 76 s.
  EXPECT_EQ(LoadBalancer::UnhealthyAt(spec, 10 * kSecond, 11 * kSecond), 76 * kSecond);
  spec.unhealthy_threshold = 5;
  spec.health_check_interval = 10 * kSecond;
  spec.health_check_timeout = 2 * kSecond;
  // Checks at 10, 20, 30, 40, 50 s fail; the fifth times out at 52 s.
  EXPECT_EQ(LoadBalancer::UnhealthyAt(spec, 0, 5 * kSecond), 52 * kSecond);
}

TEST_F(LoadBalancerTest, AKilledTargetFailsItsInFlightAndItsShareUntilMarkedUnhealthy) {
  for (uint32_t t = 0; t < 4; ++t) lb_.Register(t, 0);
  AdvanceTo(45 * kSecond);
  lb_.Killed(2);  // its instance terminated, undrained
  AdvanceTo(200 * kSecond);
  ASSERT_EQ(unhealthy_at_, std::vector<SimTime>{96 * kSecond});
  // Share 400 / 4 = 100 requests/s: 100 x 0.1 s in flight, then 100/s for the
  // 51 s until it is marked unhealthy; then the three others take all 400/s.
  const double failed = 100 * 0.1 + 100 * 51;
  LoadBalancer::Requests r = lb_.Totals(0);
  EXPECT_NEAR(r.failed, failed, 1e-6);
  EXPECT_NEAR(r.served, 400.0 * 200 - failed, 1e-6);
}

TEST_F(LoadBalancerTest, TwoDeadTargetsAndFailOpenWhenNoneIsAlive) {
  for (uint32_t t = 0; t < 2; ++t) lb_.Register(t, 0);
  AdvanceTo(10 * kSecond);
  lb_.Killed(0);
  AdvanceTo(20 * kSecond);
  lb_.Killed(1);
  AdvanceTo(300 * kSecond);
  // Checks at 30 s and 60 s fail for both: both out at 66 s. Until 20 s target 0
  // fails 200/s; from 20 s to 66 s everything (400/s) fails; then there is no
  // target and ALB answers every request with an error.
  ASSERT_EQ(unhealthy_at_, (std::vector<SimTime>{66 * kSecond, 66 * kSecond}));
  const double failed = 200 * 0.1 + 200 * 10 + 200 * 0.1 + 400.0 * (300 - 20);
  LoadBalancer::Requests r = lb_.Totals(0);
  EXPECT_NEAR(r.failed, failed, 1e-6);
  EXPECT_NEAR(r.served, 400.0 * 300 - failed, 1e-6);
}

TEST_F(LoadBalancerTest, ADrainedTargetFailsNothing) {
  for (uint32_t t = 0; t < 4; ++t) lb_.Register(t, 0);
  AdvanceTo(45 * kSecond);
  EXPECT_EQ(lb_.Deregister(2, 0, true), 300 * kSecond);
  AdvanceTo(345 * kSecond);
  lb_.Stopped(2);
  // A second one deregisters, and its instance is terminated 120 s later,
  // long after its in-flight requests finished.
  EXPECT_EQ(lb_.Deregister(3, 0, true), 300 * kSecond);
  AdvanceTo(465 * kSecond);
  lb_.Killed(3);
  AdvanceTo(600 * kSecond);
  EXPECT_TRUE(unhealthy_at_.empty());
  LoadBalancer::Requests r = lb_.Totals(0);
  EXPECT_DOUBLE_EQ(r.failed, 0);
  EXPECT_DOUBLE_EQ(r.served, 400.0 * 600);
}

TEST_F(LoadBalancerTest, WithoutADeregistrationDelayTheInFlightRequestsFail) {
  s_.ecs.services[0].deregistration_delay = 0;
  for (uint32_t t = 0; t < 4; ++t) lb_.Register(t, 0);
  AdvanceTo(45 * kSecond);
  EXPECT_EQ(lb_.Deregister(0, 0, true), 0);
  lb_.Stopped(0);  // ECS stops it at once
  AdvanceTo(60 * kSecond);
  LoadBalancer::Requests r = lb_.Totals(0);
  EXPECT_NEAR(r.failed, 100 * 0.1, 1e-9);  // its share, 100/s, times 0.1 s
  EXPECT_NEAR(r.served, 400.0 * 60 - 10, 1e-9);
}

TEST_F(LoadBalancerTest, KilledWithinARequestDurationOfLeavingFailsWhatIsStillInFlight) {
  s_.ecs.services[0].request_duration = 2 * kSecond;
  for (uint32_t t = 0; t < 4; ++t) lb_.Register(t, 0);
  AdvanceTo(45 * kSecond);
  lb_.Deregister(1, 0, true);  // 100/s x 2 s = 200 in flight, finishing evenly over 2 s
  AdvanceTo(45 * kSecond + 500);
  lb_.Killed(1);  // 0.5 s later three quarters are still in flight
  AdvanceTo(60 * kSecond);
  EXPECT_TRUE(unhealthy_at_.empty()) << "a deregistered target is out of rotation";
  EXPECT_NEAR(lb_.Totals(0).failed, 150, 1e-9);
}

TEST_F(LoadBalancerTest, TooFewTargetsForTheLoadShedTheExcess) {
  s_.ecs.services[0].requests_per_second = 1000;
  s_.ecs.services[0].max_requests_per_task = 120;
  for (uint32_t t = 0; t < 10; ++t) lb_.Register(t, 0);
  AdvanceTo(100 * kSecond);
  EXPECT_DOUBLE_EQ(lb_.Totals(0).failed, 0) << "10 x 100/s, under the 120/s a task serves";
  lb_.Deregister(8, 0, true);
  lb_.Deregister(9, 0, true);
  AdvanceTo(200 * kSecond);
  // 8 targets: 125/s each, 120 served, 5 shed: 40/s over 100 s.
  EXPECT_NEAR(lb_.Totals(0).failed, 40.0 * 100, 1e-6);
  lb_.Killed(0);  // at 200 s (checks at 210 s and 240 s fail: out at 246 s)
  AdvanceTo(300 * kSecond);
  ASSERT_EQ(unhealthy_at_, std::vector<SimTime>{246 * kSecond});
  // The dead target's in flight (120/s x 0.1 s) and its share of 125/s for
  // 46 s; the 7 live ones shed 5/s each for 46 s, then 1000/7 - 120 each.
  const double failed = 40.0 * 100 + 12 + 125.0 * 46 + 7 * 5.0 * 46 + (1000 - 7 * 120.0) * 54;
  LoadBalancer::Requests r = lb_.Totals(0);
  EXPECT_NEAR(r.failed, failed, 1e-6);
  EXPECT_NEAR(r.served + r.failed, 1000.0 * 300, 1e-6) << "every request is served or failed";
}

TEST_F(LoadBalancerTest, TargetsAtTheStartHaveTheirChecksSpreadOverTheInterval) {
  w_.warm = true;
  for (uint32_t t = 0; t < 4; ++t) lb_.Register(t, 0);
  w_.warm = false;
  AdvanceTo(100 * kSecond);
  for (uint32_t t = 0; t < 4; ++t) lb_.Killed(t);
  AdvanceTo(300 * kSecond);
  ASSERT_EQ(unhealthy_at_.size(), 4u);
  std::sort(unhealthy_at_.begin(), unhealthy_at_.end());
  EXPECT_EQ(std::unique(unhealthy_at_.begin(), unhealthy_at_.end()), unhealthy_at_.end())
      << "four different phases";
  for (SimTime t : unhealthy_at_) {
    EXPECT_GT(t, (100 + 30 + 6) * kSecond);
    EXPECT_LE(t, (100 + 60 + 6) * kSecond);
  }
}

TEST_F(LoadBalancerTest, AServiceWithoutALoadBalancerHasNoRequests) {
  lb_.Register(0, 1);
  EXPECT_EQ(lb_.Deregister(0, 1, true), 0);
  lb_.Killed(0);
  AdvanceTo(100 * kSecond);
  EXPECT_DOUBLE_EQ(lb_.Totals(1).served, 0);
  EXPECT_DOUBLE_EQ(lb_.Totals(1).failed, 0);
  EXPECT_DOUBLE_EQ(lb_.Totals(0).failed, 400.0 * 100) << "api never had a target";
}

}  // namespace
}  // namespace spk::sim
