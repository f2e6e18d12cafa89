// A PendingCall for unit tests: finishes with a given status once a (manual)
// clock reaches a given time; counts being destroyed before that.
#pragma once

#include <atomic>
#include <optional>

#include "base/clock.h"
#include "cloud/pending_call.h"

namespace spk::cloud {

class FakePendingCall final : public PendingCall {
 public:
  // `clock` and `cancelled` (may be null) must outlive the call.
  FakePendingCall(const Clock& clock, MonoTime done_at, Status status, std::atomic<int>* cancelled)
      : clock_(clock), done_at_(done_at), status_(std::move(status)), cancelled_(cancelled) {}
  ~FakePendingCall() override {
    if (!finished_ && cancelled_ != nullptr) ++*cancelled_;
  }
  std::optional<Status> Poll() override {
    if (clock_.MonotonicNow() < done_at_) return std::nullopt;
    finished_ = true;
    return status_;
  }

 private:
  const Clock& clock_;
  MonoTime done_at_;
  Status status_;
  std::atomic<int>* cancelled_;
  bool finished_ = false;
};

}  // namespace spk::cloud
