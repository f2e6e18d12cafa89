// Event: what the controller's handler was asked to react to, parsed from
// every input shape the reference system and AWS deliver (DESIGN.md,
// "Compatibility with the reference system"):
//
//   - the agent's message (the reference notifier's fields:
//     terminationNotificiation, instanceId, instanceType, ecsCluster,
//     ecsContainer; and spotkeeper's extra fields kind, messageId,
//     terminationTime, noticeTime when present; for kind
//     "scheduled-maintenance" the agent's noticeTime is the event's NotBefore
//     and becomes termination_time);
//   - a CloudWatch alarm notification: Trigger.Dimensions[0].value is the fleet id;
//   - a direct invocation {"fleetID": "sfr-..."} (or an EC2 Fleet's "fleet-...");
//   - EventBridge "EC2 Spot Instance Interruption Warning" and
//     "EC2 Instance Rebalance Recommendation" (detail.instance-id,
//     detail.instance-action);
//   - EventBridge "EC2 Instance State-change Notification" (detail.instance-id,
//     detail.state): "stopping" and "shutting-down" are a kInstanceStopping
//     notice, "terminated" is kInstanceGone, any other state kIgnored;
//   - EventBridge "AWS Health Event" (source aws.health): an EC2
//     scheduledChange whose eventTypeCode is an instance's retirement, stop or
//     reboot (AWS_EC2_*_SCHEDULED) is a scheduled-maintenance notice for its
//     first affected instance (detail.affectedEntities[].entityValue, else
//     resources[]), dated at detail.startTime (RFC 1123, "Wed, 05 Apr 2023
//     12:00:00 GMT", or ISO 8601); any other Health event is kIgnored;
//   - EventBridge "ECS Service Action" (eventName SERVICE_TASK_PLACEMENT_FAILURE
//     or SERVICE_STEADY_STATE), "ECS Task State Change" (lastStatus
//     PROVISIONING on a capacityProviderName) and "EC2 Instance Launch
//     Unsuccessful": kReconcile (they wake the on-demand fallback up,
//     fallback.h); any other service action or task state is kIgnored;
//   - an Auto Scaling lifecycle action for autoscaling:EC2_INSTANCE_TERMINATING,
//     as EventBridge "EC2 Instance-terminate Lifecycle Action" (detail.*) or as
//     the hook's own notification (SQS or SNS target: {"Service": "AWS Auto
//     Scaling", "LifecycleTransition": ..., ...}): kLifecycleAction with the
//     group, hook, token and EC2InstanceId; the hook's
//     autoscaling:TEST_NOTIFICATION, a launching action and any other Auto
//     Scaling notification are kIgnored;
// each as is, or wrapped in (up to 3 nested) envelopes: a Lambda SNS event
// (Records[0].Sns.Message), a Lambda SQS event (Records[0].body), or the
// SNS-to-SQS envelope {"Type": "Notification", "Message": ...}. An SQS message
// body is parsed as is.
//
// Pure: no I/O. Never throws.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "policy/observation.h"
#include "policy/reference_policy.h"

namespace spk::controller {

enum class EventKind {
  kNotice,        // an instance is about to go or at risk (agent or EventBridge)
  kFleetAlarm,    // a CloudWatch alarm on a fleet
  kDirect,        // {"fleetID": ...}: re-evaluate the fleet
  kReconcile,     // an EventBridge "Scheduled Event": re-evaluate everything configured
  kInstanceGone,  // EC2 says the instance is terminated: forget what memory holds of it
  kIgnored,       // understood, nothing to do (ignored_reason says why)
  // An Auto Scaling group waits for its terminate lifecycle hook to be
  // completed for instance_id (drain it, then CONTINUE).
  kLifecycleAction,
};

// "notice" | "fleet-alarm" | "direct" | "reconcile" | "instance-gone" | "ignored" |
// "lifecycle-action".
const char* EventKindName(EventKind kind);

struct Event {
  EventKind kind = EventKind::kDirect;
  // Where it came from: "agent", "eventbridge", "cloudwatch-alarm", "invocation",
  // "schedule", "aws-health", "autoscaling" (a lifecycle hook's own notification).
  std::string source;
  // The envelopes removed, outermost first, joined by '/': "" (none), "sns",
  // "sqs", "sns-notification" (SNS-to-SQS), e.g. "sqs/sns-notification".
  std::string envelope;
  // The most specific id available: the agent's messageId, else the
  // EventBridge event id, else the (innermost) SNS MessageId; "" when none.
  std::string message_id;

  // kFleetAlarm, kDirect: the fleet named.
  std::string fleet_id;

  // kIgnored: why nothing is done for it.
  std::string ignored_reason;

  // kNotice (and kInstanceGone: instance_id):
  policy::NoticeKind notice_kind = policy::NoticeKind::kSpotInterruption;
  std::string agent_kind;  // the agent's "kind" field ("" when absent)
  std::string instance_id;
  std::string instance_type;  // "" when the event does not say (EventBridge)
  std::string ecs_cluster;    // "" when not known
  std::string ecs_container;  // container instance ARN; "" when not known
  // "terminate" | "stop" | "hibernate" | ""; a state change: its state.
  std::string instance_action;
  std::optional<WallTime> notice_time;
  // Interruptions: when the instance goes; scheduled maintenance: NotBefore.
  std::optional<WallTime> termination_time;

  // kLifecycleAction (instance_id is the EC2 instance; notice_time the
  // event's time):
  std::string lifecycle_group;
  std::string lifecycle_hook;
  std::string lifecycle_token;
  bool lifecycle_launching = false;  // EC2_INSTANCE_LAUNCHING, not _TERMINATING

  // A key that is the same for every delivery of the same notice: the
  // message id when there is one, else kind + instance id (+ time).
  std::string DedupKey() const;
};

// Parses `text`. kInvalidArgument, with a message saying what was wrong
// ("not JSON: ...", "unsupported event: ...", "agent message: instanceId
// missing or not a string", ...), for anything else: empty input, malformed
// JSON, a non-object, wrong field types, an unknown shape, a time that is
// present but not ISO 8601 ("EventBridge event: time \"...\" is not an ISO
// 8601 time"), a text (or an envelope's inner text) larger than
// kMaxEventBytes (256 KiB) or nested deeper than kMaxJsonDepth (base/json.h).
Result<Event> ParseEvent(const std::string& text);

// The same on an already parsed document (`envelope` as above for the
// envelopes already removed by the caller).
Result<Event> ParseEventJson(const nlohmann::json& document);

// The event as the reference Lambda would have seen it (for comparison).
// kInvalidArgument for events the reference did not handle (EventBridge).
Result<policy::ReferenceTrigger> ToReferenceTrigger(const Event& event);

// {"kind": ..., "source": ..., "envelope": ..., "message_id": ..., ...}
nlohmann::json ToJson(const Event& event);

}  // namespace spk::controller
