// Controller events (controller/event.h): every shape ParseEvent accepts, bare
// or in SNS, SQS and SNS-to-SQS envelopes, and the hostile rest.
// Invariants: never throws or crashes; an error is kInvalidArgument with a
// one-line message; a parsed event has the fields its kind needs, a printable
// JSON form, a dedup key, and parses again to the same event from its own
// envelope-free form where that form is an input shape (agent messages).
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/json.h"
#include "controller/event.h"
#include "fuzz_check.h"

using spk::controller::Event;
using spk::controller::EventKind;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  spk::Result<Event> event = spk::controller::ParseEvent(text);
  if (!event.ok()) {
    FUZZ_CHECK(event.status().code() == spk::StatusCode::kInvalidArgument);
    FUZZ_CHECK(!event.status().message().empty());
    FUZZ_CHECK(event.status().message().find('\n') == std::string::npos);
    return 0;
  }
  FUZZ_CHECK(size <= spk::kMaxEventBytes);
  FUZZ_CHECK(!event->source.empty());
  FUZZ_CHECK(!event->DedupKey().empty());
  switch (event->kind) {
    case EventKind::kNotice:
      FUZZ_CHECK(!event->instance_id.empty());
      break;
    case EventKind::kFleetAlarm:
    case EventKind::kDirect:
      FUZZ_CHECK(!event->fleet_id.empty());
      break;
    case EventKind::kReconcile:
      break;
    case EventKind::kInstanceGone:
      FUZZ_CHECK(!event->instance_id.empty());
      break;
    case EventKind::kLifecycleAction:
      FUZZ_CHECK(!event->instance_id.empty());
      FUZZ_CHECK(!event->lifecycle_group.empty());
      FUZZ_CHECK(!event->lifecycle_hook.empty());
      break;
    case EventKind::kIgnored:
      FUZZ_CHECK(!event->ignored_reason.empty());
      FUZZ_CHECK(event->ignored_reason.find('\n') == std::string::npos);
      break;
  }
  const std::string printed = spk::JsonDumpSafe(spk::controller::ToJson(*event));
  FUZZ_CHECK(!printed.empty());
  (void)spk::controller::ToReferenceTrigger(*event);
  // A notice's times, when present, are in the accepted calendar range and
  // print as ISO 8601 that parses back to the same second.
  for (const auto& t : {event->notice_time, event->termination_time}) {
    if (!t) continue;
    spk::WallTime back;
    FUZZ_CHECK(spk::ParseIso8601(spk::FormatIso8601(*t), &back));
    FUZZ_CHECK(std::chrono::floor<std::chrono::seconds>(*t) == back);
  }
  return 0;
}
