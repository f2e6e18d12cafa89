// What the decision core sees: plain data the caller (controller, Lambda
// handler, simulator) gathered from AWS, the simulated cloud or a test.
//
// A read that failed is carried as a non-ok Status next to the data it would
// have filled, never as zeros: a decision that needs it is skipped with that
// reason (the reference Lambda turned a failed metric read into capacity 0).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace spk::policy {

enum class SourceKind {
  kSpotFleet,         // a Spot Fleet request, "sfr-..."
  kAutoScalingGroup,  // an Auto Scaling group with a mixed-instances policy
  kEc2Fleet,          // an EC2 Fleet, "fleet-..."
};

// A source of spot capacity, in its own capacity units (weights).
struct SpotCapacitySource {
  std::string id;  // Spot Fleet request id, EC2 Fleet id or group name
  SourceKind kind = SourceKind::kSpotFleet;
  // Not ok: the source could not be read; every other field is meaningless and
  // on-demand sizing is skipped for this observation.
  Status read_status;
  double target_capacity = 0;
  double fulfilled_capacity = 0;
  // When set (e.g. CloudWatch AWS/EC2Spot PendingCapacity), used instead of
  // target - fulfilled.
  std::optional<double> pending_capacity;
  // The most recent change of the target capacity; nullopt when none is known.
  std::optional<WallTime> last_target_change;
  // Instance type -> weight (launch specifications, overrides). Empty when the
  // source is unweighted; the caller then resolves units itself (see units.h).
  std::map<std::string, double> weights;
  // The instances the source currently counts in its fulfilled capacity. An
  // instance's source is found here, never assumed.
  std::vector<std::string> instance_ids;
};

// max(0, pending_capacity if set, else target - fulfilled).
double PendingUnits(const SpotCapacitySource& source);

// The source whose instance_ids holds `instance_id`; nullptr when none does.
const SpotCapacitySource* FindSourceOfInstance(const std::vector<SpotCapacitySource>& sources,
                                               const std::string& instance_id);

enum class NoticeKind {
  kSpotInterruption,         // the two-minute notice: the instance will go
  kRebalanceRecommendation,  // elevated risk: it may go soon
  // An EC2 scheduled event (system-reboot, instance-stop, instance-retirement,
  // ...) starting at its NotBefore (Notice::termination_time), often days
  // ahead; spot and on-demand instances alike.
  kScheduledMaintenance,
  // EC2 says the instance is stopping or shutting down (an EventBridge
  // "EC2 Instance State-change Notification"): it goes now, spot or on-demand.
  kInstanceStopping,
};

// "spot-interruption" | "rebalance-recommendation" | "scheduled-maintenance" |
// "instance-stopping".
const char* NoticeKindName(NoticeKind kind);

// True when a notice of kind `a` takes the place of one of kind `b` for the
// same instance (one notice per instance is kept): a spot interruption or a
// stopping instance wins over everything else (neither over the other),
// scheduled maintenance over a rebalance recommendation.
bool Outranks(NoticeKind a, NoticeKind b);

// The container instance attribute the agent sets to "spot" or "on-demand".
inline constexpr char kLifecycleAttribute[] = "spotkeeper.lifecycle";

// A notice received for one instance.
struct Notice {
  std::string instance_id;
  std::string instance_type;
  NoticeKind kind = NoticeKind::kSpotInterruption;
  WallTime notice_time{};
  // Interruption notices carry one; scheduled maintenance: its NotBefore
  // (nullopt when unknown: due at once).
  std::optional<WallTime> termination_time;
  // Capacity the instance provides, in its source's units, resolved by the
  // caller with LostUnits() (units.h). nullopt: could not be resolved; the
  // on-demand sizing is then skipped, never guessed.
  std::optional<double> units;
  // True when a replacement is already running (e.g. the fleet's capacity
  // rebalancing launched one), so the instance's units are not missing.
  bool replaced = false;
};

// One notice per instance, in instance id order: the kind that Outranks the
// others, then the earliest notice time.
std::vector<const Notice*> OneNoticePerInstance(const std::vector<Notice>& notices);

enum class ContainerStatus { kActive, kDraining, kOther };

// "ACTIVE" -> kActive, "DRAINING" -> kDraining, anything else -> kOther.
ContainerStatus ParseContainerStatus(const std::string& status);

// An ECS container instance.
struct ContainerInstance {
  std::string cluster;
  std::string arn;
  std::string ec2_instance_id;
  ContainerStatus status = ContainerStatus::kActive;
  int running_tasks = 0;
  int pending_tasks = 0;
  // Custom attributes as AWS returns them (name -> value, "" when none), e.g.
  // the notice a controller recorded on the instance ("spotkeeper.notice").
  std::map<std::string, std::string> attributes;
};

// An instance of the on-demand group.
struct OnDemandInstance {
  std::string instance_id;
  std::string lifecycle_state;  // "Pending", "InService", "Terminating", ...
  bool protected_from_scale_in = false;
};

// The on-demand Auto Scaling group that covers the spot shortfall. Its desired
// capacity counts instances (the group has no weights).
struct OnDemandGroup {
  std::string name;
  // Not ok: the group could not be read; on-demand sizing is skipped.
  Status read_status;
  int min_size = 0;
  int max_size = 0;
  int desired_capacity = 0;
  std::vector<OnDemandInstance> instances;
  // Units one instance provides (the vCPUs of its type), resolved by the
  // caller; PolicyConfig::on_demand_units wins over it. nullopt: unknown.
  std::optional<double> units_per_instance;
  // How the caller found units_per_instance ("launch configuration ecsLC:
  // m5.xlarge, 4 vCPUs"), or why it is unknown; "" when it did not say.
  std::string units_source;
  // The ECS capacity provider with managed scaling the group belongs to, ""
  // when none: ECS then owns the group's desired capacity, and on-demand
  // sizing leaves the group alone (docs/capacity-providers.md).
  std::string managed_by_capacity_provider;
};

// Everything one decision looks at.
struct Observation {
  WallTime now{};
  std::vector<SpotCapacitySource> sources;
  std::vector<Notice> notices;
  // nullopt: no on-demand group is configured (drain only).
  std::optional<OnDemandGroup> on_demand;
  // Not ok: container instances could not be listed; drains and scale-in are
  // skipped (scale-up still happens).
  Status containers_status;
  std::vector<ContainerInstance> container_instances;
};

// The container instance running on EC2 instance `instance_id`; nullptr if none.
const ContainerInstance* FindContainerOfInstance(const std::vector<ContainerInstance>& containers,
                                                 const std::string& instance_id);

// FindContainerOfInstance for the EC2 instances `instance_ids` only, by hash
// instead of a scan (the first container of an id, as FindContainerOfInstance);
// Find of any other id is nullptr. One pass over `containers`, which must
// outlive it unchanged.
class ContainerIndex {
 public:
  ContainerIndex(const std::vector<ContainerInstance>& containers,
                 const std::vector<std::string_view>& instance_ids);
  const ContainerInstance* Find(const std::string& instance_id) const;

 private:
  // A hasher of its own: for std::hash of strings libstdc++ scans a map of up to
  // 20 keys linearly (a memcmp per key), and every container is looked up here.
  struct Hash {
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string_view, const ContainerInstance*, Hash> by_instance_id_;
};

}  // namespace spk::policy
