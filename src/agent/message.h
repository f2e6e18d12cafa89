// The agent's message: the reference notifier's fields, unchanged, plus
// spotkeeper's. A JSON object of strings, in this order:
//
//   terminationNotificiation  "true" for spot-interruption and test notices
//                             (the reference's misspelling, kept), "false" for
//                             rebalance and scheduled maintenance
//   instanceId, instanceType, ecsCluster, ecsContainer   (the reference's)
//   kind, action, terminationTime (spot) | noticeTime (others),
//   availabilityZone, region, accountId,
//   eventId, notAfter, description                       (scheduled only)
//   messageId, agentVersion
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "agent/notice.h"
#include "cloud/metadata.h"

namespace spk::agent {

struct Message {
  std::string id;    // the messageId field
  std::string body;  // the JSON document, compact
  nlohmann::ordered_json json;
};

// The stable id of `notice` on `instance_id`: the same notice (same instance,
// kind, action, time and event) always gets the same id, so receivers can
// deduplicate. 32 lower-case hex characters (SHA-256 prefix).
std::string MessageId(const Notice& notice, const std::string& instance_id);

Message BuildMessage(const Notice& notice, const IdentityDocument& identity,
                     const cloud::EcsAgentInfo& ecs, const std::string& agent_version);

}  // namespace spk::agent
