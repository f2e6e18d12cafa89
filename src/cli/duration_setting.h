// Duration settings of the agent and the controller (--poll-interval,
// --reconcile-interval, ...), from flags, SPOTKEEPER_* variables or the
// settings file.
#pragma once

#include <chrono>
#include <string>

#include "base/clock.h"

namespace spk::cli {

// The longest duration setting accepted: 30 days.
inline constexpr Duration kMaxDurationSetting = std::chrono::hours(24 * 30);

// "250ms", "2s", "1.5s", "1m", or a bare number of seconds; false when not:
// a sign, "nan", "inf", an exponent, hex, a unit other than ms/s/m, or more than
// kMaxDurationSetting. Never throws (fuzzed: fuzz/time_fuzz.cc).
bool ParseDurationSetting(const std::string& s, Duration* out);

}  // namespace spk::cli
