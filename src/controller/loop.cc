#include "controller/loop.h"

#include <algorithm>
#include <exception>
#include <map>
#include <set>
#include <variant>

#include "base/log.h"
#include "controller/event.h"

namespace spk::controller {
namespace {

constexpr char kMessages[] = "spotkeeper_messages_total";
constexpr char kEvents[] = "spotkeeper_events_total";
constexpr char kNotices[] = "spotkeeper_notices_total";
constexpr char kDrains[] = "spotkeeper_drains_total";
constexpr char kLatency[] = "spotkeeper_notice_to_draining_seconds";
constexpr char kActions[] = "spotkeeper_actions_total";
constexpr char kOnDemandDesired[] = "spotkeeper_on_demand_desired";
constexpr char kOnDemandNeeded[] = "spotkeeper_on_demand_needed";
constexpr char kShortfall[] = "spotkeeper_shortfall_units";
constexpr char kSkipped[] = "spotkeeper_decisions_skipped_total";
constexpr char kReconciles[] = "spotkeeper_reconciles_total";
constexpr char kReconcileDuration[] = "spotkeeper_reconcile_duration_seconds";
constexpr char kAwsErrors[] = "spotkeeper_aws_errors_total";
constexpr char kReceiveErrors[] = "spotkeeper_queue_receive_errors_total";
constexpr char kAwsCalls[] = "spotkeeper_aws_calls_total";
constexpr char kAwsRetries[] = "spotkeeper_aws_retries_total";
constexpr char kFallbackTasks[] = "spotkeeper_fallback_tasks";
constexpr char kFallbackStuck[] = "spotkeeper_fallback_stuck_tasks";
constexpr char kFallbackShortage[] = "spotkeeper_fallback_spot_shortage";
constexpr char kFallbackFailures[] = "spotkeeper_fallback_failures_total";
constexpr char kExtensions[] = "spotkeeper_queue_visibility_extensions_total";
constexpr char kDecisionDuration[] = "spotkeeper_decision_duration_seconds";
constexpr char kDecisionInFlight[] = "spotkeeper_decision_in_flight_seconds";

double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

Duration Min(Duration a, Duration b) { return a < b ? a : b; }

// Whole seconds, rounded up: a long poll shorter than a second is a short poll.
Duration CeilSeconds(Duration d) {
  auto s = std::chrono::ceil<std::chrono::seconds>(d);
  return std::chrono::duration_cast<Duration>(s);
}

int DrainedCount(const std::vector<ActionResult>& results) {
  int n = 0;
  for (const ActionResult& r : results) {
    const auto* drain = std::get_if<policy::DrainContainerInstances>(&r.action.what);
    if (drain && r.applied) n += static_cast<int>(drain->container_instance_arns.size());
  }
  return n;
}

}  // namespace

Status ValidateLoopOptions(const LoopOptions& o) {
  if (o.wait_time < std::chrono::seconds(1) || o.wait_time > std::chrono::seconds(20)) {
    return InvalidArgumentError("--wait-time must be between 1s and 20s");
  }
  if (o.max_messages < 1 || o.max_messages > 10) {
    return InvalidArgumentError("max messages per receive must be between 1 and 10");
  }
  if (o.reconcile_interval < std::chrono::seconds(1)) {
    return InvalidArgumentError("--reconcile-interval must be at least 1s");
  }
  if (o.coalesce_messages < 1) return InvalidArgumentError("coalesce messages must be at least 1");
  if (o.coalesce_window < Duration::zero()) {
    return InvalidArgumentError("the coalesce window must not be negative");
  }
  if (o.visibility_timeout < std::chrono::seconds(2) ||
      o.visibility_timeout > std::chrono::hours(12)) {
    return InvalidArgumentError("--visibility-timeout must be between 2s and 12h (720m)");
  }
  if (o.decision_stuck_after <= Duration::zero()) {
    return InvalidArgumentError("the decision stall limit must be positive");
  }
  if (o.decision_gap < Duration::zero() || o.max_decision_gap < Duration::zero()) {
    return InvalidArgumentError("the decision gap must not be negative");
  }
  if (o.retry_backoff < Duration::zero() || o.max_retry_backoff < Duration::zero() ||
      o.receive_error_backoff < Duration::zero()) {
    return InvalidArgumentError("backoffs must not be negative");
  }
  return Status::Ok();
}

const char* MessageOutcomeName(MessageOutcome outcome) {
  switch (outcome) {
    case MessageOutcome::kHandled:
      return "handled";
    case MessageOutcome::kDuplicate:
      return "duplicate";
    case MessageOutcome::kRefused:
      return "refused";
    case MessageOutcome::kUnsupported:
      return "unsupported";
    case MessageOutcome::kFailed:
      return "failed";
    case MessageOutcome::kDeleteFailed:
      return "delete-failed";
    case MessageOutcome::kDeferred:
      return "deferred";
  }
  return "?";
}

void DefineControllerMetrics(MetricsRegistry& m) {
  m.DefineCounter(kMessages,
                  "Queue messages by outcome: handled, duplicate, refused, unsupported, failed, "
                  "delete-failed.");
  m.DefineCounter(kEvents, "Events handled from the queue, by kind and source.");
  m.DefineCounter(kNotices,
                  "Instance notices received, by kind (spot-interruption, "
                  "rebalance-recommendation) and source (agent, eventbridge).");
  m.DefineCounter(kDrains, "Container instances set to DRAINING.");
  m.DefineHistogram(kLatency,
                    "From the notice's time (else the message's SentTimestamp) to its container "
                    "instance set DRAINING.",
                    {0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120});
  m.DefineCounter(kActions, "Actions decided, by action and result (applied, dry-run, failed).");
  m.DefineGauge(kOnDemandDesired, "The on-demand group's desired capacity, as last read or set.");
  m.DefineGauge(kOnDemandNeeded, "On-demand instances the last complete decision asked for.");
  m.DefineGauge(kShortfall, "Spot capacity units missing (pending + noticed), last decision.");
  m.DefineCounter(kSkipped, "Decision parts skipped because a read failed, by part.");
  m.DefineCounter(kReconciles, "Reconciles from AWS state, by result (ok, failed).");
  m.DefineHistogram(kReconcileDuration, "How long one reconcile took.",
                    {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30});
  m.DefineHistogram(kDecisionDuration,
                    "How long one decision (and the reconcile it ran) took, on the decision "
                    "thread.",
                    {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900});
  m.DefineGauge(kDecisionInFlight,
                "How long the decision in flight has been running (0: none), at scrape time.");
  m.DefineCounter(kReceiveErrors, "Failed queue receives.");
  m.DefineCounter(kExtensions,
                  "Messages waiting for their decision made invisible again, by result (ok, "
                  "failed).");
  m.DefineCounter(kAwsErrors, "AWS calls that finally failed, by service and error code.");
  m.DefineCounter(kAwsCalls, "AWS calls made (each with its retries counts once).");
  m.DefineCounter(kAwsRetries, "AWS call attempts that were retries of a failed attempt.");
  m.DefineGauge(kFallbackTasks,
                "The shadow service's desired count as last decided, by cluster, primary, shadow.");
  m.DefineGauge(kFallbackStuck,
                "The primary's tasks in PROVISIONING on a spot provider past the grace.");
  m.DefineGauge(kFallbackShortage,
                "Of those, the tasks on a provider shown short of spot capacity (the evidence).");
  m.DefineCounter(kFallbackFailures,
                  "Fallback passes of a pair that could not read, update or write its "
                  "settle-window tag, by cluster, primary.");
}

void RecordAwsErrors(MetricsRegistry& m, const aws::ClientStats& stats) {
  m.SetTotal(kAwsCalls, {}, static_cast<double>(stats.calls.load()));
  m.SetTotal(kAwsRetries, {}, static_cast<double>(stats.retries.load()));
  for (const auto& [key, count] : stats.ErrorsByCode()) {
    m.SetTotal(kAwsErrors, {{"service", key.first}, {"code", key.second}},
               static_cast<double>(count));
  }
}

void RecordAwsErrors(MetricsRegistry& m, const std::vector<const aws::ClientStats*>& stats) {
  int64_t calls = 0;
  int64_t retries = 0;
  std::map<aws::ClientStats::ErrorKey, int64_t> errors;
  for (const aws::ClientStats* s : stats) {
    calls += s->calls.load();
    retries += s->retries.load();
    for (const auto& [key, count] : s->ErrorsByCode()) errors[key] += count;
  }
  m.SetTotal(kAwsCalls, {}, static_cast<double>(calls));
  m.SetTotal(kAwsRetries, {}, static_cast<double>(retries));
  for (const auto& [key, count] : errors) {
    m.SetTotal(kAwsErrors, {{"service", key.first}, {"code", key.second}},
               static_cast<double>(count));
  }
}

ControllerLoop::ControllerLoop(MessageQueue& queue, Handler& handler, Clock& clock,
                               MetricsRegistry& metrics, LoopOptions options)
    : queue_(queue),
      handler_(handler),
      clock_(clock),
      metrics_(metrics),
      options_(options),
      next_reconcile_(clock.MonotonicNow()),
      last_progress_ns_(clock.MonotonicNow().time_since_epoch().count()) {
  DefineControllerMetrics(metrics_);
}

ControllerLoop::ControllerLoop(MessageQueue& queue, Handler& handler, Clock& clock,
                               MetricsRegistry& metrics, LoopOptions options, DecisionSide decision)
    : ControllerLoop(queue, handler, clock, metrics, options) {
  decision_.emplace(decision);
  thread_ = std::thread([this] { DecisionThread(); });
}

ControllerLoop::~ControllerLoop() {
  if (decision_) Stop();
}

namespace {

// Runs `body`; an exception it throws is logged as an internal error with
// `context` and returned as kInternal.
template <typename F>
Status Guard(const char* context, F&& body) {
  std::string what;
  try {
    body();
    return Status::Ok();
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception";
  }
  log::Error("internal error", {{"while", context}, {"error", what}});
  return InternalError(std::string("internal error while ") + context + ": " + what);
}

}  // namespace

std::string ControllerLoop::Unhealthy() const {
  const MonoTime now = clock_.MonotonicNow();
  const MonoTime last{Duration(last_progress_ns_.load())};
  if (now - last > 2 * options_.wait_time + std::chrono::seconds(60)) {
    return "stalled: the queue loop has not completed an iteration for " +
           std::to_string(static_cast<int64_t>(Seconds(now - last))) + " s";
  }
  const Duration in_flight = DecisionInFlight();
  if (in_flight > options_.decision_stuck_after) {
    return "stalled: a decision has been in flight for " +
           std::to_string(static_cast<int64_t>(Seconds(in_flight))) + " s (the drains go on)";
  }
  return "";
}

Duration ControllerLoop::DecisionInFlight() const {
  const int64_t began = decision_began_ns_.load();
  if (began == kNoDecision) return Duration::zero();
  return std::max(Duration::zero(), clock_.MonotonicNow() - MonoTime{Duration(began)});
}

void ControllerLoop::RecordScrapeGauges() {
  metrics_.Set(kDecisionInFlight, {}, Seconds(DecisionInFlight()));
}

void ControllerLoop::Run(const std::atomic<bool>& stop) {
  log::Info("controller started",
            {{"queue", queue_.name()},
             {"wait_time_s", std::to_string(Seconds(options_.wait_time))},
             {"reconcile_interval_s", std::to_string(Seconds(options_.reconcile_interval))},
             {"decisions", decision_ ? "beside the drains" : "inline"}});
  while (!stop.load()) {
    // The last line: whatever escapes one round is logged and the loop goes on
    // serving (the messages of the round are still in the queue).
    Status threw = Guard("serving the queue", [&] { RunOnce(); });
    if (!threw.ok()) clock_.SleepFor(options_.receive_error_backoff);
  }
  (void)Guard("stopping", [&] { Stop(); });
  log::Info("controller stopping");
}

void ControllerLoop::Stop() {
  if (!decision_) {
    Flush();
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

size_t ControllerLoop::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.size();
}

void ControllerLoop::WaitForDecisions() {
  if (!decision_) {
    Flush();
    return;
  }
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [&] {
    return (pending_.empty() && recorded_.empty() && !reconcile_due_ && !busy_) || finished_;
  });
}

void ControllerLoop::RunOnce() {
  MonoTime now = clock_.MonotonicNow();
  if (now >= next_reconcile_) {
    if (decision_) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        reconcile_due_ = true;
      }
      wake_.notify_one();
    } else {
      Flush();
      Reconcile(handler_);
    }
    next_reconcile_ = now + options_.reconcile_interval;
    now = clock_.MonotonicNow();
  }
  ExtendVisibility();
  Duration until_reconcile = next_reconcile_ > now ? next_reconcile_ - now : Duration::zero();
  Duration wait = Min(options_.wait_time, CeilSeconds(until_reconcile));
  if (const MonoTime extend = NextExtension(); extend != MonoTime::max()) {
    wait = Min(wait, extend > now ? CeilSeconds(extend - now) : Duration::zero());
  }
  if (wait < std::chrono::seconds(1)) wait = std::chrono::seconds(1);
  if (!decision_) {
    // A decision waiting for the burst to end: only look for more that are there now.
    std::lock_guard<std::mutex> lock(mu_);
    if (!pending_.empty() || !recorded_.empty()) wait = Duration::zero();
  }
  received_at_ = clock_.MonotonicNow();
  auto received = queue_.Receive(options_.max_messages, wait, options_.visibility_timeout);
  if (!received.ok()) {
    metrics_.Add(kReceiveErrors, {});
    ++receive_failures_;
    Duration backoff = options_.receive_error_backoff;
    for (int i = 1; i < receive_failures_ && backoff < std::chrono::seconds(20); ++i) backoff *= 2;
    backoff = Min(backoff, std::chrono::seconds(20));
    log::Error("queue receive failed", {{"queue", queue_.name()},
                                        {"error", received.status().ToString()},
                                        {"retry_in_s", std::to_string(Seconds(backoff))}});
    Flush();
    clock_.SleepFor(backoff);
  } else {
    receive_failures_ = 0;
    const bool more_waiting = static_cast<int>(received->size()) == options_.max_messages;
    Admit(*received, more_waiting);
  }
  last_progress_ns_.store(clock_.MonotonicNow().time_since_epoch().count());
}

MessageOutcome ControllerLoop::HandleMessage(const QueueMessage& message) {
  return HandleMessages({message}).front();
}

std::vector<MessageOutcome> ControllerLoop::HandleMessages(
    const std::vector<QueueMessage>& messages) {
  received_at_ = clock_.MonotonicNow();
  return Admit(messages, false);
}

MonoTime ControllerLoop::NextExtension() const {
  std::lock_guard<std::mutex> lock(mu_);
  MonoTime next = MonoTime::max();
  for (const std::vector<Pending>* list : {&pending_, &in_flight_}) {
    for (const Pending& p : *list) next = std::min(next, p.extend_at);
  }
  return next;
}

void ControllerLoop::ExtendVisibility() {
  const Duration visibility = options_.visibility_timeout;
  const MonoTime now = clock_.MonotonicNow();
  std::vector<QueueMessage> due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::vector<Pending>* list : {&pending_, &in_flight_}) {
      for (const Pending& p : *list) {
        if (p.extend_at <= now) due.push_back(p.message);
      }
    }
  }
  if (due.empty()) return;
  // Outside the lock: the decision thread goes on meanwhile. A message it
  // deletes meanwhile fails here (its receipt handle is gone) and is no
  // failure; one it left for redelivery with a backoff gets the full
  // visibility instead, a later retry and no harm.
  std::vector<Status> changed = queue_.ChangeVisibilityBatch(due, visibility);
  const MonoTime after = clock_.MonotonicNow();
  std::vector<bool> waiting(due.size(), false);  // still waiting, under that handle
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t k = 0; k < due.size(); ++k) {
      // Kept for as long as the call promised, counted from before it; a
      // failure is tried again soon (a message received again meanwhile
      // carries a new receipt handle and its own time).
      const MonoTime next = changed[k].ok() ? now + visibility / 2
                                            : after + Min(visibility / 2, std::chrono::seconds(5));
      for (std::vector<Pending>* list : {&pending_, &in_flight_}) {
        for (Pending& p : *list) {
          if (p.message.id == due[k].id && p.message.receipt_handle == due[k].receipt_handle) {
            p.extend_at = next;
            waiting[k] = true;
          }
        }
      }
    }
  }
  int ok = 0;
  int failed = 0;
  for (size_t k = 0; k < due.size(); ++k) {
    if (changed[k].ok()) {
      ++ok;
    } else if (waiting[k]) {
      ++failed;
      log::Warn(
          "could not keep a message waiting for its decision invisible: it may be "
          "received again",
          {{"queue_message_id", due[k].id},
           {"receive_count", std::to_string(due[k].receive_count)},
           {"error", changed[k].ToString()}});
    }
  }
  if (ok > 0) {
    metrics_.Add(kExtensions, {{"result", "ok"}}, ok);
    log::Debug("messages waiting for their decision kept invisible",
               {{"messages", std::to_string(ok)}, {"for_s", std::to_string(Seconds(visibility))}});
  }
  if (failed > 0) metrics_.Add(kExtensions, {{"result", "failed"}}, failed);
}

std::vector<MessageOutcome> ControllerLoop::Admit(const std::vector<QueueMessage>& messages,
                                                  bool more_waiting) {
  std::vector<MessageOutcome> outcomes(messages.size(), MessageOutcome::kUnsupported);
  std::vector<Event> events;
  std::vector<size_t> index;  // events[i] came from messages[index[i]]
  // (index into messages, index into pending_): messages whose outcome is
  // that of a pending entry, known when it is flushed (inline).
  std::vector<std::pair<size_t, size_t>> deferred;
  for (size_t i = 0; i < messages.size(); ++i) {
    const QueueMessage& message = messages[i];
    // The same queue message again (its visibility timeout ran out while it
    // waited for its decision): not a second notice. It keeps waiting, now
    // under its latest receipt handle (SQS deletes with the latest).
    if (!message.id.empty()) {
      std::lock_guard<std::mutex> lock(mu_);
      bool again = false;
      for (std::vector<Pending>* list : {&pending_, &in_flight_}) {
        for (size_t p = 0; p < list->size(); ++p) {
          Pending& waiting = (*list)[p];
          if (waiting.message.id != message.id) continue;
          waiting.message.receipt_handle = message.receipt_handle;
          waiting.message.receive_count = message.receive_count;
          waiting.extend_at = received_at_ + options_.visibility_timeout / 2;
          if (list == &pending_) deferred.emplace_back(i, p);
          again = true;
          break;
        }
        if (again) break;
      }
      if (again) {
        log::Info("message received again while waiting for its decision",
                  {{"queue_message_id", message.id},
                   {"receive_count", std::to_string(message.receive_count)}});
        outcomes[i] = MessageOutcome::kDeferred;
        continue;
      }
    }
    auto event = ParseEvent(message.body);
    if (!event.ok()) {
      // Left in the queue: after maxReceiveCount receives, its redrive policy
      // moves it to the dead-letter queue, where a person can look at it.
      log::Warn("message not handled: unsupported, left for the dead-letter queue",
                {{"message_id", message.id},
                 {"receive_count", std::to_string(message.receive_count)},
                 {"error", event.status().message()},
                 {"body", message.body.substr(0, 200)}});
      metrics_.Add(kMessages, {{"outcome", MessageOutcomeName(MessageOutcome::kUnsupported)}});
      continue;
    }
    metrics_.Add(kEvents, {{"kind", EventKindName(event->kind)}, {"source", event->source}});
    if (event->kind == EventKind::kNotice) {
      metrics_.Add(kNotices, {{"kind", policy::NoticeKindName(event->notice_kind)},
                              {"source", event->source}});
    }
    events.push_back(*std::move(event));
    index.push_back(i);
  }
  if (!events.empty()) {
    AdmitReport admit;
    if (Status threw = Guard("admitting a batch", [&] { admit = handler_.Admit(events); });
        !threw.ok()) {
      // A handling that threw is a failed handling: the messages stay in the
      // queue, for redelivery and in the end the dead-letter queue.
      for (size_t i = 0; i < events.size(); ++i) {
        outcomes[index[i]] = Finish(queue_, messages[index[i]], events[i], threw, false);
      }
      return outcomes;
    }
    std::set<std::string> recorded;  // instances whose notice this Admit recorded
    for (const RecordResult& r : admit.recorded) {
      if (r.status.ok()) recorded.insert(r.instance_ids.begin(), r.instance_ids.end());
    }
    HandleReport fast;
    fast.fast_path = std::move(admit.fast_path);
    fast.fast_path_recorded = std::move(admit.recorded);
    std::vector<std::pair<const Event*, const QueueMessage*>> admitted;
    for (size_t i = 0; i < events.size(); ++i) {
      if (admit.duplicate[i] || !admit.refused[i].empty()) continue;
      admitted.emplace_back(&events[i], &messages[index[i]]);
    }
    RecordReport(handler_, fast, admitted);
    std::vector<Event> done;         // recorded in AWS: handled
    std::vector<Pending> to_decide;  // for a decision
    std::vector<size_t> at_once;     // into events: deleted now, together
    for (size_t i = 0; i < events.size(); ++i) {
      const QueueMessage& message = messages[index[i]];
      if (!admit.refused[i].empty()) {
        outcomes[index[i]] = Refuse(queue_, message, events[i], admit.refused[i]);
      } else if (admit.duplicate[i]) {
        at_once.push_back(i);
      } else if (events[i].kind == EventKind::kNotice && !events[i].instance_id.empty() &&
                 recorded.count(events[i].instance_id) > 0) {
        // Its notice is in AWS: every later decision counts it. Its job is done.
        at_once.push_back(i);
        done.push_back(events[i]);
      } else {
        outcomes[index[i]] = MessageOutcome::kDeferred;
        to_decide.push_back({message, events[i], received_at_ + options_.visibility_timeout / 2});
        deferred.emplace_back(index[i], 0);  // position fixed below
      }
    }
    if (!at_once.empty()) {
      std::vector<QueueMessage> batch;
      for (size_t i : at_once) batch.push_back(messages[index[i]]);
      std::vector<Status> deleted = queue_.DeleteBatch(batch);
      for (size_t k = 0; k < at_once.size(); ++k) {
        const size_t i = at_once[k];
        outcomes[index[i]] = Deleted(messages[index[i]], events[i], deleted[k], admit.duplicate[i]);
      }
    }
    handler_.Commit(done);
    if (decision_) {
      // Decided by the decision side's Handler, which admits them itself: a
      // redelivery must find them not admitted here.
      std::vector<Event> handed;
      for (const Pending& p : to_decide) handed.push_back(p.event);
      handler_.Abandon(handed);
    }
    if (!to_decide.empty() || !done.empty()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (pending_.empty() && recorded_.empty()) pending_since_ = clock_.MonotonicNow();
      size_t d = deferred.size() - to_decide.size();
      for (Pending& p : to_decide) {
        deferred[d++].second = pending_.size();
        pending_.push_back(std::move(p));
      }
      recorded_.insert(recorded_.end(), done.begin(), done.end());
    }
    if (decision_ && (!to_decide.empty() || !done.empty())) wake_.notify_one();
  }
  if (decision_) return outcomes;
  size_t waiting = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    waiting = pending_.size() + recorded_.size();
  }
  const bool wait = more_waiting && waiting > 0 &&
                    static_cast<int>(waiting) < options_.coalesce_messages &&
                    clock_.MonotonicNow() - pending_since_ < options_.coalesce_window;
  if (wait) {
    log::Debug("burst: decision deferred", {{"waiting", std::to_string(waiting)}});
    return outcomes;
  }
  std::vector<MessageOutcome> flushed = Flush();  // in pending_ order
  for (const auto& [message, pending] : deferred) {
    if (pending < flushed.size()) outcomes[message] = flushed[pending];
  }
  return outcomes;
}

std::vector<MessageOutcome> ControllerLoop::Flush() {
  if (decision_) return {};
  std::vector<Pending> pending;
  std::vector<Event> recorded;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.empty() && recorded_.empty()) return {};
    pending = std::move(pending_);
    pending_.clear();
    recorded = std::move(recorded_);
    recorded_.clear();
  }
  return Decide(handler_, queue_, pending, recorded, true);
}

std::vector<MessageOutcome> ControllerLoop::Decide(Handler& handler, MessageQueue& queue,
                                                   const std::vector<Pending>& pending,
                                                   const std::vector<Event>& recorded,
                                                   bool admitted) {
  ++decisions_;
  std::vector<MessageOutcome> outcomes;
  std::vector<Event> events;  // to settle
  for (const Pending& p : pending) events.push_back(p.event);
  HandleReport report;
  std::vector<bool> duplicate(pending.size(), false);
  std::vector<std::string> refused(pending.size());
  Status status = Status::Ok();
  if (!admitted && !pending.empty()) {
    // The decision side's Handler admits them itself (drains what is still
    // ACTIVE, records what is not recorded yet).
    AdmitReport admit;
    status = Guard("admitting a batch", [&] { admit = handler.Admit(events); });
    if (status.ok()) {
      duplicate = admit.duplicate;
      refused = admit.refused;
      report.fast_path = std::move(admit.fast_path);
      report.fast_path_recorded = std::move(admit.recorded);
    }
    events.clear();
    for (size_t i = 0; i < pending.size(); ++i) {
      if (status.ok() && !duplicate[i] && refused[i].empty()) events.push_back(pending[i].event);
    }
  }
  // The notices recorded by the drain path: counted from AWS by any decision;
  // named here so that their clusters and fleets are read too.
  events.insert(events.end(), recorded.begin(), recorded.end());
  if (status.ok()) {
    HandleReport settled;
    status = Guard("settling a batch", [&] { settled = handler.Settle(events); });
    settled.fast_path = std::move(report.fast_path);
    settled.fast_path_recorded = std::move(report.fast_path_recorded);
    report = std::move(settled);
  }
  std::vector<std::pair<const Event*, const QueueMessage*>> settled;
  for (size_t i = 0; i < pending.size(); ++i) {
    if (!duplicate[i] && refused[i].empty()) {
      settled.emplace_back(&pending[i].event, &pending[i].message);
    }
  }
  if (status.ok()) {
    RecordReport(handler, report, settled);
    status = report.status();
  }
  if (pending.empty() && !status.ok()) {
    log::Warn("decision incomplete, retried at the next decision or reconcile",
              {{"error", status.message()}});
  }
  // The latest receipt handles (a message may have been received again meanwhile).
  std::vector<QueueMessage> messages;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Pending& p : pending) {
      messages.push_back(p.message);
      for (const Pending& f : in_flight_) {
        if (f.message.id == p.message.id) messages.back() = f.message;
      }
    }
  }
  for (size_t i = 0; i < pending.size(); ++i) {
    if (!refused[i].empty()) {
      outcomes.push_back(Refuse(queue, messages[i], pending[i].event, refused[i]));
    } else {
      outcomes.push_back(Finish(queue, messages[i], pending[i].event,
                                duplicate[i] ? Status::Ok() : status, duplicate[i]));
    }
  }
  return outcomes;
}

void ControllerLoop::DecisionThread() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] {
      return stopping_ || !pending_.empty() || !recorded_.empty() || reconcile_due_;
    });
    if (pending_.empty() && recorded_.empty() && !reconcile_due_) break;  // stopping
    const bool reconcile = reconcile_due_;
    const bool decide = !pending_.empty() || !recorded_.empty();
    reconcile_due_ = false;
    in_flight_ = std::move(pending_);
    pending_.clear();
    std::vector<Event> recorded = std::move(recorded_);
    recorded_.clear();
    busy_ = true;
    std::vector<Pending> batch = in_flight_;
    lock.unlock();
    const MonoTime began = clock_.MonotonicNow();
    decision_began_ns_.store(began.time_since_epoch().count());
    // Everything below guards itself; this is the last line.
    (void)Guard("deciding", [&] {
      if (decide) Decide(decision_->handler, decision_->queue, batch, recorded, false);
      if (reconcile) Reconcile(decision_->handler);
    });
    const Duration took = clock_.MonotonicNow() - began;
    decision_began_ns_.store(kNoDecision);
    metrics_.Observe(kDecisionDuration, {}, Seconds(took));
    lock.lock();
    in_flight_.clear();
    busy_ = false;
    idle_.notify_all();
    if (options_.decision_gap > Duration::zero()) {
      // At least three times as long as the decision took: decisions take at
      // most a quarter of the time (and of the API rate the drains share), however
      // large the cluster; capped (max_decision_gap), so one very slow decision
      // does not hold the next for three times as long. The wait is on the condition variable,
      // so a stop ends it.
      const Duration gap =
          std::max(options_.decision_gap, std::min(3 * took, options_.max_decision_gap));
      wake_.wait_for(lock, gap, [&] { return stopping_; });
    }
  }
  busy_ = false;
  finished_ = true;
  idle_.notify_all();
}

MessageOutcome ControllerLoop::Refuse(MessageQueue& queue, const QueueMessage& message,
                                      const Event& event, const std::string& why) {
  // Retrying cannot change the answer: deleted at once, never walked to the
  // dead-letter queue through retries.
  const std::string id = event.message_id.empty() ? message.id : event.message_id;
  Status deleted = queue.Delete(message);
  log::Warn(deleted.ok() ? "message refused and deleted" : "message refused, delete failed",
            {{"message_id", id},
             {"queue_message_id", message.id},
             {"reason", why},
             {"error", deleted.ok() ? "" : deleted.ToString()}});
  MessageOutcome outcome = deleted.ok() ? MessageOutcome::kRefused : MessageOutcome::kDeleteFailed;
  metrics_.Add(kMessages, {{"outcome", MessageOutcomeName(outcome)}});
  return outcome;
}

MessageOutcome ControllerLoop::Finish(MessageQueue& queue, const QueueMessage& message,
                                      const Event& event, Status status, bool duplicate) {
  auto finish = [&](MessageOutcome outcome) {
    metrics_.Add(kMessages, {{"outcome", MessageOutcomeName(outcome)}});
    return outcome;
  };
  const std::string id = event.message_id.empty() ? message.id : event.message_id;
  // A duplicate is deleted whatever became of the batch: its original was
  // handled before, or is in this batch and comes back if the batch failed.
  if (!duplicate && !status.ok()) {
    const Duration backoff =
        RedeliveryDelay(options_.retry_backoff, options_.max_retry_backoff, message.receive_count);
    if (backoff > Duration::zero()) {
      Status changed = queue.ChangeVisibility(message, backoff);
      if (!changed.ok()) {
        log::Warn("could not delay the message's redelivery",
                  {{"message_id", message.id}, {"error", changed.ToString()}});
      }
    }
    log::Error("message handling failed, left for redelivery",
               {{"message_id", id},
                {"queue_message_id", message.id},
                {"receive_count", std::to_string(message.receive_count)},
                {"retry_in_s", std::to_string(Seconds(backoff))},
                {"error", status.message()}});
    return finish(MessageOutcome::kFailed);
  }
  return Deleted(message, event, queue.Delete(message), duplicate);
}

MessageOutcome ControllerLoop::Deleted(const QueueMessage& message, const Event& event,
                                       const Status& deleted, bool duplicate) {
  auto finish = [&](MessageOutcome outcome) {
    metrics_.Add(kMessages, {{"outcome", MessageOutcomeName(outcome)}});
    return outcome;
  };
  const std::string id = event.message_id.empty() ? message.id : event.message_id;
  if (!deleted.ok()) {
    log::Error("handled, but the message could not be deleted (it will come back)",
               {{"message_id", id}, {"error", deleted.ToString()}});
    return finish(MessageOutcome::kDeleteFailed);
  }
  log::Info(duplicate ? "duplicate message deleted" : "message handled and deleted",
            {{"message_id", id}, {"queue_message_id", message.id}});
  return finish(duplicate ? MessageOutcome::kDuplicate : MessageOutcome::kHandled);
}

HandleReport ControllerLoop::ReconcileNow() {
  if (!decision_) {
    Flush();
    return Reconcile(handler_);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    reconcile_due_ = true;
  }
  wake_.notify_one();
  WaitForDecisions();
  return HandleReport();
}

HandleReport ControllerLoop::Reconcile(Handler& handler) {
  ++decisions_;
  MonoTime start = clock_.MonotonicNow();
  HandleReport report;
  Status threw = Guard("reconciling", [&] { report = handler.Reconcile(); });
  Duration took = clock_.MonotonicNow() - start;
  Status status = threw;
  if (status.ok()) {
    RecordReport(handler, report, {});
    status = report.status();
  }
  metrics_.Observe(kReconcileDuration, {}, Seconds(took));
  metrics_.Add(kReconciles, {{"result", status.ok() ? "ok" : "failed"}});
  if (status.ok()) {
    log::Debug("reconciled", {{"took_ms", std::to_string(Seconds(took) * 1000)},
                              {"actions", std::to_string(report.actions.size())}});
  } else {
    log::Warn("reconcile incomplete, retried next interval", {{"error", status.message()}});
  }
  return report;
}

void ControllerLoop::RecordReport(
    const Handler& handler, const HandleReport& report,
    const std::vector<std::pair<const Event*, const QueueMessage*>>& events) {
  for (const auto* list : {&report.fast_path, &report.actions}) {
    for (const ActionResult& r : *list) {
      metrics_.Add(kActions, {{"action", policy::ActionName(r.action.what)},
                              {"result", ActionResultName(r)}});
    }
  }
  int drained = DrainedCount(report.fast_path) + DrainedCount(report.actions);
  if (drained > 0) metrics_.Add(kDrains, {}, drained);
  // A noticed instance's drain: the fast path's for an event naming its
  // container instance; the decision's for one that does not (EventBridge).
  std::set<std::string> fast_drained;
  for (const ActionResult& r : report.fast_path) {
    const auto* drain = std::get_if<policy::DrainContainerInstances>(&r.action.what);
    if (drain && r.applied) {
      fast_drained.insert(drain->container_instance_arns.begin(),
                          drain->container_instance_arns.end());
    }
  }
  const bool decision_drained = DrainedCount(report.actions) > 0;
  for (const auto& [event, message] : events) {
    if (event->kind != EventKind::kNotice) continue;
    const bool drained_now = event->ecs_container.empty()
                                 ? decision_drained
                                 : fast_drained.count(event->ecs_container) > 0;
    if (!drained_now) continue;
    std::optional<WallTime> since = event->notice_time;
    if (!since && message) since = message->sent_time;
    if (since) {
      Duration latency = clock_.WallNow() - *since;
      metrics_.Observe(kLatency, {}, std::max(0.0, Seconds(latency)));
    }
  }
  if (report.decision) {
    if (report.decision->shortfall) {
      metrics_.Set(kShortfall, {}, report.decision->shortfall->addable_units());
    }
    if (report.decision->on_demand_needed) {
      metrics_.Set(kOnDemandNeeded, {}, *report.decision->on_demand_needed);
    }
    for (const policy::Skip& skip : report.decision->skipped) {
      metrics_.Add(kSkipped, {{"part", skip.part}});
    }
  }
  if (auto desired = handler.on_demand_desired()) metrics_.Set(kOnDemandDesired, {}, *desired);
  // Also with no pair left: a searched cluster's last tagged pair is gone.
  RecordFallback(metrics_, report.fallback, report.fallback_searched);
}

void RecordFallback(MetricsRegistry& m, const std::vector<FallbackOutcome>& outcomes,
                    const std::vector<std::string>& searched) {
  std::set<MetricLabels> present;
  for (const FallbackOutcome& o : outcomes) {
    const policy::FallbackDecision& d = o.decision;
    const MetricLabels pair = {
        {"cluster", d.cluster}, {"primary", d.primary}, {"shadow", d.shadow}};
    present.insert(pair);
    if (d.skipped || !o.update.ok() || !o.tag.ok()) {
      m.Add(kFallbackFailures, {{"cluster", d.cluster}, {"primary", d.primary}});
      if (d.skipped) continue;  // nothing new is known
    }
    m.Set(kFallbackTasks, pair, o.updated ? d.desired : o.shadow_was);
    m.Set(kFallbackStuck, pair, d.stuck);
    m.Set(kFallbackShortage, pair, d.confirmed);
  }
  for (const MetricLabels& pair : m.SeriesOf(kFallbackTasks)) {
    if (present.count(pair) || pair.empty() || pair.front().first != "cluster") continue;
    if (std::find(searched.begin(), searched.end(), pair.front().second) == searched.end()) {
      continue;  // its cluster was not searched: nothing new is known
    }
    for (const char* gauge : {kFallbackTasks, kFallbackStuck, kFallbackShortage}) {
      m.Remove(gauge, pair);
    }
  }
}

}  // namespace spk::controller
