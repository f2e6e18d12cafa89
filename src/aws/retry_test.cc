#include "aws/retry.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace spk::aws {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(BackoffDelayTest, WithinFullJitterBounds) {
  RetryOptions options;
  SeededRandom random(42);
  for (int attempt = 1; attempt <= 10; ++attempt) {
    Duration ceiling =
        std::min<Duration>(options.max_backoff, options.base_delay * (int64_t{1} << (attempt - 1)));
    for (int i = 0; i < 200; ++i) {
      Duration d = BackoffDelay(options, attempt, random);
      EXPECT_GE(d, Duration::zero());
      EXPECT_LT(d, ceiling) << "attempt " << attempt;
    }
  }
}

TEST(BackoffDelayTest, GrowsWithAttempts) {
  RetryOptions options;
  SeededRandom random(7);
  auto mean = [&](int attempt) {
    Duration sum{0};
    const int n = 2000;
    for (int i = 0; i < n; ++i) sum += BackoffDelay(options, attempt, random);
    return sum / n;
  };
  Duration m1 = mean(1), m2 = mean(2), m3 = mean(3);
  // Means of uniform [0, 1 s), [0, 2 s), [0, 4 s): about 0.5, 1 and 2 s.
  EXPECT_NEAR(std::chrono::duration<double>(m1).count(), 0.5, 0.05);
  EXPECT_NEAR(std::chrono::duration<double>(m2).count(), 1.0, 0.1);
  EXPECT_NEAR(std::chrono::duration<double>(m3).count(), 2.0, 0.2);
  EXPECT_LT(m1, m2);
  EXPECT_LT(m2, m3);
}

TEST(BackoffDelayTest, CappedAtTwentySeconds) {
  RetryOptions options;
  SeededRandom random(1);
  Duration max_seen{0};
  for (int attempt : {6, 10, 30, 64, 1000}) {
    for (int i = 0; i < 500; ++i) {
      Duration d = BackoffDelay(options, attempt, random);
      EXPECT_LT(d, seconds(20));
      max_seen = std::max(max_seen, d);
    }
  }
  // Full jitter over [0, 20 s): some draw comes close to the cap.
  EXPECT_GT(max_seen, seconds(19));
}

TEST(BackoffDelayTest, SameSeedSameDelays) {
  RetryOptions options;
  SeededRandom a(123), b(123);
  for (int attempt = 1; attempt < 6; ++attempt) {
    EXPECT_EQ(BackoffDelay(options, attempt, a), BackoffDelay(options, attempt, b));
  }
}

TEST(BackoffDelayTest, HonoursCustomBaseAndCap) {
  RetryOptions options;
  options.base_delay = milliseconds(10);
  options.max_backoff = milliseconds(50);
  SeededRandom random(9);
  for (int i = 0; i < 500; ++i) {
    EXPECT_LT(BackoffDelay(options, 1, random), milliseconds(10));
    EXPECT_LT(BackoffDelay(options, 20, random), milliseconds(50));
  }
}

TEST(RetryQuotaTest, FiveHundredPaysForOneHundredRetries) {
  RetryQuota quota{RetryOptions{}};
  EXPECT_EQ(quota.available(), 500);
  const Status throttled(StatusCode::kResourceExhausted, "throttled");
  for (int i = 0; i < 100; ++i) {
    int cost = -1;
    ASSERT_TRUE(quota.Acquire(throttled, &cost)) << "retry " << i;
    EXPECT_EQ(cost, 5);
  }
  EXPECT_EQ(quota.available(), 0);
  int cost = -1;
  EXPECT_FALSE(quota.Acquire(throttled, &cost));
  EXPECT_EQ(cost, 0);
  EXPECT_EQ(quota.available(), 0);
}

TEST(RetryQuotaTest, TimeoutsCostTen) {
  RetryQuota quota{RetryOptions{}};
  int cost = 0;
  ASSERT_TRUE(quota.Acquire(DeadlineExceededError("timed out"), &cost));
  EXPECT_EQ(cost, 10);
  ASSERT_TRUE(quota.Acquire(UnavailableError("reset"), &cost));
  EXPECT_EQ(cost, 5);
  EXPECT_EQ(quota.available(), 485);
  for (int i = 0; i < 48; ++i) ASSERT_TRUE(quota.Acquire(DeadlineExceededError("t"), &cost));
  EXPECT_EQ(quota.available(), 5);
  // Not enough for a timeout retry, enough for another kind: nothing taken on refusal.
  EXPECT_FALSE(quota.Acquire(DeadlineExceededError("t"), &cost));
  EXPECT_EQ(quota.available(), 5);
  EXPECT_TRUE(quota.Acquire(UnavailableError("u"), &cost));
  EXPECT_EQ(quota.available(), 0);
}

TEST(RetryQuotaTest, RefundsAndIncrements) {
  RetryQuota quota{RetryOptions{}};
  int cost = 0;
  ASSERT_TRUE(quota.Acquire(UnavailableError("u"), &cost));
  ASSERT_TRUE(quota.Acquire(DeadlineExceededError("t"), &cost));
  EXPECT_EQ(quota.available(), 485);
  quota.Release(15);  // a call that took two retries succeeded
  EXPECT_EQ(quota.available(), 500);
  quota.Release(0);  // never above capacity
  EXPECT_EQ(quota.available(), 500);

  for (int i = 0; i < 100; ++i) ASSERT_TRUE(quota.Acquire(UnavailableError("u"), &cost));
  EXPECT_EQ(quota.available(), 0);
  quota.Release(0);  // a success without retries adds 1
  quota.Release(0);
  quota.Release(0);
  quota.Release(0);
  EXPECT_EQ(quota.available(), 4);
  EXPECT_FALSE(quota.Acquire(UnavailableError("u"), &cost));
  quota.Release(0);
  EXPECT_TRUE(quota.Acquire(UnavailableError("u"), &cost));
}

TEST(RetryQuotaTest, CustomOptions) {
  RetryOptions options;
  options.quota_capacity = 12;
  options.retry_cost = 4;
  options.timeout_retry_cost = 6;
  options.no_retry_increment = 2;
  RetryQuota quota(options);
  int cost = 0;
  EXPECT_TRUE(quota.Acquire(DeadlineExceededError("t"), &cost));
  EXPECT_EQ(cost, 6);
  EXPECT_TRUE(quota.Acquire(UnavailableError("u"), &cost));
  EXPECT_FALSE(quota.Acquire(UnavailableError("u"), &cost));
  quota.Release(0);
  EXPECT_EQ(quota.available(), 4);
  EXPECT_TRUE(quota.Acquire(UnavailableError("u"), &cost));
}

}  // namespace
}  // namespace spk::aws
