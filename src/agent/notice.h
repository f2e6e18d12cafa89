// Notices the agent reads from instance metadata, and the parsers for each
// metadata path's body. Pure functions: no I/O.
//
// A parser returns kInternal for a body that is not what the path serves
// (malformed JSON, a missing or unparseable time, an unknown action): a
// malformed body is an error, never a notice.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace spk::agent {

enum class NoticeKind {
  kSpotInterruption,         // spot/instance-action (or legacy spot/termination-time)
  kRebalanceRecommendation,  // events/recommendations/rebalance
  kScheduledMaintenance,     // events/maintenance/scheduled, State "active"
  kTest,                     // `spotkeeper agent --terminate`
};

// "spot-interruption", "rebalance-recommendation", "scheduled-maintenance", "test".
const char* NoticeKindName(NoticeKind kind);

struct Notice {
  NoticeKind kind = NoticeKind::kSpotInterruption;
  // spot: terminate|stop|hibernate; rebalance: "rebalance"; scheduled: the
  // event code ("system-reboot", ...); test: "test".
  std::string action;
  // ISO 8601 UTC. Spot: the termination time; the others: the notice time
  // (scheduled: the event's NotBefore).
  std::string time;
  // Scheduled events: EventId, NotAfter (ISO 8601 when parseable), Description.
  std::string event_id;
  std::string not_after;
  std::string description;

  // The time after which delivering the notice is pointless (spot: the
  // termination time); nullopt for notices without one.
  std::optional<WallTime> deadline;

  // What makes two polls "the same notice" for this instance. Spot: the
  // action (an instance is interrupted once; AEMM moves the time on every
  // read unless told not to); rebalance: the kind; scheduled: the event id.
  std::string DedupKey() const;
};

// spot/instance-action: {"action": "terminate", "time": "2024-01-01T00:02:00Z"}.
Result<Notice> ParseInstanceAction(const std::string& body);
// spot/termination-time (legacy): "2024-01-01T00:02:00Z". Action "terminate".
Result<Notice> ParseTerminationTime(const std::string& body);
// events/recommendations/rebalance: {"noticeTime": "2024-01-01T00:00:00Z"}.
Result<Notice> ParseRebalance(const std::string& body);
// events/maintenance/scheduled: a JSON array of events (Code, Description,
// State, EventId, NotBefore, NotAfter). Only "active" events are notices;
// "[]" is none.
Result<std::vector<Notice>> ParseScheduledEvents(const std::string& body);

// The instance identity document's fields the message carries.
struct IdentityDocument {
  std::string instance_id;
  std::string instance_type;
  std::string region;
  std::string availability_zone;
  std::string account_id;
};
// kInternal when not a JSON object or without instanceId.
Result<IdentityDocument> ParseIdentityDocument(const std::string& body);

// Scheduled-event times: "27 Nov 2026 19:26:37 GMT" -> "2026-11-27T19:26:37Z".
// ISO 8601 input is accepted as is. nullopt when neither.
std::optional<std::string> NormalizeEventTime(const std::string& s);

}  // namespace spk::agent
