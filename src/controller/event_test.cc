#include "controller/event.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace spk::controller {
namespace {

using nlohmann::json;

const char* kAgentMessage =
    R"({"terminationNotificiation":"true","instanceId":"i-0abc","instanceType":"c5.2xlarge",)"
    R"("ecsCluster":"web","ecsContainer":"arn:aws:ecs:us-east-1:1:container-instance/web/c1"})";

std::string SnsLambda(const std::string& message) {
  return json{
      {"Records",
       {{{"EventSource", "aws:sns"}, {"Sns", {{"MessageId", "sns-1"}, {"Message", message}}}}}}}
      .dump();
}
std::string SnsToSqs(const std::string& message) {
  return json{{"Type", "Notification"}, {"MessageId", "sns-2"}, {"Message", message}}.dump();
}
std::string SqsLambda(const std::string& body) {
  return json{{"Records", {{{"eventSource", "aws:sqs"}, {"messageId", "sqs-1"}, {"body", body}}}}}
      .dump();
}

const std::string kAlarm =
    json{{"AlarmName", "fleet-pending"},
         {"Trigger",
          {{"MetricName", "PendingCapacity"},
           {"Dimensions", {{{"name", "FleetRequestId"}, {"value", "sfr-alarm"}}}}}}}
        .dump();

std::string EventBridge(const std::string& detail_type, const std::string& action) {
  return json{{"version", "0"},
              {"id", "eb-1"},
              {"detail-type", detail_type},
              {"source", "aws.ec2"},
              {"time", "2024-01-01T00:00:00Z"},
              {"detail", {{"instance-id", "i-0eb"}, {"instance-action", action}}}}
      .dump();
}

struct GoodCase {
  std::string name;
  std::string input;
  EventKind kind;
  std::string source;
  std::string envelope;
  std::string fleet_id;     // alarm, direct
  std::string instance_id;  // notices
  policy::NoticeKind notice_kind = policy::NoticeKind::kSpotInterruption;
  std::string message_id;
};

std::vector<GoodCase> GoodCases() {
  const std::string spot = EventBridge("EC2 Spot Instance Interruption Warning", "terminate");
  const std::string rebalance = EventBridge("EC2 Instance Rebalance Recommendation", "");
  const std::string direct = R"({"fleetID":"sfr-direct"})";
  const std::string agent_rebalance =
      R"({"terminationNotificiation":"false","instanceId":"i-1","instanceType":"m5.large",)"
      R"("ecsCluster":"web","ecsContainer":"arn:c","kind":"rebalance-recommendation",)"
      R"("messageId":"m-42"})";
  const auto kSpot = policy::NoticeKind::kSpotInterruption;
  const auto kRebalance = policy::NoticeKind::kRebalanceRecommendation;
  return {
      {"agent", kAgentMessage, EventKind::kNotice, "agent", "", "", "i-0abc", kSpot, ""},
      {"agent_sns", SnsLambda(kAgentMessage), EventKind::kNotice, "agent", "sns", "", "i-0abc",
       kSpot, "sns-1"},
      {"agent_sns_to_sqs", SnsToSqs(kAgentMessage), EventKind::kNotice, "agent", "sns-notification",
       "", "i-0abc", kSpot, "sns-2"},
      {"agent_sqs_lambda_of_sns", SqsLambda(SnsToSqs(kAgentMessage)), EventKind::kNotice, "agent",
       "sqs/sns-notification", "", "i-0abc", kSpot, "sns-2"},
      {"agent_rebalance_with_id", SnsLambda(agent_rebalance), EventKind::kNotice, "agent", "sns",
       "", "i-1", kRebalance, "m-42"},
      {"alarm", kAlarm, EventKind::kFleetAlarm, "cloudwatch-alarm", "", "sfr-alarm", "", kSpot, ""},
      {"alarm_sns", SnsLambda(kAlarm), EventKind::kFleetAlarm, "cloudwatch-alarm", "sns",
       "sfr-alarm", "", kSpot, "sns-1"},
      {"alarm_sns_to_sqs", SnsToSqs(kAlarm), EventKind::kFleetAlarm, "cloudwatch-alarm",
       "sns-notification", "sfr-alarm", "", kSpot, "sns-2"},
      {"direct", direct, EventKind::kDirect, "invocation", "", "sfr-direct", "", kSpot, ""},
      {"direct_sqs", SqsLambda(direct), EventKind::kDirect, "invocation", "sqs", "sfr-direct", "",
       kSpot, "sqs-1"},
      {"eventbridge_spot", spot, EventKind::kNotice, "eventbridge", "", "", "i-0eb", kSpot, "eb-1"},
      {"eventbridge_spot_sns", SnsLambda(spot), EventKind::kNotice, "eventbridge", "sns", "",
       "i-0eb", kSpot, "eb-1"},
      {"eventbridge_spot_sns_to_sqs", SnsToSqs(spot), EventKind::kNotice, "eventbridge",
       "sns-notification", "", "i-0eb", kSpot, "eb-1"},
      {"eventbridge_rebalance", rebalance, EventKind::kNotice, "eventbridge", "", "", "i-0eb",
       kRebalance, "eb-1"},
      {"eventbridge_rebalance_sqs", SqsLambda(rebalance), EventKind::kNotice, "eventbridge", "sqs",
       "", "i-0eb", kRebalance, "eb-1"},
  };
}

TEST(ParseEventTest, AcceptsEveryShape) {
  for (const GoodCase& c : GoodCases()) {
    SCOPED_TRACE(c.name);
    Result<Event> event = ParseEvent(c.input);
    ASSERT_TRUE(event.ok()) << event.status().ToString();
    EXPECT_EQ(event->kind, c.kind);
    EXPECT_EQ(event->source, c.source);
    EXPECT_EQ(event->envelope, c.envelope);
    EXPECT_EQ(event->fleet_id, c.fleet_id);
    EXPECT_EQ(event->instance_id, c.instance_id);
    EXPECT_EQ(event->message_id, c.message_id);
    if (c.kind == EventKind::kNotice) {
      EXPECT_EQ(event->notice_kind, c.notice_kind);
    }
  }
}

TEST(ParseEventTest, AgentMessageFields) {
  ASSERT_TRUE(ParseEvent(SnsLambda(kAgentMessage)).ok());
  Event event = ParseEvent(SnsLambda(kAgentMessage)).value();
  EXPECT_EQ(event.instance_type, "c5.2xlarge");
  EXPECT_EQ(event.ecs_cluster, "web");
  EXPECT_EQ(event.ecs_container, "arn:aws:ecs:us-east-1:1:container-instance/web/c1");
  Result<policy::ReferenceTrigger> trigger = ToReferenceTrigger(event);
  ASSERT_TRUE(trigger.ok());
  EXPECT_EQ(trigger->kind, policy::ReferenceTrigger::Kind::kTermination);
  EXPECT_EQ(trigger->instance_type, "c5.2xlarge");
}

TEST(ParseEventTest, EventBridgeSpotHasTerminationTwoMinutesAfterNotice) {
  Result<Event> event = ParseEvent(EventBridge("EC2 Spot Instance Interruption Warning", "stop"));
  ASSERT_TRUE(event.ok());
  ASSERT_TRUE(event->termination_time.has_value());
  ASSERT_TRUE(event->notice_time.has_value());
  EXPECT_EQ(*event->termination_time - *event->notice_time, std::chrono::minutes(2));
  EXPECT_EQ(event->instance_action, "stop");
  EXPECT_FALSE(ToReferenceTrigger(*event).ok());
}

TEST(ParseEventTest, ScheduledEventIsAReconcile) {
  const std::string scheduled =
      R"({"version": "0", "id": "89d1a02d", "detail-type": "Scheduled Event",
      "source": "aws.events", "account": "123456789012", "time": "2026-11-27T12:00:00Z",
      "region": "us-east-1", "resources": ["arn:aws:events:us-east-1:123456789012:rule/r"],
      "detail": {}})";
  Result<Event> event = ParseEvent(scheduled);
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->kind, EventKind::kReconcile);
  EXPECT_EQ(event->source, "schedule");
  EXPECT_TRUE(event->fleet_id.empty());
  EXPECT_FALSE(ToReferenceTrigger(*event).ok());
}

TEST(ParseEventTest, CapacityEventsWakeTheFallbackUp) {
  const std::string placement =
      R"({"version": "0", "id": "e1", "detail-type": "ECS Service Action", "source": "aws.ecs",
      "time": "2026-11-27T12:00:00Z", "resources": ["arn:aws:ecs:us-east-1:1:service/c/web"],
      "detail": {"eventType": "WARN", "eventName": "SERVICE_TASK_PLACEMENT_FAILURE",
                 "clusterArn": "arn:aws:ecs:us-east-1:1:cluster/c", "reason": "RESOURCE:FARGATE"}})";
  const std::string provisioning =
      R"({"id": "e2", "detail-type": "ECS Task State Change", "source": "aws.ecs",
      "detail": {"lastStatus": "PROVISIONING", "desiredStatus": "RUNNING",
                 "capacityProviderName": "cp-spot", "group": "service:web"}})";
  const std::string launch =
      R"({"id": "e3", "detail-type": "EC2 Instance Launch Unsuccessful",
      "source": "aws.autoscaling", "detail": {"StatusCode": "Failed",
      "StatusMessage": "Could not launch Spot Instances. InsufficientInstanceCapacity",
      "AutoScalingGroupName": "spot"}})";
  for (const std::string& text : {placement, provisioning, launch}) {
    // Bare, in an SNS envelope and as an SQS body in a Lambda batch.
    const std::string sns =
        nlohmann::json{{"Type", "Notification"}, {"MessageId", "m"}, {"Message", text}}.dump();
    const std::string lambda =
        nlohmann::json{{"Records", {{{"eventSource", "aws:sqs"}, {"body", sns}}}}}.dump();
    for (const std::string& wrapped : {text, sns, lambda}) {
      Result<Event> event = ParseEvent(wrapped);
      ASSERT_TRUE(event.ok()) << event.status().ToString();
      EXPECT_EQ(event->kind, EventKind::kReconcile) << wrapped;
    }
  }
  EXPECT_EQ(ParseEvent(launch)->source, "autoscaling");
  EXPECT_EQ(ParseEvent(placement)->message_id, "e1");
  // Other service actions and task states are understood and ignored.
  std::string steady_other = placement;
  steady_other.replace(steady_other.find("SERVICE_TASK_PLACEMENT_FAILURE"), 30,
                       "SERVICE_DEPLOYMENT_COMPLETED");
  EXPECT_EQ(ParseEvent(steady_other)->kind, EventKind::kIgnored);
  std::string running = provisioning;
  running.replace(running.find("PROVISIONING"), 12, "RUNNING");
  EXPECT_EQ(ParseEvent(running)->kind, EventKind::kIgnored);
  // A detail that is not an object is an error, not a crash.
  EXPECT_FALSE(ParseEvent(R"({"detail-type": "ECS Task State Change", "detail": 3})").ok());
  EXPECT_FALSE(
      ParseEvent(R"({"detail-type": "ECS Service Action", "detail": {"eventName": 3}})").ok());
}

TEST(ParseEventTest, AgentKindsMapToNoticeKinds) {
  struct Case {
    std::string kind;
    std::string flag;
    policy::NoticeKind want;
  };
  const auto kSpot = policy::NoticeKind::kSpotInterruption;
  const auto kRebalance = policy::NoticeKind::kRebalanceRecommendation;
  const auto kMaintenance = policy::NoticeKind::kScheduledMaintenance;
  for (const Case& c : std::vector<Case>{{"spot-interruption", "true", kSpot},
                                         {"test", "true", kSpot},
                                         {"rebalance-recommendation", "false", kRebalance},
                                         {"scheduled-maintenance", "false", kMaintenance},
                                         {"", "true", kSpot},
                                         {"", "false", kRebalance}}) {
    SCOPED_TRACE(c.kind + "/" + c.flag);
    json doc = {{"terminationNotificiation", c.flag}, {"instanceId", "i-1"}};
    if (!c.kind.empty()) doc["kind"] = c.kind;
    Result<Event> event = ParseEvent(doc.dump());
    ASSERT_TRUE(event.ok()) << event.status().ToString();
    EXPECT_EQ(event->notice_kind, c.want);
  }
}

TEST(ParseEventTest, ScheduledMaintenanceIsDatedAtItsNotBefore) {
  // What the agent sends for an active scheduled event (agent/message.cc):
  // noticeTime is the event's NotBefore.
  json doc = {{"terminationNotificiation", "false"},  {"instanceId", "i-0abc"},
              {"kind", "scheduled-maintenance"},      {"action", "system-reboot"},
              {"noticeTime", "2030-01-01T00:00:00Z"}, {"eventId", "instance-event-1"},
              {"notAfter", "2030-01-02T00:00:00Z"}};
  Result<Event> event = ParseEvent(doc.dump());
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->notice_kind, policy::NoticeKind::kScheduledMaintenance);
  WallTime not_before;
  ASSERT_TRUE(ParseIso8601("2030-01-01T00:00:00Z", &not_before));
  ASSERT_TRUE(event->termination_time.has_value());
  EXPECT_EQ(*event->termination_time, not_before);
  EXPECT_FALSE(event->notice_time.has_value());  // seen when received, not at NotBefore
  EXPECT_EQ(ToJson(*event)["notice_kind"], "scheduled-maintenance");
  // An explicit terminationTime wins over noticeTime.
  doc["terminationTime"] = "2029-12-31T00:00:00Z";
  event = ParseEvent(doc.dump());
  ASSERT_TRUE(event.ok());
  ASSERT_TRUE(ParseIso8601("2029-12-31T00:00:00Z", &not_before));
  EXPECT_EQ(*event->termination_time, not_before);
}

TEST(ParseEventTest, DedupKeyIsStablePerNotice) {
  Event a = ParseEvent(kAgentMessage).value();
  Event b = ParseEvent(SnsLambda(kAgentMessage)).value();
  EXPECT_EQ(a.DedupKey(), ParseEvent(kAgentMessage).value().DedupKey());
  EXPECT_EQ(b.DedupKey(), "id:sns-1");
  json with_id = json::parse(kAgentMessage);
  with_id["messageId"] = "abc";
  EXPECT_EQ(ParseEvent(SnsLambda(with_id.dump())).value().DedupKey(), "id:abc");
}

// {"a":{"a":...1...}} nested `depth` deep.
std::string DeepObjects(int depth) {
  std::string text;
  for (int i = 0; i < depth; ++i) text += "{\"a\":";
  text += "1";
  text += std::string(static_cast<size_t>(depth), '}');
  return text;
}

struct BadCase {
  std::string name;
  std::string input;
  std::string message_part;
};

TEST(ParseEventTest, RejectsEverythingElseWithAReason) {
  const std::vector<BadCase> cases = {
      {"empty", "", "empty"},
      {"blank", "  \n", "empty"},
      {"not_json", "{not json", "not JSON"},
      {"truncated", R"({"fleetID": "sfr-1")", "not JSON"},
      {"array", "[1,2]", "not a JSON object"},
      {"string", R"("hello")", "not a JSON object"},
      {"number", "42", "not a JSON object"},
      {"empty_object", "{}", "unsupported event"},
      {"unknown_object", R"({"hello":"world"})", "unsupported event"},
      {"fleet_id_number", R"({"fleetID": 7})", "fleetID is not a string"},
      {"fleet_id_empty", R"({"fleetID": ""})", "fleetID missing or empty"},
      {"agent_no_instance", R"({"terminationNotificiation":"true"})", "instanceId"},
      {"agent_instance_number", R"({"terminationNotificiation":"true","instanceId":5})",
       "instanceId is not a string"},
      {"agent_flag_object", R"({"terminationNotificiation":{},"instanceId":"i-1"})",
       "terminationNotificiation is not a string"},
      {"agent_flag_other", R"({"terminationNotificiation":"maybe","instanceId":"i-1"})",
       "terminationNotificiation"},
      {"agent_kind_unknown",
       R"({"terminationNotificiation":"true","instanceId":"i-1","kind":"meteor"})", "unknown kind"},
      {"alarm_no_dimensions", R"({"Trigger":{}})", "Dimensions"},
      {"alarm_dimensions_empty", R"({"Trigger":{"Dimensions":[]}})", "Dimensions"},
      {"alarm_trigger_string", R"({"Trigger":"x"})", "Trigger is not an object"},
      {"alarm_value_number", R"({"Trigger":{"Dimensions":[{"value":1}]}})", "value"},
      {"eventbridge_other", R"({"detail-type":"EC2 Instance Launch Successful"})",
       "unsupported EventBridge event"},
      {"eventbridge_type_number", R"({"detail-type":3})", "detail-type is not a string"},
      {"state_change_no_detail", R"({"detail-type":"EC2 Instance State-change Notification"})",
       "detail is not an object"},
      {"eventbridge_no_detail", R"({"detail-type":"EC2 Spot Instance Interruption Warning"})",
       "detail is not an object"},
      {"eventbridge_no_instance",
       R"({"detail-type":"EC2 Spot Instance Interruption Warning","detail":{}})", "instance-id"},
      {"records_empty", R"({"Records":[]})", "Records"},
      {"records_not_array", R"({"Records":{}})", "Records"},
      {"records_unknown", R"({"Records":[{"s3":{}}]})", "neither Sns nor body"},
      {"sns_message_number", R"({"Records":[{"Sns":{"Message":1}}]})", "Message is not a string"},
      {"sns_message_not_json", R"({"Records":[{"Sns":{"Message":"hi"}}]})", "not JSON"},
      {"sns_message_empty", R"({"Records":[{"Sns":{"Message":""}}]})", "Message missing"},
      {"sns_notification_not_json", R"({"Type":"Notification","Message":"{"})", "not JSON"},
      {"sns_of_unknown", SnsLambda(R"({"x":1})"), "unsupported event"},
      {"too_deep", SnsLambda(SnsLambda(SnsLambda(SnsLambda(kAgentMessage)))), "nested"},
      // Issue 12: each of these once threw or was accepted with a guessed time.
      {"eventbridge_bad_offset",
       R"({"detail-type":"EC2 Spot Instance Interruption Warning","time":"2030-01-01T00:00:00+ab:cd",)"
       R"("detail":{"instance-id":"i-1"}})",
       "EventBridge event: time \"2030-01-01T00:00:00+ab:cd\" is not an ISO 8601 time"},
      {"eventbridge_time_nan",
       R"({"detail-type":"EC2 Spot Instance Interruption Warning","time":"2030-01-01T00:02:nan",)"
       R"("detail":{"instance-id":"i-1"}})",
       "is not an ISO 8601 time"},
      {"eventbridge_time_number",
       R"({"detail-type":"EC2 Spot Instance Interruption Warning","time":1e308,)"
       R"("detail":{"instance-id":"i-1"}})",
       "time is not a string"},
      {"agent_termination_time_bad",
       R"({"terminationNotificiation":"true","instanceId":"i-1","terminationTime":"soon"})",
       "agent message: terminationTime \"soon\" is not an ISO 8601 time"},
      {"agent_notice_time_inf",
       R"({"terminationNotificiation":"true","instanceId":"i-1","noticeTime":"inf"})",
       "noticeTime"},
      {"deep_nesting", std::string(100000, '[') + std::string(100000, ']'),
       "nested deeper than 64"},
      {"deep_objects", DeepObjects(40000), "nested deeper than 64"},  // 240 KB
      {"huge_body", "{\"fleetID\":\"" + std::string(300 * 1024, 'x') + "\"}", "more than 262144"},
      {"deep_inside_sns", SnsLambda(DeepObjects(1000)), "message inside sns envelope is nested"},
      {"invalid_utf8", "{\"fleetID\":\"sfr-\xff\"}", "not JSON"},
      {"nul_byte", std::string("{\"fleetID\":\0\"sfr-1\"}", 15), "not JSON"},
      {"huge_number", R"({"fleetID": 1e999999})", "not JSON"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    Result<Event> event = ParseEvent(c.input);
    ASSERT_FALSE(event.ok());
    EXPECT_EQ(event.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(event.status().message().find(c.message_part), std::string::npos)
        << event.status().message();
  }
}

// The shapes AWS sends (docs/controller.md shows the same examples).
json StateChange(const std::string& state) {
  return {{"version", "0"},
          {"id", "sc-1"},
          {"detail-type", "EC2 Instance State-change Notification"},
          {"source", "aws.ec2"},
          {"account", "123456789012"},
          {"time", "2024-01-01T00:00:00Z"},
          {"region", "us-east-1"},
          {"resources", {"arn:aws:ec2:us-east-1:123456789012:instance/i-0sc"}},
          {"detail", {{"instance-id", "i-0sc"}, {"state", state}}}};
}

json Health(const std::string& code, const std::string& service = "EC2",
            const std::string& category = "scheduledChange") {
  return {{"version", "0"},
          {"id", "h-1"},
          {"detail-type", "AWS Health Event"},
          {"source", "aws.health"},
          {"account", "123456789012"},
          {"time", "2023-03-22T12:00:00Z"},
          {"region", "us-east-1"},
          {"resources", {"i-0health"}},
          {"detail",
           {{"eventArn", "arn:aws:health:us-east-1::event/EC2/" + code + "/" + code + "_1"},
            {"service", service},
            {"eventTypeCode", code},
            {"eventTypeCategory", category},
            {"startTime", "Wed, 05 Apr 2023 12:00:00 GMT"},
            {"endTime", "Wed, 05 Apr 2023 18:00:00 GMT"},
            {"eventDescription", {{{"language", "en_US"}, {"latestDescription", "retiring"}}}},
            {"affectedEntities", {{{"entityValue", "i-0health"}}}}}}};
}

// Each input as is, in a Lambda SNS event, in the SNS-to-SQS envelope (an SQS
// body) and as a record of a Lambda SQS batch.
std::vector<std::pair<std::string, std::string>> FourWrappings(const std::string& text) {
  return {{"", text},
          {"sns", SnsLambda(text)},
          {"sns-notification", SnsToSqs(text)},
          {"sqs", SqsLambda(text)}};
}

TEST(ParseEventTest, StateChangeStoppingIsANoticeInEveryWrapping) {
  for (const char* state : {"stopping", "shutting-down"}) {
    for (const auto& [envelope, text] : FourWrappings(StateChange(state).dump())) {
      SCOPED_TRACE(std::string(state) + " in '" + envelope + "'");
      Result<Event> event = ParseEvent(text);
      ASSERT_TRUE(event.ok()) << event.status().ToString();
      EXPECT_EQ(event->kind, EventKind::kNotice);
      EXPECT_EQ(event->notice_kind, policy::NoticeKind::kInstanceStopping);
      EXPECT_EQ(event->source, "eventbridge");
      EXPECT_EQ(event->envelope, envelope);
      EXPECT_EQ(event->instance_id, "i-0sc");
      EXPECT_EQ(event->instance_action, state);
      EXPECT_EQ(event->message_id, "sc-1");
      EXPECT_FALSE(event->termination_time.has_value());
      EXPECT_EQ(ToJson(*event)["notice_kind"], "instance-stopping");
    }
  }
}

TEST(ParseEventTest, StateChangeTerminatedIsInstanceGoneOthersIgnored) {
  for (const auto& [envelope, text] : FourWrappings(StateChange("terminated").dump())) {
    SCOPED_TRACE(envelope);
    Result<Event> event = ParseEvent(text);
    ASSERT_TRUE(event.ok()) << event.status().ToString();
    EXPECT_EQ(event->kind, EventKind::kInstanceGone);
    EXPECT_EQ(event->instance_id, "i-0sc");
    EXPECT_EQ(ToJson(*event)["kind"], "instance-gone");
  }
  for (const char* state : {"pending", "running", "stopped"}) {
    for (const auto& [envelope, text] : FourWrappings(StateChange(state).dump())) {
      SCOPED_TRACE(std::string(state) + " in '" + envelope + "'");
      Result<Event> event = ParseEvent(text);
      ASSERT_TRUE(event.ok()) << event.status().ToString();
      EXPECT_EQ(event->kind, EventKind::kIgnored);
      EXPECT_NE(event->ignored_reason.find(state), std::string::npos) << event->ignored_reason;
    }
  }
  json no_id = StateChange("stopping");
  no_id["detail"].erase("instance-id");
  EXPECT_FALSE(ParseEvent(no_id.dump()).ok());
  json bad_state = StateChange("stopping");
  bad_state["detail"]["state"] = 3;
  EXPECT_FALSE(ParseEvent(bad_state.dump()).ok());
}

TEST(ParseEventTest, HealthScheduledChangeIsMaintenanceInEveryWrapping) {
  WallTime start;
  ASSERT_TRUE(ParseIso8601("2023-04-05T12:00:00Z", &start));
  for (const char* code :
       {"AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED", "AWS_EC2_PERSISTENT_INSTANCE_RETIREMENT_SCHEDULED",
        "AWS_EC2_INSTANCE_REBOOT_MAINTENANCE_SCHEDULED",
        "AWS_EC2_SYSTEM_REBOOT_MAINTENANCE_SCHEDULED", "AWS_EC2_INSTANCE_STOP_SCHEDULED"}) {
    for (const auto& [envelope, text] : FourWrappings(Health(code).dump())) {
      SCOPED_TRACE(std::string(code) + " in '" + envelope + "'");
      Result<Event> event = ParseEvent(text);
      ASSERT_TRUE(event.ok()) << event.status().ToString();
      EXPECT_EQ(event->kind, EventKind::kNotice);
      EXPECT_EQ(event->notice_kind, policy::NoticeKind::kScheduledMaintenance);
      EXPECT_EQ(event->source, "aws-health");
      EXPECT_EQ(event->envelope, envelope);
      EXPECT_EQ(event->instance_id, "i-0health");
      EXPECT_EQ(event->message_id, "h-1");
      ASSERT_TRUE(event->termination_time.has_value());
      EXPECT_EQ(*event->termination_time, start);
    }
  }
  // ISO 8601 is accepted too; the instance may come from resources only.
  json iso = Health("AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED");
  iso["detail"]["startTime"] = "2023-04-05T12:00:00Z";
  iso["detail"].erase("affectedEntities");
  Result<Event> event = ParseEvent(iso.dump());
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->instance_id, "i-0health");
  EXPECT_EQ(*event->termination_time, start);
}

TEST(ParseEventTest, OtherHealthEventsAreIgnored) {
  const std::vector<json> others = {
      Health("AWS_EC2_OPERATIONAL_ISSUE", "EC2", "issue"),
      Health("AWS_RDS_MAINTENANCE_SCHEDULED", "RDS"),
      Health("AWS_EC2_DEDICATED_HOST_NETWORK_MAINTENANCE_SCHEDULED"),
      [] {
        json no_instance = Health("AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED");
        no_instance["resources"] = json::array();
        no_instance["detail"]["affectedEntities"] = {{{"entityValue", "vol-1"}}};
        return no_instance;
      }(),
  };
  for (const json& doc : others) {
    for (const auto& [envelope, text] : FourWrappings(doc.dump())) {
      SCOPED_TRACE(doc["detail"]["eventTypeCode"].get<std::string>() + " in '" + envelope + "'");
      Result<Event> event = ParseEvent(text);
      ASSERT_TRUE(event.ok()) << event.status().ToString();
      EXPECT_EQ(event->kind, EventKind::kIgnored);
      EXPECT_NE(event->ignored_reason.find("AWS Health event"), std::string::npos);
      EXPECT_EQ(ToJson(*event)["reason"], event->ignored_reason);
    }
  }
}

TEST(ParseEventTest, HealthStartTimeMustBeATime) {
  for (const char* bad : {"", "Wed, 05 Apr 2023 12:00:00 PST", "Wed, 32 Apr 2023 12:00:00 GMT",
                          "Xyz, 05 Apr 2023 12:00:00 GMT", "Wed, 05 Foo 2023 12:00:00 GMT",
                          "Wed, 05 Apr 2023 25:00:00 GMT", "yesterday"}) {
    SCOPED_TRACE(bad);
    json doc = Health("AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED");
    doc["detail"]["startTime"] = bad;
    Result<Event> event = ParseEvent(doc.dump());
    ASSERT_FALSE(event.ok());
    EXPECT_NE(event.status().message().find("startTime"), std::string::npos);
  }
  json no_detail = Health("AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED");
  no_detail["detail"] = "x";
  EXPECT_FALSE(ParseEvent(no_detail.dump()).ok());
}

// The examples of the Auto Scaling user guide: EventBridge's terminate
// lifecycle action, the hook's own notification (SQS or SNS target) and its
// test notification.
json TerminateLifecycleEventBridge() {
  return {{"version", "0"},
          {"id", "lc-1"},
          {"detail-type", "EC2 Instance-terminate Lifecycle Action"},
          {"source", "aws.autoscaling"},
          {"account", "123456789012"},
          {"time", "2021-01-13T00:12:12Z"},
          {"region", "us-west-2"},
          {"resources",
           {"arn:aws:autoscaling:us-west-2:123456789012:autoScalingGroup:042cba90-ad2f-431c-"
            "9b4d-6d9055bcc9fb:autoScalingGroupName/my-asg"}},
          {"detail",
           {{"LifecycleActionToken", "87654321-4321-4321-4321-210987654321"},
            {"AutoScalingGroupName", "my-asg"},
            {"LifecycleHookName", "my-lifecycle-hook"},
            {"EC2InstanceId", "i-1234567890abcdef0"},
            {"LifecycleTransition", "autoscaling:EC2_INSTANCE_TERMINATING"},
            {"NotificationMetadata", "additional-info"},
            {"Origin", "AutoScalingGroup"},
            {"Destination", "EC2"}}}};
}

json TerminateLifecycleNotification() {
  return {{"Origin", "AutoScalingGroup"},
          {"Destination", "EC2"},
          {"Service", "AWS Auto Scaling"},
          {"Time", "2021-01-13T00:12:12.000Z"},
          {"AccountId", "123456789012"},
          {"LifecycleTransition", "autoscaling:EC2_INSTANCE_TERMINATING"},
          {"RequestId", "req-1"},
          {"LifecycleActionToken", "87654321-4321-4321-4321-210987654321"},
          {"EC2InstanceId", "i-1234567890abcdef0"},
          {"LifecycleHookName", "my-lifecycle-hook"},
          {"AutoScalingGroupName", "my-asg"}};
}

json TestNotification() {
  return {{"AccountId", "123456789012"},
          {"RequestId", "req-test"},
          {"AutoScalingGroupARN",
           "arn:aws:autoscaling:us-west-2:123456789012:autoScalingGroup:"
           "x:autoScalingGroupName/my-asg"},
          {"AutoScalingGroupName", "my-asg"},
          {"Service", "AWS Auto Scaling"},
          {"Event", "autoscaling:TEST_NOTIFICATION"},
          {"Time", "2021-01-13T00:12:12.000Z"}};
}

TEST(ParseEventTest, TerminateLifecycleActionInEveryShapeAndWrapping) {
  WallTime at;
  ASSERT_TRUE(ParseIso8601("2021-01-13T00:12:12Z", &at));
  struct Shape {
    json doc;
    std::string source;
    std::string message_id;
  };
  for (const Shape& shape : {Shape{TerminateLifecycleEventBridge(), "eventbridge", "lc-1"},
                             Shape{TerminateLifecycleNotification(), "autoscaling", "req-1"}}) {
    for (const auto& [envelope, text] : FourWrappings(shape.doc.dump())) {
      SCOPED_TRACE(shape.source + " in '" + envelope + "'");
      Result<Event> event = ParseEvent(text);
      ASSERT_TRUE(event.ok()) << event.status().ToString();
      EXPECT_EQ(event->kind, EventKind::kLifecycleAction);
      EXPECT_EQ(event->source, shape.source);
      EXPECT_EQ(event->envelope, envelope);
      EXPECT_EQ(event->message_id, shape.message_id);
      EXPECT_EQ(event->instance_id, "i-1234567890abcdef0");
      EXPECT_EQ(event->lifecycle_group, "my-asg");
      EXPECT_EQ(event->lifecycle_hook, "my-lifecycle-hook");
      EXPECT_EQ(event->lifecycle_token, "87654321-4321-4321-4321-210987654321");
      ASSERT_TRUE(event->notice_time.has_value());
      EXPECT_EQ(*event->notice_time, at);
      json out = ToJson(*event);
      EXPECT_EQ(out["kind"], "lifecycle-action");
      EXPECT_EQ(out["group"], "my-asg");
      EXPECT_EQ(out["hook"], "my-lifecycle-hook");
      EXPECT_FALSE(ToReferenceTrigger(*event).ok());
    }
  }
}

TEST(ParseEventTest, LaunchingActionsAreLifecycleActionsInEveryWrapping) {
  json launching = TerminateLifecycleEventBridge();
  launching["detail-type"] = "EC2 Instance-launch Lifecycle Action";
  launching["detail"]["LifecycleTransition"] = "autoscaling:EC2_INSTANCE_LAUNCHING";
  json launching_notification = TerminateLifecycleNotification();
  launching_notification["LifecycleTransition"] = "autoscaling:EC2_INSTANCE_LAUNCHING";
  for (const json& doc : {launching, launching_notification}) {
    for (const auto& [envelope, text] : FourWrappings(doc.dump())) {
      SCOPED_TRACE(envelope);
      Result<Event> event = ParseEvent(text);
      ASSERT_TRUE(event.ok()) << event.status().ToString();
      EXPECT_EQ(event->kind, EventKind::kLifecycleAction);
      EXPECT_TRUE(event->lifecycle_launching);
      EXPECT_EQ(event->lifecycle_group, "my-asg");
      EXPECT_FALSE(event->instance_id.empty());
    }
  }
}

TEST(ParseEventTest, TestNotificationAndOtherTransitionsAreIgnored) {
  json other_transition = TerminateLifecycleNotification();
  other_transition["LifecycleTransition"] = "autoscaling:EC2_INSTANCE_WARMED";
  json other = TestNotification();
  other["Event"] = "autoscaling:EC2_INSTANCE_TERMINATE";
  struct Case {
    json doc;
    std::string reason_part;
  };
  for (const Case& c : {Case{TestNotification(), "test message"},
                        Case{other_transition, "only terminating and launching hooks"},
                        Case{other, "not a lifecycle action"}}) {
    for (const auto& [envelope, text] : FourWrappings(c.doc.dump())) {
      SCOPED_TRACE(c.reason_part + " in '" + envelope + "'");
      Result<Event> event = ParseEvent(text);
      ASSERT_TRUE(event.ok()) << event.status().ToString();
      EXPECT_EQ(event->kind, EventKind::kIgnored);
      EXPECT_NE(event->ignored_reason.find(c.reason_part), std::string::npos)
          << event->ignored_reason;
      EXPECT_NE(event->ignored_reason.find("my-asg"), std::string::npos);
    }
  }
}

TEST(ParseEventTest, MalformedLifecycleActionsAreRejected) {
  std::vector<json> bad;
  for (const char* key :
       {"LifecycleHookName", "AutoScalingGroupName", "EC2InstanceId", "LifecycleTransition"}) {
    json eb = TerminateLifecycleEventBridge();
    eb["detail"].erase(key);
    bad.push_back(eb);
    json n = TerminateLifecycleNotification();
    n[key] = 7;
    bad.push_back(n);
  }
  json no_detail = TerminateLifecycleEventBridge();
  no_detail["detail"] = "x";
  bad.push_back(no_detail);
  json bad_time = TerminateLifecycleNotification();
  bad_time["Time"] = "yesterday";
  bad.push_back(bad_time);
  json bad_token = TerminateLifecycleEventBridge();
  bad_token["detail"]["LifecycleActionToken"] = json::array();
  bad.push_back(bad_token);
  for (const json& doc : bad) {
    SCOPED_TRACE(doc.dump());
    Result<Event> event = ParseEvent(doc.dump());
    EXPECT_EQ(event.status().code(), StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace spk::controller
