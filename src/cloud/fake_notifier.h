// A Notifier for unit tests: records every attempt; fails the first
// `fail_next` attempts (or all, while failing) with a chosen Status; with a
// latency, StartPublish() calls stay in flight until a (manual) clock has
// advanced that far, as a slow or dead sink's would. Thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/clock.h"
#include "cloud/fake_pending_call.h"
#include "cloud/notifier.h"

namespace spk::cloud {

class FakeNotifier final : public Notifier {
 public:
  struct Attempt {
    std::string message;
    std::string message_id;
    bool accepted = false;
    MonoTime started_at{};  // on the latency clock, when one is set
  };

  explicit FakeNotifier(std::string name = "fake") : name_(std::move(name)) {}

  // The next `n` attempts fail with `error`.
  void FailNext(int n, Status error = UnavailableError("fake: refused")) {
    std::lock_guard<std::mutex> l(mu_);
    fail_next_ = n;
    error_ = std::move(error);
  }
  // Every attempt fails while `on`.
  void FailAlways(bool on, Status error = UnavailableError("fake: refused")) {
    std::lock_guard<std::mutex> l(mu_);
    fail_always_ = on;
    error_ = std::move(error);
  }

  // StartPublish() calls finish `latency` after they started, on `clock`
  // (which must outlive this); zero: at once, as Publish().
  void SetLatency(const Clock& clock, Duration latency) {
    std::lock_guard<std::mutex> l(mu_);
    clock_ = &clock;
    latency_ = latency;
  }

  Status Publish(const std::string& message, const std::string& message_id) override {
    std::lock_guard<std::mutex> l(mu_);
    bool fail = fail_always_ || fail_next_ > 0;
    if (fail_next_ > 0) --fail_next_;
    attempts_.push_back({message, message_id, !fail, clock_ ? clock_->MonotonicNow() : MonoTime{}});
    return fail ? error_ : Status::Ok();
  }
  std::unique_ptr<PendingCall> StartPublish(const std::string& message,
                                            const std::string& message_id) override {
    Status st = Publish(message, message_id);
    std::lock_guard<std::mutex> l(mu_);
    if (clock_ == nullptr || latency_ == Duration::zero()) return Finished(st);
    return std::make_unique<FakePendingCall>(*clock_, clock_->MonotonicNow() + latency_,
                                             std::move(st), &cancelled_);
  }
  std::string name() const override { return name_; }

  // Calls destroyed before they finished.
  int cancelled() const { return cancelled_.load(); }

  std::vector<Attempt> attempts() const {
    std::lock_guard<std::mutex> l(mu_);
    return attempts_;
  }
  // The messages accepted, in order.
  std::vector<std::string> accepted() const {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<std::string> out;
    for (const auto& a : attempts_)
      if (a.accepted) out.push_back(a.message);
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::string name_;
  std::vector<Attempt> attempts_;
  int fail_next_ = 0;
  bool fail_always_ = false;
  Status error_;
  const Clock* clock_ = nullptr;
  Duration latency_{0};
  std::atomic<int> cancelled_{0};
};

}  // namespace spk::cloud
