// Notifiers over AWS: an SNS topic (Publish) and an SQS queue (SendMessage).
// FIFO destinations (names ending ".fifo") get the message id as their
// deduplication id and the instance-wide group "spotkeeper".
#pragma once

#include <string>

#include "aws/sns.h"
#include "aws/sqs.h"
#include "cloud/notifier.h"

namespace spk::cloud {

class SnsNotifier final : public Notifier {
 public:
  // `client` must outlive this object.
  SnsNotifier(aws::AwsClient& client, std::string topic_arn);
  Status Publish(const std::string& message, const std::string& message_id) override;
  std::string name() const override { return "sns:" + topic_arn_; }

 private:
  aws::SnsClient sns_;
  std::string topic_arn_;
};

class SqsNotifier final : public Notifier {
 public:
  // `client` must outlive this object.
  SqsNotifier(aws::AwsClient& client, std::string queue_url);
  Status Publish(const std::string& message, const std::string& message_id) override;
  std::string name() const override { return "sqs:" + queue_url_; }

 private:
  aws::SqsClient sqs_;
  std::string queue_url_;
};

}  // namespace spk::cloud
