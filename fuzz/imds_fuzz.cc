// IMDS answers (agent/notice.h): spot/instance-action, spot/termination-time,
// events/recommendations/rebalance, events/maintenance/scheduled, the
// instance identity document, scheduled-event times; and the ECS agent's
// introspection metadata (cloud/aws_metadata.h). Every parser sees every input.
// Invariants: never throws or crashes; a parsed notice has a known action and
// a canonical ISO 8601 time (it parses and formats back to itself) and, for
// spot, a deadline equal to that time; a parsed identity document has an
// instance id; parsed ECS agent metadata has a cluster.
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/notice.h"
#include "base/clock.h"
#include "cloud/aws_metadata.h"
#include "fuzz_check.h"

namespace {

void CheckCanonicalTime(const std::string& text) {
  spk::WallTime t;
  FUZZ_CHECK(spk::ParseIso8601(text, &t));
  FUZZ_CHECK(spk::FormatIso8601(t) == text);
}

void CheckSpot(const spk::Result<spk::agent::Notice>& n) {
  if (!n.ok()) {
    FUZZ_CHECK(!n.status().message().empty());
    return;
  }
  FUZZ_CHECK(n->action == "terminate" || n->action == "stop" || n->action == "hibernate");
  CheckCanonicalTime(n->time);
  FUZZ_CHECK(n->deadline.has_value());
  FUZZ_CHECK(spk::FormatIso8601(*n->deadline) == n->time);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  CheckSpot(spk::agent::ParseInstanceAction(body));
  CheckSpot(spk::agent::ParseTerminationTime(body));
  if (auto r = spk::agent::ParseRebalance(body); r.ok()) CheckCanonicalTime(r->time);
  if (auto events = spk::agent::ParseScheduledEvents(body); events.ok()) {
    for (const auto& e : *events) {
      FUZZ_CHECK(!e.action.empty() && !e.event_id.empty());
      CheckCanonicalTime(e.time);
      if (!e.not_after.empty()) CheckCanonicalTime(e.not_after);
    }
  }
  if (auto doc = spk::agent::ParseIdentityDocument(body); doc.ok()) {
    FUZZ_CHECK(!doc->instance_id.empty());
  }
  if (auto t = spk::agent::NormalizeEventTime(body)) CheckCanonicalTime(*t);
  if (auto info = spk::cloud::ParseEcsAgentMetadata(body); info.ok()) {
    FUZZ_CHECK(!info->cluster.empty());
  }
  return 0;
}
