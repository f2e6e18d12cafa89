// Child calls: each delivery to a sink and each ECS call of the agent's watcher
// runs in a short-lived child process, `spotkeeper agent-call`, which does the
// one call and exits.
//
// Why: the watcher runs on every instance for the instance's whole life. The
// AWS calls need TLS, SigV4 and libcurl, which map ~40 shared libraries and
// initialise OpenSSL: ~10 MB that would stay resident in the watcher after its
// first call. In a child they are gone when the call ends, and a crash in them
// cannot take the watcher down. The cost is the child's start-up, a few tens
// of milliseconds per call (docs/agent.md has the measurements).
//
// Protocol: the request is one JSON object on the child's standard input, the
// answer one JSON status on its standard output:
//   {"call": "publish", "sink": SinkSpec, "message": "...", "messageId": "..."}
//   {"call": "drain", "cluster": "...", "containerInstance": "..."}
//   {"call": "put-attribute", "cluster": "...", "containerInstance": "...",
//    "name": "...", "value": "..."}
//   -> {"code": "OK"} | {"code": "UNAVAILABLE", "message": "...",
//       "remote": {"service", "errorCode", "httpStatus", "requestId"}}
// Requests travel over a pipe, never the command line: webhook headers may hold
// secrets.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "cloud/container_instances.h"
#include "cloud/notifier.h"
#include "cloud/pending_call.h"
#include "cloud/sinks.h"
#include "net/http.h"

namespace spk::cloud {

// How to start the child: its full command line (program path first).
struct ChildCommand {
  std::vector<std::string> argv;
  // The child is killed after this long (it makes one HTTP call with a 5 s
  // timeout, after resolving credentials).
  std::chrono::milliseconds timeout{15000};
};

nlohmann::json StatusToJson(const Status& status);
// kInternal when `j` is not a status.
Status StatusFromJson(const nlohmann::json& j);

// Runs one call in a child: the child's status, or kUnavailable/kDeadlineExceeded/
// kInternal when the child could not start, hung, or did not answer properly.
Status RunChildCall(const ChildCommand& command, const nlohmann::json& request);

// The same call, started and left running: the child runs while the caller
// goes on; PendingCall::Poll() never blocks. A child that cannot be started is
// a call that has already finished with kUnavailable. Destroying the call
// before it finished kills the child with its process group.
std::unique_ptr<PendingCall> StartChildCall(const ChildCommand& command,
                                            const nlohmann::json& request);

class ChildNotifier final : public Notifier {
 public:
  ChildNotifier(ChildCommand command, SinkSpec sink);
  Status Publish(const std::string& message, const std::string& message_id) override;
  std::unique_ptr<PendingCall> StartPublish(const std::string& message,
                                            const std::string& message_id) override;
  std::string name() const override { return sink_.Name(); }

 private:
  nlohmann::json PublishRequest(const std::string& message, const std::string& message_id) const;

  ChildCommand command_;
  SinkSpec sink_;
};

class ChildContainerInstances final : public ContainerInstances {
 public:
  explicit ChildContainerInstances(ChildCommand command);
  Status Drain(const std::string& cluster, const std::string& container_instance_arn) override;
  Status PutAttribute(const std::string& cluster, const std::string& container_instance_arn,
                      const std::string& name, const std::string& value) override;
  std::unique_ptr<PendingCall> StartDrain(const std::string& cluster,
                                          const std::string& container_instance_arn) override;
  std::unique_ptr<PendingCall> StartPutAttribute(const std::string& cluster,
                                                 const std::string& container_instance_arn,
                                                 const std::string& name,
                                                 const std::string& value) override;

 private:
  ChildCommand command_;
};

}  // namespace spk::cloud
