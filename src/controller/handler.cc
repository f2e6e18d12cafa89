#include "controller/handler.h"

#include <algorithm>
#include <charconv>
#include <sstream>
#include <utility>

#include "base/log.h"
#include "policy/drain_planner.h"
#include "policy/units.h"

namespace spk::controller {
namespace {

using nlohmann::json;

json ToJson(const ActionResult& result) {
  json out = policy::ToJson(result.action);
  out["applied"] = result.applied;
  if (result.dry_run) out["dry_run"] = true;
  if (result.superseded) out["superseded"] = true;
  if (!result.status.ok()) out["error"] = result.status.ToString();
  return out;
}

json ToJson(const std::vector<ActionResult>& results) {
  json out = json::array();
  for (const ActionResult& r : results) out.push_back(ToJson(r));
  return out;
}

// How far ahead of now AWS dates an interruption: two minutes, plus slack for
// clock skew and delivery.
constexpr Duration kMaxTerminationAhead = std::chrono::minutes(3);

policy::Notice NoticeOf(const Event& event, WallTime now) {
  policy::Notice notice;
  notice.instance_id = event.instance_id;
  notice.instance_type = event.instance_type;
  notice.kind = event.notice_kind;
  // Clamped to what AWS can send: a notice dated in the future would keep
  // counting as lost capacity for as long as its date is ahead.
  notice.notice_time = std::min(event.notice_time.value_or(now), now);
  notice.termination_time = event.termination_time;
  if (notice.termination_time && *notice.termination_time > now + kMaxTerminationAhead &&
      notice.kind == policy::NoticeKind::kSpotInterruption) {
    notice.termination_time = now + kMaxTerminationAhead;
  }
  return notice;
}

// "web" for "web" or "arn:aws:ecs:eu-west-1:123456789012:cluster/web".
std::string ClusterName(const std::string& cluster) {
  size_t slash = cluster.rfind('/');
  return cluster.rfind("arn:", 0) == 0 && slash != std::string::npos ? cluster.substr(slash + 1)
                                                                     : cluster;
}

bool Contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

void AddUnique(const std::string& item, std::vector<std::string>* list) {
  if (!item.empty() && !Contains(*list, item)) list->push_back(item);
}

// An EC2 Fleet's id ("fleet-..."), as opposed to a Spot Fleet request's ("sfr-...").
bool IsEc2FleetId(const std::string& id) { return id.rfind("fleet-", 0) == 0; }

std::string JoinIds(const std::vector<std::string>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i == 3) return out + " and " + std::to_string(ids.size() - 3) + " more";
    out += (i ? ", " : "") + ids[i];
  }
  return out;
}

json ToJson(const StateWrite& write) {
  json out = {{"what", write.what}, {"target", write.target}};
  if (!write.instance_ids.empty()) out["instances"] = write.instance_ids;
  if (!write.status.ok()) out["error"] = write.status.ToString();
  return out;
}

// The time in an ISO 8601 attribute or tag value, at most `now`.
std::optional<WallTime> StateTime(const std::string& value, WallTime now) {
  WallTime t{};
  if (!ParseIso8601(value, &t)) return std::nullopt;
  return std::min(t, now);
}

// A notice counts (and its record is kept) until notice_retention after this:
// its notice time, or for scheduled maintenance its NotBefore when later.
WallTime RetainedFrom(const policy::Notice& notice) {
  if (notice.kind == policy::NoticeKind::kScheduledMaintenance && notice.termination_time) {
    return std::max(notice.notice_time, *notice.termination_time);
  }
  return notice.notice_time;
}

// The record of `notice`: scheduled maintenance is dated at its NotBefore.
std::string RecordOf(const policy::Notice& notice) {
  const bool dated = notice.kind == policy::NoticeKind::kScheduledMaintenance &&
                     notice.termination_time.has_value();
  return NoticeRecord(notice.kind, dated ? *notice.termination_time : notice.notice_time);
}

json ToJson(const RecordResult& result) {
  json out = {{"cluster", result.cluster}, {"instances", result.instance_ids}};
  if (!result.status.ok()) out["error"] = result.status.ToString();
  return out;
}

}  // namespace

std::string NoticeRecord(policy::NoticeKind kind, WallTime notice_time) {
  return std::string(policy::NoticeKindName(kind)) + "@" + FormatIso8601(notice_time);
}

Result<std::pair<policy::NoticeKind, WallTime>> ParseNoticeRecord(const std::string& value) {
  const size_t at = value.find('@');
  if (at == std::string::npos) {
    return InvalidArgumentError("notice record without '@': \"" + value.substr(0, 128) + "\"");
  }
  const std::string kind = value.substr(0, at);
  std::pair<policy::NoticeKind, WallTime> out;
  bool known = false;
  for (policy::NoticeKind k :
       {policy::NoticeKind::kSpotInterruption, policy::NoticeKind::kRebalanceRecommendation,
        policy::NoticeKind::kScheduledMaintenance, policy::NoticeKind::kInstanceStopping}) {
    if (kind == policy::NoticeKindName(k)) {
      out.first = k;
      known = true;
    }
  }
  if (!known) {
    return InvalidArgumentError("notice record of unknown kind: \"" + value.substr(0, 128) + "\"");
  }
  if (!ParseIso8601(value.substr(at + 1), &out.second)) {
    return InvalidArgumentError("notice record with a bad time: \"" + value.substr(0, 128) + "\"");
  }
  return out;
}

Status ValidateControllerConfig(const ControllerConfig& config) {
  SPK_RETURN_IF_ERROR(policy::ValidateConfig(config.policy));
  if (config.notice_retention < Duration::zero()) {
    return InvalidArgumentError("notice retention must not be negative");
  }
  if (config.handled_retention < Duration::zero() || config.handled_capacity < 1) {
    return InvalidArgumentError("the handled-notice memory needs a capacity and a retention");
  }
  struct FleetIds {
    const char* flag;
    const std::vector<std::string>& ids;
    const char* prefix;
    const char* what;
  };
  for (const FleetIds& f :
       {FleetIds{"--spot-fleet-id", config.spot_fleet_ids, "sfr-", "a fleet request id"},
        FleetIds{"--ec2-fleet-id", config.ec2_fleet_ids, "fleet-", "an EC2 Fleet id"}}) {
    for (const std::string& id : f.ids) {
      if (id.rfind(f.prefix, 0) != 0) {
        return InvalidArgumentError(std::string(f.flag) + " \"" + id + "\" is not " + f.what +
                                    " (" + f.prefix + "...)");
      }
    }
  }
  if (!config.on_demand_asg.empty() && Contains(config.spot_asgs, config.on_demand_asg)) {
    return InvalidArgumentError("--on-demand-asg " + config.on_demand_asg +
                                " is also a --spot-asg");
  }
  SPK_RETURN_IF_ERROR(policy::ValidateFallbackConfig(config.fallback));
  for (const FallbackPair& pair : config.fallback_pairs) {
    if (pair.cluster.empty() || pair.primary.empty() || pair.shadow.empty()) {
      return InvalidArgumentError("a fallback pair needs a cluster, a primary and a shadow");
    }
  }
  if (config.fallback_discover && config.clusters.empty()) {
    return InvalidArgumentError("--fallback-discover needs --cluster (the clusters to search)");
  }
  return Status::Ok();
}

const char* ActionResultName(const ActionResult& result) {
  if (result.applied) return "applied";
  if (result.superseded) return "superseded";
  return result.dry_run ? "dry-run" : "failed";
}

Status HandleReport::status() const {
  // A failed fast-path drain is not a failure by itself: the decision that
  // follows lists the cluster and drains every noticed instance still ACTIVE.
  for (const ActionResult& r : actions) {
    if (!r.status.ok()) {
      return UnavailableError(std::string(policy::ActionName(r.action.what)) +
                              " failed: " + r.status.ToString());
    }
  }
  // A failed fast-path record is written again by the decision's pass.
  for (const RecordResult& r : recorded) {
    if (!r.status.ok()) return UnavailableError("recording notices failed: " + r.status.ToString());
  }
  for (const StateWrite& w : state) {
    if (!w.status.ok()) {
      return UnavailableError("writing the " + w.what + " failed: " + w.status.ToString());
    }
  }
  for (const LifecycleStep& step : lifecycle) {
    if (!step.status.ok()) {
      return UnavailableError("lifecycle action " + step.what + " of " + step.instance_id + " in " +
                              step.group + " failed: " + step.status.ToString());
    }
  }
  if (decision && !decision->skipped.empty()) {
    const policy::Skip& skip = decision->skipped.front();
    return UnavailableError(skip.part + " skipped: " + skip.reason);
  }
  return Status::Ok();
}

json ToJson(const HandleReport& report) {
  json out = report.decision ? policy::ToJson(*report.decision) : json::object();
  out["event"] = report.event ? controller::ToJson(*report.event) : json();
  out["duplicate"] = report.duplicate;
  if (!report.refused.empty()) out["refused"] = report.refused;
  out["dry_run"] = report.dry_run;
  out["fast_path"] = ToJson(report.fast_path);
  out["actions"] = ToJson(report.actions);
  out["fast_path_recorded"] = json::array();
  for (const RecordResult& r : report.fast_path_recorded) {
    out["fast_path_recorded"].push_back(ToJson(r));
  }
  out["recorded"] = json::array();
  for (const RecordResult& r : report.recorded) out["recorded"].push_back(ToJson(r));
  out["state"] = json::array();
  for (const StateWrite& w : report.state) out["state"].push_back(ToJson(w));
  out["lifecycle"] = json::array();
  for (const LifecycleStep& step : report.lifecycle) out["lifecycle"].push_back(ToJson(step));
  if (!report.fallback.empty()) {
    out["fallback"] = json::array();
    for (const FallbackOutcome& o : report.fallback) out["fallback"].push_back(ToJson(o));
  }
  return out;
}

Handler::Handler(CloudView& cloud, ControllerConfig config, const Clock& clock)
    : cloud_(cloud),
      config_(std::move(config)),
      clock_(clock),
      handled_(config_.handled_capacity, config_.handled_retention),
      lifecycle_(cloud_, config_.policy.max_drain_time, config_.launch_timeout, config_.dry_run,
                 kRemovingAttribute, !config_.clusters.empty()),
      fallback_(cloud_, config_.fallback, config_.fallback_pairs, config_.fallback_discover,
                config_.spot_asgs, config_.dry_run) {}

std::vector<std::string> Handler::LifecycleGroups() const {
  std::vector<std::string> groups = config_.spot_asgs;
  AddUnique(config_.on_demand_asg, &groups);
  return groups;
}

ActionResult Handler::Run(const policy::Action& action) {
  ActionResult result{action, false, false, false, Status::Ok()};
  if (config_.dry_run) {
    result.dry_run = true;
    const std::string what = policy::Describe(action);
    // The same action on the same targets, whatever its reason says now.
    json key = policy::ToJson(action);
    key.erase("reason");
    constexpr size_t kMaxRemembered = 1000;
    if (dry_run_logged_.size() >= kMaxRemembered) dry_run_logged_.clear();
    const bool first = dry_run_logged_.insert(key.dump()).second;
    log::Write(first ? log::Level::kInfo : log::Level::kDebug, "dry run: not applied",
               {{"action", what}});
    return result;
  }
  if (const auto* set = std::get_if<policy::SetDesiredCapacity>(&action.what)) {
    // Another decider may have raised the group since it was observed: re-read
    // it just before the write, and never lower it (only the scale-in path
    // lowers, by terminating the instances it drained).
    OnDemandGroupRead current = cloud_.ReadOnDemandGroup(set->group);
    if (!current.group.read_status.ok()) {
      result.status =
          current.group.read_status.WithContext("re-reading the group before SetDesiredCapacity");
      log::Error("action failed",
                 {{"action", policy::Describe(action)}, {"status", result.status.ToString()}});
      return result;
    }
    if (current.group.desired_capacity >= set->desired) {
      result.superseded = true;
      on_demand_desired_ = current.group.desired_capacity;
      log::Info("not applied: the group already has as many (another decider raised it)",
                {{"action", policy::Describe(action)},
                 {"desired_now", std::to_string(current.group.desired_capacity)}});
      return result;
    }
  }
  result.status = cloud_.Apply(action);
  result.applied = result.status.ok();
  log::Write(result.applied ? log::Level::kInfo : log::Level::kError,
             result.applied ? "applied" : "action failed",
             {{"action", policy::Describe(action)}, {"status", result.status.ToString()}});
  return result;
}

void Handler::WarnIfOwnHost(const std::vector<std::string>& instance_ids, const char* what) const {
  if (config_.self_instance_id.empty() || !Contains(instance_ids, config_.self_instance_id)) return;
  log::Warn(what, {{"instance", config_.self_instance_id},
                   {"then",
                    "handled as any other: once DRAINING, ECS stops this task (SIGTERM; "
                    "the message in hand is finished and deleted first) and starts "
                    "the controller on another instance"}});
}

std::string Handler::Refusal(const Event& event) const {
  if (event.kind == EventKind::kLifecycleAction &&
      !Contains(LifecycleGroups(), event.lifecycle_group)) {
    return "Auto Scaling group " + event.lifecycle_group +
           " is neither --on-demand-asg nor a --spot-asg: its lifecycle hooks are not answered";
  }
  if (!event.ecs_cluster.empty() && !config_.clusters.empty()) {
    const std::string name = ClusterName(event.ecs_cluster);
    const bool configured =
        std::any_of(config_.clusters.begin(), config_.clusters.end(),
                    [&](const std::string& c) { return ClusterName(c) == name; });
    if (!configured) return "cluster " + event.ecs_cluster + " is not configured (--cluster)";
  }
  if (event.fleet_id.empty()) return "";
  if (IsEc2FleetId(event.fleet_id)) {
    if (!config_.ec2_fleet_ids.empty() && !Contains(config_.ec2_fleet_ids, event.fleet_id)) {
      return "EC2 Fleet " + event.fleet_id + " is not configured (--ec2-fleet-id)";
    }
  } else if (!config_.spot_fleet_ids.empty() && !Contains(config_.spot_fleet_ids, event.fleet_id)) {
    return "Spot Fleet " + event.fleet_id + " is not configured (--spot-fleet-id)";
  }
  return "";
}

std::vector<ActionResult> Handler::FastPath(const std::vector<const Event*>& events,
                                            std::map<const Event*, std::string>* refused,
                                            std::vector<RecordResult>* recorded) {
  // The container instances the events name, by cluster in order of first mention.
  std::vector<std::pair<std::string, std::vector<std::string>>> named;
  std::map<std::string, std::string> instance_of_arn;
  std::map<std::string, const Event*> event_of_arn;
  for (const Event* event : events) {
    // Scheduled maintenance is never drained here: the decision drains it when due.
    const bool drains = event->notice_kind == policy::NoticeKind::kSpotInterruption ||
                        event->notice_kind == policy::NoticeKind::kInstanceStopping ||
                        (event->notice_kind == policy::NoticeKind::kRebalanceRecommendation &&
                         config_.policy.on_rebalance == policy::RebalanceAction::kDrain);
    if (event->kind != EventKind::kNotice || !drains || event->ecs_cluster.empty() ||
        event->ecs_container.empty()) {
      continue;
    }
    auto it = std::find_if(named.begin(), named.end(),
                           [&](const auto& entry) { return entry.first == event->ecs_cluster; });
    if (it == named.end()) it = named.insert(named.end(), {event->ecs_cluster, {}});
    AddUnique(event->ecs_container, &it->second);
    instance_of_arn[event->ecs_container] = event->instance_id;
    const Event*& kept = event_of_arn[event->ecs_container];
    if (!kept || event->notice_kind == policy::NoticeKind::kSpotInterruption) kept = event;
  }
  // Described per cluster (kept alive for the pointers), ACTIVE ones in the
  // order the events named them, then batched as the drain planner batches.
  std::vector<std::vector<policy::ContainerInstance>> described_by_cluster;
  described_by_cluster.reserve(named.size());
  std::vector<const policy::ContainerInstance*> active;
  std::map<std::string, std::string> owner_of_arn;  // as AWS says
  for (const auto& [cluster, arns] : named) {
    auto described = cloud_.DescribeContainerInstances(cluster, arns);
    if (!described.ok()) {
      // The decision that follows lists the cluster again and drains from there.
      log::Warn("fast-path drain: could not describe the noticed container instances",
                {{"cluster", cluster}, {"error", described.status().ToString()}});
      continue;
    }
    described_by_cluster.push_back(*std::move(described));
    for (const std::string& arn : arns) {
      for (const policy::ContainerInstance& ci : described_by_cluster.back()) {
        if (ci.arn != arn) continue;
        owner_of_arn[arn] = ci.ec2_instance_id;
        if (ci.status == policy::ContainerStatus::kActive &&
            ci.ec2_instance_id == instance_of_arn[arn]) {
          active.push_back(&ci);
        }
      }
    }
  }
  // AWS contradicts the notice: its container instance is another instance's.
  for (const Event* event : events) {
    auto owner = owner_of_arn.find(event->ecs_container);
    if (owner == owner_of_arn.end() || event->instance_id.empty() ||
        owner->second == event->instance_id) {
      continue;
    }
    (*refused)[event] = "container instance " + event->ecs_container + " belongs to " +
                        owner->second + ", not to " + event->instance_id;
  }
  std::vector<ActionResult> results;
  if (config_.dry_run) return results;
  const WallTime now = clock_.WallNow();
  for (policy::ClusterBatch& batch :
       policy::BatchByCluster(active, config_.policy.drain_batch_size)) {
    std::vector<std::string> ids;
    for (const std::string& arn : batch.arns) ids.push_back(instance_of_arn[arn]);
    std::vector<ContainerAttribute> records;
    for (const std::string& arn : batch.arns) {
      const policy::Notice notice = NoticeOf(*event_of_arn[arn], now);
      records.push_back({arn, kNoticeAttribute, RecordOf(notice)});
    }
    WarnIfOwnHost(ids, "draining the controller's own host (fast path)");
    results.push_back(Run({policy::DrainContainerInstances{batch.cluster, std::move(batch.arns)},
                           "notice for " + JoinIds(ids) + ": drain at once (fast path)"}));
    if (!results.back().applied) continue;  // the decision's pass drains and records it
    // In the same pass as the drain: every decider counts the notice from here.
    RecordResult record{batch.cluster, ids, cloud_.PutContainerAttributes(batch.cluster, records)};
    if (!record.status.ok()) {
      log::Warn("could not record the notices (the decision's pass retries)",
                {{"cluster", batch.cluster},
                 {"instances", JoinIds(ids)},
                 {"error", record.status.ToString()}});
    }
    recorded->push_back(std::move(record));
  }
  return results;
}

void Handler::Remember(const Event& event, WallTime now, const std::set<std::string>& recorded) {
  policy::Notice notice = NoticeOf(event, now);
  auto it = notices_.find(notice.instance_id);
  if (it != notices_.end() && policy::Outranks(it->second.notice.kind, notice.kind)) {
    return;  // e.g. an interruption wins over a rebalance recommendation
  }
  const bool same_kind = it != notices_.end() && it->second.notice.kind == notice.kind;
  RememberedNotice& kept = notices_[notice.instance_id];
  kept.notice = notice;
  kept.recorded = recorded.count(notice.instance_id) || (same_kind && kept.recorded);
  if (!event.ecs_cluster.empty()) kept.cluster = event.ecs_cluster;
}

void Handler::Forget(const Event& event) {
  const bool known = notices_.erase(event.instance_id) > 0;
  log::Info("instance terminated: its notice forgotten (AWS still holds its records)",
            {{"instance", event.instance_id}, {"known", known ? "true" : "false"}});
}

bool Handler::Records(const policy::Notice& notice) const {
  // Scheduled maintenance always: it comes once, days before it is acted on.
  return notice.kind != policy::NoticeKind::kRebalanceRecommendation ||
         config_.policy.on_rebalance != policy::RebalanceAction::kIgnore;
}

void Handler::MergeNotices(const std::vector<std::string>& listed_clusters,
                           policy::Observation* observation) {
  const WallTime now = observation->now;
  const bool listed = observation->containers_status.ok();
  // What memory holds, until the retention ends or, once recorded, its
  // container instance is gone from its (listed) cluster.
  for (auto it = notices_.begin(); it != notices_.end();) {
    const RememberedNotice& kept = it->second;
    const bool expired = now - RetainedFrom(kept.notice) > config_.notice_retention;
    const bool gone = kept.recorded && listed && Contains(listed_clusters, kept.cluster) &&
                      !policy::FindContainerOfInstance(observation->container_instances, it->first);
    it = expired || gone ? notices_.erase(it) : std::next(it);
  }
  std::map<std::string, policy::Notice> merged;
  for (const auto& [id, kept] : notices_) merged[id] = kept.notice;
  // What the container instances carry: every decider's notices.
  for (const policy::ContainerInstance& ci : observation->container_instances) {
    auto attribute = ci.attributes.find(kNoticeAttribute);
    if (attribute == ci.attributes.end() || ci.ec2_instance_id.empty()) continue;
    auto record = ParseNoticeRecord(attribute->second);
    if (!record.ok()) {
      log::Warn("ignoring a bad notice record",
                {{"container_instance", ci.arn}, {"error", record.status().ToString()}});
      continue;
    }
    policy::Notice notice;
    notice.instance_id = ci.ec2_instance_id;
    notice.kind = record->first;
    notice.notice_time = std::min(record->second, now);
    if (notice.kind == policy::NoticeKind::kScheduledMaintenance) {
      notice.termination_time = record->second;  // its NotBefore
    }
    if (now - RetainedFrom(notice) > config_.notice_retention) continue;
    auto it = merged.find(notice.instance_id);
    if (it == merged.end()) {
      merged.emplace(notice.instance_id, notice);
      continue;
    }
    if (it->second.kind == notice.kind) {
      // Memory knows more (type, termination time); the record is written.
      notices_[notice.instance_id].recorded = true;
      notices_[notice.instance_id].cluster = ci.cluster;
    } else if (policy::Outranks(notice.kind, it->second.kind)) {
      // E.g. an interruption wins over a rebalance recommendation.
      it->second = notice;
      notices_[notice.instance_id] = {notice, ci.cluster, true};
    }
  }
  observation->notices.clear();
  for (auto& [id, notice] : merged) observation->notices.push_back(std::move(notice));
}

std::vector<RecordResult> Handler::RecordNotices(const policy::Observation& observation) {
  std::vector<RecordResult> results;
  if (config_.dry_run || !observation.containers_status.ok()) return results;
  // By cluster, in the order the container instances were listed.
  std::vector<std::pair<std::string, std::vector<ContainerAttribute>>> by_cluster;
  std::map<std::string, std::vector<std::string>> ids_by_cluster;
  for (const policy::Notice& notice : observation.notices) {
    if (!Records(notice)) continue;
    const policy::ContainerInstance* ci =
        policy::FindContainerOfInstance(observation.container_instances, notice.instance_id);
    if (!ci) continue;  // not registered (yet): memory holds it until it is
    if (auto a = ci->attributes.find(kNoticeAttribute); a != ci->attributes.end()) {
      auto record = ParseNoticeRecord(a->second);
      if (record.ok() && (a->second == RecordOf(notice) ||
                          (record->first == notice.kind &&
                           notice.kind != policy::NoticeKind::kScheduledMaintenance) ||
                          policy::Outranks(record->first, notice.kind))) {
        continue;  // already recorded, by us or another decider
      }
    }
    auto it = std::find_if(by_cluster.begin(), by_cluster.end(),
                           [&](const auto& entry) { return entry.first == ci->cluster; });
    if (it == by_cluster.end()) it = by_cluster.insert(by_cluster.end(), {ci->cluster, {}});
    it->second.push_back({ci->arn, kNoticeAttribute, RecordOf(notice)});
    ids_by_cluster[ci->cluster].push_back(notice.instance_id);
  }
  for (const auto& [cluster, attributes] : by_cluster) {
    RecordResult record{cluster, ids_by_cluster[cluster],
                        cloud_.PutContainerAttributes(cluster, attributes)};
    if (record.status.ok()) {
      for (const std::string& id : record.instance_ids) {
        if (auto it = notices_.find(id); it != notices_.end()) {
          it->second.recorded = true;
          it->second.cluster = cluster;
        }
      }
      log::Info("notices recorded",
                {{"cluster", cluster}, {"instances", JoinIds(record.instance_ids)}});
    } else {
      log::Error("could not record the notices", {{"cluster", cluster},
                                                  {"instances", JoinIds(record.instance_ids)},
                                                  {"error", record.status.ToString()}});
    }
    results.push_back(std::move(record));
  }
  return results;
}

std::optional<WallTime> Handler::RememberTargetChange(const policy::SpotCapacitySource& source,
                                                      WallTime now) {
  auto it = targets_.find(source.id);
  if (it == targets_.end()) {
    targets_[source.id] = {source.target_capacity, std::nullopt};
    return std::nullopt;
  }
  if (it->second.first != source.target_capacity) it->second = {source.target_capacity, now};
  return it->second.second;
}

std::optional<WallTime> Handler::TargetChange(const policy::SpotCapacitySource& source,
                                              WallTime now) {
  if (!group_tags_) return RememberTargetChange(source, now);
  const std::string key = kTargetTagPrefix + source.id;
  std::ostringstream target;
  target << source.target_capacity;
  auto it = group_tags_->find(key);
  if (it == group_tags_->end()) {
    target_tags_[key] = target.str();  // first seen: no change known
    return std::nullopt;
  }
  const size_t at = it->second.find('@');
  if (it->second.substr(0, at) != target.str()) {
    target_tags_[key] = target.str() + "@" + FormatIso8601(now);
    return now;
  }
  if (at == std::string::npos) return std::nullopt;
  std::optional<WallTime> changed = StateTime(it->second.substr(at + 1), now);
  if (!changed) {
    log::Warn("ignoring a bad target tag", {{"key", key}, {"value", it->second.substr(0, 128)}});
    target_tags_[key] = target.str();
  }
  return changed;
}

void Handler::ReadSources(const std::vector<std::string>& extra_fleets,
                          policy::Observation* observation,
                          std::map<std::string, std::string>* instance_types) {
  std::vector<std::string> fleets = config_.spot_fleet_ids;
  std::vector<std::string> ec2_fleets = config_.ec2_fleet_ids;
  for (const std::string& fleet : extra_fleets) {
    AddUnique(fleet, IsEc2FleetId(fleet) ? &ec2_fleets : &fleets);
  }
  std::vector<SpotSourceRead> reads;
  // The guard's record of a source read from the API (TargetChange).
  auto guard = [&](policy::SpotCapacitySource& source) {
    if (source.read_status.ok()) source.last_target_change = TargetChange(source, observation->now);
  };
  for (const std::string& id : fleets) {
    reads.push_back(cloud_.ReadSpotFleet(id, config_.pending_source, observation->now,
                                         config_.policy.guard_window));
    if (config_.pending_source == PendingSource::kApi) guard(reads.back().source);
  }
  for (const std::string& id : ec2_fleets) {
    reads.push_back(cloud_.ReadEc2Fleet(id));
    guard(reads.back().source);
  }
  for (const std::string& group : config_.spot_asgs) {
    reads.push_back(cloud_.ReadSpotGroup(group));
    guard(reads.back().source);
  }
  for (SpotSourceRead& read : reads) {
    instance_types->insert(read.instance_types.begin(), read.instance_types.end());
    observation->sources.push_back(std::move(read.source));
  }
}

void Handler::ResolveUnits(const std::map<std::string, std::string>& instance_types,
                           policy::Observation* observation) {
  for (policy::Notice& notice : observation->notices) {
    const policy::SpotCapacitySource* source =
        policy::FindSourceOfInstance(observation->sources, notice.instance_id);
    if (!source) continue;
    if (notice.instance_type.empty()) {
      auto it = instance_types.find(notice.instance_id);
      if (it != instance_types.end()) notice.instance_type = it->second;
    }
    std::optional<int> vcpus;
    if (!source->weights.count(notice.instance_type) && !notice.instance_type.empty()) {
      auto v = cloud_.InstanceTypeVcpus(notice.instance_type);
      if (v.ok()) vcpus = *v;
    }
    auto units = policy::LostUnits(source->weights, notice.instance_type, vcpus);
    if (units.ok()) notice.units = *units;
  }
}

std::vector<std::string> Handler::ClustersWith(const std::vector<std::string>& extra) const {
  std::vector<std::string> clusters = config_.clusters;
  for (const std::string& cluster : extra) AddUnique(cluster, &clusters);
  return clusters;
}

std::vector<std::string> Handler::ReadContainers(const std::vector<std::string>& extra_clusters,
                                                 policy::Observation* observation) {
  std::vector<std::string> clusters = ClustersWith(extra_clusters);
  for (const std::string& cluster : clusters) {
    auto listed = cloud_.ListContainerInstances(cluster);
    if (!listed.ok()) {
      observation->containers_status = listed.status();
      return {};
    }
    for (policy::ContainerInstance& ci : *listed) {
      observation->container_instances.push_back(std::move(ci));
    }
  }
  return clusters;
}

policy::Observation Handler::Observe(const std::vector<std::string>& extra_fleets,
                                     const std::vector<std::string>& extra_clusters) {
  policy::Observation observation;
  observation.now = clock_.WallNow();
  group_tags_.reset();
  target_tags_.clear();
  // The group first: its tags hold the sources' target changes.
  std::optional<OnDemandGroupRead> read;
  if (!config_.on_demand_asg.empty()) {
    read = cloud_.ReadOnDemandGroup(config_.on_demand_asg);
    if (read->group.read_status.ok()) group_tags_ = read->tags;
  }
  const std::vector<std::string> clusters = ReadContainers(extra_clusters, &observation);
  if (read) {
    // Every cluster looked at, the events' too (even when listing failed):
    // their capacity providers say whether ECS sizes the group.
    FindCapacityProviderOwner(cloud_, ClustersWith(extra_clusters), &*read);
    ResolveOnDemandUnits(cloud_, config_.policy.on_demand_units, &*read);
    observation.on_demand = std::move(read->group);
  }
  std::map<std::string, std::string> instance_types;
  MergeNotices(clusters, &observation);
  ReadSources(extra_fleets, &observation, &instance_types);
  ResolveUnits(instance_types, &observation);
  return observation;
}

policy::ScaleDownTracker Handler::ReadTracker(const policy::Observation& observation) const {
  if (!observation.on_demand || !observation.on_demand->read_status.ok() || !group_tags_) {
    return tracker_;  // the group is unknown: its sizing is skipped anyway
  }
  policy::ScaleDownTracker tracker;
  if (auto since = group_tags_->find(kNeedBelowSinceTag); since != group_tags_->end()) {
    tracker.lower_since = StateTime(since->second, observation.now);
    int held = 0;
    if (auto h = group_tags_->find(kNeedBelowHeldTag); h != group_tags_->end()) {
      const std::string& text = h->second;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), held);
      if (ec != std::errc() || end != text.data() + text.size() || held < 0) held = -1;
    }
    if (!tracker.lower_since || held < 0) {
      log::Warn("ignoring a bad settle-window tag (the window starts again)",
                {{"group", observation.on_demand->name}});
      tracker.lower_since.reset();
      held = 0;
    }
    tracker.highest_held_since = held;
  }
  if (!observation.containers_status.ok()) {
    tracker.removing = tracker_.removing;  // nothing better is known
    return tracker;
  }
  for (const policy::OnDemandInstance& instance : observation.on_demand->instances) {
    const policy::ContainerInstance* ci =
        policy::FindContainerOfInstance(observation.container_instances, instance.instance_id);
    if (!ci) {
      // No container instance to carry a mark: memory is all there is.
      auto it = tracker_.removing.find(instance.instance_id);
      if (it != tracker_.removing.end()) tracker.removing.insert(*it);
      continue;
    }
    auto mark = ci->attributes.find(kRemovingAttribute);
    if (ci->status != policy::ContainerStatus::kDraining || mark == ci->attributes.end()) continue;
    std::optional<WallTime> since = StateTime(mark->second, observation.now);
    if (!since) {
      log::Warn("ignoring a bad removal mark",
                {{"container_instance", ci->arn}, {"value", mark->second.substr(0, 128)}});
      continue;
    }
    tracker.removing[instance.instance_id] = *since;
  }
  return tracker;
}

std::vector<StateWrite> Handler::MarkRemovals(const policy::Observation& observation,
                                              const policy::ScaleDownTracker& read,
                                              const policy::ScaleDownTracker& decided,
                                              std::set<std::string>* unmarked) {
  std::vector<StateWrite> writes;
  if (config_.dry_run) return writes;
  std::map<std::string, std::vector<ContainerAttribute>> by_cluster;
  std::map<std::string, std::vector<std::string>> ids_by_cluster;
  for (const auto& [id, since] : decided.removing) {
    if (read.removing.count(id)) continue;
    const policy::ContainerInstance* ci =
        policy::FindContainerOfInstance(observation.container_instances, id);
    if (!ci) continue;  // never registered: terminated in this decision
    by_cluster[ci->cluster].push_back({ci->arn, kRemovingAttribute, FormatIso8601(since)});
    ids_by_cluster[ci->cluster].push_back(id);
  }
  for (const auto& [cluster, attributes] : by_cluster) {
    StateWrite write{"removal marks", cluster, ids_by_cluster[cluster],
                     cloud_.PutContainerAttributes(cluster, attributes)};
    if (write.status.ok()) {
      log::Info("on-demand instances marked for removal",
                {{"cluster", cluster}, {"instances", JoinIds(write.instance_ids)}});
    } else {
      log::Error("could not mark on-demand instances for removal: not draining them",
                 {{"cluster", cluster},
                  {"instances", JoinIds(write.instance_ids)},
                  {"error", write.status.ToString()}});
      for (const ContainerAttribute& a : attributes) unmarked->insert(a.arn);
    }
    writes.push_back(std::move(write));
  }
  return writes;
}

std::vector<StateWrite> Handler::WriteBackState(const policy::Observation& observation,
                                                const policy::ScaleDownTracker& read,
                                                const policy::ScaleDownTracker& decided,
                                                const std::vector<ActionResult>& actions) {
  std::vector<StateWrite> writes;
  if (config_.dry_run || !observation.on_demand || !observation.on_demand->read_status.ok() ||
      !group_tags_) {
    return writes;
  }
  // Removals the decision cancelled: once re-activated, their marks go.
  std::set<std::string> activated;
  for (const ActionResult& r : actions) {
    const auto* activate = std::get_if<policy::ActivateContainerInstances>(&r.action.what);
    if (activate && r.applied) {
      activated.insert(activate->container_instance_arns.begin(),
                       activate->container_instance_arns.end());
    }
  }
  std::map<std::string, std::vector<ContainerAttribute>> by_cluster;
  std::map<std::string, std::vector<std::string>> ids_by_cluster;
  for (const auto& [id, since] : read.removing) {
    if (decided.removing.count(id)) continue;
    const policy::ContainerInstance* ci =
        policy::FindContainerOfInstance(observation.container_instances, id);
    if (!ci || !activated.count(ci->arn)) continue;
    by_cluster[ci->cluster].push_back({ci->arn, kRemovingAttribute, ""});
    ids_by_cluster[ci->cluster].push_back(id);
  }
  for (const auto& [cluster, attributes] : by_cluster) {
    // A mark left behind is harmless (an ACTIVE instance's mark is stale);
    // deleting it keeps a later drain by someone else from looking like ours.
    StateWrite write{"removal marks deleted", cluster, ids_by_cluster[cluster],
                     cloud_.DeleteContainerAttributes(cluster, attributes)};
    if (!write.status.ok()) {
      log::Warn("could not delete the removal marks of re-activated instances",
                {{"cluster", cluster}, {"error", write.status.ToString()}});
      write.status = Status::Ok();  // not a failure of the decision
    }
    writes.push_back(std::move(write));
  }
  if (!target_tags_.empty()) {
    const std::string& group = observation.on_demand->name;
    StateWrite write{"target changes", group, {}, cloud_.SetGroupTags(group, target_tags_)};
    if (!write.status.ok()) {
      log::Error("could not write the spot sources' target tags",
                 {{"group", group}, {"error", write.status.ToString()}});
    }
    writes.push_back(std::move(write));
  }
  // The settle window, when it changed and the decision was applied (a failed
  // action keeps the window as it was, so the next decision retries).
  if (!std::all_of(actions.begin(), actions.end(),
                   [](const ActionResult& r) { return r.status.ok(); })) {
    return writes;
  }
  if (decided.lower_since == read.lower_since &&
      (!decided.lower_since || decided.highest_held_since == read.highest_held_since)) {
    return writes;
  }
  const std::string& group = observation.on_demand->name;
  StateWrite write{"settle window", group, {}, Status::Ok()};
  if (decided.lower_since) {
    write.status = cloud_.SetGroupTags(
        // Rounded up to the second the tag holds: never a shorter window.
        group, {{kNeedBelowSinceTag,
                 FormatIso8601(std::chrono::ceil<std::chrono::seconds>(*decided.lower_since))},
                {kNeedBelowHeldTag, std::to_string(decided.highest_held_since)}});
  } else {
    write.status = cloud_.DeleteGroupTags(group, {kNeedBelowSinceTag, kNeedBelowHeldTag});
  }
  if (!write.status.ok()) {
    log::Error("could not write the settle window's tags",
               {{"group", group}, {"error", write.status.ToString()}});
  }
  writes.push_back(std::move(write));
  return writes;
}

HandleReport Handler::DecideAndApply(HandleReport report,
                                     const std::vector<std::string>& extra_fleets,
                                     const std::vector<std::string>& extra_clusters) {
  policy::Observation observation = Observe(extra_fleets, extra_clusters);
  if (observation.on_demand && observation.on_demand->read_status.ok()) {
    on_demand_desired_ = observation.on_demand->desired_capacity;
  }
  const policy::ScaleDownTracker read = ReadTracker(observation);
  policy::Decision decision = policy::Decide(observation, config_.policy, read);
  // An instance chosen for removal carries its mark before it is drained.
  std::set<std::string> unmarked;
  report.state = MarkRemovals(observation, read, decision.tracker, &unmarked);
  for (const policy::Action& action : decision.actions) {
    const auto* drain = std::get_if<policy::DrainContainerInstances>(&action.what);
    if (!drain) continue;
    std::vector<std::string> ids;
    for (const policy::ContainerInstance& ci : observation.container_instances) {
      if (Contains(drain->container_instance_arns, ci.arn)) ids.push_back(ci.ec2_instance_id);
    }
    WarnIfOwnHost(ids, "draining the controller's own host");
  }
  for (const policy::Action& action : decision.actions) {
    const auto* drain = std::get_if<policy::DrainContainerInstances>(&action.what);
    if (drain &&
        std::any_of(drain->container_instance_arns.begin(), drain->container_instance_arns.end(),
                    [&](const std::string& arn) { return unmarked.count(arn) > 0; })) {
      report.actions.push_back(
          {action, false, false, false,
           UnavailableError("not drained: its removal mark could not be written")});
      continue;
    }
    report.actions.push_back(Run(action));
    const auto* set = std::get_if<policy::SetDesiredCapacity>(&action.what);
    if (set && report.actions.back().applied) on_demand_desired_ = set->desired;
  }
  // The decision's drains of noticed instances, and notices that came while
  // their instance was already draining, are recorded in the same pass.
  report.recorded = RecordNotices(observation);
  report.lifecycle = lifecycle_.Run(LifecycleGroups(), observation);
  if (fallback_.enabled())
    report.fallback =
        fallback_.Run(observation.now, ClustersWith(extra_clusters), &report.fallback_searched);
  for (StateWrite& write : WriteBackState(observation, read, decision.tracker, report.actions)) {
    report.state.push_back(std::move(write));
  }
  bool all_applied = std::all_of(report.actions.begin(), report.actions.end(),
                                 [](const ActionResult& r) { return r.status.ok(); });
  // A failed action leaves the tracker as it was, so the next decision retries it.
  if (all_applied && !config_.dry_run) tracker_ = decision.tracker;
  for (const policy::Skip& skip : decision.skipped) {
    log::Warn("decision part skipped", {{"part", skip.part}, {"reason", skip.reason}});
  }
  report.decision = std::move(decision);
  return report;
}

HandleReport Handler::Handle(const Event& event) {
  BatchReport batch = HandleBatch({event});
  HandleReport report = std::move(batch.report);
  report.event = event;
  report.duplicate = batch.duplicate.front();
  report.refused = batch.refused.front();
  return report;
}

BatchReport Handler::HandleBatch(const std::vector<Event>& events) {
  BatchReport batch;
  AdmitReport admitted = Admit(events);
  std::vector<Event> fresh;
  for (size_t i = 0; i < events.size(); ++i) {
    if (!admitted.duplicate[i] && admitted.refused[i].empty()) fresh.push_back(events[i]);
  }
  batch.duplicate = std::move(admitted.duplicate);
  batch.refused = std::move(admitted.refused);
  if (fresh.empty()) {
    batch.report.dry_run = config_.dry_run;
    return batch;
  }
  batch.report = Settle(fresh);
  batch.report.fast_path = std::move(admitted.fast_path);
  batch.report.fast_path_recorded = std::move(admitted.recorded);
  return batch;
}

AdmitReport Handler::Admit(const std::vector<Event>& events) {
  AdmitReport admit;
  admit.refused.assign(events.size(), "");
  std::vector<const Event*> fresh;
  const WallTime received = clock_.WallNow();
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& event = events[i];
    const std::string key = event.DedupKey();
    log::Info("event", {{"kind", EventKindName(event.kind)},
                        {"source", event.source},
                        {"message_id", event.message_id},
                        {"instance", event.instance_id},
                        {"fleet", event.fleet_id}});
    if (event.kind == EventKind::kIgnored) {
      // Answered at once, as a refusal is: a retry cannot change it.
      log::Info("event acknowledged and ignored",
                {{"message_id", event.message_id}, {"reason", event.ignored_reason}});
      admit.duplicate.push_back(false);
      admit.refused[i] = event.ignored_reason;
      continue;
    }
    if (std::string why = Refusal(event); !why.empty()) {
      log::Warn("event refused", {{"message_id", event.message_id}, {"reason", why}});
      admit.duplicate.push_back(false);
      admit.refused[i] = std::move(why);
      continue;
    }
    // Only notices are deduplicated: an alarm or a direct invocation asks for
    // a fresh decision each time (level-triggered), so a repeat is not one.
    const bool duplicate = event.kind == EventKind::kNotice &&
                           (handled_.Contains(key, received) || !admitted_.insert(key).second);
    admit.duplicate.push_back(duplicate);
    if (duplicate) {
      log::Info("duplicate event ignored", {{"key", key}, {"message_id", event.message_id}});
    } else {
      if (event.kind == EventKind::kNotice) {
        WarnIfOwnHost({event.instance_id}, "this notice is for the controller's own host");
      }
      fresh.push_back(&event);
    }
  }
  if (fresh.empty()) return admit;
  try {
    std::map<const Event*, std::string> contradicted;
    admit.fast_path = FastPath(fresh, &contradicted, &admit.recorded);
    std::set<std::string> recorded;
    for (const RecordResult& r : admit.recorded) {
      if (r.status.ok()) recorded.insert(r.instance_ids.begin(), r.instance_ids.end());
    }
    const WallTime now = clock_.WallNow();
    for (const Event* event : fresh) {
      auto it = contradicted.find(event);
      if (it != contradicted.end()) {
        log::Warn("notice refused", {{"message_id", event->message_id},
                                     {"instance", event->instance_id},
                                     {"reason", it->second}});
        admit.refused[event - events.data()] = it->second;
        admitted_.erase(event->DedupKey());
        continue;
      }
      if (event->kind == EventKind::kNotice) Remember(*event, now, recorded);
      if (event->kind == EventKind::kInstanceGone) Forget(*event);
      lifecycle_.Remember(*event);
    }
  } catch (...) {
    // Not admitted after all: a redelivery of these notices must be handled,
    // not taken for a duplicate of an admission that never settles.
    for (const Event* event : fresh) {
      if (event->kind == EventKind::kNotice) admitted_.erase(event->DedupKey());
    }
    throw;
  }
  return admit;
}

HandleReport Handler::Settle(const std::vector<Event>& events) {
  HandleReport report;
  report.dry_run = config_.dry_run;
  std::vector<std::string> fleets;
  std::vector<std::string> clusters;
  for (const Event& event : events) {
    AddUnique(event.fleet_id, &fleets);
    AddUnique(event.ecs_cluster, &clusters);
  }
  bool ok = false;
  // Whatever happens (a throw included), the events are no longer admitted;
  // only a successful decision makes them handled.
  auto settle = [&] {
    const WallTime now = clock_.WallNow();
    for (const Event& event : events) {
      if (event.kind != EventKind::kNotice) continue;
      const std::string key = event.DedupKey();
      admitted_.erase(key);
      if (ok) handled_.Insert(key, now);
    }
  };
  try {
    report = DecideAndApply(std::move(report), fleets, clusters);
  } catch (...) {
    settle();
    throw;
  }
  ok = report.status().ok();
  settle();
  return report;
}

void Handler::Abandon(const std::vector<Event>& events) {
  for (const Event& event : events) {
    if (event.kind == EventKind::kNotice) admitted_.erase(event.DedupKey());
  }
}

void Handler::Commit(const std::vector<Event>& events) {
  const WallTime now = clock_.WallNow();
  for (const Event& event : events) {
    if (event.kind != EventKind::kNotice) continue;
    const std::string key = event.DedupKey();
    admitted_.erase(key);
    handled_.Insert(key, now);
  }
}

HandleReport Handler::Reconcile() {
  HandleReport report;
  report.dry_run = config_.dry_run;
  return DecideAndApply(std::move(report), {}, {});
}

}  // namespace spk::controller
