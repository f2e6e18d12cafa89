// Which container instances to set DRAINING for the notices received.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "policy/action.h"
#include "policy/config.h"
#include "policy/observation.h"

namespace spk::policy {

struct DrainPlan {
  std::vector<Action> actions;     // DrainContainerInstances, at most batch size each
  std::vector<std::string> notes;  // why a notice led to no drain
};

// Plans the drains for observation.notices:
//  - one entry per instance (the kind that Outranks the others);
//  - a rebalance recommendation per config.on_rebalance: kIgnore nothing,
//    kDrain at once, kPrepare only when `replacement_registered` (or the
//    notice says the instance is replaced);
//  - scheduled maintenance (whatever on_rebalance says) nothing before it is
//    due (MaintenanceDueAt, shortfall.h); once due, an instance that is not
//    spot capacity (IsSpotCapacity) at once, a spot instance when
//    `replacement_registered` (or replaced), or at the latest at
//    MaintenanceDrainDeadline;
//  - a stopping instance (kInstanceStopping) at once, like an interruption;
//  - the container instance is found by EC2 instance id in any cluster; one
//    already DRAINING (or not ACTIVE) is skipped, so the plan is idempotent;
//  - soonest termination first, then instance id; batched per cluster.
// REQUIRES: observation.containers_status.ok() (Decide skips drains otherwise).
DrainPlan PlanNoticeDrains(const Observation& observation, const PolicyConfig& config,
                           bool replacement_registered);

// One cluster's container instance ARNs, for one UpdateContainerInstancesState call.
struct ClusterBatch {
  std::string cluster;
  std::vector<std::string> arns;
};

// Groups `containers` (in the given order) by cluster, in order of each
// cluster's first appearance, in batches of at most `batch_size`.
// REQUIRES: batch_size >= 1.
std::vector<ClusterBatch> BatchByCluster(const std::vector<const ContainerInstance*>& containers,
                                         size_t batch_size);

// BatchByCluster as DrainContainerInstances actions with `reason`.
std::vector<Action> BatchDrains(const std::vector<const ContainerInstance*>& containers,
                                size_t batch_size, const std::string& reason);

}  // namespace spk::policy
