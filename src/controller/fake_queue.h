// FakeQueue: an in-memory MessageQueue with SQS's visibility semantics, on a
// Clock (a ManualClock in tests): a received message is invisible for the
// visibility timeout (the Receive's, else the queue's), then comes back with
// its receive count raised, until it is deleted with its latest receipt
// handle; its visibility can be changed only while it is invisible
// (MessageNotInflight after that, as in SQS). An empty Receive sleeps the wait
// time on the clock (a ManualClock just advances). A Status in `failures`
// under "Receive", "Delete" or "ChangeVisibility" makes that call fail.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "controller/queue.h"

namespace spk::controller {

class FakeQueue final : public MessageQueue {
 public:
  struct Stored {
    QueueMessage message;
    MonoTime visible_at;
  };

  explicit FakeQueue(Clock& clock, Duration visibility_timeout = std::chrono::seconds(30))
      : clock_(clock), visibility_timeout_(visibility_timeout) {}

  // Adds a message; returns its id.
  std::string Send(const std::string& body) {
    Stored s;
    s.message.id = "msg-" + std::to_string(++next_id_);
    s.message.body = body;
    s.message.sent_time = clock_.WallNow();
    s.visible_at = clock_.MonotonicNow();
    stored.push_back(s);
    return s.message.id;
  }

  Result<std::vector<QueueMessage>> Receive(int max_messages, Duration wait,
                                            Duration visibility) override {
    ++calls["Receive"];
    waits.push_back(wait);
    visibilities.push_back(visibility);
    if (Status s = Failure("Receive"); !s.ok()) return s;
    const Duration v = visibility > Duration::zero() ? visibility : visibility_timeout_;
    std::vector<QueueMessage> out = TakeVisible(max_messages, v);
    if (out.empty() && wait > Duration::zero()) {
      clock_.SleepFor(wait);
      out = TakeVisible(max_messages, v);
    }
    return out;
  }

  Status Delete(const QueueMessage& message) override {
    ++calls["Delete"];
    if (Status s = Failure("Delete"); !s.ok()) return s;
    for (auto it = stored.begin(); it != stored.end(); ++it) {
      if (it->message.receipt_handle == message.receipt_handle) {
        deleted.push_back(it->message.id);
        stored.erase(it);
        return Status::Ok();
      }
    }
    return InvalidArgumentError("ReceiptHandleIsInvalid");
  }

  Status ChangeVisibility(const QueueMessage& message, Duration delay) override {
    ++calls["ChangeVisibility"];
    if (Status s = Failure("ChangeVisibility"); !s.ok()) return s;
    for (Stored& s : stored) {
      if (s.message.receipt_handle == message.receipt_handle) {
        const MonoTime now = clock_.MonotonicNow();
        if (s.visible_at <= now) return InvalidArgumentError("MessageNotInflight");
        s.visible_at = now + delay;
        return Status::Ok();
      }
    }
    return InvalidArgumentError("ReceiptHandleIsInvalid");
  }

  std::string name() const override { return "fake-queue"; }

  std::vector<Stored> stored;          // not yet deleted
  std::vector<std::string> deleted;    // ids, in order
  std::vector<Duration> waits;         // each Receive's wait
  std::vector<Duration> visibilities;  // each Receive's visibility
  std::map<std::string, Status> failures;
  std::map<std::string, int> calls;

 private:
  Status Failure(const std::string& method) const {
    auto it = failures.find(method);
    return it == failures.end() ? Status::Ok() : it->second;
  }
  std::vector<QueueMessage> TakeVisible(int max_messages, Duration visibility) {
    std::vector<QueueMessage> out;
    const MonoTime now = clock_.MonotonicNow();
    for (Stored& s : stored) {
      if (static_cast<int>(out.size()) >= max_messages) break;
      if (s.visible_at > now) continue;
      ++s.message.receive_count;
      s.message.receipt_handle = s.message.id + "/" + std::to_string(s.message.receive_count);
      s.visible_at = now + visibility;
      out.push_back(s.message);
    }
    return out;
  }

  Clock& clock_;
  Duration visibility_timeout_;
  int next_id_ = 0;
};

}  // namespace spk::controller
