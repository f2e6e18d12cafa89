#include "cli/duration_setting.h"

#include <charconv>
#include <cmath>

namespace spk::cli {

bool ParseDurationSetting(const std::string& s, Duration* out) {
  // Digits first (no sign, no "nan"/"inf", no hex, no exponent), then the unit.
  size_t pos = 0;
  while (pos < s.size() && ((s[pos] >= '0' && s[pos] <= '9') || s[pos] == '.')) ++pos;
  if (pos == 0 || pos > 32) return false;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + pos, v, std::chars_format::fixed);
  if (ec != std::errc() || end != s.data() + pos || !std::isfinite(v) || v < 0) return false;
  const std::string unit = s.substr(pos);
  double seconds;
  if (unit.empty() || unit == "s")
    seconds = v;
  else if (unit == "ms")
    seconds = v / 1000;
  else if (unit == "m")
    seconds = v * 60;
  else
    return false;
  if (seconds > std::chrono::duration<double>(kMaxDurationSetting).count()) return false;
  *out = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
  return true;
}

}  // namespace spk::cli
