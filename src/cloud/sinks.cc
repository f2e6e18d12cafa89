#include "cloud/sinks.h"

#include "base/redact.h"

namespace spk::cloud {
namespace {

const char* TypeName(SinkSpec::Type t) {
  switch (t) {
    case SinkSpec::Type::kSns:
      return "sns";
    case SinkSpec::Type::kSqs:
      return "sqs";
    case SinkSpec::Type::kWebhook:
      return "webhook";
  }
  return "?";
}

}  // namespace

std::string SinkSpec::Name() const {
  // A webhook URL carries its secret (Slack, Teams): only scheme and host are shown.
  return std::string(TypeName(type)) + ":" + (type == Type::kWebhook ? RedactUrl(target) : target);
}

nlohmann::json SinkSpecToJson(const SinkSpec& spec) {
  nlohmann::json j = {{"type", TypeName(spec.type)}, {"target", spec.target}};
  if (!spec.headers.empty()) {
    j["headers"] = nlohmann::json::array();
    for (const auto& [k, v] : spec.headers) j["headers"].push_back({k, v});
  }
  return j;
}

Result<SinkSpec> SinkSpecFromJson(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string() || !j.contains("target") ||
      !j["target"].is_string() || j["target"].get<std::string>().empty()) {
    return InvalidArgumentError("sink: an object with string \"type\" and \"target\" expected");
  }
  SinkSpec spec;
  const std::string type = j["type"].get<std::string>();
  if (type == "sns") {
    spec.type = SinkSpec::Type::kSns;
  } else if (type == "sqs") {
    spec.type = SinkSpec::Type::kSqs;
  } else if (type == "webhook") {
    spec.type = SinkSpec::Type::kWebhook;
  } else {
    return InvalidArgumentError("sink: unknown type \"" + type + "\" (sns, sqs or webhook)");
  }
  spec.target = j["target"].get<std::string>();
  if (j.contains("headers")) {
    if (!j["headers"].is_array()) return InvalidArgumentError("sink: \"headers\" must be a list");
    for (const auto& h : j["headers"]) {
      if (!h.is_array() || h.size() != 2 || !h[0].is_string() || !h[1].is_string()) {
        return InvalidArgumentError("sink: each header must be a [name, value] pair of strings");
      }
      spec.headers.emplace_back(h[0].get<std::string>(), h[1].get<std::string>());
    }
  }
  return spec;
}

}  // namespace spk::cloud
