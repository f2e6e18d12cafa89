#include "aws/autoscaling.h"

#include <algorithm>

#include "aws/service_util.h"

namespace spk::aws {

using internal::XmlFields;

namespace {

constexpr size_t kMaxNamesPerCall = 50;
constexpr size_t kMaxProtectionIdsPerCall = 50;

Result<AsgInstance> ReadInstance(const pugi::xml_node& node) {
  XmlFields f(node, "AutoScalingGroup.Instances.member");
  AsgInstance in;
  in.instance_id = f.Str("InstanceId");
  in.instance_type = f.Str("InstanceType");
  in.availability_zone = f.Str("AvailabilityZone");
  in.lifecycle_state = f.Str("LifecycleState");
  in.health_status = f.Str("HealthStatus");
  in.protected_from_scale_in = f.Bool("ProtectedFromScaleIn", false);
  in.weighted_capacity = f.OptDouble("WeightedCapacity");
  in.launch_template_name = node.child("LaunchTemplate").child("LaunchTemplateName").text().get();
  in.launch_template_version = node.child("LaunchTemplate").child("Version").text().get();
  SPK_RETURN_IF_ERROR(f.status());
  if (in.instance_id.empty()) return InternalError("reply's group instance has no InstanceId");
  return in;
}

Result<AutoScalingGroup> ReadGroup(const pugi::xml_node& node) {
  AutoScalingGroup g;
  XmlFields f(node, "AutoScalingGroup");
  g.name = f.Str("AutoScalingGroupName");
  XmlFields r(node, "AutoScalingGroup(" + g.name + ")");
  g.arn = r.Str("AutoScalingGroupARN");
  g.min_size = r.Int("MinSize");
  g.max_size = r.Int("MaxSize");
  g.desired_capacity = r.Int("DesiredCapacity");
  g.default_cooldown = r.OptInt("DefaultCooldown").value_or(0);
  g.desired_capacity_type = r.Str("DesiredCapacityType");
  g.status = r.Str("Status");
  g.launch_configuration_name = r.Str("LaunchConfigurationName");
  g.launch_template_name = node.child("LaunchTemplate").child("LaunchTemplateName").text().get();
  g.launch_template_id = node.child("LaunchTemplate").child("LaunchTemplateId").text().get();
  g.launch_template_version = node.child("LaunchTemplate").child("Version").text().get();
  g.capacity_rebalance = r.Bool("CapacityRebalance", false);
  SPK_RETURN_IF_ERROR(r.status());
  if (g.name.empty()) return InternalError("reply's group has no AutoScalingGroupName");

  for (pugi::xml_node az : node.child("AvailabilityZones").children("member")) {
    g.availability_zones.emplace_back(az.text().get());
  }
  for (pugi::xml_node m : node.child("Instances").children("member")) {
    SPK_ASSIGN_OR_RETURN(AsgInstance in, ReadInstance(m));
    g.instances.push_back(std::move(in));
  }
  for (pugi::xml_node t : node.child("Tags").children("member")) {
    g.tags[t.child("Key").text().get()] = t.child("Value").text().get();
  }

  pugi::xml_node mip = node.child("MixedInstancesPolicy");
  if (mip) {
    g.has_mixed_instances_policy = true;
    pugi::xml_node lt = mip.child("LaunchTemplate");
    pugi::xml_node spec = lt.child("LaunchTemplateSpecification");
    g.mixed_launch_template_name = spec.child("LaunchTemplateName").text().get();
    g.mixed_launch_template_id = spec.child("LaunchTemplateId").text().get();
    for (pugi::xml_node o : lt.child("Overrides").children("member")) {
      XmlFields of(o, "MixedInstancesPolicy.Overrides.member");
      AsgOverride ov;
      ov.instance_type = of.Str("InstanceType");
      ov.weighted_capacity = of.OptDouble("WeightedCapacity");
      SPK_RETURN_IF_ERROR(of.status());
      g.overrides.push_back(std::move(ov));
    }
    XmlFields dist(mip.child("InstancesDistribution"), "InstancesDistribution");
    g.on_demand_base_capacity = dist.OptInt("OnDemandBaseCapacity");
    g.on_demand_percentage_above_base_capacity = dist.OptInt("OnDemandPercentageAboveBaseCapacity");
    g.spot_allocation_strategy = dist.Str("SpotAllocationStrategy");
    SPK_RETURN_IF_ERROR(dist.status());
  }
  return g;
}

Result<LaunchConfiguration> ReadLaunchConfiguration(const pugi::xml_node& node) {
  XmlFields f(node, "LaunchConfigurations.member");
  LaunchConfiguration lc;
  lc.name = f.Str("LaunchConfigurationName");
  lc.arn = f.Str("LaunchConfigurationARN");
  lc.image_id = f.Str("ImageId");
  lc.instance_type = f.Str("InstanceType");
  SPK_RETURN_IF_ERROR(f.status());
  if (lc.name.empty()) return InternalError("reply's launch configuration has no name");
  if (lc.instance_type.empty()) {
    return InternalError("reply's launch configuration " + lc.name + " has no InstanceType");
  }
  return lc;
}

// Every page of a Describe* call whose request lists names as
// `list_param`.member.N (50 per call) and whose reply lists `list_child` members.
template <typename T>
Result<std::vector<T>> DescribeAllPages(AwsClient& client, const std::string& action,
                                        const std::string& list_param,
                                        const std::vector<std::string>& names, int page_size,
                                        const char* list_child,
                                        Result<T> (*read)(const pugi::xml_node&)) {
  std::vector<T> out;
  std::vector<std::vector<std::string>> batches = internal::Batches(names, kMaxNamesPerCall);
  if (batches.empty()) batches.emplace_back();  // no names: every one
  for (const auto& batch : batches) {
    Status st = internal::FollowPages([&](const std::string& token) -> Result<std::string> {
      QueryParams params;
      internal::AddList(params, list_param + ".member", batch);
      if (page_size > 0) params["MaxRecords"] = std::to_string(page_size);
      if (!token.empty()) params["NextToken"] = token;
      SPK_ASSIGN_OR_RETURN(XmlReply reply,
                           client.CallQuery(services::AutoScaling(), action, params));
      SPK_ASSIGN_OR_RETURN(pugi::xml_node result, internal::QueryResultNode(reply, action));
      for (pugi::xml_node m : result.child(list_child).children("member")) {
        SPK_ASSIGN_OR_RETURN(T item, read(m));
        out.push_back(std::move(item));
      }
      return std::string(result.child("NextToken").text().get());
    });
    if (!st.ok()) return st;
  }
  return out;
}

Result<ScalingActivity> ReadActivity(const pugi::xml_node& node) {
  XmlFields f(node, "Activity");
  ScalingActivity a;
  a.activity_id = f.Str("ActivityId");
  a.group_name = f.Str("AutoScalingGroupName");
  a.description = f.Str("Description");
  a.cause = f.Str("Cause");
  a.status_code = f.Str("StatusCode");
  a.status_message = f.Str("StatusMessage");
  a.start_time = f.OptTime("StartTime");
  a.end_time = f.OptTime("EndTime");
  SPK_RETURN_IF_ERROR(f.status());
  return a;
}

}  // namespace

std::optional<double> AutoScalingGroup::WeightOf(const std::string& instance_type) const {
  for (const auto& o : overrides) {
    if (o.instance_type == instance_type && o.weighted_capacity) return o.weighted_capacity;
  }
  return std::nullopt;
}

Result<std::vector<AutoScalingGroup>> AutoScalingClient::DescribeAutoScalingGroups(
    const std::vector<std::string>& names) {
  static const std::string kAction = "DescribeAutoScalingGroups";
  return DescribeAllPages<AutoScalingGroup>(client_, kAction, "AutoScalingGroupNames", names,
                                            page_size_, "AutoScalingGroups", &ReadGroup);
}

Result<std::vector<LaunchConfiguration>> AutoScalingClient::DescribeLaunchConfigurations(
    const std::vector<std::string>& names) {
  static const std::string kAction = "DescribeLaunchConfigurations";
  return DescribeAllPages<LaunchConfiguration>(client_, kAction, "LaunchConfigurationNames", names,
                                               page_size_, "LaunchConfigurations",
                                               &ReadLaunchConfiguration);
}

Status AutoScalingClient::SetDesiredCapacity(const std::string& group, int64_t desired,
                                             bool honor_cooldown) {
  QueryParams params{{"AutoScalingGroupName", group},
                     {"DesiredCapacity", std::to_string(desired)},
                     {"HonorCooldown", internal::FormatBool(honor_cooldown)}};
  SPK_ASSIGN_OR_RETURN(XmlReply reply,
                       client_.CallQuery(services::AutoScaling(), "SetDesiredCapacity", params));
  (void)reply;
  return Status::Ok();
}

Result<ScalingActivity> AutoScalingClient::TerminateInstanceInAutoScalingGroup(
    const std::string& instance_id, bool should_decrement) {
  static const std::string kAction = "TerminateInstanceInAutoScalingGroup";
  QueryParams params{{"InstanceId", instance_id},
                     {"ShouldDecrementDesiredCapacity", internal::FormatBool(should_decrement)}};
  SPK_ASSIGN_OR_RETURN(XmlReply reply, client_.CallQuery(services::AutoScaling(), kAction, params));
  SPK_ASSIGN_OR_RETURN(pugi::xml_node result, internal::QueryResultNode(reply, kAction));
  return ReadActivity(result.child("Activity"));
}

Result<std::vector<ScalingActivity>> AutoScalingClient::DescribeScalingActivities(
    const std::string& group, int max_records) {
  static const std::string kAction = "DescribeScalingActivities";
  QueryParams params{{"AutoScalingGroupName", group},
                     {"MaxRecords", std::to_string(std::clamp(max_records, 1, 100))}};
  SPK_ASSIGN_OR_RETURN(XmlReply reply, client_.CallQuery(services::AutoScaling(), kAction, params));
  SPK_ASSIGN_OR_RETURN(pugi::xml_node result, internal::QueryResultNode(reply, kAction));
  std::vector<ScalingActivity> out;
  for (pugi::xml_node m : result.child("Activities").children("member")) {
    SPK_ASSIGN_OR_RETURN(ScalingActivity a, ReadActivity(m));
    out.push_back(std::move(a));
  }
  return out;
}

namespace {

Result<LifecycleHook> ReadLifecycleHook(const pugi::xml_node& node) {
  XmlFields f(node, "LifecycleHooks.member");
  LifecycleHook hook;
  hook.name = f.Str("LifecycleHookName");
  hook.group = f.Str("AutoScalingGroupName");
  hook.transition = f.Str("LifecycleTransition");
  hook.heartbeat_timeout_seconds = f.OptInt("HeartbeatTimeout").value_or(0);
  hook.global_timeout_seconds = f.OptInt("GlobalTimeout").value_or(0);
  hook.default_result = f.Str("DefaultResult");
  hook.notification_metadata = f.Str("NotificationMetadata");
  SPK_RETURN_IF_ERROR(f.status());
  if (hook.name.empty()) return InternalError("reply's lifecycle hook has no LifecycleHookName");
  return hook;
}

// LifecycleHookName, AutoScalingGroupName and, when known, LifecycleActionToken
// and InstanceId.
QueryParams LifecycleActionParams(const LifecycleActionRef& action) {
  QueryParams params{{"LifecycleHookName", action.hook}, {"AutoScalingGroupName", action.group}};
  if (!action.token.empty()) params["LifecycleActionToken"] = action.token;
  if (!action.instance_id.empty()) params["InstanceId"] = action.instance_id;
  return params;
}

// Tags.member.N.{ResourceId,ResourceType,Key[,Value,PropagateAtLaunch]} of one group.
QueryParams GroupTagParams(const std::string& group, const std::vector<std::string>& keys,
                           const std::map<std::string, std::string>* values) {
  QueryParams params;
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string prefix = "Tags.member." + std::to_string(i + 1) + ".";
    params[prefix + "ResourceId"] = group;
    params[prefix + "ResourceType"] = "auto-scaling-group";
    params[prefix + "Key"] = keys[i];
    if (values) {
      params[prefix + "Value"] = values->at(keys[i]);
      params[prefix + "PropagateAtLaunch"] = "false";
    }
  }
  return params;
}

}  // namespace

Status AutoScalingClient::CreateOrUpdateTags(const std::string& group,
                                             const std::map<std::string, std::string>& tags) {
  if (tags.empty()) return Status::Ok();
  std::vector<std::string> keys;
  for (const auto& [key, value] : tags) keys.push_back(key);
  SPK_ASSIGN_OR_RETURN(XmlReply reply,
                       client_.CallQuery(services::AutoScaling(), "CreateOrUpdateTags",
                                         GroupTagParams(group, keys, &tags)));
  (void)reply;
  return Status::Ok();
}

Status AutoScalingClient::DeleteTags(const std::string& group,
                                     const std::vector<std::string>& keys) {
  if (keys.empty()) return Status::Ok();
  SPK_ASSIGN_OR_RETURN(XmlReply reply, client_.CallQuery(services::AutoScaling(), "DeleteTags",
                                                         GroupTagParams(group, keys, nullptr)));
  (void)reply;
  return Status::Ok();
}

Result<std::vector<LifecycleHook>> AutoScalingClient::DescribeLifecycleHooks(
    const std::string& group) {
  static const std::string kAction = "DescribeLifecycleHooks";
  SPK_ASSIGN_OR_RETURN(XmlReply reply, client_.CallQuery(services::AutoScaling(), kAction,
                                                         {{"AutoScalingGroupName", group}}));
  SPK_ASSIGN_OR_RETURN(pugi::xml_node result, internal::QueryResultNode(reply, kAction));
  std::vector<LifecycleHook> hooks;
  for (pugi::xml_node m : result.child("LifecycleHooks").children("member")) {
    SPK_ASSIGN_OR_RETURN(LifecycleHook hook, ReadLifecycleHook(m));
    hooks.push_back(std::move(hook));
  }
  return hooks;
}

Status AutoScalingClient::CompleteLifecycleAction(const LifecycleActionRef& action,
                                                  const std::string& result) {
  QueryParams params = LifecycleActionParams(action);
  params["LifecycleActionResult"] = result;
  SPK_ASSIGN_OR_RETURN(XmlReply reply, client_.CallQuery(services::AutoScaling(),
                                                         "CompleteLifecycleAction", params));
  (void)reply;
  return Status::Ok();
}

Status AutoScalingClient::RecordLifecycleActionHeartbeat(const LifecycleActionRef& action) {
  SPK_ASSIGN_OR_RETURN(XmlReply reply,
                       client_.CallQuery(services::AutoScaling(), "RecordLifecycleActionHeartbeat",
                                         LifecycleActionParams(action)));
  (void)reply;
  return Status::Ok();
}

Status AutoScalingClient::SetInstanceProtection(const std::string& group,
                                                const std::vector<std::string>& instance_ids,
                                                bool protect) {
  auto batches = internal::Batches(instance_ids, kMaxProtectionIdsPerCall);
  for (size_t i = 0; i < batches.size(); ++i) {
    QueryParams params{{"AutoScalingGroupName", group},
                       {"ProtectedFromScaleIn", internal::FormatBool(protect)}};
    internal::AddList(params, "InstanceIds.member", batches[i]);
    auto reply = client_.CallQuery(services::AutoScaling(), "SetInstanceProtection", params);
    if (!reply.ok()) {
      if (batches.size() == 1) return reply.status();
      return reply.status().WithContext("batch " + std::to_string(i + 1) + " of " +
                                        std::to_string(batches.size()));
    }
  }
  return Status::Ok();
}

}  // namespace spk::aws
