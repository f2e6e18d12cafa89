#include "agent/message.h"

#include <gtest/gtest.h>

namespace spk::agent {
namespace {

IdentityDocument Identity() {
  return {"i-0abc", "m5.large", "us-east-1", "us-east-1a", "123456789012"};
}

Notice Spot(const std::string& time = "2030-01-01T00:02:00Z") {
  auto n = ParseInstanceAction(R"({"action":"terminate","time":")" + time + "\"}");
  EXPECT_TRUE(n.ok());
  return *n;
}

TEST(MessageTest, ReferenceFieldsUnchangedAndOursAdded) {
  Message m = BuildMessage(
      Spot(), Identity(), {"prod", "arn:aws:ecs:us-east-1:1:container-instance/prod/abc"}, "1.2.3");
  auto j = nlohmann::json::parse(m.body);
  EXPECT_EQ(j["terminationNotificiation"], "true");  // the reference's spelling
  EXPECT_EQ(j["instanceId"], "i-0abc");
  EXPECT_EQ(j["instanceType"], "m5.large");
  EXPECT_EQ(j["ecsCluster"], "prod");
  EXPECT_EQ(j["ecsContainer"], "arn:aws:ecs:us-east-1:1:container-instance/prod/abc");
  EXPECT_EQ(j["kind"], "spot-interruption");
  EXPECT_EQ(j["action"], "terminate");
  EXPECT_EQ(j["terminationTime"], "2030-01-01T00:02:00Z");
  EXPECT_FALSE(j.contains("noticeTime"));
  EXPECT_EQ(j["availabilityZone"], "us-east-1a");
  EXPECT_EQ(j["region"], "us-east-1");
  EXPECT_EQ(j["accountId"], "123456789012");
  EXPECT_EQ(j["messageId"], m.id);
  EXPECT_EQ(j["agentVersion"], "1.2.3");
  // Every value is a string, as the reference's map[string]string.
  for (auto& [k, v] : j.items()) EXPECT_TRUE(v.is_string()) << k;
  // The reference's fields come first, in its order.
  EXPECT_EQ(m.body.rfind(R"({"terminationNotificiation":"true","instanceId":"i-0abc",)", 0), 0u)
      << m.body;
}

TEST(MessageTest, RebalanceAndScheduledCarryNoticeTime) {
  auto r = ParseRebalance(R"({"noticeTime":"2030-01-01T00:00:00Z"})");
  Message m = BuildMessage(*r, Identity(), {}, "1");
  auto j = nlohmann::json::parse(m.body);
  EXPECT_EQ(j["terminationNotificiation"], "false");
  EXPECT_EQ(j["kind"], "rebalance-recommendation");
  EXPECT_EQ(j["noticeTime"], "2030-01-01T00:00:00Z");
  EXPECT_EQ(j["ecsCluster"], "");
  EXPECT_EQ(j["ecsContainer"], "");

  auto s = ParseScheduledEvents(
      R"([{"Code":"instance-stop","State":"active","EventId":"ev-1","Description":"d",
           "NotBefore":"1 Jan 2030 00:00:00 GMT","NotAfter":"2 Jan 2030 00:00:00 GMT"}])");
  Message sm = BuildMessage((*s)[0], Identity(), {}, "1");
  auto sj = nlohmann::json::parse(sm.body);
  EXPECT_EQ(sj["kind"], "scheduled-maintenance");
  EXPECT_EQ(sj["action"], "instance-stop");
  EXPECT_EQ(sj["noticeTime"], "2030-01-01T00:00:00Z");
  EXPECT_EQ(sj["eventId"], "ev-1");
  EXPECT_EQ(sj["notAfter"], "2030-01-02T00:00:00Z");
}

TEST(MessageTest, MessageIdIsStablePerNotice) {
  const std::string a = MessageId(Spot(), "i-0abc");
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a, MessageId(Spot(), "i-0abc"));
  EXPECT_EQ(BuildMessage(Spot(), Identity(), {}, "1").id,
            BuildMessage(Spot(), Identity(), {"c", "arn"}, "2").id);
  EXPECT_NE(a, MessageId(Spot(), "i-0def"));
  EXPECT_NE(a, MessageId(Spot("2030-01-01T00:03:00Z"), "i-0abc"));
  auto r = ParseRebalance(R"({"noticeTime":"2030-01-01T00:02:00Z"})");
  EXPECT_NE(a, MessageId(*r, "i-0abc"));
}

}  // namespace
}  // namespace spk::agent
