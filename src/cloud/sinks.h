// SinkSpec: one configured destination of the agent's messages, as data, so the
// watcher can hand it to a child process (cloud/child_calls.h) and the child can
// build the Notifier for it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"
#include "net/http.h"

namespace spk::cloud {

struct SinkSpec {
  enum class Type { kSns, kSqs, kWebhook };
  Type type = Type::kSns;
  std::string target;    // topic ARN, queue URL or webhook URL
  net::Headers headers;  // extra webhook headers

  // "sns:<arn>", "sqs:<url>", "webhook:<url>": the Notifier's name().
  std::string Name() const;
};

nlohmann::json SinkSpecToJson(const SinkSpec& spec);
// kInvalidArgument naming what is wrong.
Result<SinkSpec> SinkSpecFromJson(const nlohmann::json& j);

}  // namespace spk::cloud
