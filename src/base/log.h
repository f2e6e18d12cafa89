// Logging: one line per event, as text or as JSON lines, with key=value fields.
//
//   spk::log::Info("notice seen", {{"kind", "spot-interruption"}, {"instance", id}});
// text: 2024-01-01T00:00:00.000Z INFO notice seen kind=spot-interruption instance=i-0abc
// json: {"time":"2024-01-01T00:00:00.000Z","level":"info","msg":"notice seen","kind":...}
//
// Logs go to stderr. Thread-safe. Timestamps are wall-clock time (logs are for people).
#pragma once

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace spk::log {

enum class Format { kText, kJson };
enum class Level { kDebug = 0, kInfo, kWarn, kError, kOff };

using Field = std::pair<std::string, std::string>;
using Fields = std::vector<Field>;

// Sets the process-wide format and minimum level. Safe to call again.
void Configure(Format format, Level min_level);
// Parses "text"/"json" and "debug"/"info"/"warn"/"error"/"off"; false when unknown.
bool ParseFormat(const std::string& s, Format* out);
bool ParseLevel(const std::string& s, Level* out);

// Renders one line without its trailing newline (exposed for tests).
std::string Render(Format format, Level level, const std::string& time, const std::string& msg,
                   const Fields& fields);

void Write(Level level, const std::string& msg, const Fields& fields = {});
inline void Debug(const std::string& msg, const Fields& fields = {}) { Write(Level::kDebug, msg, fields); }
inline void Info(const std::string& msg, const Fields& fields = {}) { Write(Level::kInfo, msg, fields); }
inline void Warn(const std::string& msg, const Fields& fields = {}) { Write(Level::kWarn, msg, fields); }
inline void Error(const std::string& msg, const Fields& fields = {}) { Write(Level::kError, msg, fields); }

}  // namespace spk::log
