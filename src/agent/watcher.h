// Watcher: the agent's poll loop. Reads the notice paths from Metadata, turns
// each new notice into a message, delivers it to every sink (retrying each
// until accepted or the notice's termination time passes), drains the
// container instance on a spot interruption when asked, and sets the
// lifecycle attribute at start.
//
// Single-threaded: Step() does everything due now and says how long to wait.
// Time, sleeping and jitter come from the Clock and Random it is given, so a
// ManualClock drives it deterministically in tests.
//
// Calls never hold up polling: every delivery, drain and lifecycle attribute
// call is started (Notifier::StartPublish, ContainerInstances::Start*) and left
// running; each Step() collects those that finished. A slow or dead sink delays
// only itself: at most max_calls_in_flight calls run at once, at most
// max_calls_per_target to one sink, and spot-interruption deliveries and the
// drain are started before other notices' retries. The lifecycle attribute is
// housekeeping: it waits while a notice's first delivery is running, for at
// most lifecycle_hold_max.
//
// Errors: a notice path answering 404 (kNotFound) means no notice. Any other
// failure (timeout, 5xx, 401, a malformed body) is an error, never a notice:
// the first error of a streak is logged (warn), the streak's end is logged
// (info), and while it lasts polls back off from error_backoff_base,
// doubling, capped at poll_interval.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/message.h"
#include "agent/notice.h"
#include "base/clock.h"
#include "base/random.h"
#include "cloud/container_instances.h"
#include "cloud/metadata.h"
#include "cloud/notifier.h"
#include "cloud/pending_call.h"

namespace spk::agent {

struct WatcherOptions {
  // spot/instance-action, the notice with a two-minute deadline.
  Duration poll_interval = std::chrono::milliseconds(200);
  // rebalance recommendation, scheduled events and the legacy
  // spot/termination-time (read only while instance-action answers 404).
  Duration slow_poll_interval = std::chrono::seconds(2);
  Duration error_backoff_base = std::chrono::milliseconds(25);
  // Delivery retries: from base, doubling, capped at max, with jitter.
  Duration delivery_backoff_base = std::chrono::milliseconds(100);
  Duration delivery_backoff_max = std::chrono::seconds(5);
  // Notices without a termination time (rebalance, scheduled maintenance) are
  // retried until accepted, however long that takes: from the 10th attempt
  // on, at most once a minute (each attempt is a child process).
  Duration undated_backoff_max = std::chrono::seconds(60);
  // The longest single sleep in Run(), so a stop request is seen promptly;
  // as long as the poll interval, so that idle polling wakes once per poll.
  Duration max_sleep_slice = std::chrono::milliseconds(200);
  // Concurrent calls (children of spotkeeper-watch, ~16 MB each while they
  // run): at most this many at once, at most max_calls_per_target to one sink
  // or to ECS, so that a dead sink with several notices cannot take every slot.
  int max_calls_in_flight = 8;
  int max_calls_per_target = 2;
  // While calls run, Step() is due at least this often to collect them.
  Duration call_check_interval = std::chrono::milliseconds(20);
  // The lifecycle attribute is not started while a notice's first delivery is
  // running (or waiting for a slot), for at most this long: a dead sink's
  // first try (5 s, 15 s) must not hold it up for good.
  Duration lifecycle_hold_max = std::chrono::seconds(1);
  // On stop, calls still running get this long to finish; then they are
  // cancelled (their child process is killed with its process group).
  Duration stop_grace = std::chrono::seconds(2);
  bool drain = false;               // --drain
  bool lifecycle_attribute = true;  // set spotkeeper.lifecycle at start
  std::string lifecycle_attribute_name = "spotkeeper.lifecycle";
  std::string agent_version = "0.0.0";
};

// What the watcher did, for tests and logs.
struct WatcherStats {
  int64_t polls = 0;                 // Step()s that read metadata
  int64_t poll_errors = 0;           // polls with at least one error
  int64_t error_streaks = 0;         // streaks begun
  int64_t notices = 0;               // distinct notices seen
  int64_t deliveries = 0;            // (message, sink) pairs accepted
  int64_t delivery_failures = 0;     // failed attempts
  int64_t deliveries_abandoned = 0;  // given up at the deadline
  int64_t drains = 0;                // drains accepted
  int64_t calls_cancelled = 0;       // calls still running after the stop grace
  int max_calls_in_flight = 0;       // the most calls that ran at once
  bool lifecycle_set = false;
};

class Watcher {
 public:
  // Everything must outlive the watcher. `ecs` may be null when neither
  // --drain nor the lifecycle attribute can be used (no AWS session).
  Watcher(cloud::Metadata& metadata, cloud::EcsAgentIntrospection& ecs_agent,
          std::vector<cloud::Notifier*> sinks, cloud::ContainerInstances* ecs, Clock& clock,
          Random& random, WatcherOptions options);

  // Polls until `stop` becomes true (checked at least every max_sleep_slice),
  // then gives the calls still running up to stop_grace and cancels the rest.
  void Run(const std::atomic<bool>& stop);

  // Does what is due now (polls, deliveries, drain, lifecycle attribute);
  // returns how long to wait before the next Step().
  Duration Step();

  // The message for `notice` as it would be sent now: reads the identity
  // document (kUnavailable etc. when IMDS does not answer) and the ECS agent
  // (empty fields with a warning when it does not answer).
  Result<Message> Compose(const Notice& notice);

  // Reads every notice path once. Fills `notices` (possibly empty); the
  // first error, if any path failed with anything but 404.
  Status PollNotices(bool include_slow, std::vector<Notice>* notices);

  // Delivers `message` to every sink, retrying each with backoff until all
  // accepted, `budget` passes or `stop` is set; ok when all accepted.
  Status DeliverAll(const Message& message, Duration budget, const std::atomic<bool>* stop);

  // Waits up to stop_grace for the calls still running, then cancels them.
  void Shutdown();

  const WatcherStats& stats() const { return stats_; }
  bool in_error_streak() const { return streak_errors_ > 0; }
  // Calls started and not yet finished.
  int calls_in_flight() const;

 private:
  enum class TaskKind { kPublish, kDrain };
  struct Task {
    TaskKind what = TaskKind::kPublish;
    cloud::Notifier* sink = nullptr;  // kPublish only
    Message message;
    std::string kind;
    std::optional<WallTime> deadline;
    MonoTime next_at;
    int attempts = 0;
    std::unique_ptr<cloud::PendingCall> call;  // the attempt running now
    bool done = false;                         // accepted or abandoned: to be removed
  };

  void Poll(MonoTime now);
  void OnPollResult(const Status& error, MonoTime now, bool slow_polled);
  void HandleNotice(const Notice& notice, const Message& message, MonoTime now);
  // Collects the calls that finished.
  void CollectFinished();
  // Starts the tasks due at `now`, within the limits, urgent ones first.
  void StartDueTasks(MonoTime now);
  void StartAttempt(Task& task);
  void FinishAttempt(Task& task, const Status& st);  // sets task.done or the next try
  std::string Target(const Task& task) const;
  bool NoticeFirstAttemptPending() const;
  void MaybeSetLifecycle(MonoTime now);
  void FinishLifecycle(const Status& st, MonoTime now);
  void RetryLifecycle(const std::string& why, const Status& st, MonoTime now);
  Duration NextWait();
  Result<IdentityDocument> Identity();
  cloud::EcsAgentInfo EcsInfo(bool warn);
  Duration Jitter(Duration d);  // d scaled by [0.5, 1)
  Duration DeliveryBackoff(const Task& task);
  void SleepUntil(MonoTime t, const std::atomic<bool>& stop);

  cloud::Metadata& metadata_;
  cloud::EcsAgentIntrospection& ecs_agent_;
  std::vector<cloud::Notifier*> sinks_;
  cloud::ContainerInstances* ecs_;
  Clock& clock_;
  Random& random_;
  WatcherOptions options_;

  bool started_ = false;
  MonoTime next_fast_{};
  MonoTime next_slow_{};
  // Error streak.
  int64_t streak_errors_ = 0;
  MonoTime streak_began_{};
  // Notices already handled (Notice::DedupKey()).
  std::set<std::string> seen_;
  std::vector<Task> tasks_;
  std::optional<IdentityDocument> identity_;
  std::optional<cloud::EcsAgentInfo> ecs_info_;
  // Lifecycle attribute: retried with backoff until set.
  bool lifecycle_done_ = false;
  int lifecycle_attempts_ = 0;
  MonoTime lifecycle_next_{};
  std::unique_ptr<cloud::PendingCall> lifecycle_call_;
  std::optional<MonoTime> lifecycle_held_since_;  // held back behind notices
  std::string lifecycle_value_;                   // of the call running
  std::string lifecycle_arn_;
  WatcherStats stats_;
};

}  // namespace spk::agent
