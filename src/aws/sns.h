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
