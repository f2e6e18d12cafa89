#include "cloud/aws_notifier.h"

namespace spk::cloud {
namespace {

bool IsFifo(const std::string& name) {
  return name.size() > 5 && name.compare(name.size() - 5, 5, ".fifo") == 0;
}

}  // namespace

SnsNotifier::SnsNotifier(aws::AwsClient& client, std::string topic_arn)
    : sns_(client), topic_arn_(std::move(topic_arn)) {}

Status SnsNotifier::Publish(const std::string& message, const std::string& message_id) {
  aws::PublishOptions options;
  options.message_attributes["spotkeeperMessageId"] = {"String", message_id};
  if (IsFifo(topic_arn_)) {
    options.message_group_id = "spotkeeper";
    options.message_deduplication_id = message_id;
  }
  return sns_.Publish(topic_arn_, message, options).status();
}

SqsNotifier::SqsNotifier(aws::AwsClient& client, std::string queue_url)
    : sqs_(client), queue_url_(std::move(queue_url)) {}

Status SqsNotifier::Publish(const std::string& message, const std::string& message_id) {
  aws::SendOptions options;
  options.message_attributes["spotkeeperMessageId"] = {"String", message_id};
  if (IsFifo(queue_url_)) {
    options.message_group_id = "spotkeeper";
    options.message_deduplication_id = message_id;
  }
  return sqs_.SendMessage(queue_url_, message, options).status();
}

}  // namespace spk::cloud
