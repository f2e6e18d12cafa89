#include "agent/notice.h"

#include <gtest/gtest.h>

namespace spk::agent {
namespace {

TEST(NoticeTest, InstanceActionTerminate) {
  auto n = ParseInstanceAction(R"({"action": "terminate", "time": "2030-01-01T00:02:00Z"})");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n->kind, NoticeKind::kSpotInterruption);
  EXPECT_EQ(n->action, "terminate");
  EXPECT_EQ(n->time, "2030-01-01T00:02:00Z");
  ASSERT_TRUE(n->deadline.has_value());
  EXPECT_EQ(FormatIso8601(*n->deadline), "2030-01-01T00:02:00Z");
  EXPECT_EQ(n->DedupKey(), "spot-interruption/terminate");
}

TEST(NoticeTest, InstanceActionStopAndHibernate) {
  for (const char* action : {"stop", "hibernate"}) {
    auto n = ParseInstanceAction(std::string(R"({"action":")") + action +
                                 R"(","time":"2030-01-01T00:02:00Z"})");
    ASSERT_TRUE(n.ok()) << action;
    EXPECT_EQ(n->action, action);
  }
}

TEST(NoticeTest, MalformedInstanceActionIsAnErrorNotANotice) {
  for (const char* body : {"", "garbage", "<html>404</html>", "[]", R"({"action":"terminate"})",
                           R"({"action":"explode","time":"2030-01-01T00:02:00Z"})",
                           R"({"action":"terminate","time":"soon"})",
                           R"({"action":7,"time":"2030-01-01T00:02:00Z"})"}) {
    auto n = ParseInstanceAction(body);
    ASSERT_FALSE(n.ok()) << body;
    EXPECT_EQ(n.status().code(), StatusCode::kInternal) << body;
  }
}

TEST(NoticeTest, LegacyTerminationTime) {
  auto n = ParseTerminationTime("2030-01-01T00:02:00Z\n");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->kind, NoticeKind::kSpotInterruption);
  EXPECT_EQ(n->action, "terminate");
  EXPECT_EQ(n->time, "2030-01-01T00:02:00Z");
  EXPECT_FALSE(ParseTerminationTime("not a time").ok());
  EXPECT_FALSE(ParseTerminationTime("").ok());
}

TEST(NoticeTest, Rebalance) {
  auto n = ParseRebalance("{\n\t\"noticeTime\": \"2030-01-01T00:00:00Z\"\n}");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->kind, NoticeKind::kRebalanceRecommendation);
  EXPECT_EQ(n->time, "2030-01-01T00:00:00Z");
  EXPECT_FALSE(n->deadline.has_value());
  EXPECT_EQ(n->DedupKey(), "rebalance-recommendation");
  EXPECT_FALSE(ParseRebalance(R"({"noticeTime":""})").ok());
  EXPECT_FALSE(ParseRebalance("{").ok());
}

TEST(NoticeTest, ScheduledEventsOnlyActiveOnes) {
  const std::string body = R"([
    {"Code": "system-reboot", "Description": "The instance is scheduled for system-reboot",
     "State": "active", "EventId": "instance-event-1234567890abcdef0",
     "NotBefore": "27 Nov 2026 19:26:37 GMT", "NotAfter": "4 Dec 2026 19:26:37 GMT",
     "NotBeforeDeadline": "6 Dec 2026 19:26:37 GMT"},
    {"Code": "instance-stop", "State": "completed", "EventId": "instance-event-2",
     "NotBefore": "1 Jan 2026 00:00:00 GMT"},
    {"Code": "instance-retirement", "State": "canceled", "EventId": "instance-event-3",
     "NotBefore": "1 Jan 2026 00:00:00 GMT"}])";
  auto events = ParseScheduledEvents(body);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_EQ(events->size(), 1u);
  const Notice& n = (*events)[0];
  EXPECT_EQ(n.kind, NoticeKind::kScheduledMaintenance);
  EXPECT_EQ(n.action, "system-reboot");
  EXPECT_EQ(n.event_id, "instance-event-1234567890abcdef0");
  EXPECT_EQ(n.time, "2026-11-27T19:26:37Z");
  EXPECT_EQ(n.not_after, "2026-12-04T19:26:37Z");
  EXPECT_EQ(n.DedupKey(), "scheduled-maintenance/instance-event-1234567890abcdef0");

  auto none = ParseScheduledEvents("[]");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_FALSE(ParseScheduledEvents("{}").ok());
  EXPECT_FALSE(ParseScheduledEvents(R"([{"State":"active"}])").ok());
  EXPECT_FALSE(
      ParseScheduledEvents(R"([{"Code":"x","EventId":"e","State":"active","NotBefore":"?"}])")
          .ok());
}

TEST(NoticeTest, NormalizeEventTime) {
  EXPECT_EQ(NormalizeEventTime("4 Dec 2026 19:26:37 GMT"), "2026-12-04T19:26:37Z");
  EXPECT_EQ(NormalizeEventTime("2026-12-04T19:26:37Z"), "2026-12-04T19:26:37Z");
  EXPECT_EQ(NormalizeEventTime("4 Foo 2026 19:26:37 GMT"), std::nullopt);
  EXPECT_EQ(NormalizeEventTime(""), std::nullopt);
}

// Issue 12: an unbounded %d overflowed on a long year, and a year far in the
// future overflowed the nanosecond clock when formatted.
TEST(NoticeTest, NormalizeEventTimeRejectsOverflowsAndTrailingText) {
  for (const char* bad :
       {"4 Dec 99999999999 19:26:37 GMT", "4 Dec 9999 19:26:37 GMT", "4 Dec 2026 19:26:37 GMT junk",
        "4 Dec 2026 -1:26:37 GMT", "4 Dec 2026 19:26:37 CET", "2030-01-01T00:00:00+ab:cd",
        "2030-01-01T00:02:nan"}) {
    EXPECT_EQ(NormalizeEventTime(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(NormalizeEventTime(" 4 Dec 2026 19:26:37 UTC\n"), "2026-12-04T19:26:37Z");
}

TEST(NoticeTest, MalformedInstanceActionTimesAreErrorsNotExceptions) {
  for (const char* body : {R"({"action":"terminate","time":"2030-01-01T00:00:00+ab:cd"})",
                           R"({"action":"terminate","time":"2030-01-01T00:02:nan"})",
                           R"({"action":"terminate","time":7})"}) {
    auto n = ParseInstanceAction(body);
    ASSERT_FALSE(n.ok()) << body;
    EXPECT_NE(n.status().message().find("bad time"), std::string::npos);
  }
  std::string deep(100000, '[');
  EXPECT_FALSE(ParseScheduledEvents(deep + std::string(100000, ']')).ok());
}

TEST(NoticeTest, IdentityDocument) {
  auto d = ParseIdentityDocument(R"({"accountId":"0123456789","availabilityZone":"us-east-1f",
      "instanceId":"i-1234567890abcdef0","instanceType":"m4.xlarge","region":"us-east-1",
      "ramdiskId":null})");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->instance_id, "i-1234567890abcdef0");
  EXPECT_EQ(d->instance_type, "m4.xlarge");
  EXPECT_EQ(d->region, "us-east-1");
  EXPECT_EQ(d->availability_zone, "us-east-1f");
  EXPECT_EQ(d->account_id, "0123456789");
  EXPECT_FALSE(ParseIdentityDocument("{}").ok());
  EXPECT_FALSE(ParseIdentityDocument("<html>").ok());
}

}  // namespace
}  // namespace spk::agent
