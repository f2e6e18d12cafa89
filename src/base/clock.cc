#include "base/clock.h"

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <thread>

namespace spk {

WallTime SystemClock::WallNow() const { return std::chrono::system_clock::now(); }
MonoTime SystemClock::MonotonicNow() const { return std::chrono::steady_clock::now(); }
void SystemClock::SleepFor(Duration d) {
  if (d > Duration::zero()) std::this_thread::sleep_for(d);
}
SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

ManualClock::ManualClock(WallTime wall) : wall_(wall), mono_(std::chrono::hours(1)) {}
WallTime ManualClock::WallNow() const {
  std::lock_guard<std::mutex> l(mu_);
  return wall_;
}
MonoTime ManualClock::MonotonicNow() const {
  std::lock_guard<std::mutex> l(mu_);
  return mono_;
}
void ManualClock::SleepFor(Duration d) {
  if (d <= Duration::zero()) return;
  std::lock_guard<std::mutex> l(mu_);
  wall_ += std::chrono::duration_cast<WallTime::duration>(d);
  mono_ += d;
  slept_ += d;
}
void ManualClock::Advance(Duration d) {
  std::lock_guard<std::mutex> l(mu_);
  wall_ += std::chrono::duration_cast<WallTime::duration>(d);
  mono_ += d;
}
void ManualClock::SetWall(WallTime wall) {
  std::lock_guard<std::mutex> l(mu_);
  wall_ = wall;
}
Duration ManualClock::slept() const {
  std::lock_guard<std::mutex> l(mu_);
  return slept_;
}

std::string FormatIso8601(WallTime t, bool millis) {
  // floor, not time_point_cast (which truncates towards 1970): before 1970 the
  // fraction must still be positive.
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string s(buf);
  if (millis) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
    std::snprintf(buf, sizeof buf, ".%03lld", static_cast<long long>(ms));
    s += buf;
  }
  return s + "Z";
}

namespace {

// Reads exactly `n` ASCII digits at s[*pos]; false when they are not there.
bool ReadDigits(const std::string& s, size_t* pos, size_t n, int* out) {
  if (s.size() - *pos < n) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Expect(const std::string& s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard
// Hinnant's days_from_civil): no timegm, no time zone, no overflow for the
// years accepted.
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace

bool ParseIso8601(const std::string& s, WallTime* out) {
  if (s.size() > 64) return false;
  size_t pos = 0;
  int y, mo, d, h, mi, sec;
  if (!ReadDigits(s, &pos, 4, &y) || !Expect(s, &pos, '-') || !ReadDigits(s, &pos, 2, &mo) ||
      !Expect(s, &pos, '-') || !ReadDigits(s, &pos, 2, &d)) {
    return false;
  }
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't')) return false;
  ++pos;
  if (!ReadDigits(s, &pos, 2, &h) || !Expect(s, &pos, ':') || !ReadDigits(s, &pos, 2, &mi) ||
      !Expect(s, &pos, ':') || !ReadDigits(s, &pos, 2, &sec)) {
    return false;
  }
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    int64_t scale = 100000000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) nanos += (s[pos] - '0') * scale;
      scale /= 10;
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 12) return false;
  }
  int offset_minutes = 0;
  if (pos == s.size() || ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size())) {
    offset_minutes = 0;
  } else if (s[pos] == '+' || s[pos] == '-') {
    const int sign = s[pos] == '+' ? 1 : -1;
    ++pos;
    int oh, om;
    if (!ReadDigits(s, &pos, 2, &oh) || !Expect(s, &pos, ':') || !ReadDigits(s, &pos, 2, &om) ||
        pos != s.size() || oh > 23 || om > 59) {
      return false;
    }
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return false;
  }
  if (y < kMinIso8601Year || y > kMaxIso8601Year || mo < 1 || mo > 12 || d < 1 ||
      d > DaysInMonth(y, mo) || h > 23 || mi > 59 || sec > 60) {
    return false;
  }
  const int64_t seconds = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
                          static_cast<int64_t>(offset_minutes) * 60;
  *out = WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::seconds(seconds) +
                                                                 std::chrono::nanoseconds(nanos)));
  return true;
}

}  // namespace spk
