// CloudView: the AWS state the controller reads and the actions it applies,
// as an interface: AwsCloudView (aws_cloud_view.h) over the typed AWS clients,
// FakeCloudView (fake_cloud_view.h) in memory for tests.
//
// Reads return what they could not read as a Status (inside the returned
// value where the policy expects it, see policy/observation.h), never zeros.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "policy/action.h"
#include "policy/fallback.h"
#include "policy/observation.h"

namespace spk::controller {

// Where a Spot Fleet's pending capacity comes from.
enum class PendingSource {
  kApi,         // target - fulfilled from DescribeSpotFleetRequests
  kCloudWatch,  // the latest AWS/EC2Spot PendingCapacity maximum (the reference)
};

// "api" | "cloudwatch"; and back (kInvalidArgument for anything else).
const char* PendingSourceName(PendingSource source);
Result<PendingSource> ParsePendingSource(const std::string& text);

// A spot capacity source as read, with the instance types of its instances
// (to resolve a notice's units when the notice does not name the type).
struct SpotSourceRead {
  policy::SpotCapacitySource source;                  // read_status not ok: the read failed
  std::map<std::string, std::string> instance_types;  // instance id -> type
};

// The on-demand group as read, and the instance type its instances run.
struct OnDemandGroupRead {
  policy::OnDemandGroup group;  // read_status not ok: the read failed
  // The type its instances run; with none, the type it would launch (first
  // mixed-instances override, else its launch template's, else its launch
  // configuration's); "" when unknown.
  std::string instance_type;
  // Where instance_type was found ("instance i-1", "launch configuration
  // ecsLC", ...), or why it is unknown.
  std::string instance_type_source;
  // The group's tags (the settle window's start lives there, see handler.h).
  std::map<std::string, std::string> tags;
};

// An Auto Scaling group behind an ECS capacity provider.
struct CapacityProviderGroup {
  std::string provider;          // the capacity provider's name
  std::string group;             // the group's name
  bool managed_scaling = false;  // ECS sizes the group (managedScaling ENABLED)
};

class CloudView;

// Sets read->group.managed_by_capacity_provider to the capacity provider with
// managed scaling, among those of `clusters`, that holds the group. When they
// cannot be read, read->group.read_status says so, and on-demand sizing is
// skipped: it cannot tell that ECS does not size the group. Nothing when the
// group's read failed.
void FindCapacityProviderOwner(CloudView& cloud, const std::vector<std::string>& clusters,
                               OnDemandGroupRead* read);

// Sets read->group.units_per_instance to the vCPUs of read->instance_type
// (unless `configured` is set: the policy uses that) and
// read->group.units_source to how they were found ("launch configuration
// ecsLC: m5.xlarge, 4 vCPUs", "from the on-demand-units setting") or why they
// are unknown. Nothing when the group's read failed.
void ResolveOnDemandUnits(CloudView& cloud, std::optional<double> configured,
                          OnDemandGroupRead* read);

// A custom attribute to set on one container instance.
struct ContainerAttribute {
  std::string arn;  // the container instance's full ARN
  std::string name;
  std::string value;
};

// A group's EC2_INSTANCE_TERMINATING (or _LAUNCHING) lifecycle hook.
struct TerminateHook {
  std::string name;
  Duration heartbeat_timeout{};  // zero when AWS did not say
};

// An instance in Pending:Wait, and when EC2 launched it (nullopt when
// DescribeInstances did not say).
struct LaunchingInstance {
  std::string instance_id;
  std::optional<WallTime> launched;
};

// A group's pending lifecycle actions, as AWS shows them.
struct LifecycleWaits {
  std::vector<TerminateHook> hooks;          // the group's terminating hooks
  std::vector<std::string> instance_ids;     // its instances in Terminating:Wait
  std::vector<TerminateHook> launch_hooks;   // its launching hooks
  std::vector<LaunchingInstance> launching;  // its instances in Pending:Wait
};

// One pending lifecycle action: hook, group, and the instance and/or the
// token (AWS needs one of the two; "" when not known).
struct LifecycleActionRef {
  std::string hook;
  std::string group;
  std::string instance_id;
  std::string token;
};

// An ECS service as the fallback reads it.
struct ServiceRead {
  std::string arn;
  std::string name;
  int desired = 0;
  int running = 0;
  std::string task_definition;                  // the service's
  std::string primary_task_definition;          // its PRIMARY deployment's ("" when none)
  std::vector<std::string> capacity_providers;  // its strategy's, in order
  std::map<std::string, std::string> tags;
  int pending = 0;
  // The oldest and the newest "unable to place a task" event since the
  // service last reached a steady state (nullopt: none), and the newest one's
  // message.
  std::optional<WallTime> placement_failing_since;
  std::optional<WallTime> placement_failed_at;
  std::string placement_failure;
};

// An Auto Scaling group behind a capacity provider, as the fallback reads it.
struct ProviderGroupRead {
  // Spot capacity: a mixed-instances policy with no on-demand above its base.
  bool spot = false;
  // The group's sizes, its newest failed spot launch and since when a launch
  // has waited for a spot request to be fulfilled (provider left "").
  policy::SpotProviderRead read;
};

class CloudView {
 public:
  virtual ~CloudView() = default;

  // A Spot Fleet request: target, fulfilled, weights (launch specifications
  // and template overrides), instances. With kCloudWatch, pending_capacity is
  // the latest PendingCapacity maximum within the last 5 minutes (none: the
  // read fails) and last_target_change the time TargetCapacity maxima over
  // [now - guard_window, now] last changed (nullopt when they did not).
  virtual SpotSourceRead ReadSpotFleet(const std::string& fleet_id, PendingSource pending,
                                       WallTime now, Duration guard_window) = 0;
  // An EC2 Fleet: target (total target capacity), fulfilled, weights
  // (launch template config overrides), instances (DescribeFleets,
  // DescribeFleetInstances). EC2 Fleet publishes no AWS/EC2Spot metrics: its
  // pending capacity is always target - fulfilled.
  virtual SpotSourceRead ReadEc2Fleet(const std::string& fleet_id) = 0;
  // An Auto Scaling group with a mixed-instances policy: target = desired,
  // fulfilled = the units of its InService instances, weights = overrides.
  virtual SpotSourceRead ReadSpotGroup(const std::string& group) = 0;
  virtual OnDemandGroupRead ReadOnDemandGroup(const std::string& group) = 0;
  // The Auto Scaling groups behind the capacity providers of `cluster`
  // (DescribeClusters, DescribeCapacityProviders); Fargate providers are left out.
  virtual Result<std::vector<CapacityProviderGroup>> ReadCapacityProviderGroups(
      const std::string& cluster) = 0;
  // vCPUs of an instance type (DescribeInstanceTypes).
  virtual Result<int> InstanceTypeVcpus(const std::string& instance_type) = 0;
  // Every container instance of `cluster` with its status and task counts.
  virtual Result<std::vector<policy::ContainerInstance>> ListContainerInstances(
      const std::string& cluster) = 0;
  // The container instances of `cluster` with these ARNs (DescribeContainerInstances,
  // 100 per call); ARNs the cluster does not know are left out.
  virtual Result<std::vector<policy::ContainerInstance>> DescribeContainerInstances(
      const std::string& cluster, const std::vector<std::string>& arns) = 0;
  // Applies one action: drains and activations with
  // UpdateContainerInstancesState (10 ARNs per call), SetDesiredCapacity,
  // TerminateInstanceInAutoScalingGroup. The AWS call's Status.
  virtual Status Apply(const policy::Action& action) = 0;
  // Creates or replaces custom attributes on container instances of `cluster`
  // (PutAttributes, 10 per call). The AWS call's Status.
  virtual Status PutContainerAttributes(const std::string& cluster,
                                        const std::vector<ContainerAttribute>& attributes) = 0;
  // Deletes custom attributes (by name; values are ignored) from container
  // instances of `cluster` (DeleteAttributes, 10 per call).
  virtual Status DeleteContainerAttributes(const std::string& cluster,
                                           const std::vector<ContainerAttribute>& attributes) = 0;
  // Creates or replaces tags on an Auto Scaling group (CreateOrUpdateTags,
  // not propagated at launch), and deletes tags by key (DeleteTags).
  virtual Status SetGroupTags(const std::string& group,
                              const std::map<std::string, std::string>& tags) = 0;
  virtual Status DeleteGroupTags(const std::string& group,
                                 const std::vector<std::string>& keys) = 0;
  // The instances of `group` in Terminating:Wait and Pending:Wait
  // (DescribeAutoScalingGroups) and, when there are any, the group's
  // terminating and launching hooks (DescribeLifecycleHooks) and the launch
  // times of the waiting launches (DescribeInstances; left unset when that
  // read fails).
  virtual Result<LifecycleWaits> ReadLifecycleWaits(const std::string& group) = 0;
  // RecordLifecycleActionHeartbeat and CompleteLifecycleAction ("CONTINUE" |
  // "ABANDON"). kInvalidArgument: AWS has no such action pending.
  virtual Status RecordLifecycleHeartbeat(const LifecycleActionRef& action) = 0;
  virtual Status CompleteLifecycleAction(const LifecycleActionRef& action,
                                         const std::string& result) = 0;

  // Services of `cluster` (DescribeServices with tags, 10 per call); a name
  // the cluster does not know is left out.
  virtual Result<std::vector<ServiceRead>> ReadServices(const std::string& cluster,
                                                        const std::vector<std::string>& names) = 0;
  // The names of every service of `cluster` carrying `tag` (ListServices,
  // DescribeServices with tags), with the tag's value.
  virtual Result<std::map<std::string, std::string>> ServicesTagged(const std::string& cluster,
                                                                    const std::string& tag) = 0;
  // The service's tasks that wait in PROVISIONING (ListTasks, DescribeTasks).
  virtual Result<std::vector<policy::ProvisioningTask>> ProvisioningTasks(
      const std::string& cluster, const std::string& service) = 0;
  // A capacity provider's group: DescribeAutoScalingGroups and its recent
  // scaling activities (DescribeScalingActivities).
  virtual Result<ProviderGroupRead> ReadProviderGroup(const std::string& group) = 0;
  // UpdateService: the desired count and, when not "", the task definition.
  virtual Status UpdateService(const std::string& cluster, const std::string& service, int desired,
                               const std::string& task_definition) = 0;
  // Tags on an ECS resource (TagResource, UntagResource).
  virtual Status SetServiceTags(const std::string& arn,
                                const std::map<std::string, std::string>& tags) = 0;
  virtual Status DeleteServiceTags(const std::string& arn,
                                   const std::vector<std::string>& keys) = 0;
};

}  // namespace spk::controller
