#include "base/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "base/clock.h"

namespace spk::log {
namespace {

std::atomic<Format> g_format{Format::kText};
std::atomic<Level> g_level{Level::kInfo};

const char* LevelName(Level l) {
  switch (l) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
    case Level::kOff:
      return "off";
  }
  return "info";
}

bool NeedsQuoting(const std::string& v) {
  if (v.empty()) return true;
  for (char c : v)
    if (c == ' ' || c == '"' || c == '=' || c == '\n' || c == '\t') return true;
  return false;
}

spdlog::logger& Logger() {
  // spdlog's stderr sink with a bare pattern: the line is fully rendered here.
  static auto logger = [] {
    auto l = std::make_shared<spdlog::logger>("spotkeeper",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%v");
    l->set_level(spdlog::level::trace);
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return *logger;
}

}  // namespace

void Configure(Format format, Level min_level) {
  g_format = format;
  g_level = min_level;
}

bool ParseFormat(const std::string& s, Format* out) {
  if (s == "text")
    *out = Format::kText;
  else if (s == "json")
    *out = Format::kJson;
  else
    return false;
  return true;
}

bool ParseLevel(const std::string& s, Level* out) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError, Level::kOff}) {
    if (s == LevelName(l)) {
      *out = l;
      return true;
    }
  }
  if (s == "warning") {
    *out = Level::kWarn;
    return true;
  }
  return false;
}

std::string Render(Format format, Level level, const std::string& time, const std::string& msg,
                   const Fields& fields) {
  if (format == Format::kJson) {
    nlohmann::ordered_json j;
    j["time"] = time;
    j["level"] = LevelName(level);
    j["msg"] = msg;
    // A field never overwrites the line's own time, level or message.
    for (const auto& [k, v] : fields) {
      const bool reserved = k == "time" || k == "level" || k == "msg";
      j[reserved ? "fields." + k : k] = v;
    }
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string line = time + " " + LevelName(level) + " " + msg;
  for (const auto& [k, v] : fields) {
    line += " " + k + "=";
    line += NeedsQuoting(v)
                ? nlohmann::json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                : v;
  }
  return line;
}

void Write(Level level, const std::string& msg, const Fields& fields) {
  if (level < g_level.load() || level == Level::kOff) return;
  std::string line = Render(g_format.load(), level,
                            FormatIso8601(SystemClock::Instance().WallNow(), true), msg, fields);
  Logger().log(spdlog::level::info, line);
}

}  // namespace spk::log
