// ControllerLoop: the long-running controller (`spotkeeper controller`).
//
//   loop: reconcile when due (at start, then every reconcile_interval)
//         -> receive from the queue (long poll, never past the next reconcile)
//         -> for each message: parse -> Handler::Handle
//              handled (or a duplicate)  -> delete it
//              unparseable / unsupported -> log it with its message id, leave
//                                           it (the queue's redrive policy
//                                           moves it to the dead-letter queue)
//              failed                    -> leave it for redelivery, visible
//                                           again after a backoff that grows
//                                           with its receive count
//
// Level-triggered: Reconcile recomputes everything from AWS state, so a lost
// message or a restart loses nothing; a message is deleted only after its
// handling succeeded, so a crash at any point redelivers it.
//
// Time comes from the Clock (a ManualClock in tests). Not thread-safe, except
// healthy(), which the /metrics server thread may call.
#pragma once

#include <atomic>
#include <string>

#include "aws/client.h"
#include "base/clock.h"
#include "controller/handler.h"
#include "controller/metrics.h"
#include "controller/queue.h"

namespace spk::controller {

struct LoopOptions {
  Duration wait_time = std::chrono::seconds(20);  // long poll, 1-20 s
  int max_messages = 10;                          // per receive, 1-10
  Duration reconcile_interval = std::chrono::seconds(60);
  // A failed handling becomes visible again after retry_backoff *
  // 2^(receive count - 1), at most max_retry_backoff (0: leave the queue's
  // visibility timeout alone).
  Duration retry_backoff = std::chrono::seconds(5);
  Duration max_retry_backoff = std::chrono::minutes(5);
  // After a failed receive: wait this long, doubling up to 20 s.
  Duration receive_error_backoff = std::chrono::seconds(1);
};

// Ok, or kInvalidArgument naming the bad setting.
Status ValidateLoopOptions(const LoopOptions& options);

// What became of one message.
enum class MessageOutcome {
  kHandled,      // deleted
  kDuplicate,    // a repeat of a handled notice: deleted
  kUnsupported,  // unparseable or unsupported: left for the dead-letter queue
  kFailed,       // handling failed: left for redelivery
  kDeleteFailed  // handled, but the delete failed: it will come back (a duplicate)
};
const char* MessageOutcomeName(MessageOutcome outcome);

// Defines the controller's metric families in `metrics` (see docs/controller.md).
void DefineControllerMetrics(MetricsRegistry& metrics);
// Mirrors the client's failed calls into spotkeeper_aws_errors_total{service,code}.
void RecordAwsErrors(MetricsRegistry& metrics, const aws::ClientStats& stats);

class ControllerLoop {
 public:
  // All references must outlive the loop. DefineControllerMetrics(metrics) is
  // called here. REQUIRES: ValidateLoopOptions(options).ok().
  ControllerLoop(MessageQueue& queue, Handler& handler, Clock& clock, MetricsRegistry& metrics,
                 LoopOptions options);

  // Runs iterations until `stop` is set; returns after the current one (at
  // most one long poll and the handling of what it received).
  void Run(const std::atomic<bool>& stop);
  // One iteration: reconcile if due, then one receive and its messages.
  void RunOnce();

  // Handles one message as above (exposed for tests).
  MessageOutcome HandleMessage(const QueueMessage& message);
  // Reconciles now; records its duration and result.
  HandleReport ReconcileNow();

  // True while iterations keep completing (the last one ended less than
  // 2 * wait_time + 60 s ago). Thread-safe.
  bool healthy() const;

 private:
  void RecordReport(const HandleReport& report, const QueueMessage* message);

  MessageQueue& queue_;
  Handler& handler_;
  Clock& clock_;
  MetricsRegistry& metrics_;
  LoopOptions options_;
  MonoTime next_reconcile_;
  int receive_failures_ = 0;
  std::atomic<int64_t> last_progress_ns_;
};

}  // namespace spk::controller
