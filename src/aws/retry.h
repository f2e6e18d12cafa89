// The AWS SDKs' "standard" retry mode:
// - at most `max_attempts` attempts in all (default 3);
// - retry throttling errors, transient errors (5xx, timeouts, resets) and
//   clock skew, never validation, auth or access errors;
// - exponential backoff with full jitter: delay = rand[0,1) * min(20 s, base * 2^(attempt-1));
// - a retry quota (token bucket, 500): a retry costs 5 (10 after a timeout),
//   a success refunds what its retries cost (or 1 when none); an empty bucket
//   stops retries, so an outage does not become a retry storm.
#pragma once

#include <mutex>

#include "base/clock.h"
#include "base/random.h"
#include "base/status.h"

namespace spk::aws {

struct RetryOptions {
  int max_attempts = 3;
  Duration base_delay = std::chrono::milliseconds(1000);
  Duration max_backoff = std::chrono::seconds(20);
  int quota_capacity = 500;
  int retry_cost = 5;
  int timeout_retry_cost = 10;
  int no_retry_increment = 1;
};

// Thread-safe; shared by every call of one client.
class RetryQuota {
 public:
  explicit RetryQuota(const RetryOptions& options);
  // Takes the cost of retrying after `failure`; false (and nothing taken) when
  // the bucket cannot pay it. `*cost` receives what was taken.
  bool Acquire(const Status& failure, int* cost);
  // After a successful call: refunds `retry_cost_taken`, or adds
  // no_retry_increment when the call needed no retry. Never above capacity.
  void Release(int retry_cost_taken);
  int available() const;

 private:
  RetryOptions options_;
  mutable std::mutex mu_;
  int available_;
};

// The delay before attempt `attempt` + 1 (attempt >= 1 is the one that failed).
Duration BackoffDelay(const RetryOptions& options, int attempt, Random& random);

}  // namespace spk::aws
