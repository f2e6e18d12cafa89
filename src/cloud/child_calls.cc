#include "cloud/child_calls.h"

#include "base/json.h"
#include "base/subprocess.h"

namespace spk::cloud {

nlohmann::json StatusToJson(const Status& status) {
  nlohmann::json j = {{"code", StatusCodeName(status.code())}};
  if (!status.ok()) j["message"] = status.message();
  if (status.remote()) {
    const RemoteError& r = *status.remote();
    j["remote"] = {{"service", r.service},
                   {"errorCode", r.error_code},
                   {"httpStatus", r.http_status},
                   {"requestId", r.request_id}};
  }
  return j;
}

Status StatusFromJson(const nlohmann::json& j) {
  StatusCode code;
  if (!j.is_object() || !j.contains("code") || !j["code"].is_string() ||
      !StatusCodeFromName(j["code"].get<std::string>(), &code)) {
    return InternalError("not a status: " + JsonDumpSafe(j).substr(0, 200));
  }
  if (code == StatusCode::kOk) return Status::Ok();
  Status s(code, JsonStringField(j, "message"));
  if (auto it = j.find("remote"); it != j.end() && it->is_object()) {
    RemoteError r;
    r.service = JsonStringField(*it, "service");
    r.error_code = JsonStringField(*it, "errorCode");
    if (auto h = it->find("httpStatus"); h != it->end() && h->is_number_integer()) {
      r.http_status = h->get<int>();
    }
    r.request_id = JsonStringField(*it, "requestId");
    s.set_remote(std::move(r));
  }
  return s;
}

Status RunChildCall(const ChildCommand& command, const nlohmann::json& request) {
  const std::string call = JsonStringField(request, "call");
  auto run = RunSubprocess(command.argv,
                           request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                           command.timeout);
  if (!run.ok()) return run.status().WithContext("agent-call " + call);
  // The answer is the last line of output (one JSON object).
  std::string out = run->out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  auto nl = out.rfind('\n');
  auto answer = ParseJsonOrDiscarded(nl == std::string::npos ? out : out.substr(nl + 1),
                                     kMaxLocalDocumentBytes);
  if (answer.is_discarded() || !answer.is_object()) {
    return InternalError("agent-call " + call + ": exited " + std::to_string(run->exit_code) +
                         " without an answer" + (out.empty() ? "" : ": " + out.substr(0, 200)));
  }
  return StatusFromJson(answer);
}

ChildNotifier::ChildNotifier(ChildCommand command, SinkSpec sink)
    : command_(std::move(command)), sink_(std::move(sink)) {}

Status ChildNotifier::Publish(const std::string& message, const std::string& message_id) {
  return RunChildCall(command_, {{"call", "publish"},
                                 {"sink", SinkSpecToJson(sink_)},
                                 {"message", message},
                                 {"messageId", message_id}});
}

ChildContainerInstances::ChildContainerInstances(ChildCommand command)
    : command_(std::move(command)) {}

Status ChildContainerInstances::Drain(const std::string& cluster,
                                      const std::string& container_instance_arn) {
  return RunChildCall(
      command_,
      {{"call", "drain"}, {"cluster", cluster}, {"containerInstance", container_instance_arn}});
}

Status ChildContainerInstances::PutAttribute(const std::string& cluster,
                                             const std::string& container_instance_arn,
                                             const std::string& name, const std::string& value) {
  return RunChildCall(command_, {{"call", "put-attribute"},
                                 {"cluster", cluster},
                                 {"containerInstance", container_instance_arn},
                                 {"name", name},
                                 {"value", value}});
}

}  // namespace spk::cloud
