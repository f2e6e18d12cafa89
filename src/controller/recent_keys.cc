#include "controller/recent_keys.h"

namespace spk::controller {

RecentKeys::RecentKeys(size_t capacity, Duration max_age)
    : capacity_(capacity < 1 ? 1 : capacity), max_age_(max_age) {}

void RecentKeys::Expire(WallTime now) {
  while (!order_.empty() && now - order_.front().first >= max_age_) {
    times_.erase(order_.front().second);
    order_.pop_front();
  }
}

void RecentKeys::Insert(const std::string& key, WallTime now) {
  Expire(now);
  if (!times_.emplace(key, now).second) return;
  order_.emplace_back(now, key);
  while (order_.size() > capacity_) {
    times_.erase(order_.front().second);
    order_.pop_front();
  }
}

bool RecentKeys::Contains(const std::string& key, WallTime now) {
  Expire(now);
  return times_.count(key) > 0;
}

}  // namespace spk::controller
