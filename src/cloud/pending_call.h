// PendingCall: a Notifier or ContainerInstances call in flight, so that the
// agent's watcher can run several at once and keep polling meanwhile.
#pragma once

#include <memory>
#include <optional>

#include "base/status.h"

namespace spk::cloud {

// Not thread-safe: the thread that started the call polls it.
class PendingCall {
 public:
  // Destroying a call that has not finished cancels it (a child process is
  // killed with its process group); its outcome is then unknown.
  virtual ~PendingCall() = default;
  // The call's status once it has finished; nullopt while it runs. Never
  // blocks. After a status, further calls return the same status.
  virtual std::optional<Status> Poll() = 0;
};

// A call that finished when it was started (what synchronous implementations return).
class FinishedCall final : public PendingCall {
 public:
  explicit FinishedCall(Status status) : status_(std::move(status)) {}
  std::optional<Status> Poll() override { return status_; }

 private:
  Status status_;
};

inline std::unique_ptr<PendingCall> Finished(Status status) {
  return std::make_unique<FinishedCall>(std::move(status));
}

}  // namespace spk::cloud
