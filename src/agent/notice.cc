#include "agent/notice.h"

#include <array>
#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>

#include "base/json.h"
#include "base/strings.h"

namespace spk::agent {
namespace {

using nlohmann::json;

std::string Snippet(const std::string& body) {
  std::string s = Trim(body);
  return s.size() > 80 ? s.substr(0, 80) + "..." : s;
}

Result<json> ParseObject(const std::string& body, const char* what) {
  json j = ParseJsonOrDiscarded(body, kMaxLocalDocumentBytes);
  if (!j.is_object()) {
    return InternalError(std::string("malformed ") + what +
                         ": not a JSON object: " + Snippet(body));
  }
  return j;
}

// Checks `time` is ISO 8601; returns it normalised (UTC, seconds).
Result<WallTime> ParseTime(const std::string& time, const char* what) {
  WallTime t;
  if (time.empty() || !ParseIso8601(time, &t)) {
    return InternalError(std::string("malformed ") + what + ": bad time \"" + Snippet(time) + "\"");
  }
  return t;
}

}  // namespace

const char* NoticeKindName(NoticeKind kind) {
  switch (kind) {
    case NoticeKind::kSpotInterruption:
      return "spot-interruption";
    case NoticeKind::kRebalanceRecommendation:
      return "rebalance-recommendation";
    case NoticeKind::kScheduledMaintenance:
      return "scheduled-maintenance";
    case NoticeKind::kTest:
      return "test";
  }
  return "unknown";
}

std::string Notice::DedupKey() const {
  std::string key = NoticeKindName(kind);
  switch (kind) {
    case NoticeKind::kSpotInterruption:
      return key + "/" + action;
    case NoticeKind::kRebalanceRecommendation:
      return key;
    case NoticeKind::kScheduledMaintenance:
      return key + "/" + event_id;
    case NoticeKind::kTest:
      return key + "/" + time;
  }
  return key;
}

Result<Notice> ParseInstanceAction(const std::string& body) {
  SPK_ASSIGN_OR_RETURN(json j, ParseObject(body, "spot/instance-action"));
  Notice n;
  n.kind = NoticeKind::kSpotInterruption;
  n.action = JsonStringField(j, "action");
  if (n.action != "terminate" && n.action != "stop" && n.action != "hibernate") {
    return InternalError("malformed spot/instance-action: unknown action \"" + Snippet(n.action) +
                         "\"");
  }
  SPK_ASSIGN_OR_RETURN(WallTime t, ParseTime(JsonStringField(j, "time"), "spot/instance-action"));
  n.time = FormatIso8601(t);
  n.deadline = t;
  return n;
}

Result<Notice> ParseTerminationTime(const std::string& body) {
  SPK_ASSIGN_OR_RETURN(WallTime t, ParseTime(Trim(body), "spot/termination-time"));
  Notice n;
  n.kind = NoticeKind::kSpotInterruption;
  n.action = "terminate";
  n.time = FormatIso8601(t);
  n.deadline = t;
  return n;
}

Result<Notice> ParseRebalance(const std::string& body) {
  SPK_ASSIGN_OR_RETURN(json j, ParseObject(body, "rebalance recommendation"));
  SPK_ASSIGN_OR_RETURN(WallTime t,
                       ParseTime(JsonStringField(j, "noticeTime"), "rebalance recommendation"));
  Notice n;
  n.kind = NoticeKind::kRebalanceRecommendation;
  n.action = "rebalance";
  n.time = FormatIso8601(t);
  return n;
}

Result<std::vector<Notice>> ParseScheduledEvents(const std::string& body) {
  json j = ParseJsonOrDiscarded(body, kMaxLocalDocumentBytes);
  if (!j.is_array()) {
    return InternalError("malformed scheduled events: not a JSON array: " + Snippet(body));
  }
  std::vector<Notice> out;
  for (const auto& e : j) {
    if (!e.is_object())
      return InternalError("malformed scheduled events: an entry is not an object");
    Notice n;
    n.kind = NoticeKind::kScheduledMaintenance;
    n.action = JsonStringField(e, "Code");
    n.event_id = JsonStringField(e, "EventId");
    n.description = JsonStringField(e, "Description");
    if (n.action.empty() || n.event_id.empty()) {
      return InternalError("malformed scheduled events: an event without Code or EventId");
    }
    const std::string state = JsonStringField(e, "State");
    if (state != "active") continue;  // completed or canceled: nothing to act on
    auto not_before = NormalizeEventTime(JsonStringField(e, "NotBefore"));
    if (!not_before) {
      return InternalError("malformed scheduled events: bad NotBefore in " + n.event_id);
    }
    n.time = *not_before;
    n.not_after = NormalizeEventTime(JsonStringField(e, "NotAfter")).value_or("");
    out.push_back(std::move(n));
  }
  return out;
}

Result<IdentityDocument> ParseIdentityDocument(const std::string& body) {
  SPK_ASSIGN_OR_RETURN(json j, ParseObject(body, "instance identity document"));
  IdentityDocument d;
  d.instance_id = JsonStringField(j, "instanceId");
  d.instance_type = JsonStringField(j, "instanceType");
  d.region = JsonStringField(j, "region");
  d.availability_zone = JsonStringField(j, "availabilityZone");
  d.account_id = JsonStringField(j, "accountId");
  if (d.instance_id.empty()) {
    return InternalError("malformed instance identity document: no instanceId");
  }
  return d;
}

std::optional<std::string> NormalizeEventTime(const std::string& raw) {
  const std::string s = Trim(raw);
  WallTime t;
  if (ParseIso8601(s, &t)) return FormatIso8601(t);
  // "27 Nov 2026 19:26:37 GMT"
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int day = 0, year = 0, hh = 0, mm = 0, ss = 0, consumed = 0;
  char mon[4] = {0};
  char zone[4] = {0};
  // Field widths bound every number (an unbounded %d overflows: undefined).
  if (s.size() > 64 ||
      std::sscanf(s.c_str(), "%2d %3s %4d %2d:%2d:%2d %3s%n", &day, mon, &year, &hh, &mm, &ss, zone,
                  &consumed) != 7 ||
      static_cast<size_t>(consumed) != s.size()) {
    return std::nullopt;
  }
  if (year < kMinIso8601Year || year > kMaxIso8601Year || hh < 0 || mm < 0 || ss < 0) {
    return std::nullopt;
  }
  if (std::string(zone) != "GMT" && std::string(zone) != "UTC") return std::nullopt;
  int month = -1;
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (std::string(mon) == kMonths[i]) month = static_cast<int>(i);
  }
  if (month < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month;
  tm.tm_mday = day;
  tm.tm_hour = hh;
  tm.tm_min = mm;
  tm.tm_sec = ss;
  return FormatIso8601(std::chrono::system_clock::from_time_t(timegm(&tm)));
}

}  // namespace spk::agent
