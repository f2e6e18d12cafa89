// ControllerLoop: the long-running controller (`spotkeeper controller`).
//
// Two paths: the drain path (the thread that calls Run/RunOnce) and the
// decisions (Handler::Settle: a decision that reads the whole cluster).
//
//   drain path: reconcile when due (at start, then every reconcile_interval:
//         asked of the decision side)
//         -> keep the messages waiting for a decision invisible (see
//            LoopOptions::visibility_timeout)
//         -> receive from the queue (long poll, never past the next reconcile
//            or the next such extension)
//         -> parse each message; the parsed ones of one receive (up to 10)
//            are admitted together (Handler::Admit: one drain call per 10
//            noticed instances, at once, with the notices recorded on their
//            container instances) -> then for each message:
//              a notice whose record this Admit wrote, a duplicate, or
//              refused                   -> delete it at once: every later
//                                           decision counts a recorded notice
//                                           from AWS; a decision is due
//              anything else (alarms, {"fleetID"} events, notices not
//              recorded: no container instance, already DRAINING, the
//              record failed)            -> pending: deleted only after a
//                                           successful decision
//              unparseable / unsupported -> log it with its message id, leave
//                                           it (the queue's redrive policy
//                                           moves it to the dead-letter queue)
//   decisions: with a DecisionSide (the controller), on a thread of their own
//         with their own Handler and queue: at most one in flight, rerun when
//         notices were recorded or messages became pending meanwhile; a
//         decision never holds back a receive or a drain. The pending
//         messages are handled by the decision side's Handler (HandleBatch:
//         a notice not recorded must be decided by the handler that holds
//         it); a reconcile runs there too. Without one (tests), the decision
//         runs on the drain path's thread with its Handler: after a receive,
//         or during a burst (a receive brings the maximum) after up to
//         coalesce_messages recorded or pending messages or coalesce_window.
//         A message of a decision is then:
//              handled (or a duplicate)  -> delete it
//              failed                    -> leave it for redelivery, visible
//                                           again after a backoff that grows
//                                           with its receive count
//
// Level-triggered: Reconcile recomputes everything from AWS state, so a lost
// message or a restart loses nothing; a message is deleted only once its
// notice is recorded in AWS or its handling succeeded, so a crash at any
// point redelivers it or leaves its record.
//
// Time comes from the Clock (a ManualClock in tests). Run/RunOnce/Handle*
// from one thread; healthy() and WaitForDecisions() from any.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
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
  // 2^(receive count - 1), at most max_retry_backoff (0: leave the
  // visibility timeout its receive asked for alone).
  Duration retry_backoff = std::chrono::seconds(5);
  Duration max_retry_backoff = std::chrono::minutes(5);
  // After a failed receive: wait this long, doubling up to 20 s.
  Duration receive_error_backoff = std::chrono::seconds(1);
  // Inline decisions only (no DecisionSide), during a burst: at most this many
  // recorded or waiting messages, or this long since the first of them,
  // before the decision (1: decide after every receive).
  int coalesce_messages = 100;
  Duration coalesce_window = std::chrono::seconds(5);
  // With a DecisionSide: after a decision, the next one waits this long, or
  // three times as long as that decision took if longer, but not longer than
  // max_decision_gap (its length by the Clock; the wait is real time, so a
  // stop cuts it short; 0: no wait). A decision reads the whole cluster:
  // during a burst, back-to-back decisions would spend the account's ECS API
  // rate (and a shared endpoint's time) that the drains need; so decisions
  // take at most a quarter of it (those under 40 s: longer ones more), and
  // the drains never wait. The cap: after a decision slowed by a throttling
  // spell (minutes), on-demand cover and lifecycle answers must not wait
  // three times as long; they are worth more than the API rate then.
  Duration decision_gap = std::chrono::seconds(1);
  Duration max_decision_gap = std::chrono::minutes(2);
  // Each receive asks for this visibility timeout (2 s to 12 h); a message
  // waiting for its decision (pending or in flight) is made invisible for it
  // again whenever half of it has passed, so a slow decision is not
  // redelivered to the next receive (and walked to the dead-letter queue).
  // The receive's own admission (drains and records, on the drain path) is
  // not extended: it must take less than this.
  Duration visibility_timeout = std::chrono::seconds(60);
  // With a DecisionSide: healthy() is false while one decision has been in
  // flight longer than this, so a decision thread stuck on something the AWS
  // client's timeouts do not bound is not hidden behind drains that go on.
  // (The 10^4-notice soak's decisions, at 30% faults, took about 35 s.)
  Duration decision_stuck_after = std::chrono::minutes(15);
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
  kDeferred       // admitted (drained), waiting for its decision
};
const char* MessageOutcomeName(MessageOutcome outcome);

// Defines the controller's metric families in `metrics` (see docs/controller.md).
void DefineControllerMetrics(MetricsRegistry& metrics);
// Mirrors the client's counters: failed calls into
// spotkeeper_aws_errors_total{service,code}, calls and retries into
// spotkeeper_aws_calls_total and spotkeeper_aws_retries_total.
void RecordAwsErrors(MetricsRegistry& metrics, const aws::ClientStats& stats);
// The same for the sum of several clients' counters.
void RecordAwsErrors(MetricsRegistry& metrics, const std::vector<const aws::ClientStats*>& stats);
// The fallback gauges of one decision's pass: each pair's shadow tasks,
// stuck tasks and spot shortage, and a failure count per pair that could not
// be read, updated or tagged (a pair not read keeps its last gauges). A
// tagged pair no longer found in a cluster the pass searched (`searched`:
// the shadow's tag was removed or now names another primary) loses its
// gauges; one of a cluster that was not searched keeps them.
void RecordFallback(MetricsRegistry& metrics, const std::vector<FallbackOutcome>& outcomes,
                    const std::vector<std::string>& searched);

// The decision side of a loop: a Handler and a queue handle of its own (on
// their own AWS client: none of them is shared with the drain path).
struct DecisionSide {
  MessageQueue& queue;
  Handler& handler;
};

class ControllerLoop {
 public:
  // All references must outlive the loop. DefineControllerMetrics(metrics) is
  // called here. REQUIRES: ValidateLoopOptions(options).ok().
  // Decisions on the calling thread, with `handler`:
  ControllerLoop(MessageQueue& queue, Handler& handler, Clock& clock, MetricsRegistry& metrics,
                 LoopOptions options);
  // Decisions on a thread of their own (started here), with `decision`:
  ControllerLoop(MessageQueue& queue, Handler& handler, Clock& clock, MetricsRegistry& metrics,
                 LoopOptions options, DecisionSide decision);
  // Stop()s.
  ~ControllerLoop();
  ControllerLoop(const ControllerLoop&) = delete;
  ControllerLoop& operator=(const ControllerLoop&) = delete;

  // Runs iterations until `stop` is set; returns after the current one (at
  // most one long poll and the drains of what it received), then Stop()s.
  void Run(const std::atomic<bool>& stop);
  // One iteration: reconcile if due, then one receive and its messages.
  void RunOnce();
  // Finishes the decision in flight and decides the pending messages (each
  // deleted or left), then ends the decision thread. Idempotent.
  void Stop();

  // Handles one receive's messages as above, then decides (inline: at once,
  // the outcomes of the pending messages are their decision's; with a
  // DecisionSide: asks for the decision and returns, their outcome is
  // kDeferred). Outcomes in the same order.
  std::vector<MessageOutcome> HandleMessages(const std::vector<QueueMessage>& messages);
  // HandleMessages({message}) (exposed for tests).
  MessageOutcome HandleMessage(const QueueMessage& message);
  // Messages waiting for their decision (not yet in flight).
  size_t pending() const;
  // Blocks until no decision is due, in flight or pending (inline: decides now).
  void WaitForDecisions();
  // Decisions made since the start (settles and reconciles). Thread-safe.
  int decisions() const { return decisions_.load(); }
  // Reconciles now (inline: here; with a DecisionSide: there, and waits);
  // records its duration and result.
  HandleReport ReconcileNow();

  // "" while iterations keep completing (the last one ended less than
  // 2 * wait_time + 60 s ago) and no decision has been in flight longer than
  // decision_stuck_after; else why not, one line. Thread-safe.
  std::string Unhealthy() const;
  bool healthy() const { return Unhealthy().empty(); }
  // How long the decision in flight has been (zero when none). Thread-safe.
  Duration DecisionInFlight() const;
  // Sets the gauges read at scrape time (spotkeeper_decision_in_flight_seconds).
  // Thread-safe.
  void RecordScrapeGauges();

 private:
  struct Pending {
    QueueMessage message;
    Event event;
    MonoTime extend_at{};  // when to make it invisible for visibility_timeout again
  };
  // Counts the report's actions, drains and decision; the notice-to-DRAINING
  // latency of each noticed event in `events` that the report drained.
  void RecordReport(const Handler& handler, const HandleReport& report,
                    const std::vector<std::pair<const Event*, const QueueMessage*>>& events);
  MessageOutcome Finish(MessageQueue& queue, const QueueMessage& message, const Event& event,
                        Status status, bool duplicate);
  // The outcome of a handled message (or a duplicate) whose delete returned `deleted`.
  MessageOutcome Deleted(const QueueMessage& message, const Event& event, const Status& deleted,
                         bool duplicate);
  MessageOutcome Refuse(MessageQueue& queue, const QueueMessage& message, const Event& event,
                        const std::string& why);
  // Admits `messages`; decides now (inline) unless `more_waiting` and the
  // coalescing limits allow waiting. Outcomes of `messages`.
  std::vector<MessageOutcome> Admit(const std::vector<QueueMessage>& messages, bool more_waiting);
  // Inline: decides for the pending messages (or, when none, for the notices
  // recorded since the last decision) and deletes or leaves each. Their outcomes.
  std::vector<MessageOutcome> Flush();
  // One decision on `handler` (inline or the decision side's) for `pending`
  // and the notices `recorded` by the drain path, each pending message then
  // deleted or left on `queue`. `admitted`: the handler admitted them
  // already (inline); else it admits them first.
  std::vector<MessageOutcome> Decide(Handler& handler, MessageQueue& queue,
                                     const std::vector<Pending>& pending,
                                     const std::vector<Event>& recorded, bool admitted);
  HandleReport Reconcile(Handler& handler);
  // Makes each pending and in-flight message whose visibility is half gone
  // invisible for visibility_timeout again. Drain path only.
  void ExtendVisibility();
  // When the next ExtendVisibility has work (MonoTime::max() for none).
  MonoTime NextExtension() const;
  // The decision thread.
  void DecisionThread();

  MessageQueue& queue_;
  Handler& handler_;
  Clock& clock_;
  MetricsRegistry& metrics_;
  LoopOptions options_;
  std::optional<DecisionSide> decision_;
  MonoTime next_reconcile_;
  int receive_failures_ = 0;
  MonoTime received_at_{};  // when the receive being admitted began
  std::atomic<int64_t> last_progress_ns_;
  // When the decision in flight began (MonotonicNow, ns); kNoDecision when none.
  static constexpr int64_t kNoDecision = INT64_MIN;
  std::atomic<int64_t> decision_began_ns_{kNoDecision};
  std::atomic<int> decisions_{0};

  // Shared by the drain path and the decision thread.
  mutable std::mutex mu_;
  std::condition_variable wake_;  // the decision thread: work or stop
  std::condition_variable idle_;  // WaitForDecisions: no work left
  std::vector<Pending> pending_;
  std::vector<Pending> in_flight_;  // taken by the decision in flight
  std::vector<Event> recorded_;  // notices recorded by the drain path since the last decision began
  MonoTime pending_since_{};     // inline: the first of them
  bool reconcile_due_ = false;
  bool busy_ = false;  // a decision in flight
  bool stopping_ = false;
  bool finished_ = false;  // the decision thread has ended
  std::thread thread_;
};

}  // namespace spk::controller
