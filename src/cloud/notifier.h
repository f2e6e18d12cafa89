// Notifier: one destination (sink) for the agent's messages: an SNS topic, an
// SQS queue or an HTTP webhook.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "cloud/pending_call.h"

namespace spk::cloud {

class Notifier {
 public:
  virtual ~Notifier() = default;
  // Delivers one message (a JSON document). Ok means the destination accepted
  // it; an error means it did not (retryable() says whether trying again may
  // help). `message_id` is the message's stable id, for destinations that can
  // deduplicate. One attempt: retrying is the caller's job.
  virtual Status Publish(const std::string& message, const std::string& message_id) = 0;
  // The same call, started and left running: never blocks for long when an
  // implementation overrides it (a child process); by default it runs
  // Publish() now and returns its finished status.
  virtual std::unique_ptr<PendingCall> StartPublish(const std::string& message,
                                                    const std::string& message_id) {
    return Finished(Publish(message, message_id));
  }
  // "sns:arn:aws:sns:...", "sqs:https://...", "webhook:https://...", for logs.
  virtual std::string name() const = 0;
};

}  // namespace spk::cloud
