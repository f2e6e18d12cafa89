// AutoScalingClient: the Auto Scaling calls spotkeeper makes (query protocol,
// Version 2011-01-01; lists as <member>, request lists as "Name.member.N").
// Shapes checked against botocore's autoscaling/2011-01-01 model.
//
// Errors: the AwsClient's Status (error.h), kInternal when a reply lacks a
// field spotkeeper decides on (min/max/desired). Thread-safe (as AwsClient).
//
// moto_server gaps (tests): HonorCooldown and the group's min/max are not
// enforced by SetDesiredCapacity; instances carry no WeightedCapacity.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "aws/client.h"
#include "base/clock.h"
#include "base/status.h"

namespace spk::aws {

struct AsgInstance {
  std::string instance_id;
  std::string instance_type;
  std::string availability_zone;
  std::string lifecycle_state;  // Pending, InService, Terminating, Terminated, Standby, ...
  std::string health_status;    // Healthy | Unhealthy
  bool protected_from_scale_in = false;
  std::optional<double> weighted_capacity;  // absent: 1 unit (or no weights in the group)
  std::string launch_template_name;
  std::string launch_template_version;
};

// One instance type a mixed-instances group may launch, with its weight.
struct AsgOverride {
  std::string instance_type;
  std::optional<double> weighted_capacity;
};

struct AutoScalingGroup {
  std::string name;
  std::string arn;
  int64_t min_size = 0;
  int64_t max_size = 0;
  int64_t desired_capacity = 0;       // in the group's units (weights) when it has weights
  int64_t default_cooldown = 0;       // seconds
  std::string desired_capacity_type;  // units|vcpu|memory-mib; "" when absent (units)
  std::string status;                 // "" unless being deleted
  std::vector<AsgInstance> instances;
  std::vector<std::string> availability_zones;

  // Plain launch template (no mixed-instances policy); "" when absent.
  std::string launch_template_name;
  std::string launch_template_id;
  std::string launch_template_version;  // "$Default", "$Latest" or a number; "" when absent
  std::string launch_configuration_name;

  // Mixed-instances policy, when the group has one.
  bool has_mixed_instances_policy = false;
  std::string mixed_launch_template_name;
  std::string mixed_launch_template_id;
  std::vector<AsgOverride> overrides;
  std::optional<int64_t> on_demand_base_capacity;
  std::optional<int64_t> on_demand_percentage_above_base_capacity;
  std::string spot_allocation_strategy;
  bool capacity_rebalance = false;

  std::map<std::string, std::string> tags;

  // The weight of `instance_type` from the overrides; nullopt when unweighted.
  std::optional<double> WeightOf(const std::string& instance_type) const;
};

// A launch configuration (the older way a group says what it launches).
struct LaunchConfiguration {
  std::string name;
  std::string arn;
  std::string image_id;
  std::string instance_type;
};

// A lifecycle hook of a group (DescribeLifecycleHooks).
struct LifecycleHook {
  std::string name;
  std::string group;
  // "autoscaling:EC2_INSTANCE_TERMINATING" | "autoscaling:EC2_INSTANCE_LAUNCHING".
  std::string transition;
  int64_t heartbeat_timeout_seconds = 0;  // 0 when absent
  int64_t global_timeout_seconds = 0;     // 0 when absent
  std::string default_result;             // CONTINUE | ABANDON
  std::string notification_metadata;
};

// Names one pending lifecycle action: the hook, its group, and the instance
// (by id) and/or the action's token; AWS needs one of the two.
struct LifecycleActionRef {
  std::string hook;
  std::string group;
  std::string instance_id;  // "" when only the token is known
  std::string token;        // "" when not known (after a restart): the instance id names it
};

struct ScalingActivity {
  std::string activity_id;
  std::string group_name;
  std::string description;
  std::string cause;
  std::string status_code;  // InProgress, Successful, Failed, ...
  std::string status_message;
  std::optional<WallTime> start_time;
  std::optional<WallTime> end_time;
};

class AutoScalingClient {
 public:
  // `client` must outlive this object.
  explicit AutoScalingClient(AwsClient& client) : client_(client) {}

  // Items per DescribeAutoScalingGroups / DescribeLaunchConfigurations page
  // (MaxRecords, 1-100); 0: the service's default (50).
  void set_page_size(int page_size) { page_size_ = page_size; }

  // The named groups (empty: every group), all pages. Names are sent 50 per
  // call (the API's default limit on AutoScalingGroupNames). A name that does
  // not exist is simply absent from the result (as the API answers).
  Result<std::vector<AutoScalingGroup>> DescribeAutoScalingGroups(
      const std::vector<std::string>& names = {});

  // The named launch configurations (empty: every one), all pages; names are
  // sent 50 per call (the API's limit). A name that does not exist is absent
  // from the result. kInternal when a configuration has no name or no
  // InstanceType (both required in the reply).
  Result<std::vector<LaunchConfiguration>> DescribeLaunchConfigurations(
      const std::vector<std::string>& names = {});

  // Sets the group's desired capacity. `honor_cooldown` false scales at once
  // (spotkeeper's scale-up); the service rejects values outside [min, max]
  // with kInvalidArgument (ValidationError).
  // The group's most recent scaling activities, newest first: one page of at
  // most `max_records` (1-100), not the group's whole history.
  Result<std::vector<ScalingActivity>> DescribeScalingActivities(const std::string& group,
                                                                 int max_records = 50);

  Status SetDesiredCapacity(const std::string& group, int64_t desired, bool honor_cooldown);

  // Terminates one instance of its group; with `should_decrement` the group's
  // desired capacity drops by the instance's units instead of launching a
  // replacement.
  Result<ScalingActivity> TerminateInstanceInAutoScalingGroup(const std::string& instance_id,
                                                              bool should_decrement);

  // Sets scale-in protection on instances of `group`, 50 per call (the API's
  // per-call limit); stops at the first failing batch (earlier batches stay
  // applied; the call is idempotent, so retrying all of it is safe).
  Status SetInstanceProtection(const std::string& group,
                               const std::vector<std::string>& instance_ids, bool protect);

  // The lifecycle hooks of `group`. kInternal when a hook has no name.
  Result<std::vector<LifecycleHook>> DescribeLifecycleHooks(const std::string& group);

  // Completes a pending lifecycle action with `result` ("CONTINUE" or
  // "ABANDON"); sends the token and the instance id when set. The service
  // answers kInvalidArgument (ValidationError) when no such action is pending.
  Status CompleteLifecycleAction(const LifecycleActionRef& action, const std::string& result);
  // Restarts the pending action's heartbeat timeout.
  Status RecordLifecycleActionHeartbeat(const LifecycleActionRef& action);

  // Creates or replaces tags on `group` (not propagated to its instances).
  Status CreateOrUpdateTags(const std::string& group,
                            const std::map<std::string, std::string>& tags);
  // Deletes the tags with these keys from `group`; an absent key is no error.
  Status DeleteTags(const std::string& group, const std::vector<std::string>& keys);

 private:
  AwsClient& client_;
  int page_size_ = 0;
};

}  // namespace spk::aws
