#include "base/clock.h"

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
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
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

bool ParseIso8601(const std::string& s, WallTime* out) {
  int y, mo, d, h, mi;
  double sec;
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &consumed) != 6)
    return false;
  std::string rest = s.substr(static_cast<size_t>(consumed));
  int offset_minutes = 0;
  if (rest == "Z" || rest == "z" || rest.empty()) {
    offset_minutes = 0;
  } else if ((rest[0] == '+' || rest[0] == '-') && rest.size() == 6 && rest[3] == ':') {
    int oh = std::stoi(rest.substr(1, 2)), om = std::stoi(rest.substr(4, 2));
    offset_minutes = (rest[0] == '+' ? 1 : -1) * (oh * 60 + om);
  } else {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec < 0 || sec >= 61) return false;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = 0;
  std::time_t base = timegm(&tm);
  auto whole = std::chrono::system_clock::from_time_t(base);
  auto frac = std::chrono::duration_cast<WallTime::duration>(std::chrono::duration<double>(sec));
  *out = whole + frac - std::chrono::minutes(offset_minutes);
  return true;
}

}  // namespace spk
