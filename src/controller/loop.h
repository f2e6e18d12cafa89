// ControllerLoop: the long-running controller (`spotkeeper controller`).
//
//   loop: reconcile when due (at start, then every reconcile_interval)
//         -> receive from the queue (long poll, never past the next reconcile)
//         -> parse each message; the parsed ones of one receive (up to 10)
//            are admitted together (Handler::Admit: one drain call per 10
//            noticed instances, at once); then one decision (Handler::Settle)
//            for what was admitted. During a burst (a receive brings the
//            maximum), the decision waits for the next receives, up to
//            coalesce_messages messages or coalesce_window, so the drains
//            keep pace with the queue and a burst of N notices costs about
//            N/coalesce_messages decisions, not N. Then for each message:
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
#include <vector>

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
  // During a burst: at most this many admitted messages, or this long since
  // the first of them, before the decision (1: decide after every receive).
  int coalesce_messages = 100;
  Duration coalesce_window = std::chrono::seconds(5);
};

// Ok, or kInvalidArgument naming the bad setting.
Status ValidateLoopOptions(const LoopOptions& options);

// What became of one message.
enum class MessageOutcome {
  kHandled,       // deleted
  kDuplicate,     // a repeat of a handled notice: deleted
  kRefused,       // outside the configuration, or contradicted by AWS: deleted
  kUnsupported,   // unparseable or unsupported: left for the dead-letter queue
  kFailed,        // handling failed: left for redelivery
  kDeleteFailed,  // handled, but the delete failed: it will come back (a duplicate)
  kDeferred       // admitted (drained), waiting for the burst's decision
};
const char* MessageOutcomeName(MessageOutcome outcome);

// Defines the controller's metric families in `metrics` (see docs/controller.md).
void DefineControllerMetrics(MetricsRegistry& metrics);
// Mirrors the client's counters: failed calls into
// spotkeeper_aws_errors_total{service,code}, calls and retries into
// spotkeeper_aws_calls_total and spotkeeper_aws_retries_total.
void RecordAwsErrors(MetricsRegistry& metrics, const aws::ClientStats& stats);

class ControllerLoop {
 public:
  // All references must outlive the loop. DefineControllerMetrics(metrics) is
  // called here. REQUIRES: ValidateLoopOptions(options).ok().
  ControllerLoop(MessageQueue& queue, Handler& handler, Clock& clock, MetricsRegistry& metrics,
                 LoopOptions options);

  // Runs iterations until `stop` is set; returns after the current one (at
  // most one long poll and the handling of what it received, decided).
  void Run(const std::atomic<bool>& stop);
  // One iteration: reconcile if due, then one receive and its messages.
  void RunOnce();

  // Handles one receive's messages as above and decides at once (with any
  // messages still waiting for a decision); outcomes in the same order.
  std::vector<MessageOutcome> HandleMessages(const std::vector<QueueMessage>& messages);
  // Messages admitted and waiting for their decision (during a burst).
  size_t pending() const { return pending_.size(); }
  // HandleMessages({message}) (exposed for tests).
  MessageOutcome HandleMessage(const QueueMessage& message);
  // Reconciles now; records its duration and result.
  HandleReport ReconcileNow();

  // True while iterations keep completing (the last one ended less than
  // 2 * wait_time + 60 s ago). Thread-safe.
  bool healthy() const;

 private:
  // Counts the report's actions, drains and decision; the notice-to-DRAINING
  // latency of each noticed event in `events` that the report drained.
  void RecordReport(const HandleReport& report,
                    const std::vector<std::pair<const Event*, const QueueMessage*>>& events);
  MessageOutcome Finish(const QueueMessage& message, const Event& event, Status status,
                        bool duplicate);
  MessageOutcome Refuse(const QueueMessage& message, const Event& event, const std::string& why);
  // Admits `messages`; decides now unless `more_waiting` and the coalescing
  // limits allow waiting. Outcomes of `messages`.
  std::vector<MessageOutcome> Admit(const std::vector<QueueMessage>& messages, bool more_waiting);
  // Decides for the pending messages and deletes or leaves each. Their outcomes.
  std::vector<MessageOutcome> Flush();

  struct Pending {
    QueueMessage message;
    Event event;
  };
  std::vector<Pending> pending_;
  MonoTime pending_since_{};

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
