#include "agent/watcher.h"

#include <algorithm>
#include <cctype>

#include "base/log.h"
#include "base/strings.h"

namespace spk::agent {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

std::string Ms(Duration d) { return std::to_string(duration_cast<milliseconds>(d).count()) + "ms"; }

// base * 2^(n-1), capped at `cap` (n >= 1).
Duration Exponential(Duration base, int64_t n, Duration cap) {
  Duration d = base;
  for (int64_t i = 1; i < n && d < cap; ++i) d *= 2;
  return std::min(d, cap);
}

}  // namespace

Watcher::Watcher(cloud::Metadata& metadata, cloud::EcsAgentIntrospection& ecs_agent,
                 std::vector<cloud::Notifier*> sinks, cloud::ContainerInstances* ecs, Clock& clock,
                 Random& random, WatcherOptions options)
    : metadata_(metadata),
      ecs_agent_(ecs_agent),
      sinks_(std::move(sinks)),
      ecs_(ecs),
      clock_(clock),
      random_(random),
      options_(std::move(options)) {}

Duration Watcher::Jitter(Duration d) {
  return duration_cast<Duration>(d * (0.5 + 0.5 * random_.Uniform()));
}

Duration Watcher::DeliveryBackoff(const Task& task) {
  const Duration cap = !task.deadline && task.attempts >= 10 ? options_.undated_backoff_max
                                                             : options_.delivery_backoff_max;
  return Jitter(Exponential(options_.delivery_backoff_base, task.attempts, cap));
}

void Watcher::Run(const std::atomic<bool>& stop) {
  std::string sinks;
  for (auto* s : sinks_) sinks += (sinks.empty() ? "" : ",") + s->name();
  log::Info("agent started", {{"metadata", metadata_.Describe()},
                              {"sinks", sinks},
                              {"poll_interval", Ms(options_.poll_interval)},
                              {"slow_poll_interval", Ms(options_.slow_poll_interval)},
                              {"drain", options_.drain ? "true" : "false"},
                              {"version", options_.agent_version}});
  while (!stop.load()) {
    Duration wait = Step();
    SleepUntil(clock_.MonotonicNow() + wait, stop);
  }
  log::Info("agent stopped", {{"pending_deliveries", std::to_string(tasks_.size())}});
}

void Watcher::SleepUntil(MonoTime t, const std::atomic<bool>& stop) {
  while (!stop.load()) {
    Duration remaining = t - clock_.MonotonicNow();
    if (remaining <= Duration::zero()) return;
    clock_.SleepFor(std::min(remaining, options_.max_sleep_slice));
  }
}

Duration Watcher::Step() {
  MonoTime now = clock_.MonotonicNow();
  if (!started_) {
    started_ = true;
    next_fast_ = next_slow_ = lifecycle_next_ = now;
    (void)Identity();  // best effort: the notice path then needs no extra read
  }
  if (now >= next_fast_) Poll(now);
  MaybeSetLifecycle(clock_.MonotonicNow());
  RunDueTasks(clock_.MonotonicNow());

  MonoTime next = next_fast_;
  if (options_.lifecycle_attribute && ecs_ && !lifecycle_done_)
    next = std::min(next, lifecycle_next_);
  for (const auto& t : tasks_) next = std::min(next, t.next_at);
  Duration wait = next - clock_.MonotonicNow();
  return std::max(wait, Duration::zero());
}

Status Watcher::PollNotices(bool include_slow, std::vector<Notice>* notices) {
  Status first;
  auto note = [&first](const Status& s) {
    if (first.ok()) first = s;
  };
  bool action_missing = false;
  auto action = metadata_.Get(cloud::kInstanceActionPath);
  if (action.ok()) {
    auto n = ParseInstanceAction(*action);
    if (n.ok())
      notices->push_back(std::move(n).value());
    else
      note(n.status());
  } else if (action.status().code() == StatusCode::kNotFound) {
    action_missing = true;
  } else {
    note(action.status());
  }
  if (!include_slow) return first;

  if (action_missing) {
    // Older instances serve only the legacy path.
    auto legacy = metadata_.Get(cloud::kTerminationTimePath);
    if (legacy.ok()) {
      auto n = ParseTerminationTime(*legacy);
      if (n.ok())
        notices->push_back(std::move(n).value());
      else
        note(n.status());
    } else if (legacy.status().code() != StatusCode::kNotFound) {
      note(legacy.status());
    }
  }
  auto rebalance = metadata_.Get(cloud::kRebalancePath);
  if (rebalance.ok()) {
    auto n = ParseRebalance(*rebalance);
    if (n.ok())
      notices->push_back(std::move(n).value());
    else
      note(n.status());
  } else if (rebalance.status().code() != StatusCode::kNotFound) {
    note(rebalance.status());
  }
  auto scheduled = metadata_.Get(cloud::kScheduledEventsPath);
  if (scheduled.ok()) {
    auto events = ParseScheduledEvents(*scheduled);
    if (events.ok()) {
      for (auto& e : *events) notices->push_back(std::move(e));
    } else {
      note(events.status());
    }
  } else if (scheduled.status().code() != StatusCode::kNotFound) {
    note(scheduled.status());
  }
  return first;
}

void Watcher::Poll(MonoTime now) {
  const bool slow = now >= next_slow_;
  std::vector<Notice> notices;
  Status error = PollNotices(slow, &notices);
  for (const auto& n : notices) {
    if (seen_.count(n.DedupKey())) continue;
    auto message = Compose(n);
    if (!message.ok()) {
      if (error.ok()) error = message.status().WithContext("notice seen, message not built");
      continue;  // not marked seen: tried again on the next poll
    }
    HandleNotice(n, *message, now);
  }
  ++stats_.polls;
  OnPollResult(error, now, slow);
}

void Watcher::OnPollResult(const Status& error, MonoTime now, bool slow_polled) {
  if (error.ok()) {
    if (streak_errors_ > 0) {
      log::Info("metadata error streak ended",
                {{"errors", std::to_string(streak_errors_)}, {"lasted", Ms(now - streak_began_)}});
      streak_errors_ = 0;
    }
    next_fast_ = now + options_.poll_interval;
    if (slow_polled) next_slow_ = now + options_.slow_poll_interval;
    return;
  }
  ++stats_.poll_errors;
  if (streak_errors_ == 0) {
    ++stats_.error_streaks;
    streak_began_ = now;
    log::Warn("metadata error streak began", {{"error", error.ToString()}});
  }
  ++streak_errors_;
  Duration backoff =
      Jitter(Exponential(options_.error_backoff_base, streak_errors_, options_.poll_interval));
  next_fast_ = now + backoff;
  if (slow_polled) next_slow_ = now + backoff;
}

void Watcher::HandleNotice(const Notice& notice, const Message& message, MonoTime now) {
  seen_.insert(notice.DedupKey());
  ++stats_.notices;
  log::Info("notice seen", {{"kind", NoticeKindName(notice.kind)},
                            {"action", notice.action},
                            {"notice_time", notice.time},
                            {"message_id", message.id}});
  for (auto* sink : sinks_) {
    tasks_.push_back(
        {"publish", sink, message, NoticeKindName(notice.kind), notice.deadline, now, 0});
  }
  if (notice.kind == NoticeKind::kSpotInterruption && options_.drain) {
    const std::string cluster = message.json.value("ecsCluster", "");
    const std::string arn = message.json.value("ecsContainer", "");
    if (!ecs_ || cluster.empty() || arn.empty()) {
      log::Error(
          "cannot drain: container instance unknown (ECS agent not reachable) or no AWS "
          "session",
          {{"message_id", message.id}});
    } else {
      tasks_.push_back(
          {"drain", nullptr, message, NoticeKindName(notice.kind), notice.deadline, now, 0});
    }
  }
}

void Watcher::RunDueTasks(MonoTime now) {
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    if (it->next_at <= now && Attempt(*it)) {
      it = tasks_.erase(it);
    } else {
      ++it;
    }
  }
}

bool Watcher::Attempt(Task& task) {
  const std::string target = task.what == "drain"
                                 ? "ecs:" + task.message.json.value("ecsContainer", "")
                                 : task.sink->name();
  if (task.attempts > 0 && task.deadline && clock_.WallNow() > *task.deadline) {
    ++stats_.deliveries_abandoned;
    log::Error("delivery abandoned: the termination time passed",
               {{"target", target},
                {"message_id", task.message.id},
                {"attempts", std::to_string(task.attempts)}});
    return true;
  }
  ++task.attempts;
  Status st;
  if (task.what == "drain") {
    st = ecs_->Drain(task.message.json.value("ecsCluster", ""),
                     task.message.json.value("ecsContainer", ""));
  } else {
    st = task.sink->Publish(task.message.body, task.message.id);
  }
  if (st.ok()) {
    if (task.what == "drain") {
      ++stats_.drains;
      log::Info("container instance draining",
                {{"target", target}, {"message_id", task.message.id}});
    } else {
      ++stats_.deliveries;
      log::Info("published", {{"sink", target},
                              {"kind", task.kind},
                              {"message_id", task.message.id},
                              {"attempts", std::to_string(task.attempts)}});
    }
    return true;
  }
  ++stats_.delivery_failures;
  // The first failure, then every 10th, so a sink that stays broken stays visible.
  if (task.attempts % 10 == 1) {
    log::Warn("delivery failed, retrying", {{"target", target},
                                            {"message_id", task.message.id},
                                            {"attempts", std::to_string(task.attempts)},
                                            {"error", st.ToString()}});
  }
  task.next_at = clock_.MonotonicNow() + DeliveryBackoff(task);
  return false;
}

void Watcher::MaybeSetLifecycle(MonoTime now) {
  if (!options_.lifecycle_attribute || !ecs_ || lifecycle_done_ || now < lifecycle_next_) return;
  auto retry = [&](const std::string& why, const Status& st) {
    if (lifecycle_attempts_ == 0) {
      log::Warn("lifecycle attribute not set yet, will retry",
                {{"reason", why}, {"error", st.ToString()}});
    }
    ++lifecycle_attempts_;
    lifecycle_next_ =
        now + Exponential(std::chrono::seconds(1), lifecycle_attempts_, std::chrono::seconds(60));
  };
  auto info = ecs_agent_.Get();
  if (!info.ok()) return retry("ECS agent not reachable", info.status());
  ecs_info_ = *info;
  auto lifecycle = metadata_.Get(cloud::kLifecyclePath);
  if (!lifecycle.ok()) return retry("instance-life-cycle not readable", lifecycle.status());
  const std::string value = Trim(*lifecycle) == "spot" ? "spot" : "on-demand";
  Status st = ecs_->PutAttribute(info->cluster, info->container_instance_arn,
                                 options_.lifecycle_attribute_name, value);
  if (!st.ok()) return retry("ECS PutAttributes failed", st);
  lifecycle_done_ = true;
  stats_.lifecycle_set = true;
  log::Info("lifecycle attribute set", {{"name", options_.lifecycle_attribute_name},
                                        {"value", value},
                                        {"container_instance", info->container_instance_arn}});
}

Result<IdentityDocument> Watcher::Identity() {
  if (identity_) return *identity_;
  SPK_ASSIGN_OR_RETURN(std::string body, metadata_.Get(cloud::kIdentityDocumentPath));
  SPK_ASSIGN_OR_RETURN(IdentityDocument doc, ParseIdentityDocument(body));
  identity_ = doc;
  return doc;
}

cloud::EcsAgentInfo Watcher::EcsInfo(bool warn) {
  if (ecs_info_) return *ecs_info_;
  auto info = ecs_agent_.Get();
  if (info.ok()) {
    ecs_info_ = *info;
    return *info;
  }
  if (warn) {
    log::Warn("ECS agent not reachable: ecsCluster and ecsContainer left empty",
              {{"error", info.status().ToString()}});
  }
  return {};
}

Result<Message> Watcher::Compose(const Notice& notice) {
  SPK_ASSIGN_OR_RETURN(IdentityDocument identity, Identity());
  return BuildMessage(notice, identity, EcsInfo(/*warn=*/true), options_.agent_version);
}

Status Watcher::DeliverAll(const Message& message, Duration budget, const std::atomic<bool>* stop) {
  Deadline deadline(clock_, budget);
  Status result;
  for (auto* sink : sinks_) {
    for (int attempt = 1;; ++attempt) {
      Status st = sink->Publish(message.body, message.id);
      if (st.ok()) {
        ++stats_.deliveries;
        log::Info("published", {{"sink", sink->name()},
                                {"message_id", message.id},
                                {"attempts", std::to_string(attempt)}});
        break;
      }
      ++stats_.delivery_failures;
      if (attempt == 1) {
        log::Warn("delivery failed, retrying",
                  {{"target", sink->name()}, {"error", st.ToString()}});
      }
      Duration wait = std::min(Jitter(Exponential(options_.delivery_backoff_base, attempt,
                                                  options_.delivery_backoff_max)),
                               deadline.remaining());
      if (deadline.expired() || (stop && stop->load())) {
        log::Error("delivery abandoned", {{"target", sink->name()}, {"error", st.ToString()}});
        if (result.ok()) result = st.WithContext(sink->name());
        break;
      }
      std::atomic<bool> never{false};
      SleepUntil(clock_.MonotonicNow() + wait, stop ? *stop : never);
    }
  }
  return result;
}

}  // namespace spk::agent
