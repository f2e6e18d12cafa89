// The reference system's Lambda, as an algorithm, quirks included: the
// simulator's `reference` policy, and the number the controller's tests compare
// with. Not what spotkeeper does (see decide.h and docs/policy.md).
//
// The Lambda, per invocation:
//  1. A termination message (SNS, "terminationNotificiation"): drain its
//     container instance (every time, before anything else), take the
//     hard-coded fleet id, and a capacity modifier from the instance type's
//     name: "2xlarge" in it -> 8, else "xlarge" in it -> 4, else 2.
//     {"fleetID": id}: that fleet. A CloudWatch alarm: Trigger.Dimensions[0].value.
//  2. Recently scaled: the fleet's AWS/EC2Spot TargetCapacity maxima over the
//     last 600 s (60 s periods) not all equal, or the read failed -> stop.
//  3. PendingCapacity (latest 60 s maximum); if it or TargetCapacity could not
//     be read (or had no datapoint), both are 0 (defaultTargetCapacity).
//  4. instancesRequired = int((pending + modifier) / 4 + 0.999999).
//  5. Against the on-demand group's desired capacity: more -> set it without
//     cooldown; fewer -> set it honoring the cooldown; no clamping to min/max.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "policy/action.h"

namespace spk::policy {

struct ReferenceConfig {
  // The fleet a termination message is attributed to, whatever the instance.
  std::string hard_coded_fleet_id = "sfr-44def1f0-9e0c-4582-9ee3-95095db3805d";
  std::string group_name = "ecsSpotAutoScale";  // asgGroupName
  double per_server_vcpu = 4;                   // asgPerServerVCPU
};

// What invoked the Lambda (the controller parses the event into this).
struct ReferenceTrigger {
  enum class Kind {
    kDirect,       // {"fleetID": ...}
    kAlarm,        // CloudWatch alarm through SNS
    kTermination,  // the agent's termination message through SNS
  };
  Kind kind = Kind::kDirect;
  std::string fleet_id;  // kDirect, kAlarm
  // kTermination:
  std::string instance_type;
  std::string ecs_cluster;
  std::string ecs_container;  // container instance ARN
};

// The CloudWatch and Auto Scaling reads the Lambda makes, for the fleet
// ReferenceFleetId() names.
struct ReferenceObservation {
  // Maximum of each 60 s period of TargetCapacity over the last 600 s, in the
  // order CloudWatch returned them; nullopt when the read failed.
  std::optional<std::vector<double>> target_capacity_maxima;
  // Datapoints[0].Maximum of PendingCapacity and TargetCapacity over the last
  // 60 s; nullopt when the read failed or returned no datapoint.
  std::optional<double> pending_capacity;
  std::optional<double> target_capacity;
  // The on-demand group's DesiredCapacity.
  int group_desired = 0;
};

// The fleet whose metrics the Lambda reads for `trigger`.
std::string ReferenceFleetId(const ReferenceTrigger& trigger, const ReferenceConfig& config);

// "2xlarge" in the name -> 8, else "xlarge" -> 4, else 2 (so "12xlarge" -> 8).
double ReferenceCapacityModifier(const std::string& instance_type);

// int(x + 0.999999) for x >= 0 as Python's int(): truncation toward zero.
int ReferenceRoundUp(double x);

struct ReferenceDecision {
  std::vector<Action> actions;
  std::string fleet_id;
  bool recently_scaled = false;           // stopped at step 2
  double pending_units = 0;               // after the modifier; 0 when the read failed
  std::optional<int> instances_required;  // nullopt when stopped at step 2
};

// The Lambda's decision for `trigger` given the reads in `observation`.
ReferenceDecision DecideReference(const ReferenceTrigger& trigger,
                                  const ReferenceObservation& observation,
                                  const ReferenceConfig& config);

}  // namespace spk::policy
