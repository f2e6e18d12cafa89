// The Lambda handler (controller/lambda_runtime.h MakeControllerLambdaHandler)
// on any invocation payload: SQS event source batches, SNS events, bare
// events, and the hostile rest, handled against an in-memory cloud
// (FakeCloudView: fleet sfr-1, cluster web, on-demand group od).
// Invariants: never throws or crashes; an SQS batch is always answered with a
// response {"batchItemFailures": [...]} that names only ids of its records;
// anything else is a response or an error of a known type, one line.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "aws/endpoint.h"
#include "aws/sqs.h"
#include "base/clock.h"
#include "base/env.h"
#include "base/json.h"
#include "base/log.h"
#include "controller/fake_world.h"
#include "controller/handler.h"
#include "controller/lambda_runtime.h"
#include "fuzz_check.h"

using namespace spk;
using namespace spk::controller;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FakeCloudView cloud;
  ControllerConfig config;
  FillExampleWorld(cloud, config);
  ManualClock clock;
  Handler handler(cloud, config, clock);
  // With a budget and a redeliver that reads the record's eventSourceARN.
  MapEnv env;
  aws::EndpointResolver endpoints(env, "us-east-1");
  std::vector<std::string> redelivered;
  LambdaHandlerOptions options;
  options.clock = &clock;
  options.redeliver = [&](const std::string& arn, const QueueMessage& message, Duration delay) {
    FUZZ_CHECK(delay > Duration::zero());
    redelivered.push_back(message.id);
    return aws::QueueUrlFromArn(arn, endpoints).status();
  };
  LambdaHandlerFn fn = MakeControllerLambdaHandler(handler, options);
  LambdaInvocation invocation;
  invocation.request_id = "req-1";
  invocation.body.assign(reinterpret_cast<const char*>(data), size);
  invocation.deadline_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock.WallNow().time_since_epoch())
          .count() +
      60000;
  const LambdaResult result = fn(invocation);

  // Was it an SQS batch? (The same test the handler makes.)
  std::set<std::string> ids;
  bool batch = false;
  auto doc = ParseJson(invocation.body, 6 * 1024 * 1024, "payload");
  if (doc.ok() && doc->is_object()) {
    auto records = doc->find("Records");
    if (records != doc->end() && records->is_array() && !records->empty()) {
      batch = true;
      for (const auto& r : *records) {
        if (!r.is_object() || r.value("eventSource", nlohmann::json()) != "aws:sqs") {
          batch = false;
          break;
        }
        ids.insert(JsonStringField(r, "messageId"));
      }
    }
  }
  if (batch) {
    FUZZ_CHECK(result.ok);
    auto answer = ParseJson(result.payload, 64 * 1024 * 1024, "answer");
    FUZZ_CHECK(answer.ok());
    FUZZ_CHECK(answer->is_object() && (*answer)["batchItemFailures"].is_array());
    for (const auto& item : (*answer)["batchItemFailures"]) {
      FUZZ_CHECK(item.is_object() && item.contains("itemIdentifier"));
      // The answer replaces invalid UTF-8; ids from JSON are valid UTF-8.
      FUZZ_CHECK(ids.count(item["itemIdentifier"].get<std::string>()) == 1);
    }
    for (const std::string& id : redelivered) FUZZ_CHECK(ids.count(id) == 1);
    return 0;
  }
  if (!result.ok) {
    FUZZ_CHECK(result.error_type == "Spotkeeper.InvalidEvent" ||
               result.error_type == "Spotkeeper.HandlingFailed");
    FUZZ_CHECK(!LambdaErrorBody(result.error_type, result.error_message).empty());
  }
  return 0;
}
