// SqsClient: consuming and sending queue messages (JSON 1.0, X-Amz-Target
// AmazonSQS.<Operation>). Shapes checked against botocore's sqs/2012-11-05
// model. Errors: the AwsClient's Status (error.h): e.g. kNotFound for
// QueueDoesNotExist, kInvalidArgument for ReceiptHandleIsInvalid. Thread-safe.
//
// Bodies are checked against the MD5 the service sends (MD5OfBody,
// MD5OfMessageBody), as the AWS SDKs do: a mismatch is kInternal.
//
// Long polling: a ReceiveMessage with WaitTimeSeconds = W holds the HTTP
// request open up to W seconds; its per-attempt timeout is W + 10 s.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "aws/client.h"
#include "base/status.h"

namespace spk::aws {

struct SqsMessageAttribute {
  std::string data_type;  // "String", "Number", "Binary" (+ custom suffix)
  std::string string_value;
};

struct SqsMessage {
  std::string message_id;
  std::string receipt_handle;
  std::string body;
  std::string md5_of_body;
  // System attributes asked for: "ApproximateReceiveCount", "SentTimestamp", ...
  std::map<std::string, std::string> attributes;
  std::map<std::string, SqsMessageAttribute> message_attributes;

  // ApproximateReceiveCount as a number; 0 when it was not asked for.
  int64_t receive_count() const;
};

struct ReceiveOptions {
  int max_messages = 1;                   // 1-10
  std::optional<int> wait_time_seconds;   // 0-20; absent: the queue's default
  std::optional<int> visibility_timeout;  // seconds; absent: the queue's default
  // System attributes to return (MessageSystemAttributeNames): "All",
  // "ApproximateReceiveCount", "SentTimestamp", ...
  std::vector<std::string> system_attribute_names = {"ApproximateReceiveCount", "SentTimestamp"};
  std::vector<std::string> message_attribute_names;  // "All" or names
};

struct SendOptions {
  std::optional<int> delay_seconds;
  std::map<std::string, SqsMessageAttribute> message_attributes;
  std::string message_group_id;          // FIFO queues only
  std::string message_deduplication_id;  // FIFO queues only
};

struct SendMessageResult {
  std::string message_id;
  std::string md5_of_body;
  std::string sequence_number;  // FIFO queues only
};

class SqsClient {
 public:
  // `client` must outlive this object.
  explicit SqsClient(AwsClient& client) : client_(client) {}

  // Up to options.max_messages messages; an empty vector when none arrived
  // within the wait time.
  Result<std::vector<SqsMessage>> ReceiveMessage(const std::string& queue_url,
                                                 const ReceiveOptions& options = {});

  Status DeleteMessage(const std::string& queue_url, const std::string& receipt_handle);
  // Deletes up to 10 messages in one call (DeleteMessageBatch; IAM: the
  // sqs:DeleteMessage permission). Per receipt handle, in order: Ok, or the
  // error SQS reported for that entry (kInvalidArgument for a sender fault,
  // e.g. ReceiptHandleIsInvalid, else kUnavailable; kUnavailable too for an
  // entry the reply does not mention). The call's Status when it failed as a
  // whole; kInvalidArgument for no handle or more than 10.
  Result<std::vector<Status>> DeleteMessageBatch(const std::string& queue_url,
                                                 const std::vector<std::string>& receipt_handles);

  // Makes the message visible again after `visibility_timeout_seconds` (0: now).
  Status ChangeMessageVisibility(const std::string& queue_url, const std::string& receipt_handle,
                                 int visibility_timeout_seconds);
  // The same for up to 10 messages in one call (ChangeMessageVisibilityBatch;
  // IAM: sqs:ChangeMessageVisibility); per handle as DeleteMessageBatch (a
  // message no longer in flight fails with MessageNotInflight, a sender fault).
  Result<std::vector<Status>> ChangeMessageVisibilityBatch(
      const std::string& queue_url, const std::vector<std::string>& receipt_handles,
      int visibility_timeout_seconds);

  Result<SendMessageResult> SendMessage(const std::string& queue_url, const std::string& body,
                                        const SendOptions& options = {});

 private:
  // A batch call on `receipt_handles` (1-10; entry Ids "0".."n-1"), each
  // entry with `visibility_timeout_seconds` when given.
  Result<std::vector<Status>> Batch(const std::string& action, const std::string& queue_url,
                                    const std::vector<std::string>& receipt_handles,
                                    std::optional<int> visibility_timeout_seconds);

  AwsClient& client_;
};

// The URL of the queue named by `arn` ("arn:PARTITION:sqs:REGION:ACCOUNT:NAME",
// as a Lambda SQS record's eventSourceARN): the SQS endpoint `endpoints`
// resolves, then "/ACCOUNT/NAME" (what GetQueueUrl answers, without a call).
// kInvalidArgument for anything else: a malformed ARN, another service, an
// account that is not 12 digits, a name SQS would not accept (1-80 of
// [A-Za-z0-9_-], optionally ending in ".fifo"), or a region other than the
// resolver's (the URL would name the wrong endpoint; an event source mapping
// reads only queues in its function's region).
Result<std::string> QueueUrlFromArn(const std::string& arn, const EndpointResolver& endpoints);

// The region an AWS SQS queue URL names by its host: https://sqs.REGION.
// amazonaws.com[.cn]/... (also sqs-fips.REGION...), https://REGION.queue.
// amazonaws.com/... (the legacy form), https://queue.amazonaws.com/...
// (us-east-1). "" for any other URL (an endpoint override, a VPC endpoint's
// own name, moto): nothing to check then.
std::string QueueUrlRegion(const std::string& queue_url);

// kInvalidArgument ("names a queue in R1, but the AWS region is R2: ...") when
// `queue_url` is an AWS queue URL of a region other than `region`: SQS answers
// for a queue only at its own region's endpoint, so every call would fail.
Status CheckQueueRegion(const std::string& queue_url, const std::string& region);

// Lower-case hex MD5 of `data` (SQS's body checksum).
std::string Md5Hex(const std::string& data);

}  // namespace spk::aws
