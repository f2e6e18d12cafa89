// ContainerInstances for unit tests: records drains and attributes; with a
// latency, Start*() calls stay in flight until a (manual) clock has advanced
// that far. Thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/clock.h"
#include "cloud/container_instances.h"
#include "cloud/fake_pending_call.h"

namespace spk::cloud {

class FakeContainerInstances final : public ContainerInstances {
 public:
  void FailNext(int n, Status error = UnavailableError("fake: ecs refused")) {
    std::lock_guard<std::mutex> l(mu_);
    fail_next_ = n;
    error_ = std::move(error);
  }
  // Start*() calls finish `latency` after they started, on `clock` (which
  // must outlive this); zero: at once.
  void SetLatency(const Clock& clock, Duration latency) {
    std::lock_guard<std::mutex> l(mu_);
    clock_ = &clock;
    latency_ = latency;
  }
  std::unique_ptr<PendingCall> StartDrain(const std::string& cluster,
                                          const std::string& arn) override {
    return Delayed(Drain(cluster, arn));
  }
  std::unique_ptr<PendingCall> StartPutAttribute(const std::string& cluster, const std::string& arn,
                                                 const std::string& name,
                                                 const std::string& value) override {
    return Delayed(PutAttribute(cluster, arn, name, value));
  }
  // Calls destroyed before they finished.
  int cancelled() const { return cancelled_.load(); }

  Status Drain(const std::string& cluster, const std::string& arn) override {
    std::lock_guard<std::mutex> l(mu_);
    ++drain_calls_;
    if (fail_next_ > 0) {
      --fail_next_;
      return error_;
    }
    drained_.push_back(cluster + "/" + arn);
    return Status::Ok();
  }
  Status PutAttribute(const std::string& cluster, const std::string& arn, const std::string& name,
                      const std::string& value) override {
    std::lock_guard<std::mutex> l(mu_);
    if (fail_next_ > 0) {
      --fail_next_;
      return error_;
    }
    attributes_[cluster + "/" + arn + "/" + name] = value;
    return Status::Ok();
  }
  std::vector<std::string> drained() const {
    std::lock_guard<std::mutex> l(mu_);
    return drained_;
  }
  int drain_calls() const {
    std::lock_guard<std::mutex> l(mu_);
    return drain_calls_;
  }
  // "cluster/arn/name" -> value.
  std::map<std::string, std::string> attributes() const {
    std::lock_guard<std::mutex> l(mu_);
    return attributes_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> drained_;
  std::map<std::string, std::string> attributes_;
  int drain_calls_ = 0;
  int fail_next_ = 0;
  Status error_;
  const Clock* clock_ = nullptr;
  Duration latency_{0};
  std::atomic<int> cancelled_{0};

  std::unique_ptr<PendingCall> Delayed(Status st) {
    std::lock_guard<std::mutex> l(mu_);
    if (clock_ == nullptr || latency_ == Duration::zero()) return Finished(st);
    return std::make_unique<FakePendingCall>(*clock_, clock_->MonotonicNow() + latency_,
                                             std::move(st), &cancelled_);
  }
};

}  // namespace spk::cloud
