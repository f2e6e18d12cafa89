// ContainerInstances for unit tests: records drains and attributes. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "cloud/container_instances.h"

namespace spk::cloud {

class FakeContainerInstances final : public ContainerInstances {
 public:
  void FailNext(int n, Status error = UnavailableError("fake: ecs refused")) {
    std::lock_guard<std::mutex> l(mu_);
    fail_next_ = n;
    error_ = std::move(error);
  }
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
};

}  // namespace spk::cloud
