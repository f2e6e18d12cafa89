// RecentKeys: a set of strings that forgets, for deduplication in a
// long-running process. A key is remembered from its Insert for `max_age`,
// and at most `capacity` keys are remembered: inserting one more forgets the
// oldest. Memory is O(capacity) whatever the number of keys inserted.
//
// Forgetting is safe for the controller's handled notices: a repeat that
// comes after its key was forgotten is handled again, which drains nothing
// (drains only touch ACTIVE container instances) and decides from AWS state.
// Not thread-safe.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>

#include "base/clock.h"

namespace spk::controller {

class RecentKeys {
 public:
  // REQUIRES: capacity >= 1, max_age >= 0.
  RecentKeys(size_t capacity, Duration max_age);

  // Remembers `key` from `now`; a key already remembered keeps its first time.
  void Insert(const std::string& key, WallTime now);
  // True when `key` was inserted less than max_age before `now` and has not
  // been pushed out by capacity. Forgets the keys that are too old.
  bool Contains(const std::string& key, WallTime now);
  // Keys remembered (some may be older than max_age until the next call).
  size_t size() const { return times_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  void Expire(WallTime now);

  size_t capacity_;
  Duration max_age_;
  std::unordered_map<std::string, WallTime> times_;
  std::deque<std::pair<WallTime, std::string>> order_;  // in insertion order
};

}  // namespace spk::controller
