#include "controller/event.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "base/json.h"

namespace spk::controller {
namespace {

using nlohmann::json;

constexpr int kMaxEnvelopes = 3;

Status Invalid(const std::string& message) { return InvalidArgumentError(message); }

// object[key], or null when absent (const operator[] requires the key).
const json& Member(const json& object, const char* key) {
  static const json kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

// The string member `key` of `object`: "" when absent; an error when present
// but not a string.
Result<std::string> OptionalString(const json& object, const char* key, const char* what) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::string();
  if (!it->is_string()) return Invalid(std::string(what) + ": " + key + " is not a string");
  return it->get<std::string>();
}

Result<std::string> RequiredString(const json& object, const char* key, const char* what) {
  SPK_ASSIGN_OR_RETURN(std::string value, OptionalString(object, key, what));
  if (value.empty()) return Invalid(std::string(what) + ": " + key + " missing or empty");
  return value;
}

Result<json> ParseJsonText(const std::string& text, const char* what) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Invalid(std::string(what) + " is empty");
  }
  SPK_ASSIGN_OR_RETURN(json doc, ParseJson(text, kMaxEventBytes, what));
  if (!doc.is_object()) return Invalid(std::string(what) + " is not a JSON object");
  return doc;
}

// At most `max` bytes of `text` for an error message, with every byte that is
// not printable ASCII shown as \xHH: a forged value cannot break the line.
std::string Printable(const std::string& text, size_t max) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < text.size() && i < max; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (text.size() > max) out += "...";
  return out;
}

// nullopt when `text` is empty; an error when it is present but not an ISO
// 8601 time (a forged or corrupted message is not acted on with a guess).
Result<std::optional<WallTime>> ParseTime(const std::string& text, const char* what,
                                          const char* key) {
  if (text.empty()) return std::optional<WallTime>();
  WallTime t;
  if (!ParseIso8601(text, &t)) {
    return Invalid(std::string(what) + ": " + key + " \"" + Printable(text, 64) +
                   "\" is not an ISO 8601 time");
  }
  return std::optional<WallTime>(t);
}

// "Wed, 05 Apr 2023 12:00:00 GMT" (RFC 1123, as AWS Health's startTime) as
// "2023-04-05T12:00:00Z"; "" when `text` is not of that form.
std::string Rfc1123AsIso8601(const std::string& text) {
  static constexpr const char* kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  // 0123456789012345678901234567 8
  // Wed, 05 Apr 2023 12:00:00 GMT
  if (text.size() != 29 || text.compare(3, 2, ", ") != 0 || text[7] != ' ' || text[11] != ' ' ||
      text[16] != ' ' || text.compare(25, 4, " GMT") != 0) {
    return "";
  }
  const std::string day = text.substr(0, 3);
  if (std::none_of(std::begin(kDays), std::end(kDays), [&](const char* d) { return day == d; })) {
    return "";
  }
  const std::string month = text.substr(8, 3);
  auto m = std::find_if(std::begin(kMonths), std::end(kMonths),
                        [&](const char* name) { return month == name; });
  if (m == std::end(kMonths)) return "";
  const int number = static_cast<int>(m - std::begin(kMonths)) + 1;
  const std::string mm = std::string(number < 10 ? "0" : "") + std::to_string(number);
  // Digits and ranges are checked by ParseIso8601.
  return text.substr(12, 4) + "-" + mm + "-" + text.substr(5, 2) + "T" + text.substr(17, 8) + "Z";
}

// One envelope layer: the inner document text, its envelope name and the
// envelope's message id; nullopt when `doc` is not an envelope.
struct Unwrapped {
  std::string inner;
  std::string name;
  std::string message_id;
};

Result<std::optional<Unwrapped>> Unwrap(const json& doc) {
  if (auto it = doc.find("Records"); it != doc.end()) {
    if (!it->is_array() || it->empty() || !(*it)[0].is_object()) {
      return Invalid("envelope: Records is not a non-empty array of objects");
    }
    const json& record = (*it)[0];
    if (auto sns = record.find("Sns"); sns != record.end()) {
      if (!sns->is_object()) return Invalid("SNS envelope: Records[0].Sns is not an object");
      SPK_ASSIGN_OR_RETURN(std::string message, RequiredString(*sns, "Message", "SNS envelope"));
      SPK_ASSIGN_OR_RETURN(std::string id, OptionalString(*sns, "MessageId", "SNS envelope"));
      return std::optional<Unwrapped>(Unwrapped{message, "sns", id});
    }
    if (record.contains("body")) {
      SPK_ASSIGN_OR_RETURN(std::string body, RequiredString(record, "body", "SQS envelope"));
      SPK_ASSIGN_OR_RETURN(std::string id, OptionalString(record, "messageId", "SQS envelope"));
      return std::optional<Unwrapped>(Unwrapped{body, "sqs", id});
    }
    return Invalid("envelope: Records[0] has neither Sns nor body");
  }
  if (doc.value("Type", json()) == "Notification" && doc.contains("Message")) {
    SPK_ASSIGN_OR_RETURN(std::string message,
                         RequiredString(doc, "Message", "SNS notification envelope"));
    SPK_ASSIGN_OR_RETURN(std::string id,
                         OptionalString(doc, "MessageId", "SNS notification envelope"));
    return std::optional<Unwrapped>(Unwrapped{message, "sns-notification", id});
  }
  return std::optional<Unwrapped>();
}

// The agent's "kind" -> the policy's notice kind. Scheduled maintenance is its
// own kind: it is dated (NotBefore), often days ahead, and concerns on-demand
// instances too.
Result<policy::NoticeKind> AgentNoticeKind(const std::string& kind, const std::string& flag) {
  if (kind == "spot-interruption" || kind == "test") return policy::NoticeKind::kSpotInterruption;
  if (kind == "rebalance-recommendation") return policy::NoticeKind::kRebalanceRecommendation;
  if (kind == "scheduled-maintenance") return policy::NoticeKind::kScheduledMaintenance;
  if (!kind.empty()) return Invalid("agent message: unknown kind \"" + Printable(kind, 64) + "\"");
  if (flag == "true") return policy::NoticeKind::kSpotInterruption;
  if (flag == "false") return policy::NoticeKind::kRebalanceRecommendation;
  return Invalid("agent message: terminationNotificiation is \"" + Printable(flag, 64) +
                 "\", not \"true\" or \"false\"");
}

Result<Event> ParseAgentMessage(const json& doc) {
  constexpr const char* kWhat = "agent message";
  Event event;
  event.kind = EventKind::kNotice;
  event.source = "agent";
  const json& flag_json = Member(doc, "terminationNotificiation");
  std::string flag;
  if (flag_json.is_string()) {
    flag = flag_json.get<std::string>();
  } else if (flag_json.is_boolean()) {
    flag = flag_json.get<bool>() ? "true" : "false";
  } else {
    return Invalid("agent message: terminationNotificiation is not a string");
  }
  SPK_ASSIGN_OR_RETURN(event.agent_kind, OptionalString(doc, "kind", kWhat));
  SPK_ASSIGN_OR_RETURN(event.notice_kind, AgentNoticeKind(event.agent_kind, flag));
  SPK_ASSIGN_OR_RETURN(event.instance_id, RequiredString(doc, "instanceId", kWhat));
  SPK_ASSIGN_OR_RETURN(event.instance_type, OptionalString(doc, "instanceType", kWhat));
  SPK_ASSIGN_OR_RETURN(event.ecs_cluster, OptionalString(doc, "ecsCluster", kWhat));
  SPK_ASSIGN_OR_RETURN(event.ecs_container, OptionalString(doc, "ecsContainer", kWhat));
  SPK_ASSIGN_OR_RETURN(event.instance_action, OptionalString(doc, "action", kWhat));
  SPK_ASSIGN_OR_RETURN(event.message_id, OptionalString(doc, "messageId", kWhat));
  SPK_ASSIGN_OR_RETURN(std::string termination, OptionalString(doc, "terminationTime", kWhat));
  SPK_ASSIGN_OR_RETURN(std::string noticed, OptionalString(doc, "noticeTime", kWhat));
  SPK_ASSIGN_OR_RETURN(event.termination_time, ParseTime(termination, kWhat, "terminationTime"));
  SPK_ASSIGN_OR_RETURN(event.notice_time, ParseTime(noticed, kWhat, "noticeTime"));
  if (event.notice_kind == policy::NoticeKind::kScheduledMaintenance) {
    // The agent sends the event's NotBefore as noticeTime: it is when the
    // maintenance starts, not when the notice was seen.
    if (!event.termination_time) event.termination_time = event.notice_time;
    event.notice_time.reset();
  }
  return event;
}

Result<Event> ParseAlarm(const json& doc) {
  const json& trigger = Member(doc, "Trigger");
  if (!trigger.is_object()) return Invalid("CloudWatch alarm: Trigger is not an object");
  auto dims = trigger.find("Dimensions");
  if (dims == trigger.end() || !dims->is_array() || dims->empty() || !(*dims)[0].is_object()) {
    return Invalid("CloudWatch alarm: Trigger.Dimensions is not a non-empty array of objects");
  }
  Event event;
  event.kind = EventKind::kFleetAlarm;
  event.source = "cloudwatch-alarm";
  SPK_ASSIGN_OR_RETURN(event.fleet_id,
                       RequiredString((*dims)[0], "value", "CloudWatch alarm: Dimensions[0]"));
  return event;
}

Result<Event> ParseDirect(const json& doc) {
  Event event;
  event.kind = EventKind::kDirect;
  event.source = "invocation";
  SPK_ASSIGN_OR_RETURN(event.fleet_id, RequiredString(doc, "fleetID", "invocation"));
  return event;
}

constexpr const char* kStateChange = "EC2 Instance State-change Notification";

Result<Event> ParseStateChange(const json& doc, const json& detail) {
  constexpr const char* kWhat = "EC2 state-change event";
  Event event;
  event.source = "eventbridge";
  SPK_ASSIGN_OR_RETURN(event.instance_id, RequiredString(detail, "instance-id", kWhat));
  SPK_ASSIGN_OR_RETURN(event.instance_action, RequiredString(detail, "state", kWhat));
  SPK_ASSIGN_OR_RETURN(event.message_id, OptionalString(doc, "id", kWhat));
  SPK_ASSIGN_OR_RETURN(std::string time, OptionalString(doc, "time", kWhat));
  SPK_ASSIGN_OR_RETURN(event.notice_time, ParseTime(time, kWhat, "time"));
  const std::string& state = event.instance_action;
  if (state == "stopping" || state == "shutting-down") {
    event.kind = EventKind::kNotice;
    event.notice_kind = policy::NoticeKind::kInstanceStopping;
  } else if (state == "terminated") {
    event.kind = EventKind::kInstanceGone;
  } else {
    event.kind = EventKind::kIgnored;
    event.ignored_reason = "EC2 instance " + Printable(event.instance_id, 40) + " is " +
                           Printable(state, 40) + ": nothing to do";
  }
  return event;
}

// An EC2 instance's scheduled change: retirement, stop, reboot.
bool IsInstanceScheduledChange(const std::string& code) {
  const auto has = [&](const char* part) { return code.find(part) != std::string::npos; };
  return code.rfind("AWS_EC2_", 0) == 0 && code.size() > 18 &&
         code.compare(code.size() - 10, 10, "_SCHEDULED") == 0 &&
         (has("RETIREMENT") || has("_STOP_") || has("REBOOT"));
}

// The first instance id (i-...) among detail.affectedEntities[].entityValue,
// else among resources[]; "" when none.
std::string HealthInstanceId(const json& doc, const json& detail) {
  const auto is_instance = [](const json& v) {
    return v.is_string() && v.get_ref<const std::string&>().rfind("i-", 0) == 0;
  };
  const json& entities = Member(detail, "affectedEntities");
  if (entities.is_array()) {
    for (const json& entity : entities) {
      if (entity.is_object() && is_instance(Member(entity, "entityValue"))) {
        return entity["entityValue"].get<std::string>();
      }
    }
  }
  const json& resources = Member(doc, "resources");
  if (resources.is_array()) {
    for (const json& r : resources) {
      if (is_instance(r)) return r.get<std::string>();
    }
  }
  return "";
}

Result<Event> ParseHealth(const json& doc, const json& detail) {
  constexpr const char* kWhat = "AWS Health event";
  Event event;
  event.source = "aws-health";
  SPK_ASSIGN_OR_RETURN(event.message_id, OptionalString(doc, "id", kWhat));
  SPK_ASSIGN_OR_RETURN(std::string service, OptionalString(detail, "service", kWhat));
  SPK_ASSIGN_OR_RETURN(std::string category, OptionalString(detail, "eventTypeCategory", kWhat));
  SPK_ASSIGN_OR_RETURN(std::string code, OptionalString(detail, "eventTypeCode", kWhat));
  event.instance_id = HealthInstanceId(doc, detail);
  if (service != "EC2" || category != "scheduledChange" || !IsInstanceScheduledChange(code) ||
      event.instance_id.empty()) {
    event.kind = EventKind::kIgnored;
    event.ignored_reason =
        "AWS Health event " + Printable(service, 40) + "/" + Printable(category, 40) + "/" +
        Printable(code, 80) +
        (event.instance_id.empty() ? " names no EC2 instance"
                                   : " is not an EC2 instance's scheduled change");
    return event;
  }
  event.kind = EventKind::kNotice;
  event.notice_kind = policy::NoticeKind::kScheduledMaintenance;
  SPK_ASSIGN_OR_RETURN(std::string start, RequiredString(detail, "startTime", kWhat));
  const std::string iso = Rfc1123AsIso8601(start);
  SPK_ASSIGN_OR_RETURN(event.termination_time,
                       ParseTime(iso.empty() ? start : iso, kWhat, "startTime"));
  return event;
}

constexpr const char* kTerminating = "autoscaling:EC2_INSTANCE_TERMINATING";
constexpr const char* kLaunching = "autoscaling:EC2_INSTANCE_LAUNCHING";
constexpr const char* kTerminateAction = "EC2 Instance-terminate Lifecycle Action";
constexpr const char* kLaunchAction = "EC2 Instance-launch Lifecycle Action";

// The fields of a lifecycle action, from EventBridge's detail or the hook's
// own notification (the same names in both): a terminating or launching one
// is kLifecycleAction, any other transition kIgnored.
Result<Event> ParseLifecycleAction(const json& fields, const std::string& time, const char* what,
                                   Event event) {
  SPK_ASSIGN_OR_RETURN(std::string transition, RequiredString(fields, "LifecycleTransition", what));
  SPK_ASSIGN_OR_RETURN(event.lifecycle_group, RequiredString(fields, "AutoScalingGroupName", what));
  if (transition != kTerminating && transition != kLaunching) {
    event.kind = EventKind::kIgnored;
    event.ignored_reason = "Auto Scaling lifecycle action " + Printable(transition, 60) + " of " +
                           Printable(event.lifecycle_group, 80) +
                           ": only terminating and launching hooks are answered";
    return event;
  }
  event.kind = EventKind::kLifecycleAction;
  event.lifecycle_launching = transition == kLaunching;
  SPK_ASSIGN_OR_RETURN(event.lifecycle_hook, RequiredString(fields, "LifecycleHookName", what));
  SPK_ASSIGN_OR_RETURN(event.lifecycle_token, OptionalString(fields, "LifecycleActionToken", what));
  SPK_ASSIGN_OR_RETURN(event.instance_id, RequiredString(fields, "EC2InstanceId", what));
  SPK_ASSIGN_OR_RETURN(event.notice_time, ParseTime(time, what, "time"));
  return event;
}

// A lifecycle hook's own notification (SQS or SNS target), its test
// notification, or another Auto Scaling notification (kIgnored).
Result<Event> ParseAutoScalingNotification(const json& doc) {
  constexpr const char* kWhat = "Auto Scaling notification";
  Event event;
  event.source = "autoscaling";
  SPK_ASSIGN_OR_RETURN(event.message_id, OptionalString(doc, "RequestId", kWhat));
  SPK_ASSIGN_OR_RETURN(std::string time, OptionalString(doc, "Time", kWhat));
  if (doc.contains("LifecycleTransition")) {
    return ParseLifecycleAction(doc, time, kWhat, std::move(event));
  }
  SPK_ASSIGN_OR_RETURN(std::string name, OptionalString(doc, "Event", kWhat));
  SPK_ASSIGN_OR_RETURN(std::string group, OptionalString(doc, "AutoScalingGroupName", kWhat));
  event.kind = EventKind::kIgnored;
  event.ignored_reason = "Auto Scaling notification " + Printable(name, 60) + " of " +
                         Printable(group, 80) +
                         (name == "autoscaling:TEST_NOTIFICATION" ? ": a hook's test message"
                                                                  : ": not a lifecycle action");
  return event;
}

// The events that wake the on-demand fallback up (it is level-triggered: they
// only ask for a decision now): an ECS service that cannot place a task or
// became steady, a task waiting in PROVISIONING on a capacity provider, an
// Auto Scaling launch that failed. Any other of these is kIgnored.
Result<Event> ParseFallbackWakeUp(const json& doc, const std::string& detail_type,
                                  const json& detail) {
  const std::string what = "EventBridge " + detail_type;
  Event event;
  event.source = detail_type == "EC2 Instance Launch Unsuccessful" ? "autoscaling" : "ecs";
  SPK_ASSIGN_OR_RETURN(event.message_id, OptionalString(doc, "id", what.c_str()));
  event.kind = EventKind::kReconcile;
  if (detail_type == "ECS Service Action") {
    SPK_ASSIGN_OR_RETURN(std::string name, OptionalString(detail, "eventName", what.c_str()));
    if (name != "SERVICE_TASK_PLACEMENT_FAILURE" && name != "SERVICE_STEADY_STATE") {
      event.kind = EventKind::kIgnored;
      event.ignored_reason = "ECS service action " + Printable(name, 60) + ": not a placement";
    }
  } else if (detail_type == "ECS Task State Change") {
    SPK_ASSIGN_OR_RETURN(std::string last, OptionalString(detail, "lastStatus", what.c_str()));
    SPK_ASSIGN_OR_RETURN(std::string provider,
                         OptionalString(detail, "capacityProviderName", what.c_str()));
    if (last != "PROVISIONING" || provider.empty()) {
      event.kind = EventKind::kIgnored;
      event.ignored_reason = "ECS task state change to " + Printable(last, 30) +
                             ": not a task waiting on a capacity provider";
    }
  }
  return event;
}

Result<Event> ParseEventBridge(const json& doc, const std::string& detail_type) {
  Event event;
  if (detail_type == kTerminateAction || detail_type == kLaunchAction) {
    constexpr const char* kWhat = "EventBridge lifecycle action";
    const json& detail = Member(doc, "detail");
    if (!detail.is_object()) return Invalid(detail_type + ": detail is not an object");
    event.source = "eventbridge";
    SPK_ASSIGN_OR_RETURN(event.message_id, OptionalString(doc, "id", kWhat));
    SPK_ASSIGN_OR_RETURN(std::string time, OptionalString(doc, "time", kWhat));
    return ParseLifecycleAction(detail, time, kWhat, std::move(event));
  }
  if (detail_type == "Scheduled Event") {
    // A schedule rule's own event (no Input set): the Lambda's periodic reconcile.
    event.kind = EventKind::kReconcile;
    event.source = "schedule";
    return event;
  }
  if (detail_type == "ECS Service Action" || detail_type == "ECS Task State Change" ||
      detail_type == "EC2 Instance Launch Unsuccessful") {
    const json& detail = Member(doc, "detail");
    if (!detail.is_object()) return Invalid(detail_type + ": detail is not an object");
    return ParseFallbackWakeUp(doc, detail_type, detail);
  }
  if (detail_type == kStateChange || detail_type == "AWS Health Event") {
    const json& detail = Member(doc, "detail");
    if (!detail.is_object()) return Invalid(detail_type + ": detail is not an object");
    return detail_type == kStateChange ? ParseStateChange(doc, detail) : ParseHealth(doc, detail);
  }
  event.kind = EventKind::kNotice;
  event.source = "eventbridge";
  if (detail_type == "EC2 Spot Instance Interruption Warning") {
    event.notice_kind = policy::NoticeKind::kSpotInterruption;
  } else if (detail_type == "EC2 Instance Rebalance Recommendation") {
    event.notice_kind = policy::NoticeKind::kRebalanceRecommendation;
  } else {
    return Invalid("unsupported EventBridge event: detail-type \"" + Printable(detail_type, 80) +
                   "\"");
  }
  const json& detail = Member(doc, "detail");
  if (!detail.is_object()) return Invalid("EventBridge event: detail is not an object");
  constexpr const char* kWhat = "EventBridge event";
  SPK_ASSIGN_OR_RETURN(event.instance_id, RequiredString(detail, "instance-id", kWhat));
  SPK_ASSIGN_OR_RETURN(event.instance_action, OptionalString(detail, "instance-action", kWhat));
  SPK_ASSIGN_OR_RETURN(event.message_id, OptionalString(doc, "id", kWhat));
  SPK_ASSIGN_OR_RETURN(std::string time, OptionalString(doc, "time", kWhat));
  SPK_ASSIGN_OR_RETURN(event.notice_time, ParseTime(time, kWhat, "time"));
  if (event.notice_kind == policy::NoticeKind::kSpotInterruption && event.notice_time) {
    event.termination_time = *event.notice_time + std::chrono::minutes(2);
  }
  return event;
}

// Classifies a document that is not an envelope.
Result<Event> ParseBare(const json& doc) {
  if (doc.contains("terminationNotificiation")) return ParseAgentMessage(doc);
  if (doc.contains("fleetID")) return ParseDirect(doc);
  if (doc.contains("Trigger")) return ParseAlarm(doc);
  if (doc.contains("LifecycleTransition") || doc.value("Service", json()) == "AWS Auto Scaling") {
    return ParseAutoScalingNotification(doc);
  }
  if (auto it = doc.find("detail-type"); it != doc.end()) {
    if (!it->is_string()) return Invalid("EventBridge event: detail-type is not a string");
    return ParseEventBridge(doc, it->get<std::string>());
  }
  std::string keys;
  for (auto it = doc.begin(); it != doc.end() && keys.size() < 80; ++it) {
    keys += (keys.empty() ? "" : ", ") + Printable(it.key(), 40);
  }
  return Invalid("unsupported event: an object with keys {" + keys +
                 "} is none of: agent message, CloudWatch alarm, {\"fleetID\"}, "
                 "EventBridge spot interruption, rebalance recommendation, instance state "
                 "change, AWS Health event, scheduled event, Auto Scaling lifecycle action or "
                 "notification");
}

}  // namespace

const char* EventKindName(EventKind kind) {
  switch (kind) {
    case EventKind::kNotice:
      return "notice";
    case EventKind::kFleetAlarm:
      return "fleet-alarm";
    case EventKind::kDirect:
      return "direct";
    case EventKind::kReconcile:
      return "reconcile";
    case EventKind::kInstanceGone:
      return "instance-gone";
    case EventKind::kIgnored:
      return "ignored";
    case EventKind::kLifecycleAction:
      return "lifecycle-action";
  }
  return "unknown";
}

std::string Event::DedupKey() const {
  if (!message_id.empty()) return "id:" + message_id;
  std::string key = std::string(EventKindName(kind)) + ":" + fleet_id;
  if (kind == EventKind::kNotice) {
    key = std::string(policy::NoticeKindName(notice_kind)) + ":" + instance_id;
    if (termination_time) key += ":" + FormatIso8601(*termination_time);
  }
  return key;
}

Result<Event> ParseEventJson(const json& document) {
  json doc = document;
  std::string envelope;
  std::string envelope_id;
  for (int depth = 0;; ++depth) {
    if (!doc.is_object()) return Invalid("event is not a JSON object");
    SPK_ASSIGN_OR_RETURN(std::optional<Unwrapped> layer, Unwrap(doc));
    if (!layer) break;
    if (depth == kMaxEnvelopes) return Invalid("event: more than 3 nested envelopes");
    envelope += (envelope.empty() ? "" : "/") + layer->name;
    if (!layer->message_id.empty()) envelope_id = layer->message_id;
    SPK_ASSIGN_OR_RETURN(
        doc, ParseJsonText(layer->inner, ("message inside " + layer->name + " envelope").c_str()));
  }
  SPK_ASSIGN_OR_RETURN(Event event, ParseBare(doc));
  event.envelope = envelope;
  if (event.message_id.empty()) event.message_id = envelope_id;
  return event;
}

Result<Event> ParseEvent(const std::string& text) {
  // The parsers above do not throw (fuzz/event_fuzz.cc checks it); should one
  // ever, this message is rejected and the next one is served.
  try {
    SPK_ASSIGN_OR_RETURN(json doc, ParseJsonText(text, "event"));
    return ParseEventJson(doc);
  } catch (const std::exception& e) {
    return InternalError(std::string("internal error parsing the event: ") + e.what());
  } catch (...) {
    return InternalError("internal error parsing the event: unknown exception");
  }
}

Result<policy::ReferenceTrigger> ToReferenceTrigger(const Event& event) {
  policy::ReferenceTrigger trigger;
  switch (event.kind) {
    case EventKind::kDirect:
      trigger.kind = policy::ReferenceTrigger::Kind::kDirect;
      trigger.fleet_id = event.fleet_id;
      return trigger;
    case EventKind::kFleetAlarm:
      trigger.kind = policy::ReferenceTrigger::Kind::kAlarm;
      trigger.fleet_id = event.fleet_id;
      return trigger;
    case EventKind::kReconcile:
      return Invalid("the reference had no scheduled reconcile");
    case EventKind::kInstanceGone:
    case EventKind::kIgnored:
    case EventKind::kLifecycleAction:
      return Invalid("the reference did not handle " + event.source);
    case EventKind::kNotice:
      break;
  }
  if (event.source != "agent") return Invalid("the reference did not handle " + event.source);
  trigger.kind = policy::ReferenceTrigger::Kind::kTermination;
  trigger.instance_type = event.instance_type;
  trigger.ecs_cluster = event.ecs_cluster;
  trigger.ecs_container = event.ecs_container;
  return trigger;
}

nlohmann::json ToJson(const Event& event) {
  json out = {{"kind", EventKindName(event.kind)},
              {"source", event.source},
              {"envelope", event.envelope},
              {"message_id", event.message_id}};
  if (event.kind == EventKind::kIgnored) out["reason"] = event.ignored_reason;
  if (event.kind == EventKind::kInstanceGone) out["instance_id"] = event.instance_id;
  if (event.kind == EventKind::kLifecycleAction) {
    out["instance_id"] = event.instance_id;
    out["group"] = event.lifecycle_group;
    out["hook"] = event.lifecycle_hook;
    out["transition"] = event.lifecycle_launching ? "launching" : "terminating";
  }
  if (event.kind != EventKind::kNotice) {
    out["fleet_id"] = event.fleet_id;
    return out;
  }
  out["notice_kind"] = policy::NoticeKindName(event.notice_kind);
  out["instance_id"] = event.instance_id;
  out["instance_type"] = event.instance_type;
  out["ecs_cluster"] = event.ecs_cluster;
  out["ecs_container"] = event.ecs_container;
  if (event.termination_time) out["termination_time"] = FormatIso8601(*event.termination_time);
  return out;
}

}  // namespace spk::controller
