#include "aws/retry.h"

#include <algorithm>

namespace spk::aws {

RetryQuota::RetryQuota(const RetryOptions& options)
    : options_(options), available_(options.quota_capacity) {}

bool RetryQuota::Acquire(const Status& failure, int* cost) {
  int c = failure.code() == StatusCode::kDeadlineExceeded ? options_.timeout_retry_cost
                                                          : options_.retry_cost;
  std::lock_guard<std::mutex> l(mu_);
  if (c > available_) {
    if (cost != nullptr) *cost = 0;
    return false;
  }
  available_ -= c;
  if (cost != nullptr) *cost = c;
  return true;
}

void RetryQuota::Release(int retry_cost_taken) {
  int refund = retry_cost_taken > 0 ? retry_cost_taken : options_.no_retry_increment;
  std::lock_guard<std::mutex> l(mu_);
  available_ = std::min(options_.quota_capacity, available_ + refund);
}

int RetryQuota::available() const {
  std::lock_guard<std::mutex> l(mu_);
  return available_;
}

Duration BackoffDelay(const RetryOptions& options, int attempt, Random& random) {
  // base * 2^(attempt-1), capped; computed in double so a large attempt cannot overflow.
  int exponent = std::clamp(attempt - 1, 0, 62);
  double ceiling =
      static_cast<double>(options.base_delay.count()) * static_cast<double>(1ULL << exponent);
  ceiling = std::min(ceiling, static_cast<double>(options.max_backoff.count()));
  return Duration(static_cast<Duration::rep>(random.Uniform() * ceiling));
}

}  // namespace spk::aws
