#include "agent/message.h"

#include "aws/sigv4.h"

namespace spk::agent {

std::string MessageId(const Notice& notice, const std::string& instance_id) {
  const std::string key = instance_id + "\n" + NoticeKindName(notice.kind) + "\n" + notice.action +
                          "\n" + notice.time + "\n" + notice.event_id;
  return aws::Sha256Hex(key).substr(0, 32);
}

Message BuildMessage(const Notice& notice, const IdentityDocument& identity,
                     const cloud::EcsAgentInfo& ecs, const std::string& agent_version) {
  const bool termination =
      notice.kind == NoticeKind::kSpotInterruption || notice.kind == NoticeKind::kTest;
  nlohmann::ordered_json j;
  j["terminationNotificiation"] = termination ? "true" : "false";
  j["instanceId"] = identity.instance_id;
  j["instanceType"] = identity.instance_type;
  j["ecsCluster"] = ecs.cluster;
  j["ecsContainer"] = ecs.container_instance_arn;
  j["kind"] = NoticeKindName(notice.kind);
  j["action"] = notice.action;
  j[notice.kind == NoticeKind::kSpotInterruption ? "terminationTime" : "noticeTime"] = notice.time;
  j["availabilityZone"] = identity.availability_zone;
  j["region"] = identity.region;
  j["accountId"] = identity.account_id;
  if (notice.kind == NoticeKind::kScheduledMaintenance) {
    j["eventId"] = notice.event_id;
    j["notAfter"] = notice.not_after;
    j["description"] = notice.description;
  }
  Message m;
  m.id = MessageId(notice, identity.instance_id);
  j["messageId"] = m.id;
  j["agentVersion"] = agent_version;
  m.body = j.dump();
  m.json = std::move(j);
  return m;
}

}  // namespace spk::agent
