#include "cloud/child_calls.h"

#include "base/json.h"
#include "base/redact.h"
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
    return InternalError("not a status: " + Truncate(JsonDumpSafe(j)));
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

namespace {

std::string RequestText(const nlohmann::json& request) {
  return request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The child's status from what it printed: the last line of its output is one
// JSON object.
Status Answer(const std::string& call, const Result<SubprocessResult>& run) {
  if (!run.ok()) return run.status().WithContext("agent-call " + call);
  std::string out = run->out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  auto nl = out.rfind('\n');
  auto answer = ParseJsonOrDiscarded(nl == std::string::npos ? out : out.substr(nl + 1),
                                     kMaxLocalDocumentBytes);
  if (answer.is_discarded() || !answer.is_object()) {
    return InternalError("agent-call " + call + ": exited " + std::to_string(run->exit_code) +
                         " without an answer" + (out.empty() ? "" : ": " + Truncate(out)));
  }
  return StatusFromJson(answer);
}

class ChildCall final : public PendingCall {
 public:
  ChildCall(std::string call, std::unique_ptr<ChildProcess> child)
      : call_(std::move(call)), child_(std::move(child)) {}
  std::optional<Status> Poll() override {
    if (!status_) {
      if (auto run = child_->Poll(std::chrono::milliseconds(0))) {
        status_ = Answer(call_, *run);
        child_.reset();
      }
    }
    return status_;
  }

 private:
  std::string call_;
  std::unique_ptr<ChildProcess> child_;
  std::optional<Status> status_;
};

}  // namespace

Status RunChildCall(const ChildCommand& command, const nlohmann::json& request) {
  return Answer(JsonStringField(request, "call"),
                RunSubprocess(command.argv, RequestText(request), command.timeout));
}

std::unique_ptr<PendingCall> StartChildCall(const ChildCommand& command,
                                            const nlohmann::json& request) {
  const std::string call = JsonStringField(request, "call");
  auto child = ChildProcess::Start(command.argv, RequestText(request), command.timeout);
  if (!child.ok()) return Finished(child.status().WithContext("agent-call " + call));
  return std::make_unique<ChildCall>(call, std::move(*child));
}

ChildNotifier::ChildNotifier(ChildCommand command, SinkSpec sink)
    : command_(std::move(command)), sink_(std::move(sink)) {}

nlohmann::json ChildNotifier::PublishRequest(const std::string& message,
                                             const std::string& message_id) const {
  return {{"call", "publish"},
          {"sink", SinkSpecToJson(sink_)},
          {"message", message},
          {"messageId", message_id}};
}

Status ChildNotifier::Publish(const std::string& message, const std::string& message_id) {
  return RunChildCall(command_, PublishRequest(message, message_id));
}

std::unique_ptr<PendingCall> ChildNotifier::StartPublish(const std::string& message,
                                                         const std::string& message_id) {
  return StartChildCall(command_, PublishRequest(message, message_id));
}

ChildContainerInstances::ChildContainerInstances(ChildCommand command)
    : command_(std::move(command)) {}

namespace {

nlohmann::json DrainRequest(const std::string& cluster, const std::string& arn) {
  return {{"call", "drain"}, {"cluster", cluster}, {"containerInstance", arn}};
}

nlohmann::json PutAttributeRequest(const std::string& cluster, const std::string& arn,
                                   const std::string& name, const std::string& value) {
  return {{"call", "put-attribute"},
          {"cluster", cluster},
          {"containerInstance", arn},
          {"name", name},
          {"value", value}};
}

}  // namespace

Status ChildContainerInstances::Drain(const std::string& cluster,
                                      const std::string& container_instance_arn) {
  return RunChildCall(command_, DrainRequest(cluster, container_instance_arn));
}

Status ChildContainerInstances::PutAttribute(const std::string& cluster,
                                             const std::string& container_instance_arn,
                                             const std::string& name, const std::string& value) {
  return RunChildCall(command_, PutAttributeRequest(cluster, container_instance_arn, name, value));
}

std::unique_ptr<PendingCall> ChildContainerInstances::StartDrain(
    const std::string& cluster, const std::string& container_instance_arn) {
  return StartChildCall(command_, DrainRequest(cluster, container_instance_arn));
}

std::unique_ptr<PendingCall> ChildContainerInstances::StartPutAttribute(
    const std::string& cluster, const std::string& container_instance_arn, const std::string& name,
    const std::string& value) {
  return StartChildCall(command_,
                        PutAttributeRequest(cluster, container_instance_arn, name, value));
}

}  // namespace spk::cloud
