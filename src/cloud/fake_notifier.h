// A Notifier for unit tests: records every attempt; fails the first
// `fail_next` attempts (or all, while failing) with a chosen Status. Thread-safe.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "cloud/notifier.h"

namespace spk::cloud {

class FakeNotifier final : public Notifier {
 public:
  struct Attempt {
    std::string message;
    std::string message_id;
    bool accepted = false;
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

  Status Publish(const std::string& message, const std::string& message_id) override {
    std::lock_guard<std::mutex> l(mu_);
    bool fail = fail_always_ || fail_next_ > 0;
    if (fail_next_ > 0) --fail_next_;
    attempts_.push_back({message, message_id, !fail});
    return fail ? error_ : Status::Ok();
  }
  std::string name() const override { return name_; }

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
};

}  // namespace spk::cloud
