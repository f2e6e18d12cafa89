#include "base/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string_view>

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

// The length of the well-formed UTF-8 sequence at s[i] (2-4), or 0.
size_t Utf8Length(std::string_view s, size_t i, uint32_t* cp) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  size_t n;
  uint32_t v;
  unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2, v = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3, v = c & 0x0F;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, v = c & 0x07;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // beyond U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size() || b(1) < lo || b(1) > hi) return 0;
  v = (v << 6) | (b(1) & 0x3F);
  for (size_t k = 2; k < n; ++k) {
    if ((b(k) & 0xC0) != 0x80) return 0;
    v = (v << 6) | (b(k) & 0x3F);
  }
  *cp = v;
  return n;
}

// Code points a terminal or a reader could take for something else: C1
// controls (U+009B is a terminal's CSI), line and paragraph separators,
// bidirectional overrides and isolates (they reorder what is shown).
bool Deceptive(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

// Appends `v` with control characters, DEL, deceptive code points and bytes
// that are not UTF-8 escaped (\n \r \t, \xNN, \uNNNN); with `quoted`, also
// '"' and '\\'. Returns whether anything was escaped.
bool AppendEscaped(std::string& out, std::string_view v, bool quoted) {
  bool escaped = false;
  char buf[8];
  for (size_t i = 0; i < v.size();) {
    const unsigned char c = static_cast<unsigned char>(v[i]);
    if (c >= 0x80) {
      uint32_t cp = 0;
      const size_t n = Utf8Length(v, i, &cp);
      if (n == 0) {
        std::snprintf(buf, sizeof buf, "\\x%02x", c);
        out += buf;
        escaped = true;
        ++i;
      } else if (Deceptive(cp)) {
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
        out += buf;
        escaped = true;
        i += n;
      } else {
        out.append(v.substr(i, n));
        i += n;
      }
      continue;
    }
    ++i;
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else if (quoted && (c == '"' || c == '\\')) {
      out += '\\';
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(c);
      continue;
    }
    escaped = true;
  }
  return escaped;
}

// key=value, the value quoted when empty, when it holds a space, '=' or '"',
// or when anything in it had to be escaped.
void AppendField(std::string& out, const std::string& key, const std::string& value) {
  out += ' ';
  AppendEscaped(out, key, /*quoted=*/false);
  out += '=';
  std::string escaped;
  escaped.reserve(value.size() + 2);
  const bool changed = AppendEscaped(escaped, value, /*quoted=*/true);
  if (changed || value.empty() || value.find_first_of(" =\"") != std::string::npos) {
    out += '"';
    out += escaped;
    out += '"';
  } else {
    out += escaped;
  }
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
    // nlohmann escapes C0 controls; DEL and the deceptive code points it
    // leaves as they are, so they are escaped here (\u007f, \u202e): the
    // same JSON value, nothing a terminal or a reader would act on. They can
    // only be inside strings, and the dump is valid UTF-8 (invalid bytes
    // were replaced).
    const std::string dumped = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::string out;
    out.reserve(dumped.size());
    char buf[8];
    for (size_t i = 0; i < dumped.size();) {
      const unsigned char c = static_cast<unsigned char>(dumped[i]);
      uint32_t cp = c;
      const size_t n = c >= 0x80 ? Utf8Length(dumped, i, &cp) : 1;
      if (n == 0) {  // not after the replace handler; kept as it is
        out += dumped[i++];
      } else if (c == 0x7F || (c >= 0x80 && Deceptive(cp))) {
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
        out += buf;
        i += n;
      } else {
        out.append(dumped, i, n);
        i += n;
      }
    }
    return out;
  }
  // Text: one line, whatever the values hold (a newline in a value must not
  // forge a second log line, an escape sequence must not reach a terminal).
  std::string line = time + " " + LevelName(level) + " ";
  AppendEscaped(line, msg, /*quoted=*/false);
  for (const auto& [k, v] : fields) AppendField(line, k, v);
  return line;
}

void Write(Level level, const std::string& msg, const Fields& fields) {
  if (level < g_level.load() || level == Level::kOff) return;
  std::string line = Render(g_format.load(), level,
                            FormatIso8601(SystemClock::Instance().WallNow(), true), msg, fields);
  Logger().log(spdlog::level::info, line);
}

}  // namespace spk::log
