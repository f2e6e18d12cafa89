// MessageQueue: where the controller's messages come from, as an interface:
// SqsQueue over aws::SqsClient, FakeQueue (fake_queue.h) in memory for tests.
//
// The contract is SQS's: a received message stays invisible to other
// receivers for the queue's visibility timeout; it is gone only once
// Delete()d; otherwise it comes back (and, after the queue's redrive
// policy's maxReceiveCount, moves to the dead-letter queue).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "aws/sqs.h"
#include "base/clock.h"
#include "base/status.h"

namespace spk::controller {

struct QueueMessage {
  std::string id;
  std::string receipt_handle;
  std::string body;
  int64_t receive_count = 0;          // 0 when unknown
  std::optional<WallTime> sent_time;  // SentTimestamp, when known
};

class MessageQueue {
 public:
  virtual ~MessageQueue() = default;
  // Up to `max_messages` (1-10), waiting up to `wait` (whole seconds, 0-20)
  // for the first, each then invisible to other receivers for `visibility`
  // (whole seconds; 0: the queue's own visibility timeout); an empty vector
  // when none arrived.
  virtual Result<std::vector<QueueMessage>> Receive(int max_messages, Duration wait,
                                                    Duration visibility) = 0;
  virtual Status Delete(const QueueMessage& message) = 0;
  // Deletes `messages`; each one's Status, in order. This default deletes
  // them one at a time.
  virtual std::vector<Status> DeleteBatch(const std::vector<QueueMessage>& messages);
  // Makes the message visible again after `delay` (whole seconds; 0: now).
  // Fails for a message no longer in flight (visible again, or deleted).
  virtual Status ChangeVisibility(const QueueMessage& message, Duration delay) = 0;
  // ChangeVisibility for each of `messages`; each one's Status, in order.
  // This default changes them one at a time.
  virtual std::vector<Status> ChangeVisibilityBatch(const std::vector<QueueMessage>& messages,
                                                    Duration delay);
  // For logs: the queue URL or a name.
  virtual std::string name() const = 0;
};

// How long a message whose handling failed stays invisible before it is
// redelivered: `backoff` * 2^(receive_count - 1), at most `max_backoff`
// (receive_count <= 1, or unknown (0): `backoff`). Zero when `backoff` is not
// positive (leave the queue's visibility timeout alone).
Duration RedeliveryDelay(Duration backoff, Duration max_backoff, int64_t receive_count);

class SqsQueue final : public MessageQueue {
 public:
  // `sqs` must outlive the queue.
  SqsQueue(aws::SqsClient& sqs, std::string queue_url)
      : sqs_(sqs), queue_url_(std::move(queue_url)) {}

  Result<std::vector<QueueMessage>> Receive(int max_messages, Duration wait,
                                            Duration visibility) override;
  Status Delete(const QueueMessage& message) override;
  // DeleteMessageBatch, one call per 10 messages.
  std::vector<Status> DeleteBatch(const std::vector<QueueMessage>& messages) override;
  Status ChangeVisibility(const QueueMessage& message, Duration delay) override;
  // ChangeMessageVisibilityBatch, one call per 10 messages.
  std::vector<Status> ChangeVisibilityBatch(const std::vector<QueueMessage>& messages,
                                            Duration delay) override;
  std::string name() const override { return queue_url_; }

 private:
  aws::SqsClient& sqs_;
  std::string queue_url_;
};

}  // namespace spk::controller
