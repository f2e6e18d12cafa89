// SnsClient: publishing notices (query protocol, Version 2010-03-31). Shapes
// checked against botocore's sns/2010-03-31 model. Errors: the AwsClient's
// Status (error.h): e.g. kNotFound for NotFound (no such topic). Thread-safe.
#pragma once

#include <map>
#include <string>

#include "aws/client.h"
#include "base/status.h"

namespace spk::aws {

// A message attribute: DataType "String", "Number" or "String.Array" with its
// value as text (binary attributes are not used by spotkeeper).
struct SnsMessageAttribute {
  std::string data_type = "String";
  std::string string_value;
};

struct PublishOptions {
  std::string subject;  // "" for none (only email subscribers see it)
  std::map<std::string, SnsMessageAttribute> message_attributes;
  std::string message_group_id;          // FIFO topics only
  std::string message_deduplication_id;  // FIFO topics only
};

// The region field of an SNS topic ARN ("arn:PARTITION:sns:REGION:ACCOUNT:NAME");
// "" when `topic_arn` is not one.
std::string TopicArnRegion(const std::string& topic_arn);

// kInvalidArgument ("names a topic in R1, but the AWS region is R2: ...") when
// the topic's region is not `region`: SNS publishes to a topic only at its own
// region's endpoint, so every publish would fail.
Status CheckTopicRegion(const std::string& topic_arn, const std::string& region);

class SnsClient {
 public:
  // `client` must outlive this object.
  explicit SnsClient(AwsClient& client) : client_(client) {}

  // Publishes `message` to the topic; returns the message id SNS assigned.
  Result<std::string> Publish(const std::string& topic_arn, const std::string& message,
                              const PublishOptions& options = {});

 private:
  AwsClient& client_;
};

}  // namespace spk::aws
