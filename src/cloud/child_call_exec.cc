#include "cloud/child_call_exec.h"

#include "base/json.h"
#include "cloud/aws_container_instances.h"
#include "cloud/aws_notifier.h"
#include "cloud/webhook_notifier.h"

namespace spk::cloud {
namespace {

Status RequireFields(const nlohmann::json& request, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (JsonStringField(request, n).empty()) {
      return InvalidArgumentError(std::string("agent-call: \"") + n +
                                  "\" must be a non-empty string");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Notifier>> MakeNotifier(const SinkSpec& spec, aws::AwsClient* aws,
                                               net::HttpTransport& http) {
  if (spec.type == SinkSpec::Type::kWebhook) {
    return std::unique_ptr<Notifier>(
        std::make_unique<WebhookNotifier>(http, spec.target, spec.headers));
  }
  if (aws == nullptr) {
    return FailedPreconditionError(spec.Name() + ": no AWS session (no region)");
  }
  if (spec.type == SinkSpec::Type::kSns) {
    return std::unique_ptr<Notifier>(std::make_unique<SnsNotifier>(*aws, spec.target));
  }
  return std::unique_ptr<Notifier>(std::make_unique<SqsNotifier>(*aws, spec.target));
}

Status ExecuteChildCall(const nlohmann::json& request, aws::AwsClient* aws,
                        net::HttpTransport& http) {
  if (!request.is_object()) return InvalidArgumentError("agent-call: a JSON object expected");
  const std::string call = JsonStringField(request, "call");
  if (call == "publish") {
    SPK_RETURN_IF_ERROR(RequireFields(request, {"message", "messageId"}));
    if (!request.contains("sink")) return InvalidArgumentError("agent-call: \"sink\" is missing");
    auto spec = SinkSpecFromJson(request["sink"]);
    if (!spec.ok()) return spec.status();
    auto notifier = MakeNotifier(*spec, aws, http);
    if (!notifier.ok()) return notifier.status();
    return (*notifier)->Publish(JsonStringField(request, "message"),
                                JsonStringField(request, "messageId"));
  }
  if (call == "drain" || call == "put-attribute") {
    SPK_RETURN_IF_ERROR(RequireFields(request, {"cluster", "containerInstance"}));
    if (call == "put-attribute") SPK_RETURN_IF_ERROR(RequireFields(request, {"name", "value"}));
    if (aws == nullptr) return FailedPreconditionError("agent-call " + call + ": no AWS session");
    AwsContainerInstances ecs(*aws);
    if (call == "drain")
      return ecs.Drain(JsonStringField(request, "cluster"),
                       JsonStringField(request, "containerInstance"));
    return ecs.PutAttribute(JsonStringField(request, "cluster"),
                            JsonStringField(request, "containerInstance"),
                            JsonStringField(request, "name"), JsonStringField(request, "value"));
  }
  return InvalidArgumentError("agent-call: unknown \"call\" \"" + call +
                              "\" (publish, drain or put-attribute)");
}

}  // namespace spk::cloud
