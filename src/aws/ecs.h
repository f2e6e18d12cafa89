// EcsClient: the ECS calls spotkeeper makes (JSON 1.1, X-Amz-Target
// AmazonEC2ContainerServiceV20141113.<Operation>). Shapes and limits checked
// against botocore's ecs/2014-11-13 model.
//
// Batching: calls the API limits take any number of items and split them:
// DescribeContainerInstances and DescribeTasks 100 per call,
// DescribeCapacityProviders 100, UpdateContainerInstancesState, DescribeServices
// and PutAttributes 10 per call
// (the controller's drain batches are these 10). A failing batch stops the
// call and its Status is returned; batches before it stay applied (all these
// calls are idempotent, so retrying the whole call is safe). Per-item problems
// the API reports in `failures` (e.g. "MISSING") are returned, not errors.
//
// Listing calls follow nextToken to the end.
// Errors: the AwsClient's Status (error.h): e.g. kNotFound for
// ClusterNotFoundException. Thread-safe (as AwsClient).
//
// moto_server gaps (tests): ListContainerInstances ignores filter and status;
// no ECS listing pages (maxResults is ignored); registered resources are
// moto's own (CPU 4096, MEMORY 7482 for an m5.large), not the totalResources
// registered; PutAttributes with targetType finds the target only by its bare
// id, so spotkeeper passes the full ARN without targetType (valid on AWS too).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "aws/client.h"
#include "base/clock.h"
#include "base/status.h"

namespace spk::aws {

struct EcsFailure {
  std::string arn;
  std::string reason;  // "MISSING", ...
  std::string detail;
};

struct ContainerInstance {
  std::string arn;
  std::string ec2_instance_id;
  std::string status;  // ACTIVE|DRAINING|REGISTERING|DEREGISTERING|REGISTRATION_FAILED|INACTIVE
  std::string status_reason;
  bool agent_connected = false;
  int64_t running_tasks_count = 0;
  int64_t pending_tasks_count = 0;
  std::map<std::string, std::string> attributes;  // name -> value ("" when none)
  // The CPU (units) and MEMORY (MiB) resources; 0 when not reported.
  int64_t registered_cpu = 0;
  int64_t registered_memory = 0;
  int64_t remaining_cpu = 0;
  int64_t remaining_memory = 0;
  std::string capacity_provider_name;
  std::string agent_update_status;
  std::optional<WallTime> registered_at;

  // The instance type from the "ecs.instance-type" attribute; "" when absent.
  std::string instance_type() const;
};

struct ContainerInstancesResult {
  std::vector<ContainerInstance> container_instances;
  std::vector<EcsFailure> failures;
};

struct ListContainerInstancesOptions {
  std::string filter;  // cluster query language, e.g. "ec2InstanceId == i-..."; "" for none
  std::string status;  // ACTIVE|DRAINING|REGISTERING|DEREGISTERING|REGISTRATION_FAILED; "" for any
};

// A custom attribute. Give target_id as the container instance's full ARN and
// leave target_type empty (required only with a bare id; see moto note above).
struct EcsAttribute {
  std::string name;
  std::string value;  // "" deletes nothing: it sets the attribute without a value
  std::string target_type;
  std::string target_id;
};

struct ListTasksOptions {
  std::string container_instance;  // ARN or id; "" for any
  std::string service_name;        // "" for any
  std::string desired_status;      // RUNNING|PENDING|STOPPED; "" (service default RUNNING)
  std::string family;
  std::string started_by;
};

struct EcsTask {
  std::string arn;
  std::string task_definition_arn;
  std::string container_instance_arn;
  std::string cluster_arn;
  std::string last_status;     // PROVISIONING, PENDING, RUNNING, STOPPED, ...
  std::string desired_status;  // RUNNING, STOPPED
  std::string group;           // "service:NAME" for a service's tasks
  std::string started_by;
  std::string launch_type;
  std::string capacity_provider_name;
  std::string availability_zone;
  std::optional<WallTime> created_at;
  std::optional<WallTime> started_at;
};

struct TasksResult {
  std::vector<EcsTask> tasks;
  std::vector<EcsFailure> failures;
};

// One of a service's events (DescribeServices lists its 100 newest).
struct EcsServiceEvent {
  WallTime created_at{};
  std::string message;
};

struct EcsService {
  std::string arn;
  std::string name;
  std::string cluster_arn;
  std::string status;  // ACTIVE|DRAINING|INACTIVE
  int64_t desired_count = 0;
  int64_t running_count = 0;
  int64_t pending_count = 0;
  std::string launch_type;
  std::string task_definition;
  std::string scheduling_strategy;  // REPLICA|DAEMON
  size_t deployment_count = 0;      // > 1 while a deployment is in progress
  // The task definition of the PRIMARY deployment ("" when none is listed).
  std::string primary_task_definition;
  // The providers of its capacity provider strategy, in order (empty: a launch type).
  std::vector<std::string> capacity_providers;
  // Its tags (only when described with tags).
  std::map<std::string, std::string> tags;
  // Its events as listed (newest first; one without a valid time or message is left out).
  std::vector<EcsServiceEvent> events;
};

// A capacity provider (DescribeCapacityProviders). Auto Scaling group
// providers carry the group's ARN (or name) and their managed scaling and
// draining settings; Fargate and managed-instances providers leave them "".
struct EcsCapacityProvider {
  std::string arn;
  std::string name;
  std::string status;                          // ACTIVE|INACTIVE
  std::string auto_scaling_group_arn;          // the group's ARN, or its name
  std::string managed_scaling;                 // ENABLED|DISABLED; "" without a group
  std::string managed_termination_protection;  // ENABLED|DISABLED
  std::string managed_draining;                // ENABLED|DISABLED
  // The group's name: the part after "autoScalingGroupName/" of its ARN, or
  // the member itself when it is a bare name.
  std::string auto_scaling_group_name() const;
};

struct CapacityProvidersResult {
  std::vector<EcsCapacityProvider> capacity_providers;
  std::vector<EcsFailure> failures;
};

struct ServicesResult {
  std::vector<EcsService> services;
  std::vector<EcsFailure> failures;
};

class EcsClient {
 public:
  // `client` must outlive this object.
  explicit EcsClient(AwsClient& client) : client_(client) {}

  // Items per page of listing calls (maxResults, 1-100); 0: the service's default.
  void set_page_size(int page_size) { page_size_ = page_size; }

  // Container instance ARNs of `cluster` (all pages).
  Result<std::vector<std::string>> ListContainerInstances(
      const std::string& cluster, const ListContainerInstancesOptions& options = {});

  // Details of the given container instances (ARNs or ids), 100 per call.
  Result<ContainerInstancesResult> DescribeContainerInstances(
      const std::string& cluster, const std::vector<std::string>& container_instances);

  // Sets the container instances' status (DRAINING or ACTIVE), 10 per call;
  // returns the updated instances and the per-instance failures.
  Result<ContainerInstancesResult> UpdateContainerInstancesState(
      const std::string& cluster, const std::vector<std::string>& container_instances,
      const std::string& status);

  // Creates or replaces custom attributes, 10 per call.
  Status PutAttributes(const std::string& cluster, const std::vector<EcsAttribute>& attributes);
  // Deletes custom attributes (name and target; values are not sent, as the
  // API asks for custom attributes), 10 per call.
  Status DeleteAttributes(const std::string& cluster, const std::vector<EcsAttribute>& attributes);

  // Task ARNs of `cluster` matching `options` (all pages).
  Result<std::vector<std::string>> ListTasks(const std::string& cluster,
                                             const ListTasksOptions& options = {});

  // Details of the given tasks, 100 per call.
  Result<TasksResult> DescribeTasks(const std::string& cluster,
                                    const std::vector<std::string>& tasks);

  // The capacity providers associated with `cluster` (DescribeClusters);
  // kNotFound when the cluster does not exist.
  Result<std::vector<std::string>> ClusterCapacityProviders(const std::string& cluster);

  // Details of the given capacity providers (names or ARNs), 100 per call,
  // following nextToken (ECS pages them 10 at a time).
  Result<CapacityProvidersResult> DescribeCapacityProviders(
      const std::vector<std::string>& capacity_providers);

  // Details of the given services (names or ARNs), 10 per call; with
  // `with_tags`, their tags too (include TAGS).
  Result<ServicesResult> DescribeServices(const std::string& cluster,
                                          const std::vector<std::string>& services,
                                          bool with_tags = false);

  // Service ARNs of `cluster` (all pages).
  Result<std::vector<std::string>> ListServices(const std::string& cluster);

  // Sets a service's desired count and, when `task_definition` is not "", its
  // task definition (family:revision or ARN).
  Status UpdateService(const std::string& cluster, const std::string& service,
                       int64_t desired_count, const std::string& task_definition = "");

  // Creates or replaces tags on a resource (TagResource), and deletes tags by
  // key (UntagResource).
  Status TagResource(const std::string& arn, const std::map<std::string, std::string>& tags);
  Status UntagResource(const std::string& arn, const std::vector<std::string>& keys);

 private:
  Result<nlohmann::json> Call(const std::string& operation, const nlohmann::json& body);

  AwsClient& client_;
  int page_size_ = 0;
};

}  // namespace spk::aws
