#include "controller/aws_cloud_view.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <variant>

#include "base/log.h"

namespace spk::controller {
namespace {

constexpr auto kPendingLookback = std::chrono::minutes(5);
// Queries end this far after now: tolerates our clock being behind CloudWatch's.
constexpr auto kClockSlack = std::chrono::minutes(1);

void AddWeight(const aws::SpotFleetSlot& slot, std::map<std::string, double>* weights) {
  if (slot.weighted_capacity && !slot.instance_type.empty()) {
    weights->emplace(slot.instance_type, *slot.weighted_capacity);
  }
}

void AddTemplateWeights(const std::vector<aws::SpotFleetTemplateConfig>& configs,
                        std::map<std::string, double>* weights) {
  for (const aws::SpotFleetTemplateConfig& config : configs) {
    for (const aws::SpotFleetSlot& slot : config.overrides) AddWeight(slot, weights);
  }
}

std::map<std::string, double> FleetWeights(const aws::SpotFleetRequest& fleet) {
  std::map<std::string, double> weights;
  for (const aws::SpotFleetSlot& slot : fleet.launch_specifications) AddWeight(slot, &weights);
  AddTemplateWeights(fleet.launch_template_configs, &weights);
  return weights;
}

SpotSourceRead NewRead(const std::string& id, policy::SourceKind kind) {
  SpotSourceRead out;
  out.source.id = id;
  out.source.kind = kind;
  return out;
}

// What a Spot Fleet and an EC2 Fleet share: target, fulfilled, weights and
// the instances (or their failed listing as the read_status).
void FillFleetRead(double target, double fulfilled, std::map<std::string, double> weights,
                   const Result<std::vector<aws::SpotFleetInstance>>& instances, const char* call,
                   SpotSourceRead* read) {
  read->source.target_capacity = target;
  read->source.fulfilled_capacity = fulfilled;
  read->source.weights = std::move(weights);
  if (!instances.ok()) {
    read->source.read_status = instances.status().WithContext(call);
    return;
  }
  for (const aws::SpotFleetInstance& instance : *instances) {
    read->source.instance_ids.push_back(instance.instance_id);
    read->instance_types[instance.instance_id] = instance.instance_type;
  }
}

// The last time the maxima changed value; nullopt when they never did.
std::optional<WallTime> LastChange(const std::vector<aws::Datapoint>& points) {
  std::optional<WallTime> changed;
  for (size_t i = 1; i < points.size(); ++i) {
    if (points[i].maximum != points[i - 1].maximum) changed = points[i].timestamp;
  }
  return changed;
}

policy::ContainerInstance ToPolicy(const std::string& cluster, const aws::ContainerInstance& ci) {
  policy::ContainerInstance out;
  out.cluster = cluster;
  out.arn = ci.arn;
  out.ec2_instance_id = ci.ec2_instance_id;
  out.status = policy::ParseContainerStatus(ci.status);
  out.running_tasks = static_cast<int>(ci.running_tasks_count);
  out.pending_tasks = static_cast<int>(ci.pending_tasks_count);
  out.attributes = ci.attributes;
  return out;
}

// A spot group's capacity: in service or on its way in (Pending, and
// Pending:Wait/Proceed while a launching hook holds it), not leaving.
bool CountsAsFulfilled(const aws::AsgInstance& instance) {
  return instance.lifecycle_state == "InService" || instance.lifecycle_state.starts_with("Pending");
}

}  // namespace

Result<std::vector<aws::Datapoint>> AwsCloudView::FleetMetric(const std::string& fleet_id,
                                                              const std::string& metric,
                                                              WallTime start, WallTime end) {
  aws::GetMetricStatisticsRequest request;
  request.namespace_ = "AWS/EC2Spot";
  request.metric_name = metric;
  request.dimensions = {{"FleetRequestId", fleet_id}};
  request.start_time = start;
  request.end_time = end + kClockSlack;
  request.period_seconds = 60;
  request.statistics = {"Maximum"};
  return cloudwatch_.GetMetricStatistics(request);
}

Status AwsCloudView::ReadFleetMetrics(const std::string& fleet_id, WallTime now,
                                      Duration guard_window, policy::SpotCapacitySource* source) {
  SPK_ASSIGN_OR_RETURN(auto pending,
                       FleetMetric(fleet_id, "PendingCapacity", now - kPendingLookback, now));
  if (pending.empty() || !pending.back().maximum) {
    return NotFoundError("no AWS/EC2Spot PendingCapacity datapoint for " + fleet_id +
                         " in the last 5 minutes");
  }
  source->pending_capacity = *pending.back().maximum;
  SPK_ASSIGN_OR_RETURN(auto target,
                       FleetMetric(fleet_id, "TargetCapacity", now - guard_window, now));
  source->last_target_change = LastChange(target);
  return Status::Ok();
}

SpotSourceRead AwsCloudView::ReadSpotFleet(const std::string& fleet_id, PendingSource pending,
                                           WallTime now, Duration guard_window) {
  SpotSourceRead out = NewRead(fleet_id, policy::SourceKind::kSpotFleet);
  policy::SpotCapacitySource& source = out.source;
  auto fleets = ec2_.DescribeSpotFleetRequests({fleet_id});
  if (!fleets.ok() || fleets->empty()) {
    source.read_status = fleets.ok() ? NotFoundError("spot fleet " + fleet_id + " not found")
                                     : fleets.status().WithContext("DescribeSpotFleetRequests");
    return out;
  }
  const aws::SpotFleetRequest& fleet = fleets->front();
  FillFleetRead(static_cast<double>(fleet.target_capacity), fleet.fulfilled_capacity,
                FleetWeights(fleet), ec2_.DescribeSpotFleetInstances(fleet_id),
                "DescribeSpotFleetInstances", &out);
  if (!source.read_status.ok()) return out;
  if (pending == PendingSource::kCloudWatch) {
    Status metrics = ReadFleetMetrics(fleet_id, now, guard_window, &source);
    if (!metrics.ok()) source.read_status = metrics.WithContext("CloudWatch AWS/EC2Spot");
  }
  return out;
}

SpotSourceRead AwsCloudView::ReadEc2Fleet(const std::string& fleet_id) {
  SpotSourceRead out = NewRead(fleet_id, policy::SourceKind::kEc2Fleet);
  auto fleets = ec2_.DescribeFleets({fleet_id});
  if (!fleets.ok()) {
    out.source.read_status = fleets.status().WithContext("DescribeFleets");
    return out;
  }
  auto fleet = std::find_if(fleets->begin(), fleets->end(),
                            [&](const aws::Ec2Fleet& f) { return f.id == fleet_id; });
  if (fleet == fleets->end()) {
    out.source.read_status = NotFoundError("EC2 Fleet " + fleet_id + " not found");
    return out;
  }
  std::map<std::string, double> weights;
  AddTemplateWeights(fleet->launch_template_configs, &weights);
  FillFleetRead(static_cast<double>(fleet->total_target_capacity), fleet->fulfilled_capacity,
                std::move(weights), ec2_.DescribeFleetInstances(fleet_id), "DescribeFleetInstances",
                &out);
  return out;
}

SpotSourceRead AwsCloudView::ReadSpotGroup(const std::string& group) {
  SpotSourceRead out = NewRead(group, policy::SourceKind::kAutoScalingGroup);
  policy::SpotCapacitySource& source = out.source;
  auto groups = autoscaling_.DescribeAutoScalingGroups({group});
  if (!groups.ok() || groups->empty()) {
    source.read_status = groups.ok() ? NotFoundError("Auto Scaling group " + group + " not found")
                                     : groups.status().WithContext("DescribeAutoScalingGroups");
    return out;
  }
  const aws::AutoScalingGroup& asg = groups->front();
  source.target_capacity = static_cast<double>(asg.desired_capacity);
  for (const aws::AsgOverride& o : asg.overrides) {
    if (o.weighted_capacity) source.weights[o.instance_type] = *o.weighted_capacity;
  }
  for (const aws::AsgInstance& instance : asg.instances) {
    if (!CountsAsFulfilled(instance)) continue;
    source.instance_ids.push_back(instance.instance_id);
    out.instance_types[instance.instance_id] = instance.instance_type;
    source.fulfilled_capacity +=
        instance.weighted_capacity.value_or(asg.WeightOf(instance.instance_type).value_or(1));
  }
  return out;
}

OnDemandGroupRead AwsCloudView::ReadOnDemandGroup(const std::string& group) {
  OnDemandGroupRead out;
  out.group.name = group;
  auto groups = autoscaling_.DescribeAutoScalingGroups({group});
  if (!groups.ok() || groups->empty()) {
    out.group.read_status = groups.ok()
                                ? NotFoundError("Auto Scaling group " + group + " not found")
                                : groups.status().WithContext("DescribeAutoScalingGroups");
    return out;
  }
  const aws::AutoScalingGroup& asg = groups->front();
  out.group.min_size = static_cast<int>(asg.min_size);
  out.group.max_size = static_cast<int>(asg.max_size);
  out.group.desired_capacity = static_cast<int>(asg.desired_capacity);
  out.tags = asg.tags;
  for (const aws::AsgInstance& instance : asg.instances) {
    out.group.instances.push_back(
        {instance.instance_id, instance.lifecycle_state, instance.protected_from_scale_in});
    if (out.instance_type.empty() && !instance.instance_type.empty()) {
      out.instance_type = instance.instance_type;
      out.instance_type_source = "instance " + instance.instance_id;
    }
  }
  // No instance to read the type from (the group is at 0): what it would launch.
  if (out.instance_type.empty()) ReadLaunchedType(asg, &out);
  return out;
}

void AwsCloudView::ReadLaunchedType(const aws::AutoScalingGroup& asg, OnDemandGroupRead* out) {
  Result<std::string> type = NotFoundError("no instance, and no launch template or configuration");
  if (!asg.overrides.empty()) {
    out->instance_type_source = "mixed-instances policy's first override";
    type = asg.overrides.front().instance_type;
  } else if (!asg.launch_template_name.empty() || !asg.launch_template_id.empty()) {
    const std::string& version =
        asg.launch_template_version.empty() ? "$Default" : asg.launch_template_version;
    out->instance_type_source =
        "launch template " +
        (asg.launch_template_name.empty() ? asg.launch_template_id : asg.launch_template_name) +
        " version " + version;
    type =
        ec2_.LaunchTemplateInstanceType(asg.launch_template_name, asg.launch_template_id, version);
  } else if (!asg.launch_configuration_name.empty()) {
    out->instance_type_source = "launch configuration " + asg.launch_configuration_name;
    type = LaunchConfigurationType(asg.launch_configuration_name);
  }
  if (type.ok() && type->empty()) type = NotFoundError("it names no instance type");
  if (type.ok()) {
    out->instance_type = *type;
    return;
  }
  out->instance_type_source = out->instance_type_source.empty()
                                  ? type.status().message()
                                  : out->instance_type_source + ": " + type.status().message();
  log::Warn("cannot tell what the on-demand group launches",
            {{"group", asg.name}, {"error", out->instance_type_source}});
}

Result<std::string> AwsCloudView::LaunchConfigurationType(const std::string& name) {
  auto configs = autoscaling_.DescribeLaunchConfigurations({name});
  if (!configs.ok()) return configs.status();
  for (const aws::LaunchConfiguration& lc : *configs) {
    if (lc.name == name) return lc.instance_type;
  }
  return NotFoundError("it does not exist");
}

Result<std::vector<CapacityProviderGroup>> AwsCloudView::ReadCapacityProviderGroups(
    const std::string& cluster) {
  auto names = ecs_.ClusterCapacityProviders(cluster);
  if (!names.ok()) return names.status().WithContext("DescribeClusters " + cluster);
  // Fargate's providers hold no Auto Scaling group.
  std::erase_if(*names, [](const std::string& n) { return n == "FARGATE" || n == "FARGATE_SPOT"; });
  std::vector<CapacityProviderGroup> out;
  if (names->empty()) return out;
  auto described = ecs_.DescribeCapacityProviders(*names);
  if (!described.ok()) return described.status().WithContext("DescribeCapacityProviders");
  if (!described->failures.empty()) {
    const aws::EcsFailure& f = described->failures.front();
    return InternalError("DescribeCapacityProviders: " + f.arn + ": " + f.reason);
  }
  for (const aws::EcsCapacityProvider& p : described->capacity_providers) {
    std::string group = p.auto_scaling_group_name();
    if (group.empty()) continue;
    out.push_back({p.name, std::move(group), p.managed_scaling == "ENABLED"});
  }
  return out;
}

Result<int> AwsCloudView::InstanceTypeVcpus(const std::string& instance_type) {
  if (auto it = vcpus_.find(instance_type); it != vcpus_.end()) return it->second;
  auto types = ec2_.DescribeInstanceTypes({instance_type});
  if (!types.ok()) return types.status().WithContext("DescribeInstanceTypes " + instance_type);
  for (const aws::InstanceTypeInfo& info : *types) {
    if (info.instance_type == instance_type && info.vcpus > 0) {
      return vcpus_[instance_type] = static_cast<int>(info.vcpus);
    }
  }
  return NotFoundError("no vCPU count for instance type " + instance_type);
}

Result<std::vector<policy::ContainerInstance>> AwsCloudView::ListContainerInstances(
    const std::string& cluster) {
  auto arns = ecs_.ListContainerInstances(cluster);
  if (!arns.ok()) return arns.status().WithContext("ListContainerInstances " + cluster);
  std::vector<policy::ContainerInstance> out;
  if (arns->empty()) return out;
  auto described = ecs_.DescribeContainerInstances(cluster, *arns);
  if (!described.ok()) return described.status().WithContext("DescribeContainerInstances");
  for (const aws::ContainerInstance& ci : described->container_instances) {
    out.push_back(ToPolicy(cluster, ci));
  }
  return out;
}

Result<std::vector<policy::ContainerInstance>> AwsCloudView::DescribeContainerInstances(
    const std::string& cluster, const std::vector<std::string>& arns) {
  std::vector<policy::ContainerInstance> out;
  if (arns.empty()) return out;
  auto described = ecs_.DescribeContainerInstances(cluster, arns);
  if (!described.ok()) return described.status().WithContext("DescribeContainerInstances");
  for (const aws::ContainerInstance& ci : described->container_instances) {
    out.push_back(ToPolicy(cluster, ci));
  }
  return out;
}

Status AwsCloudView::SetContainerState(const std::string& cluster,
                                       const std::vector<std::string>& arns,
                                       const std::string& state) {
  auto result = ecs_.UpdateContainerInstancesState(cluster, arns, state);
  if (!result.ok()) return result.status().WithContext("UpdateContainerInstancesState");
  if (!result->failures.empty()) {
    const aws::EcsFailure& failure = result->failures.front();
    return FailedPreconditionError("UpdateContainerInstancesState " + failure.arn + ": " +
                                   failure.reason + " " + failure.detail);
  }
  return Status::Ok();
}

Status AwsCloudView::PutContainerAttributes(const std::string& cluster,
                                            const std::vector<ContainerAttribute>& attributes) {
  std::vector<aws::EcsAttribute> list;
  for (const ContainerAttribute& a : attributes) {
    // The full ARN as targetId, without targetType (see aws/ecs.h).
    list.push_back({a.name, a.value, "", a.arn});
  }
  Status status = ecs_.PutAttributes(cluster, list);
  return status.ok() ? status : status.WithContext("PutAttributes");
}

Status AwsCloudView::DeleteContainerAttributes(const std::string& cluster,
                                               const std::vector<ContainerAttribute>& attributes) {
  std::vector<aws::EcsAttribute> list;
  for (const ContainerAttribute& a : attributes) list.push_back({a.name, "", "", a.arn});
  Status status = ecs_.DeleteAttributes(cluster, list);
  return status.ok() ? status : status.WithContext("DeleteAttributes");
}

Status AwsCloudView::SetGroupTags(const std::string& group,
                                  const std::map<std::string, std::string>& tags) {
  Status status = autoscaling_.CreateOrUpdateTags(group, tags);
  return status.ok() ? status : status.WithContext("CreateOrUpdateTags " + group);
}

Status AwsCloudView::DeleteGroupTags(const std::string& group,
                                     const std::vector<std::string>& keys) {
  Status status = autoscaling_.DeleteTags(group, keys);
  return status.ok() ? status : status.WithContext("DeleteTags " + group);
}

Status AwsCloudView::Apply(const policy::Action& action) {
  return std::visit(
      [&](const auto& what) -> Status {
        using T = std::decay_t<decltype(what)>;
        if constexpr (std::is_same_v<T, policy::DrainContainerInstances>) {
          return SetContainerState(what.cluster, what.container_instance_arns, "DRAINING");
        } else if constexpr (std::is_same_v<T, policy::ActivateContainerInstances>) {
          return SetContainerState(what.cluster, what.container_instance_arns, "ACTIVE");
        } else if constexpr (std::is_same_v<T, policy::SetDesiredCapacity>) {
          return autoscaling_.SetDesiredCapacity(what.group, what.desired, what.honor_cooldown);
        } else {
          auto activity = autoscaling_.TerminateInstanceInAutoScalingGroup(what.instance_id,
                                                                           what.decrement_desired);
          return activity.ok() ? Status::Ok() : activity.status();
        }
      },
      action.what);
}

Result<LifecycleWaits> AwsCloudView::ReadLifecycleWaits(const std::string& group) {
  SPK_ASSIGN_OR_RETURN(std::vector<aws::AutoScalingGroup> groups,
                       autoscaling_.DescribeAutoScalingGroups({group}));
  LifecycleWaits out;
  for (const aws::AutoScalingGroup& g : groups) {
    if (g.name != group) continue;
    for (const aws::AsgInstance& instance : g.instances) {
      if (instance.lifecycle_state == "Terminating:Wait") {
        out.instance_ids.push_back(instance.instance_id);
      } else if (instance.lifecycle_state == "Pending:Wait") {
        out.launching.push_back({instance.instance_id, std::nullopt});
      }
    }
  }
  if (out.instance_ids.empty() && out.launching.empty()) return out;
  SPK_ASSIGN_OR_RETURN(std::vector<aws::LifecycleHook> hooks,
                       autoscaling_.DescribeLifecycleHooks(group));
  for (const aws::LifecycleHook& hook : hooks) {
    const TerminateHook h{hook.name, std::chrono::seconds(hook.heartbeat_timeout_seconds)};
    if (hook.transition == "autoscaling:EC2_INSTANCE_TERMINATING") out.hooks.push_back(h);
    if (hook.transition == "autoscaling:EC2_INSTANCE_LAUNCHING") out.launch_hooks.push_back(h);
  }
  if (out.launching.empty() || out.launch_hooks.empty()) return out;
  aws::InstanceQuery query;
  for (const LaunchingInstance& l : out.launching) query.instance_ids.push_back(l.instance_id);
  auto described = ec2_.DescribeInstances(query);
  if (!described.ok()) {
    // Without launch times no launch is abandoned; the ACTIVE ones still
    // complete.
    log::Warn("could not read the launch times of instances waiting on a launching hook",
              {{"group", group}, {"error", described.status().ToString()}});
    return out;
  }
  for (LaunchingInstance& l : out.launching) {
    for (const aws::Ec2Instance& instance : *described) {
      if (instance.instance_id == l.instance_id) l.launched = instance.launch_time;
    }
  }
  return out;
}

namespace {

aws::LifecycleActionRef ToAws(const LifecycleActionRef& action) {
  return {action.hook, action.group, action.instance_id, action.token};
}

}  // namespace

Status AwsCloudView::RecordLifecycleHeartbeat(const LifecycleActionRef& action) {
  return autoscaling_.RecordLifecycleActionHeartbeat(ToAws(action));
}

Status AwsCloudView::CompleteLifecycleAction(const LifecycleActionRef& action,
                                             const std::string& result) {
  return autoscaling_.CompleteLifecycleAction(ToAws(action), result);
}

namespace {

ServiceRead ToRead(const aws::EcsService& s) {
  ServiceRead r;
  r.arn = s.arn;
  r.name = s.name;
  r.desired = static_cast<int>(std::clamp<int64_t>(s.desired_count, 0, 1 << 20));
  r.running = static_cast<int>(std::clamp<int64_t>(s.running_count, 0, 1 << 20));
  r.pending = static_cast<int>(std::clamp<int64_t>(s.pending_count, 0, 1 << 20));
  // Newest first, whatever order the reply had; back to the last steady state.
  std::vector<const aws::EcsServiceEvent*> events;
  for (const aws::EcsServiceEvent& e : s.events) events.push_back(&e);
  std::stable_sort(events.begin(), events.end(),
                   [](const auto* a, const auto* b) { return a->created_at > b->created_at; });
  for (const aws::EcsServiceEvent* e : events) {
    if (e->message.find("has reached a steady state") != std::string::npos) break;
    if (!policy::IsPlacementFailure(e->message)) continue;
    if (r.placement_failure.empty()) {
      r.placement_failure = e->message;
      r.placement_failed_at = e->created_at;
    }
    r.placement_failing_since = e->created_at;
  }
  r.task_definition = s.task_definition;
  r.primary_task_definition = s.primary_task_definition;
  r.capacity_providers = s.capacity_providers;
  r.tags = s.tags;
  return r;
}

// A launch that waits for spot capacity: a spot request Auto Scaling placed
// and EC2 has not fulfilled. (A launch slow for another reason, e.g. in a
// launch lifecycle hook or a warm pool, is no evidence of a spot shortage.)
bool WaitingForSpot(const aws::ScalingActivity& a) {
  return a.status_code == "PendingSpotBidPlacement" ||
         a.status_code == "WaitingForSpotInstanceRequestId" ||
         a.status_code == "WaitingForSpotInstanceId";
}

}  // namespace

Result<std::vector<ServiceRead>> AwsCloudView::ReadServices(const std::string& cluster,
                                                            const std::vector<std::string>& names) {
  auto described = ecs_.DescribeServices(cluster, names, /*with_tags=*/true);
  if (!described.ok()) return described.status().WithContext("DescribeServices " + cluster);
  std::vector<ServiceRead> out;
  for (const aws::EcsService& s : described->services) {
    if (s.status == "INACTIVE") continue;  // deleted: as good as missing
    out.push_back(ToRead(s));
  }
  return out;
}

Result<std::map<std::string, std::string>> AwsCloudView::ServicesTagged(const std::string& cluster,
                                                                        const std::string& tag) {
  auto arns = ecs_.ListServices(cluster);
  if (!arns.ok()) return arns.status().WithContext("ListServices " + cluster);
  std::map<std::string, std::string> out;
  if (arns->empty()) return out;
  SPK_ASSIGN_OR_RETURN(std::vector<ServiceRead> services, ReadServices(cluster, *arns));
  for (const ServiceRead& s : services) {
    if (auto it = s.tags.find(tag); it != s.tags.end()) out[s.name] = it->second;
  }
  return out;
}

Result<std::vector<policy::ProvisioningTask>> AwsCloudView::ProvisioningTasks(
    const std::string& cluster, const std::string& service) {
  aws::ListTasksOptions options;
  options.service_name = service;
  options.desired_status = "RUNNING";
  auto arns = ecs_.ListTasks(cluster, options);
  if (!arns.ok()) return arns.status().WithContext("ListTasks " + cluster + "/" + service);
  std::vector<policy::ProvisioningTask> out;
  if (arns->empty()) return out;
  auto tasks = ecs_.DescribeTasks(cluster, *arns);
  if (!tasks.ok()) return tasks.status().WithContext("DescribeTasks " + cluster);
  for (const aws::EcsTask& t : tasks->tasks) {
    if (t.last_status != "PROVISIONING") continue;
    if (!t.created_at) {
      return InternalError("DescribeTasks: PROVISIONING task " + t.arn + " has no createdAt");
    }
    out.push_back({t.arn, t.capacity_provider_name, *t.created_at});
  }
  return out;
}

Result<ProviderGroupRead> AwsCloudView::ReadProviderGroup(const std::string& group) {
  auto groups = autoscaling_.DescribeAutoScalingGroups({group});
  if (!groups.ok()) return groups.status().WithContext("DescribeAutoScalingGroups " + group);
  const aws::AutoScalingGroup* asg = nullptr;
  for (const aws::AutoScalingGroup& g : *groups) {
    if (g.name == group) asg = &g;
  }
  if (!asg) return NotFoundError("Auto Scaling group " + group + " not found");
  ProviderGroupRead out;
  out.spot = asg->has_mixed_instances_policy &&
             asg->on_demand_percentage_above_base_capacity.value_or(100) == 0;
  policy::SpotProviderRead& r = out.read;
  r.group = group;
  r.desired = static_cast<int>(std::clamp<int64_t>(asg->desired_capacity, 0, 1 << 20));
  r.max_size = static_cast<int>(std::clamp<int64_t>(asg->max_size, 0, 1 << 20));
  r.in_service = static_cast<int>(
      std::count_if(asg->instances.begin(), asg->instances.end(),
                    [](const aws::AsgInstance& i) { return i.lifecycle_state == "InService"; }));
  auto activities = autoscaling_.DescribeScalingActivities(group);
  if (!activities.ok()) {
    return activities.status().WithContext("DescribeScalingActivities " + group);
  }
  for (const aws::ScalingActivity& a : *activities) {
    std::optional<WallTime> at = a.end_time ? a.end_time : a.start_time;
    if (a.status_code == "Failed" && at &&
        policy::IsSpotCapacityFailure(a.status_message + " " + a.description + " " + a.cause) &&
        (!r.spot_failure_at || *at > *r.spot_failure_at)) {
      r.spot_failure_at = at;
      r.spot_failure_message = a.status_message;
    }
    if (WaitingForSpot(a) && a.start_time &&
        (!r.launching_since || *a.start_time < *r.launching_since)) {
      r.launching_since = a.start_time;
    }
  }
  return out;
}

Status AwsCloudView::UpdateService(const std::string& cluster, const std::string& service,
                                   int desired, const std::string& task_definition) {
  return ecs_.UpdateService(cluster, service, desired, task_definition);
}

Status AwsCloudView::SetServiceTags(const std::string& arn,
                                    const std::map<std::string, std::string>& tags) {
  return ecs_.TagResource(arn, tags);
}

Status AwsCloudView::DeleteServiceTags(const std::string& arn,
                                       const std::vector<std::string>& keys) {
  return ecs_.UntagResource(arn, keys);
}

}  // namespace spk::controller
