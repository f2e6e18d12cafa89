// ISO 8601 times (base/clock.h), the agent's and controller's duration
// settings (cli ParseDurationSetting) and the simulator's durations
// (sim::ParseDuration).
// Invariants: never throws, no UB (UBSan); a parsed time formats (with
// milliseconds) to text that parses back to the same millisecond, and the
// formatted text is canonical (formatting the re-parsed time gives it again);
// a parsed duration is finite, >= 0 and within its documented cap.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/clock.h"
#include "cli/duration_setting.h"
#include "fuzz_check.h"
#include "sim/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);

  spk::WallTime t;
  if (spk::ParseIso8601(text, &t)) {
    const std::string printed = spk::FormatIso8601(t, /*millis=*/true);
    FUZZ_CHECK(printed.size() == 24);
    spk::WallTime back;
    FUZZ_CHECK(spk::ParseIso8601(printed, &back));
    FUZZ_CHECK(std::chrono::floor<std::chrono::milliseconds>(t) == back);
    FUZZ_CHECK(spk::FormatIso8601(back, true) == printed);
  }

  spk::Duration d{};
  if (spk::cli::ParseDurationSetting(text, &d)) {
    FUZZ_CHECK(d >= spk::Duration::zero());
    FUZZ_CHECK(d <= spk::cli::kMaxDurationSetting);
  }

  spk::sim::SimTime st = -1;
  if (spk::sim::ParseDuration(text, &st)) {
    FUZZ_CHECK(st >= 0 && st <= spk::sim::kMaxScenarioDuration);
  }
  return 0;
}
