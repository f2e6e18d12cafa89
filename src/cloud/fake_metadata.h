// Fakes of Metadata and EcsAgentIntrospection for unit tests: answers from a
// map (absent path: kNotFound), counts reads. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "cloud/metadata.h"

namespace spk::cloud {

class FakeMetadata final : public Metadata {
 public:
  // Serves `body` at `path` from now on.
  void Set(const std::string& path, std::string body) {
    std::lock_guard<std::mutex> l(mu_);
    values_.insert_or_assign(path, Result<std::string>(std::move(body)));
  }
  // Answers `path` with `error` from now on.
  void SetError(const std::string& path, Status error) {
    std::lock_guard<std::mutex> l(mu_);
    values_.insert_or_assign(path, Result<std::string>(std::move(error)));
  }
  // Every read fails with `error` (until ClearFailAll()).
  void FailAll(Status error) {
    std::lock_guard<std::mutex> l(mu_);
    fail_all_ = std::move(error);
  }
  void ClearFailAll() {
    std::lock_guard<std::mutex> l(mu_);
    fail_all_ = Status::Ok();
  }
  void Remove(const std::string& path) {
    std::lock_guard<std::mutex> l(mu_);
    values_.erase(path);
  }

  Result<std::string> Get(const std::string& path) override {
    std::lock_guard<std::mutex> l(mu_);
    ++reads_[path];
    if (!fail_all_.ok()) return fail_all_;
    auto it = values_.find(path);
    if (it == values_.end()) return NotFoundError("fake: nothing at " + path);
    return it->second;
  }
  std::string Describe() const override { return "fake"; }

  int reads(const std::string& path) const {
    std::lock_guard<std::mutex> l(mu_);
    auto it = reads_.find(path);
    return it == reads_.end() ? 0 : it->second;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, Result<std::string>> values_;
  std::map<std::string, int> reads_;
  Status fail_all_;
};

class FakeEcsAgentIntrospection final : public EcsAgentIntrospection {
 public:
  explicit FakeEcsAgentIntrospection(Result<EcsAgentInfo> answer = UnavailableError("no agent"))
      : answer_(std::move(answer)) {}
  void Set(Result<EcsAgentInfo> answer) {
    std::lock_guard<std::mutex> l(mu_);
    answer_ = std::move(answer);
  }
  Result<EcsAgentInfo> Get() override {
    std::lock_guard<std::mutex> l(mu_);
    ++calls_;
    return answer_;
  }
  int calls() const {
    std::lock_guard<std::mutex> l(mu_);
    return calls_;
  }

 private:
  mutable std::mutex mu_;
  Result<EcsAgentInfo> answer_;
  int calls_ = 0;
};

}  // namespace spk::cloud
