#include "sim/policy_adapter.h"

#include <algorithm>
#include <cmath>
#include <variant>

#include "policy/fallback.h"
#include "policy/units.h"
#include "sim/asg.h"
#include "sim/capacity_source.h"
#include "sim/ecs_cluster.h"

namespace spk::sim {

Policies::Policies(World& w, PolicyKind kind) : w_(w), kind_(kind), config_(w.s.controller.config) {
  reference_config_.hard_coded_fleet_id = w.s.fleet.id;
  reference_config_.group_name = w.s.on_demand.name;
  reference_config_.per_server_vcpu = w.s.on_demand.vcpus;
}

void Policies::Start() {
  if (kind_ == PolicyKind::kSpotkeeper) w_.q.Push(w_.s.controller.reconcile_interval, kReconcile);
  // The alarm watches the fleet's AWS/EC2Spot PendingCapacity, which only a
  // Spot Fleet publishes: on another source it never leaves INSUFFICIENT_DATA.
  if (kind_ == PolicyKind::kReference && w_.s.fleet.type == SpotSourceType::kSpotFleet)
    w_.q.Push(w_.s.reference.alarm_period, kAlarmEval);
}

void Policies::OnInterruptionNotice(uint32_t index) {
  const SimTime now = w_.now();
  switch (kind_) {
    case PolicyKind::kNone:
      break;
    case PolicyKind::kEcsAgent:
      w_.q.Push(now + w_.s.reference.agent_drain_latency, kAgentDrain, index);
      break;
    case PolicyKind::kReference:
      w_.q.Push(now + w_.s.reference.notice_latency, kReferenceNotice, index);
      break;
    case PolicyKind::kSpotkeeper:
      w_.q.Push(now + w_.s.controller.notice_latency, kControllerNotice, index);
      break;
  }
}

void Policies::OnRebalance(uint32_t index) {
  if (kind_ == PolicyKind::kSpotkeeper) {
    w_.q.Push(w_.now() + w_.s.controller.notice_latency, kControllerRebalance, index);
  }
}

// The ECS agent and the reference's notifier and Lambda know nothing of Auto
// Scaling lifecycle actions: only spotkeeper answers the hook.
void Policies::OnLifecycleAction(uint32_t index) {
  if (kind_ == PolicyKind::kSpotkeeper) {
    w_.q.Push(w_.now() + w_.s.controller.notice_latency, kControllerLifecycle, index);
  }
}

void Policies::Handle(const Event& e) {
  switch (e.kind) {
    case kControllerLifecycle:
      SpotkeeperDecide();
      break;
    case kControllerNotice:
      ControllerNotice(e.a, policy::NoticeKind::kSpotInterruption);
      break;
    case kControllerRebalance:
      ControllerNotice(e.a, policy::NoticeKind::kRebalanceRecommendation);
      break;
    case kReconcile:
      SpotkeeperDecide();
      w_.q.Push(w_.now() + w_.s.controller.reconcile_interval, kReconcile);
      break;
    case kAlarmEval:
      AlarmEval();
      break;
    case kReferenceNotice:
      ReferenceTermination(e.a);
      break;
    case kAgentDrain:
      w_.ecs->SetDraining(e.a);
      break;
    default:
      break;
  }
}

void Policies::ApplyActions(const std::vector<policy::Action>& actions) {
  for (const policy::Action& action : actions) {
    if (const auto* drain = std::get_if<policy::DrainContainerInstances>(&action.what)) {
      for (const std::string& arn : drain->container_instance_arns) {
        if (auto i = w_.IndexOfArn(arn)) w_.ecs->SetDraining(*i);
      }
    } else if (const auto* activate =
                   std::get_if<policy::ActivateContainerInstances>(&action.what)) {
      for (const std::string& arn : activate->container_instance_arns) {
        if (auto i = w_.IndexOfArn(arn)) w_.ecs->SetActive(*i);
      }
    } else if (const auto* set = std::get_if<policy::SetDesiredCapacity>(&action.what)) {
      if (set->group == w_.s.on_demand.name) w_.asg->SetDesired(set->desired, set->honor_cooldown);
    } else if (const auto* term = std::get_if<policy::TerminateInstance>(&action.what)) {
      if (auto i = w_.IndexOfInstanceId(term->instance_id)) {
        w_.asg->TerminateInstance(*i, term->decrement_desired);
      }
    }
  }
}

policy::Notice Policies::MakeNotice(uint32_t index, policy::NoticeKind kind) const {
  const Instance& in = w_.instances[index];
  policy::Notice n;
  n.instance_id = in.id;
  n.instance_type = w_.TypeOf(in);
  n.kind = kind;
  n.notice_time = Wall(w_.now());
  if (kind == policy::NoticeKind::kSpotInterruption) n.termination_time = Wall(in.termination_time);
  auto units = policy::LostUnits(w_.s.fleet.weights, n.instance_type, w_.s.pools[in.pool].vcpus);
  if (units.ok()) n.units = *units;
  return n;
}

void Policies::ControllerNotice(uint32_t index, policy::NoticeKind kind) {
  auto it = notices_.find(index);
  if (it == notices_.end() || kind == policy::NoticeKind::kSpotInterruption) {
    if (it == notices_.end() || it->second.kind != policy::NoticeKind::kSpotInterruption) {
      notices_[index] = MakeNotice(index, kind);
    }
  }
  SpotkeeperDecide();
}

// Refreshes observation_ in place: its vectors and strings keep their
// capacity from one decision to the next, so a decision over a large fleet
// does not allocate and copy every instance's ids again.
const policy::Observation& Policies::BuildObservation() {
  const FleetSpec& spec = w_.s.fleet;
  policy::Observation& o = observation_;
  o.now = Wall(w_.now());
  o.sources.resize(1);
  policy::SpotCapacitySource& fleet = o.sources.front();
  fleet.id = spec.id;
  switch (spec.type) {
    case SpotSourceType::kSpotFleet:
      fleet.kind = policy::SourceKind::kSpotFleet;
      break;
    case SpotSourceType::kEc2Fleet:
      fleet.kind = policy::SourceKind::kEc2Fleet;
      break;
    case SpotSourceType::kAutoScalingGroup:
      fleet.kind = policy::SourceKind::kAutoScalingGroup;
      break;
  }
  fleet.target_capacity = w_.fleet->target();
  fleet.fulfilled_capacity = w_.fleet->fulfilled();
  fleet.weights = spec.weights;
  // A group lists its Pending and InService instances, not Terminating ones
  // (as the controller reads a spot group: aws_cloud_view.cc).
  const std::vector<uint32_t>& fleet_instances = w_.fleet->instances();
  fleet.instance_ids.resize(fleet_instances.size());
  size_t listed = 0;
  for (uint32_t index : fleet_instances) {
    const Instance& in = w_.instances[index];
    if (!in.terminating) fleet.instance_ids[listed++] = in.id;
  }
  fleet.instance_ids.resize(listed);
  o.notices.clear();
  for (auto it = notices_.begin(); it != notices_.end();) {
    if (w_.instances[it->first].state == Instance::State::kTerminated) {
      it = notices_.erase(it);
    } else {
      o.notices.push_back(it->second);
      ++it;
    }
  }
  BuildOnDemandGroup(o.on_demand ? *o.on_demand : o.on_demand.emplace());
  BuildContainerInstances(o.container_instances);
  return o;
}

void Policies::BuildOnDemandGroup(policy::OnDemandGroup& group) const {
  const OnDemandSpec& spec = w_.s.on_demand;
  group.name = spec.name;
  group.min_size = spec.min_size;
  group.max_size = spec.max_size;
  group.desired_capacity = w_.asg->desired();
  const std::vector<uint32_t>& asg_instances = w_.asg->instances();
  group.instances.resize(asg_instances.size());
  for (size_t k = 0; k < asg_instances.size(); ++k) {
    const Instance& in = w_.instances[asg_instances[k]];
    policy::OnDemandInstance& out = group.instances[k];
    out.instance_id = in.id;
    out.lifecycle_state = in.state == Instance::State::kBooting ? "Pending" : "InService";
    out.protected_from_scale_in = false;
  }
  group.units_per_instance = spec.units;
  // On a capacity-provider cluster ECS sizes the group: Decide leaves it alone.
  if (w_.s.capacity_providers.enabled)
    group.managed_by_capacity_provider = w_.s.capacity_providers.on_demand.name;
}

void Policies::BuildContainerInstances(std::vector<policy::ContainerInstance>& containers) const {
  const std::vector<uint32_t>& registered = w_.ecs->registered();
  containers.resize(registered.size());
  for (size_t k = 0; k < registered.size(); ++k) {
    const Instance& in = w_.instances[registered[k]];
    policy::ContainerInstance& c = containers[k];
    c.cluster = w_.s.ecs.cluster;
    c.arn = in.arn;
    c.ec2_instance_id = in.id;
    c.status = in.ecs == Instance::Ecs::kActive ? policy::ContainerStatus::kActive
                                                : policy::ContainerStatus::kDraining;
    // Starting tasks are PENDING to ECS; the rest (running, stopping) RUNNING.
    c.pending_tasks = in.starting_tasks;
    c.running_tasks = static_cast<int>(in.tasks.size()) - in.starting_tasks;
  }
}

void Policies::SpotkeeperDecide() {
  const policy::Observation& o = BuildObservation();
  policy::Decision d = policy::Decide(o, config_, tracker_);
  tracker_ = d.tracker;
  ApplyActions(d.actions);
  if (w_.fleet->has_hook()) LifecyclePass(o);
  if (w_.s.capacity_providers.enabled) FallbackPass();
}

// The controller's fallback pass (src/controller/fallback.cc) on the
// simulated cluster: each service whose strategy uses the spot provider is a
// primary with a shadow NAME-od on the on-demand provider. The evidence is
// the spot group's: a failed spot launch is the group wanting to launch with
// no pool open (SpotFleet::last_launch_failure). The cluster-wide cap is not
// modelled.
void Policies::FallbackPass() {
  const Scenario& s = w_.s;
  const WallTime now = Wall(w_.now());
  policy::SpotProviderRead spot;
  spot.provider = s.capacity_providers.spot.name;
  spot.group = s.fleet.id;
  spot.desired = static_cast<int>(std::lround(w_.fleet->target()));
  for (uint32_t index : w_.fleet->instances()) {
    const Instance& in = w_.instances[index];
    if (!in.terminating && in.state == Instance::State::kRunning) ++spot.in_service;
  }
  spot.max_size = s.capacity_providers.spot.max_size;
  if (w_.fleet->last_launch_failure() >= 0) {
    spot.spot_failure_at = Wall(w_.fleet->last_launch_failure());
    spot.spot_failure_message =
        "Could not launch Spot Instances. InsufficientInstanceCapacity - There is no Spot "
        "capacity available that matches your request. Launching EC2 instance failed.";
  }
  for (uint32_t sv = 0; sv < s.ecs.services.size(); ++sv) {
    const ServiceSpec& spec = s.ecs.services[sv];
    bool uses_spot = false;
    for (const StrategyItem& item : spec.capacity_provider_strategy) {
      uses_spot = uses_spot || (item.provider == StrategyItem::Provider::kSpot &&
                                (item.weight > 0 || item.base > 0));
    }
    if (!uses_spot) continue;
    policy::FallbackObservation o;
    o.cluster = s.ecs.cluster;
    o.primary = spec.name;
    o.shadow = spec.name + "-od";
    o.primary_desired = spec.desired;
    o.primary_running = w_.ecs->PrimaryRunning(sv);
    const std::vector<uint32_t>& waiting = w_.ecs->provisioning(sv, false);
    o.primary_pending = w_.ecs->PrimaryStarting(sv) + static_cast<int>(waiting.size());
    for (uint32_t t : waiting) {
      const Task& task = w_.ecs->task(t);
      o.provisioning.push_back(
          {"arn:aws:ecs:us-east-1:000000000000:task/" + s.ecs.cluster + "/" + std::to_string(t),
           task.provider == kSpotProvider ? s.capacity_providers.spot.name
                                          : s.capacity_providers.on_demand.name,
           Wall(task.created)});
    }
    o.spot_providers = {spot};
    o.shadow_desired = w_.ecs->ShadowDesired(sv);
    if (auto it = shortfall_ended_at_.find(sv); it != shortfall_ended_at_.end())
      o.shortfall_ended_at = it->second;
    const policy::FallbackDecision d =
        policy::DecideFallback(o, s.controller.fallback, now, std::nullopt);
    if (d.shortfall_ended_at) {
      shortfall_ended_at_[sv] = *d.shortfall_ended_at;
    } else {
      shortfall_ended_at_.erase(sv);
    }
    w_.ecs->SetShadowDesired(sv, d.desired);
  }
}

// The controller's LifecycleKeeper (src/controller/lifecycle.cc) on the spot
// group, with the container instances as the decision observed them: for
// each instance in Terminating:Wait, drain its container instance if ACTIVE
// (the drain start recorded once); once it runs no task, has no container
// instance, or max_drain_time has passed since the drain began, complete the
// action; else a heartbeat when none was sent or the last is older than half
// the hook's heartbeat timeout.
void Policies::LifecyclePass(const policy::Observation& o) {
  const SimTime now = w_.now();
  const std::vector<uint32_t> waiting = w_.fleet->waiting();  // completing changes it
  for (uint32_t index : waiting) {
    const policy::ContainerInstance* ci =
        policy::FindContainerOfInstance(o.container_instances, w_.instances[index].id);
    SimTime since = now;
    if (ci) {
      if (ci->status == policy::ContainerStatus::kActive) w_.ecs->SetDraining(index);
      since = drain_since_.emplace(index, now).first->second;
    }
    if (!ci || ci->running_tasks == 0 || Wall(now) - Wall(since) >= config_.max_drain_time) {
      w_.fleet->CompleteLifecycleAction(index);
      continue;
    }
    auto last = last_heartbeat_.find(index);
    if (last != last_heartbeat_.end() &&
        now - last->second < w_.s.fleet.hook_heartbeat_timeout / 2) {
      continue;  // no heartbeat due
    }
    w_.fleet->RecordHeartbeat(index);
    last_heartbeat_[index] = now;
  }
  // Memory of actions no longer pending is dropped.
  const std::vector<uint32_t>& still = w_.fleet->waiting();
  auto gone = [&still](const auto& entry) {
    return std::find(still.begin(), still.end(), entry.first) == still.end();
  };
  std::erase_if(drain_since_, gone);
  std::erase_if(last_heartbeat_, gone);
}

void Policies::InvokeReference(const policy::ReferenceTrigger& trigger) {
  policy::ReferenceObservation o;
  if (w_.s.fleet.type == SpotSourceType::kSpotFleet) {
    o.target_capacity_maxima = std::vector<double>(10, w_.s.fleet.target_capacity);
    o.pending_capacity = w_.fleet->PendingCapacity();
    o.target_capacity = w_.s.fleet.target_capacity;
  } else {
    // The Lambda reads the AWS/EC2Spot metrics of the fleet id it holds; an
    // EC2 Fleet or a group publishes none: no datapoints, read as 0.
    o.target_capacity_maxima = std::vector<double>();
  }
  o.group_desired = w_.asg->desired();
  ApplyActions(policy::DecideReference(trigger, o, reference_config_).actions);
}

void Policies::ReferenceTermination(uint32_t index) {
  const Instance& in = w_.instances[index];
  policy::ReferenceTrigger trigger;
  trigger.kind = policy::ReferenceTrigger::Kind::kTermination;
  trigger.instance_type = w_.TypeOf(in);
  trigger.ecs_cluster = w_.s.ecs.cluster;
  trigger.ecs_container = in.ecs != Instance::Ecs::kNone ? in.arn : "";
  InvokeReference(trigger);
}

// A CloudWatch alarm on PendingCapacity > 0 (one 60 s period): it notifies
// SNS, and so the Lambda, only when it goes from OK to ALARM.
void Policies::AlarmEval() {
  bool breaching = w_.fleet->PendingCapacity() > 1e-9;
  if (breaching && !alarm_) {
    policy::ReferenceTrigger trigger;
    trigger.kind = policy::ReferenceTrigger::Kind::kAlarm;
    trigger.fleet_id = w_.s.fleet.id;
    InvokeReference(trigger);
  }
  alarm_ = breaching;
  w_.q.Push(w_.now() + w_.s.reference.alarm_period, kAlarmEval);
}

}  // namespace spk::sim
