// Time, as the programs see it. Nothing outside base reads the system clock or
// sleeps directly: it takes a Clock, so tests and the simulator can drive time.
//
// Two kinds of time (after envoy's TimeSource):
//   WallNow()      calendar time: timestamps in logs, SigV4 dates, expiries.
//   MonotonicNow() never jumps: intervals, timeouts, backoff.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

namespace spk {

using WallTime = std::chrono::system_clock::time_point;
using MonoTime = std::chrono::steady_clock::time_point;
using Duration = std::chrono::nanoseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual WallTime WallNow() const = 0;
  virtual MonoTime MonotonicNow() const = 0;
  // Blocks the calling thread for `d` (a manual clock advances instead).
  virtual void SleepFor(Duration d) = 0;
};

// The real clock. Thread-safe.
class SystemClock final : public Clock {
 public:
  WallTime WallNow() const override;
  MonoTime MonotonicNow() const override;
  void SleepFor(Duration d) override;
  // The process-wide instance.
  static SystemClock& Instance();
};

// A clock that only moves when told to. SleepFor(d) advances it by d at once,
// so code that backs off runs instantly in tests. Thread-safe.
class ManualClock final : public Clock {
 public:
  // Starts at `wall` (default 2024-01-01T00:00:00Z) and an arbitrary monotonic origin.
  explicit ManualClock(WallTime wall = WallTime(std::chrono::seconds(1704067200)));
  WallTime WallNow() const override;
  MonoTime MonotonicNow() const override;
  void SleepFor(Duration d) override;
  void Advance(Duration d);
  void SetWall(WallTime wall);
  // Total time spent in SleepFor since construction.
  Duration slept() const;

 private:
  mutable std::mutex mu_;
  WallTime wall_;
  MonoTime mono_;
  Duration slept_{0};
};

// A deadline on a Clock's monotonic time.
class Deadline {
 public:
  Deadline(const Clock& clock, Duration budget)
      : clock_(&clock), end_(clock.MonotonicNow() + budget) {}
  bool expired() const { return clock_->MonotonicNow() >= end_; }
  Duration remaining() const {
    auto r = end_ - clock_->MonotonicNow();
    return r > Duration::zero() ? r : Duration::zero();
  }

 private:
  const Clock* clock_;
  MonoTime end_;
};

// Formats `t` as ISO 8601 UTC: "2024-01-01T00:00:00Z" (or with milliseconds).
std::string FormatIso8601(WallTime t, bool millis = false);
// The years ParseIso8601 accepts: well inside what WallTime (nanoseconds since
// 1970 in 64 bits, +-292 years) can hold.
inline constexpr int kMinIso8601Year = 1900;
inline constexpr int kMaxIso8601Year = 2200;

// Parses "2024-01-01T00:00:00Z", "2024-01-01T00:00:00.123Z" (up to 12 fraction
// digits, nanoseconds kept), "+hh:mm"/"-hh:mm" offsets or no zone (UTC).
// Strict: exactly these digits and separators, a real calendar date (no
// 2024-02-30), hours 0-23, minutes 0-59, seconds 0-60, offsets up to 23:59,
// years kMinIso8601Year..kMaxIso8601Year, at most 64 characters. False, with
// *out untouched, for anything else. Never throws, no undefined behaviour on
// any input (fuzzed: fuzz/time_fuzz.cc).
bool ParseIso8601(const std::string& s, WallTime* out);

}  // namespace spk
