#include "controller/handler.h"

#include <algorithm>
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
  if (!result.status.ok()) out["error"] = result.status.ToString();
  return out;
}

json ToJson(const std::vector<ActionResult>& results) {
  json out = json::array();
  for (const ActionResult& r : results) out.push_back(ToJson(r));
  return out;
}

policy::Notice NoticeOf(const Event& event, WallTime now) {
  policy::Notice notice;
  notice.instance_id = event.instance_id;
  notice.instance_type = event.instance_type;
  notice.kind = event.notice_kind;
  notice.notice_time = event.notice_time.value_or(now);
  notice.termination_time = event.termination_time;
  return notice;
}

bool Contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

void AddUnique(const std::string& item, std::vector<std::string>* list) {
  if (!item.empty() && !Contains(*list, item)) list->push_back(item);
}

std::string JoinIds(const std::vector<std::string>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i == 3) return out + " and " + std::to_string(ids.size() - 3) + " more";
    out += (i ? ", " : "") + ids[i];
  }
  return out;
}

}  // namespace

Status ValidateControllerConfig(const ControllerConfig& config) {
  SPK_RETURN_IF_ERROR(policy::ValidateConfig(config.policy));
  if (config.notice_retention < Duration::zero()) {
    return InvalidArgumentError("notice retention must not be negative");
  }
  for (const std::string& id : config.spot_fleet_ids) {
    if (id.rfind("sfr-", 0) != 0) {
      return InvalidArgumentError("--spot-fleet-id \"" + id +
                                  "\" is not a fleet request id (sfr-...)");
    }
  }
  if (!config.on_demand_asg.empty() && Contains(config.spot_asgs, config.on_demand_asg)) {
    return InvalidArgumentError("--on-demand-asg " + config.on_demand_asg +
                                " is also a --spot-asg");
  }
  return Status::Ok();
}

const char* ActionResultName(const ActionResult& result) {
  if (result.applied) return "applied";
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
  out["dry_run"] = report.dry_run;
  out["fast_path"] = ToJson(report.fast_path);
  out["actions"] = ToJson(report.actions);
  return out;
}

Handler::Handler(CloudView& cloud, ControllerConfig config, const Clock& clock)
    : cloud_(cloud), config_(std::move(config)), clock_(clock) {}

ActionResult Handler::Run(const policy::Action& action) {
  ActionResult result{action, false, false, Status::Ok()};
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
  result.status = cloud_.Apply(action);
  result.applied = result.status.ok();
  log::Write(result.applied ? log::Level::kInfo : log::Level::kError,
             result.applied ? "applied" : "action failed",
             {{"action", policy::Describe(action)}, {"status", result.status.ToString()}});
  return result;
}

std::vector<ActionResult> Handler::FastPath(const std::vector<const Event*>& events) {
  if (config_.dry_run) return {};
  // The container instances the events name, by cluster in order of first mention.
  std::vector<std::pair<std::string, std::vector<std::string>>> named;
  std::map<std::string, std::string> instance_of_arn;
  for (const Event* event : events) {
    const bool drains = event->notice_kind == policy::NoticeKind::kSpotInterruption ||
                        config_.policy.on_rebalance == policy::RebalanceAction::kDrain;
    if (event->kind != EventKind::kNotice || !drains || event->ecs_cluster.empty() ||
        event->ecs_container.empty()) {
      continue;
    }
    auto it = std::find_if(named.begin(), named.end(),
                           [&](const auto& entry) { return entry.first == event->ecs_cluster; });
    if (it == named.end()) it = named.insert(named.end(), {event->ecs_cluster, {}});
    AddUnique(event->ecs_container, &it->second);
    instance_of_arn[event->ecs_container] = event->instance_id;
  }
  // Described per cluster (kept alive for the pointers), ACTIVE ones in the
  // order the events named them, then batched as the drain planner batches.
  std::vector<std::vector<policy::ContainerInstance>> described_by_cluster;
  described_by_cluster.reserve(named.size());
  std::vector<const policy::ContainerInstance*> active;
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
        if (ci.arn == arn && ci.status == policy::ContainerStatus::kActive) active.push_back(&ci);
      }
    }
  }
  std::vector<ActionResult> results;
  for (policy::ClusterBatch& batch :
       policy::BatchByCluster(active, config_.policy.drain_batch_size)) {
    std::vector<std::string> ids;
    for (const std::string& arn : batch.arns) ids.push_back(instance_of_arn[arn]);
    results.push_back(Run({policy::DrainContainerInstances{batch.cluster, std::move(batch.arns)},
                           "notice for " + JoinIds(ids) + ": drain at once (fast path)"}));
  }
  return results;
}

void Handler::Remember(const Event& event, WallTime now) {
  policy::Notice notice = NoticeOf(event, now);
  auto it = notices_.find(notice.instance_id);
  if (it != notices_.end() && it->second.kind == policy::NoticeKind::kSpotInterruption &&
      notice.kind != policy::NoticeKind::kSpotInterruption) {
    return;  // an interruption wins over a rebalance recommendation
  }
  notices_[notice.instance_id] = notice;
}

std::vector<policy::Notice> Handler::ActiveNotices(WallTime now) {
  std::vector<policy::Notice> active;
  for (auto it = notices_.begin(); it != notices_.end();) {
    if (now - it->second.notice_time > config_.notice_retention) {
      it = notices_.erase(it);
    } else {
      active.push_back(it->second);
      ++it;
    }
  }
  return active;
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

void Handler::ReadSources(const std::vector<std::string>& extra_fleets,
                          policy::Observation* observation,
                          std::map<std::string, std::string>* instance_types) {
  std::vector<std::string> fleets = config_.spot_fleet_ids;
  for (const std::string& fleet : extra_fleets) AddUnique(fleet, &fleets);
  std::vector<SpotSourceRead> reads;
  for (const std::string& id : fleets) {
    reads.push_back(cloud_.ReadSpotFleet(id, config_.pending_source, observation->now,
                                         config_.policy.guard_window));
    policy::SpotCapacitySource& source = reads.back().source;
    if (source.read_status.ok() && config_.pending_source == PendingSource::kApi) {
      source.last_target_change = RememberTargetChange(source, observation->now);
    }
  }
  for (const std::string& group : config_.spot_asgs) {
    reads.push_back(cloud_.ReadSpotGroup(group));
    policy::SpotCapacitySource& source = reads.back().source;
    if (source.read_status.ok()) {
      source.last_target_change = RememberTargetChange(source, observation->now);
    }
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

void Handler::ReadContainers(const std::vector<std::string>& extra_clusters,
                             policy::Observation* observation) {
  std::vector<std::string> clusters = config_.clusters;
  for (const std::string& cluster : extra_clusters) AddUnique(cluster, &clusters);
  for (const std::string& cluster : clusters) {
    auto listed = cloud_.ListContainerInstances(cluster);
    if (!listed.ok()) {
      observation->containers_status = listed.status();
      return;
    }
    for (policy::ContainerInstance& ci : *listed) {
      observation->container_instances.push_back(std::move(ci));
    }
  }
}

policy::Observation Handler::Observe(const std::vector<std::string>& extra_fleets,
                                     const std::vector<std::string>& extra_clusters) {
  policy::Observation observation;
  observation.now = clock_.WallNow();
  observation.notices = ActiveNotices(observation.now);
  std::map<std::string, std::string> instance_types;
  ReadContainers(extra_clusters, &observation);
  ReadSources(extra_fleets, &observation, &instance_types);
  ResolveUnits(instance_types, &observation);
  if (!config_.on_demand_asg.empty()) {
    OnDemandGroupRead read = cloud_.ReadOnDemandGroup(config_.on_demand_asg);
    if (read.group.read_status.ok() && !config_.policy.on_demand_units &&
        !read.instance_type.empty()) {
      auto vcpus = cloud_.InstanceTypeVcpus(read.instance_type);
      if (vcpus.ok()) read.group.units_per_instance = *vcpus;
    }
    observation.on_demand = std::move(read.group);
  }
  return observation;
}

HandleReport Handler::DecideAndApply(HandleReport report,
                                     const std::vector<std::string>& extra_fleets,
                                     const std::vector<std::string>& extra_clusters) {
  policy::Observation observation = Observe(extra_fleets, extra_clusters);
  if (observation.on_demand && observation.on_demand->read_status.ok()) {
    on_demand_desired_ = observation.on_demand->desired_capacity;
  }
  policy::Decision decision = policy::Decide(observation, config_.policy, tracker_);
  for (const policy::Action& action : decision.actions) {
    report.actions.push_back(Run(action));
    const auto* set = std::get_if<policy::SetDesiredCapacity>(&action.what);
    if (set && report.actions.back().applied) on_demand_desired_ = set->desired;
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
  return report;
}

BatchReport Handler::HandleBatch(const std::vector<Event>& events) {
  BatchReport batch;
  AdmitReport admitted = Admit(events);
  std::vector<Event> fresh;
  for (size_t i = 0; i < events.size(); ++i) {
    if (!admitted.duplicate[i]) fresh.push_back(events[i]);
  }
  batch.duplicate = std::move(admitted.duplicate);
  if (fresh.empty()) {
    batch.report.dry_run = config_.dry_run;
    return batch;
  }
  batch.report = Settle(fresh);
  batch.report.fast_path = std::move(admitted.fast_path);
  return batch;
}

AdmitReport Handler::Admit(const std::vector<Event>& events) {
  AdmitReport admit;
  std::vector<const Event*> fresh;
  for (const Event& event : events) {
    const std::string key = event.DedupKey();
    log::Info("event", {{"kind", EventKindName(event.kind)},
                        {"source", event.source},
                        {"message_id", event.message_id},
                        {"instance", event.instance_id},
                        {"fleet", event.fleet_id}});
    // Only notices are deduplicated: an alarm or a direct invocation asks for
    // a fresh decision each time (level-triggered), so a repeat is not one.
    const bool duplicate = event.kind == EventKind::kNotice &&
                           (handled_.count(key) > 0 || !admitted_.insert(key).second);
    admit.duplicate.push_back(duplicate);
    if (duplicate) {
      log::Info("duplicate event ignored", {{"key", key}, {"message_id", event.message_id}});
    } else {
      fresh.push_back(&event);
    }
  }
  if (fresh.empty()) return admit;
  try {
    admit.fast_path = FastPath(fresh);
    const WallTime now = clock_.WallNow();
    for (const Event* event : fresh) {
      if (event->kind == EventKind::kNotice) Remember(*event, now);
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
    for (const Event& event : events) {
      if (event.kind != EventKind::kNotice) continue;
      const std::string key = event.DedupKey();
      admitted_.erase(key);
      if (ok) handled_.insert(key);
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

HandleReport Handler::Reconcile() {
  HandleReport report;
  report.dry_run = config_.dry_run;
  return DecideAndApply(std::move(report), {}, {});
}

}  // namespace spk::controller
