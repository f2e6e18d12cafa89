#include "aws/ecs.h"

#include <cmath>

#include "aws/service_util.h"

namespace spk::aws {

using internal::JsonFields;

namespace {

constexpr size_t kMaxDescribeContainerInstances = 100;
constexpr size_t kMaxUpdateContainerInstancesState = 10;
constexpr size_t kMaxPutAttributes = 10;
constexpr size_t kMaxDescribeTasks = 100;
constexpr size_t kMaxDescribeServices = 10;
constexpr size_t kMaxDescribeCapacityProviders = 100;

std::string BatchContext(size_t i, size_t n) {
  return "batch " + std::to_string(i + 1) + " of " + std::to_string(n);
}

// `attributes` as the API's attribute lists, 10 per call.
std::vector<nlohmann::json> AttributeBatches(const std::vector<EcsAttribute>& attributes,
                                             bool with_values) {
  std::vector<nlohmann::json> batches;
  for (size_t i = 0; i < attributes.size(); ++i) {
    if (i % kMaxPutAttributes == 0) batches.push_back(nlohmann::json::array());
    const EcsAttribute& a = attributes[i];
    nlohmann::json item = {{"name", a.name}};
    if (with_values && !a.value.empty()) item["value"] = a.value;
    if (!a.target_type.empty()) item["targetType"] = a.target_type;
    if (!a.target_id.empty()) item["targetId"] = a.target_id;
    batches.back().push_back(std::move(item));
  }
  return batches;
}

Status ReadFailures(JsonFields& top, std::vector<EcsFailure>& out) {
  for (const auto& item : top.Array("failures")) {
    JsonFields f(item, "Failure");
    out.push_back({f.Str("arn"), f.Str("reason"), f.Str("detail")});
    SPK_RETURN_IF_ERROR(f.status());
  }
  return top.status();
}

// The integer value of resource `name` ("CPU", "MEMORY") in a Resources list.
Result<int64_t> ResourceValue(const nlohmann::json& resources, const char* name) {
  for (const auto& r : resources) {
    JsonFields f(r, "Resource");
    if (f.Str("name") != name) continue;
    std::string type = f.Str("type");
    int64_t v = 0;
    if (type == "LONG") {
      v = f.OptInt("longValue").value_or(0);
    } else if (type == "DOUBLE") {
      const double d = f.OptDouble("doubleValue").value_or(0);
      // Whole units: a fraction is cut off; a value no int64_t holds is none.
      v = internal::IntegralDouble(std::trunc(d)).value_or(0);
    } else {
      v = f.OptInt("integerValue").value_or(0);
    }
    SPK_RETURN_IF_ERROR(f.status());
    return v;
  }
  return int64_t{0};
}

Result<ContainerInstance> ReadContainerInstance(const nlohmann::json& j) {
  JsonFields f(j, "ContainerInstance");
  ContainerInstance ci;
  ci.arn = f.Str("containerInstanceArn");
  ci.ec2_instance_id = f.Str("ec2InstanceId");
  ci.status = f.Str("status");
  ci.status_reason = f.Str("statusReason");
  ci.agent_connected = f.Bool("agentConnected", false);
  ci.running_tasks_count = f.OptInt("runningTasksCount").value_or(0);
  ci.pending_tasks_count = f.OptInt("pendingTasksCount").value_or(0);
  ci.capacity_provider_name = f.Str("capacityProviderName");
  ci.agent_update_status = f.Str("agentUpdateStatus");
  ci.registered_at = f.OptEpochTime("registeredAt");
  for (const auto& a : f.Array("attributes")) {
    JsonFields af(a, "Attribute");
    ci.attributes[af.Str("name")] = af.Str("value");
    SPK_RETURN_IF_ERROR(af.status());
  }
  const nlohmann::json& registered = f.Array("registeredResources");
  const nlohmann::json& remaining = f.Array("remainingResources");
  SPK_RETURN_IF_ERROR(f.status());
  SPK_ASSIGN_OR_RETURN(ci.registered_cpu, ResourceValue(registered, "CPU"));
  SPK_ASSIGN_OR_RETURN(ci.registered_memory, ResourceValue(registered, "MEMORY"));
  SPK_ASSIGN_OR_RETURN(ci.remaining_cpu, ResourceValue(remaining, "CPU"));
  SPK_ASSIGN_OR_RETURN(ci.remaining_memory, ResourceValue(remaining, "MEMORY"));
  if (ci.arn.empty())
    return InternalError("reply's container instance has no containerInstanceArn");
  return ci;
}

Status ReadContainerInstances(const nlohmann::json& reply, ContainerInstancesResult& out) {
  JsonFields top(reply, "reply");
  for (const auto& item : top.Array("containerInstances")) {
    SPK_ASSIGN_OR_RETURN(ContainerInstance ci, ReadContainerInstance(item));
    out.container_instances.push_back(std::move(ci));
  }
  return ReadFailures(top, out.failures);
}

Result<EcsTask> ReadTask(const nlohmann::json& j) {
  JsonFields f(j, "Task");
  EcsTask t;
  t.arn = f.Str("taskArn");
  t.task_definition_arn = f.Str("taskDefinitionArn");
  t.container_instance_arn = f.Str("containerInstanceArn");
  t.cluster_arn = f.Str("clusterArn");
  t.last_status = f.Str("lastStatus");
  t.desired_status = f.Str("desiredStatus");
  t.group = f.Str("group");
  t.started_by = f.Str("startedBy");
  t.launch_type = f.Str("launchType");
  t.capacity_provider_name = f.Str("capacityProviderName");
  t.availability_zone = f.Str("availabilityZone");
  t.created_at = f.OptEpochTime("createdAt");
  t.started_at = f.OptEpochTime("startedAt");
  SPK_RETURN_IF_ERROR(f.status());
  if (t.arn.empty()) return InternalError("reply's task has no taskArn");
  return t;
}

Result<EcsService> ReadService(const nlohmann::json& j) {
  JsonFields f(j, "Service");
  EcsService s;
  s.arn = f.Str("serviceArn");
  s.name = f.Str("serviceName");
  s.cluster_arn = f.Str("clusterArn");
  s.status = f.Str("status");
  s.desired_count = f.OptInt("desiredCount").value_or(0);
  s.running_count = f.OptInt("runningCount").value_or(0);
  s.pending_count = f.OptInt("pendingCount").value_or(0);
  s.launch_type = f.Str("launchType");
  s.task_definition = f.Str("taskDefinition");
  s.scheduling_strategy = f.Str("schedulingStrategy");
  const nlohmann::json& deployments = f.Array("deployments");
  s.deployment_count = deployments.size();
  for (const auto& d : deployments) {
    JsonFields df(d, "Deployment");
    if (df.Str("status") == "PRIMARY") s.primary_task_definition = df.Str("taskDefinition");
    SPK_RETURN_IF_ERROR(df.status());
  }
  for (const auto& item : f.Array("capacityProviderStrategy")) {
    JsonFields cf(item, "CapacityProviderStrategyItem");
    s.capacity_providers.push_back(cf.Str("capacityProvider"));
    SPK_RETURN_IF_ERROR(cf.status());
  }
  for (const auto& tag : f.Array("tags")) {
    JsonFields tf(tag, "Tag");
    s.tags[tf.Str("key")] = tf.Str("value");
    SPK_RETURN_IF_ERROR(tf.status());
  }
  // A malformed event (no time, a time out of range, a message not a
  // string) is left out: the service's other facts still stand.
  for (const auto& event : f.Array("events")) {
    JsonFields ef(event, "ServiceEvent");
    std::optional<WallTime> at = ef.OptEpochTime("createdAt");
    std::string message = ef.Str("message");
    if (ef.status().ok() && at) s.events.push_back({*at, std::move(message)});
  }
  SPK_RETURN_IF_ERROR(f.status());
  if (s.arn.empty() && s.name.empty()) return InternalError("reply's service has no serviceArn");
  return s;
}

Result<EcsCapacityProvider> ReadCapacityProvider(const nlohmann::json& j) {
  JsonFields f(j, "CapacityProvider");
  EcsCapacityProvider p;
  p.arn = f.Str("capacityProviderArn");
  p.name = f.Str("name");
  p.status = f.Str("status");
  JsonFields group(f.Object("autoScalingGroupProvider"),
                   "CapacityProvider(" + p.name + ").autoScalingGroupProvider");
  p.auto_scaling_group_arn = group.Str("autoScalingGroupArn");
  JsonFields scaling(group.Object("managedScaling"),
                     "CapacityProvider(" + p.name + ").managedScaling");
  p.managed_scaling = scaling.Str("status");
  p.managed_termination_protection = group.Str("managedTerminationProtection");
  p.managed_draining = group.Str("managedDraining");
  SPK_RETURN_IF_ERROR(f.status());
  SPK_RETURN_IF_ERROR(group.status());
  SPK_RETURN_IF_ERROR(scaling.status());
  if (p.name.empty() && p.arn.empty()) {
    return InternalError("reply's capacity provider has no name");
  }
  return p;
}

}  // namespace

std::string EcsCapacityProvider::auto_scaling_group_name() const {
  static constexpr std::string_view kMarker = "autoScalingGroupName/";
  size_t at = auto_scaling_group_arn.find(kMarker);
  if (at == std::string::npos) {
    // A bare name; an ARN without the marker names no group spotkeeper can match.
    return auto_scaling_group_arn.rfind("arn:", 0) == 0 ? "" : auto_scaling_group_arn;
  }
  return auto_scaling_group_arn.substr(at + kMarker.size());
}

std::string ContainerInstance::instance_type() const {
  auto it = attributes.find("ecs.instance-type");
  return it == attributes.end() ? "" : it->second;
}

Result<nlohmann::json> EcsClient::Call(const std::string& operation, const nlohmann::json& body) {
  return client_.CallJson(services::Ecs(), operation, body);
}

Result<std::vector<std::string>> EcsClient::ListContainerInstances(
    const std::string& cluster, const ListContainerInstancesOptions& options) {
  std::vector<std::string> out;
  Status st = internal::FollowPages([&](const std::string& token) -> Result<std::string> {
    nlohmann::json body = {{"cluster", cluster}};
    if (!options.filter.empty()) body["filter"] = options.filter;
    if (!options.status.empty()) body["status"] = options.status;
    if (page_size_ > 0) body["maxResults"] = page_size_;
    if (!token.empty()) body["nextToken"] = token;
    SPK_ASSIGN_OR_RETURN(nlohmann::json reply, Call("ListContainerInstances", body));
    JsonFields f(reply, "ListContainerInstancesResponse");
    for (auto& arn : f.StrArray("containerInstanceArns")) out.push_back(std::move(arn));
    std::string next = f.Str("nextToken");
    SPK_RETURN_IF_ERROR(f.status());
    return next;
  });
  if (!st.ok()) return st;
  return out;
}

Result<ContainerInstancesResult> EcsClient::DescribeContainerInstances(
    const std::string& cluster, const std::vector<std::string>& container_instances) {
  ContainerInstancesResult out;
  auto batches = internal::Batches(container_instances, kMaxDescribeContainerInstances);
  for (size_t i = 0; i < batches.size(); ++i) {
    nlohmann::json body = {{"cluster", cluster}, {"containerInstances", batches[i]}};
    auto reply = Call("DescribeContainerInstances", body);
    if (!reply.ok()) return reply.status().WithContext(BatchContext(i, batches.size()));
    SPK_RETURN_IF_ERROR(ReadContainerInstances(*reply, out));
  }
  return out;
}

Result<ContainerInstancesResult> EcsClient::UpdateContainerInstancesState(
    const std::string& cluster, const std::vector<std::string>& container_instances,
    const std::string& status) {
  ContainerInstancesResult out;
  auto batches = internal::Batches(container_instances, kMaxUpdateContainerInstancesState);
  for (size_t i = 0; i < batches.size(); ++i) {
    nlohmann::json body = {
        {"cluster", cluster}, {"containerInstances", batches[i]}, {"status", status}};
    auto reply = Call("UpdateContainerInstancesState", body);
    if (!reply.ok()) return reply.status().WithContext(BatchContext(i, batches.size()));
    SPK_RETURN_IF_ERROR(ReadContainerInstances(*reply, out));
  }
  return out;
}

Status EcsClient::PutAttributes(const std::string& cluster,
                                const std::vector<EcsAttribute>& attributes) {
  const std::vector<nlohmann::json> batches = AttributeBatches(attributes, /*with_values=*/true);
  for (size_t i = 0; i < batches.size(); ++i) {
    auto reply = Call("PutAttributes", {{"cluster", cluster}, {"attributes", batches[i]}});
    if (!reply.ok()) return reply.status().WithContext(BatchContext(i, batches.size()));
  }
  return Status::Ok();
}

Status EcsClient::DeleteAttributes(const std::string& cluster,
                                   const std::vector<EcsAttribute>& attributes) {
  const std::vector<nlohmann::json> batches = AttributeBatches(attributes, /*with_values=*/false);
  for (size_t i = 0; i < batches.size(); ++i) {
    auto reply = Call("DeleteAttributes", {{"cluster", cluster}, {"attributes", batches[i]}});
    if (!reply.ok()) return reply.status().WithContext(BatchContext(i, batches.size()));
  }
  return Status::Ok();
}

Result<std::vector<std::string>> EcsClient::ListTasks(const std::string& cluster,
                                                      const ListTasksOptions& options) {
  std::vector<std::string> out;
  Status st = internal::FollowPages([&](const std::string& token) -> Result<std::string> {
    nlohmann::json body = {{"cluster", cluster}};
    if (!options.container_instance.empty()) body["containerInstance"] = options.container_instance;
    if (!options.service_name.empty()) body["serviceName"] = options.service_name;
    if (!options.desired_status.empty()) body["desiredStatus"] = options.desired_status;
    if (!options.family.empty()) body["family"] = options.family;
    if (!options.started_by.empty()) body["startedBy"] = options.started_by;
    if (page_size_ > 0) body["maxResults"] = page_size_;
    if (!token.empty()) body["nextToken"] = token;
    SPK_ASSIGN_OR_RETURN(nlohmann::json reply, Call("ListTasks", body));
    JsonFields f(reply, "ListTasksResponse");
    for (auto& arn : f.StrArray("taskArns")) out.push_back(std::move(arn));
    std::string next = f.Str("nextToken");
    SPK_RETURN_IF_ERROR(f.status());
    return next;
  });
  if (!st.ok()) return st;
  return out;
}

Result<TasksResult> EcsClient::DescribeTasks(const std::string& cluster,
                                             const std::vector<std::string>& tasks) {
  TasksResult out;
  auto batches = internal::Batches(tasks, kMaxDescribeTasks);
  for (size_t i = 0; i < batches.size(); ++i) {
    auto reply = Call("DescribeTasks", {{"cluster", cluster}, {"tasks", batches[i]}});
    if (!reply.ok()) return reply.status().WithContext(BatchContext(i, batches.size()));
    JsonFields top(*reply, "DescribeTasksResponse");
    for (const auto& item : top.Array("tasks")) {
      SPK_ASSIGN_OR_RETURN(EcsTask t, ReadTask(item));
      out.tasks.push_back(std::move(t));
    }
    SPK_RETURN_IF_ERROR(ReadFailures(top, out.failures));
  }
  return out;
}

Result<ServicesResult> EcsClient::DescribeServices(const std::string& cluster,
                                                   const std::vector<std::string>& services,
                                                   bool with_tags) {
  ServicesResult out;
  auto batches = internal::Batches(services, kMaxDescribeServices);
  for (size_t i = 0; i < batches.size(); ++i) {
    nlohmann::json body = {{"cluster", cluster}, {"services", batches[i]}};
    if (with_tags) body["include"] = {"TAGS"};
    auto reply = Call("DescribeServices", body);
    if (!reply.ok()) return reply.status().WithContext(BatchContext(i, batches.size()));
    JsonFields top(*reply, "DescribeServicesResponse");
    for (const auto& item : top.Array("services")) {
      SPK_ASSIGN_OR_RETURN(EcsService s, ReadService(item));
      out.services.push_back(std::move(s));
    }
    SPK_RETURN_IF_ERROR(ReadFailures(top, out.failures));
  }
  return out;
}

Result<std::vector<std::string>> EcsClient::ListServices(const std::string& cluster) {
  std::vector<std::string> out;
  Status st = internal::FollowPages([&](const std::string& token) -> Result<std::string> {
    nlohmann::json body = {{"cluster", cluster}};
    if (page_size_ > 0) body["maxResults"] = page_size_;
    if (!token.empty()) body["nextToken"] = token;
    SPK_ASSIGN_OR_RETURN(nlohmann::json reply, Call("ListServices", body));
    JsonFields f(reply, "ListServicesResponse");
    for (auto& arn : f.StrArray("serviceArns")) out.push_back(std::move(arn));
    std::string next = f.Str("nextToken");
    SPK_RETURN_IF_ERROR(f.status());
    return next;
  });
  if (!st.ok()) return st;
  return out;
}

Status EcsClient::UpdateService(const std::string& cluster, const std::string& service,
                                int64_t desired_count, const std::string& task_definition) {
  nlohmann::json body = {
      {"cluster", cluster}, {"service", service}, {"desiredCount", desired_count}};
  if (!task_definition.empty()) body["taskDefinition"] = task_definition;
  auto reply = Call("UpdateService", body);
  if (!reply.ok()) return reply.status();
  JsonFields top(*reply, "UpdateServiceResponse");
  JsonFields svc(top.Object("service"), "UpdateServiceResponse.service");
  svc.Str("serviceName");
  SPK_RETURN_IF_ERROR(top.status());
  return svc.status();
}

Status EcsClient::TagResource(const std::string& arn,
                              const std::map<std::string, std::string>& tags) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [key, value] : tags) list.push_back({{"key", key}, {"value", value}});
  return Call("TagResource", {{"resourceArn", arn}, {"tags", list}}).status();
}

Status EcsClient::UntagResource(const std::string& arn, const std::vector<std::string>& keys) {
  return Call("UntagResource", {{"resourceArn", arn}, {"tagKeys", keys}}).status();
}

Result<std::vector<std::string>> EcsClient::ClusterCapacityProviders(const std::string& cluster) {
  auto reply = Call("DescribeClusters", {{"clusters", {cluster}}});
  if (!reply.ok()) return reply.status();
  JsonFields top(*reply, "DescribeClustersResponse");
  const nlohmann::json& clusters = top.Array("clusters");
  std::vector<EcsFailure> failures;
  SPK_RETURN_IF_ERROR(ReadFailures(top, failures));
  if (clusters.empty()) {
    std::string why = failures.empty() ? "not in the reply" : failures.front().reason;
    return NotFoundError("cluster " + cluster + ": " + why);
  }
  JsonFields c(clusters.front(), "Cluster");
  std::vector<std::string> names = c.StrArray("capacityProviders");
  SPK_RETURN_IF_ERROR(c.status());
  return names;
}

Result<CapacityProvidersResult> EcsClient::DescribeCapacityProviders(
    const std::vector<std::string>& capacity_providers) {
  CapacityProvidersResult out;
  auto batches = internal::Batches(capacity_providers, kMaxDescribeCapacityProviders);
  for (size_t i = 0; i < batches.size(); ++i) {
    // ECS answers at most 10 providers a page, named or not: follow nextToken.
    Status st = internal::FollowPages([&](const std::string& token) -> Result<std::string> {
      nlohmann::json body = {{"capacityProviders", batches[i]}};
      if (!token.empty()) body["nextToken"] = token;
      SPK_ASSIGN_OR_RETURN(nlohmann::json reply, Call("DescribeCapacityProviders", body));
      JsonFields top(reply, "DescribeCapacityProvidersResponse");
      for (const auto& item : top.Array("capacityProviders")) {
        SPK_ASSIGN_OR_RETURN(EcsCapacityProvider p, ReadCapacityProvider(item));
        out.capacity_providers.push_back(std::move(p));
      }
      std::string next = top.Str("nextToken");
      SPK_RETURN_IF_ERROR(ReadFailures(top, out.failures));
      return next;
    });
    if (!st.ok()) return st.WithContext(BatchContext(i, batches.size()));
  }
  return out;
}

}  // namespace spk::aws
