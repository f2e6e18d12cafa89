// AWS names from the settings: the region of an SQS queue URL
// (aws::QueueUrlRegion, CheckQueueRegion), of an SNS topic ARN
// (aws::TopicArnRegion, CheckTopicRegion), and the queue URL of an SQS ARN
// (aws::QueueUrlFromArn, as the Lambda builds it from a record's
// eventSourceARN). The first byte picks the configured region.
// Invariants: never throws; a region found is non-empty, lower-case
// [a-z0-9-] and at most 32 characters; a check fails (kInvalidArgument, one
// line naming both regions) exactly when a region was found and differs; a
// queue URL built from an ARN is the endpoint's, ends with the ARN's name and
// is given only for the configured region.
#include <cstddef>
#include <cstdint>
#include <string>

#include "aws/endpoint.h"
#include "aws/sns.h"
#include "aws/sqs.h"
#include "base/env.h"
#include "fuzz_check.h"

namespace {

bool RegionShaped(const std::string& r) {
  return !r.empty() && r.size() <= 32 &&
         r.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos;
}

void CheckOne(const spk::Status& s, const std::string& found, const std::string& region) {
  FUZZ_CHECK(s.ok() == (found.empty() || found == region));
  if (!s.ok()) {
    FUZZ_CHECK(s.code() == spk::StatusCode::kInvalidArgument);
    FUZZ_CHECK(s.message().find('\n') == std::string::npos);
    FUZZ_CHECK(s.message().find(found) != std::string::npos);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* const kRegions[] = {"us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1"};
  const std::string region = kRegions[data[0] % 4];
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);

  const std::string queue_region = spk::aws::QueueUrlRegion(text);
  if (!queue_region.empty()) FUZZ_CHECK(RegionShaped(queue_region));
  CheckOne(spk::aws::CheckQueueRegion(text, region), queue_region, region);

  const std::string topic_region = spk::aws::TopicArnRegion(text);
  if (!topic_region.empty()) FUZZ_CHECK(RegionShaped(topic_region));
  CheckOne(spk::aws::CheckTopicRegion(text, region), topic_region, region);

  static spk::MapEnv env;
  static spk::aws::EndpointResolver endpoints(env, "us-east-1");
  auto url = spk::aws::QueueUrlFromArn(text, endpoints);
  if (url.ok()) {
    FUZZ_CHECK(url->rfind("https://sqs.us-east-1.amazonaws.com/", 0) == 0);
    FUZZ_CHECK(text.find(":sqs:us-east-1:") != std::string::npos);
    FUZZ_CHECK(spk::aws::QueueUrlRegion(*url) == "us-east-1");
    const std::string name = text.substr(text.rfind(':') + 1);
    FUZZ_CHECK(url->size() > name.size() &&
               url->compare(url->size() - name.size(), name.size(), name) == 0);
  } else {
    FUZZ_CHECK(url.status().code() == spk::StatusCode::kInvalidArgument);
  }
  return 0;
}
