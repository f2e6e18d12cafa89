// LambdaRuntime: the AWS Lambda custom runtime protocol (Runtime API
// 2018-06-01) over net::HttpTransport, so that `spotkeeper lambda` (and the
// binary started as `bootstrap` on provided.al2023) runs the controller's
// handler under Lambda:
//
//   GET  http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next
//        (a long poll: no timeout) -> the event, Lambda-Runtime-Aws-Request-Id
//   POST .../runtime/invocation/{id}/response  the handler's JSON report
//   POST .../runtime/invocation/{id}/error     {"errorMessage", "errorType"}
//        with Lambda-Runtime-Function-Error-Type, for an event the handler
//        cannot handle (malformed, unsupported) or whose handling failed
//   POST .../runtime/init/error                when initialisation fails
//
// The handler is a plain std::function, so the loop is unit-tested with
// net::FakeTransport; MakeControllerLambdaHandler adapts the controller's
// Handler. Nothing here reads the environment or sleeps; the clock only
// through LambdaHandlerOptions.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "aws/client.h"
#include "aws/endpoint.h"
#include "aws/sqs.h"
#include "base/clock.h"
#include "base/env.h"
#include "base/status.h"
#include "controller/handler.h"
#include "controller/loop.h"
#include "controller/queue.h"
#include "net/http.h"

namespace spk::controller {

// One invocation as the Runtime API delivered it.
struct LambdaInvocation {
  std::string request_id;              // Lambda-Runtime-Aws-Request-Id
  std::string body;                    // the event, as sent
  std::optional<int64_t> deadline_ms;  // Lambda-Runtime-Deadline-Ms (epoch ms)
  std::string function_arn;            // Lambda-Runtime-Invoked-Function-Arn
  std::string trace_id;                // Lambda-Runtime-Trace-Id
};

// What the handler made of it: a response payload, or an error.
struct LambdaResult {
  bool ok = true;
  std::string payload;        // ok: the response body (JSON)
  std::string error_type;     // !ok: e.g. "Spotkeeper.InvalidEvent"
  std::string error_message;  // !ok: one line

  static LambdaResult Response(std::string payload);
  static LambdaResult Error(std::string type, std::string message);
};

using LambdaHandlerFn = std::function<LambdaResult(const LambdaInvocation&)>;

// {"errorMessage": ..., "errorType": ...}
std::string LambdaErrorBody(const std::string& type, const std::string& message);

// Makes one failed SQS message visible again after `delay`; the queue is the
// record's eventSourceARN.
using RedeliverFn = std::function<Status(const std::string& event_source_arn,
                                         const QueueMessage& message, Duration delay)>;

// ChangeMessageVisibility through `sqs` (SqsQueue::ChangeVisibility), on the
// queue URL the ARN names (aws::QueueUrlFromArn with `endpoints`). Both must
// outlive the function.
RedeliverFn MakeSqsRedeliver(aws::SqsClient& sqs, const aws::EndpointResolver& endpoints);

struct LambdaHandlerOptions {
  // The clock the invocation's deadline_ms (epoch ms) is read against; null,
  // or an invocation without a deadline: no budget, every call takes what its
  // timeouts and retries take.
  const Clock* clock = nullptr;
  // The client whose calls the budget bounds (aws::ScopedCallDeadline); null:
  // only the phase checks apply.
  aws::AwsClient* client = nullptr;
  // Kept back from the deadline for what follows the work: the redeliver
  // calls (which end by deadline - response_reserve) and posting the answer.
  Duration reserve = std::chrono::seconds(5);
  Duration response_reserve = std::chrono::seconds(1);
  // A phase starts only with at least this much of the work's budget left.
  Duration min_phase = std::chrono::seconds(2);
  // Null: failed messages wait out the queue's visibility timeout.
  RedeliverFn redeliver;
  // As the controller loop's (LoopOptions).
  Duration retry_backoff = LoopOptions{}.retry_backoff;
  Duration max_retry_backoff = LoopOptions{}.max_retry_backoff;
};

// The handler for the controller: parses the event (every shape ParseEvent
// accepts), handles it, answers with ToJson(report). A malformed or
// unsupported event -> error "Spotkeeper.InvalidEvent"; a report whose
// status is not ok (an AWS call failed, a part was skipped) -> error
// "Spotkeeper.HandlingFailed", so that an asynchronous invocation is retried.
//
// An SQS event source batch (every record's eventSource "aws:sqs") is handled
// as the controller loop handles one receive: every record's body parsed,
// the parsed ones admitted together (Handler::Admit: the drains), then one
// decision (Handler::Settle), and the answer is
// {"batchItemFailures": [{"itemIdentifier": messageId}, ...]} naming the
// records to leave in the queue (unparseable ones, for the dead-letter queue,
// and, when the handling failed or did not finish in time, every one that was
// not a duplicate or refused). The event source mapping must set
// FunctionResponseTypes [ReportBatchItemFailures]
// (deploy/cloudformation/spotkeeper.yaml does); without it Lambda would delete
// the whole batch whatever the answer.
//
// The time budget (with options.clock and the invocation's deadline_ms; see
// LambdaHandlerOptions): the work's AWS calls end by deadline - reserve; a
// phase (the batch's admission, its decision, a single event's handling)
// starts only with at least min_phase of that left, else its messages are
// reported unfinished (a single event: error "Spotkeeper.HandlingFailed").
// A record left for redelivery because its handling failed or did not finish
// (not an unparseable one) is made visible again after RedeliveryDelay
// (options.retry_backoff, its ApproximateReceiveCount) through
// options.redeliver, so it is retried in seconds, not after the queue's
// visibility timeout; a failed redeliver is logged and changes nothing else.
//
// `handler` (and options' pointers) must outlive the returned function.
LambdaHandlerFn MakeControllerLambdaHandler(Handler& handler, LambdaHandlerOptions options = {});

struct LambdaRunOptions {
  // Stop after this many invocations (0: never; for tests).
  int64_t max_invocations = 0;
  // Checked before each long poll.
  const std::atomic<bool>* stop = nullptr;
};

class LambdaRuntime {
 public:
  // `runtime_api` is AWS_LAMBDA_RUNTIME_API: "host:port".
  LambdaRuntime(net::HttpTransport& http, std::string runtime_api);

  // AWS_LAMBDA_RUNTIME_API from `env`; kFailedPrecondition when unset or empty.
  static Result<std::string> RuntimeApiFromEnv(const Env& env);

  // One long poll for the next invocation. kUnavailable when the API does
  // not answer or answers without a request id.
  Result<LambdaInvocation> Next();
  Status PostResponse(const std::string& request_id, const std::string& payload);
  Status PostError(const std::string& request_id, const std::string& error_type,
                   const std::string& message);
  Status PostInitError(const std::string& error_type, const std::string& message);

  // The loop: Next, the handler, PostResponse or PostError; never returns on
  // a bad event (an exception from the handler becomes an error post). Returns
  // Ok when options.stop or options.max_invocations ended it, else the Status
  // of the Runtime API call that failed (the process should exit: Lambda
  // starts a new one).
  Status Run(const LambdaHandlerFn& handler, const LambdaRunOptions& options = {});

  int64_t invocations() const { return invocations_; }

 private:
  std::string Url(const std::string& path) const;
  Status Post(const std::string& path, const std::string& body, net::Headers headers);

  net::HttpTransport& http_;
  std::string base_;  // "http://host:port/2018-06-01"
  int64_t invocations_ = 0;
};

}  // namespace spk::controller
