#include "policy/drain_planner.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "policy/shortfall.h"

namespace spk::policy {
namespace {

// Soonest termination first (a notice without a termination time, by its
// notice time), then instance id.
bool DrainsFirst(const Notice* a, const Notice* b) {
  WallTime when_a = a->termination_time.value_or(a->notice_time);
  WallTime when_b = b->termination_time.value_or(b->notice_time);
  return std::tie(when_a, a->instance_id) < std::tie(when_b, b->instance_id);
}

// Empty when a scheduled-maintenance notice should drain now; else why not.
std::string WhyNotDrainMaintenanceNow(const Notice& notice, const Observation& observation,
                                      const PolicyConfig& config, bool replacement_registered) {
  const std::string what =
      "scheduled maintenance of " + notice.instance_id +
      (notice.termination_time ? " at " + FormatIso8601(*notice.termination_time) : std::string());
  const WallTime due = MaintenanceDueAt(notice, config);
  if (observation.now < due) return what + ": drains from " + FormatIso8601(due);
  // An on-demand instance's capacity is not covered first: nothing to wait for.
  if (!IsSpotCapacity(observation, notice.instance_id)) return "";
  if (notice.replaced || replacement_registered) return "";
  const WallTime deadline = MaintenanceDrainDeadline(notice, config);
  if (observation.now >= deadline) return "";
  return what + ": waiting for replacement capacity to register before draining (at the latest " +
         FormatIso8601(deadline) + ")";
}

// Empty when the notice should drain now; else why not.
std::string WhyNotDrainNow(const Notice& notice, const Observation& observation,
                           const PolicyConfig& config, bool replacement_registered) {
  if (notice.kind == NoticeKind::kScheduledMaintenance) {
    return WhyNotDrainMaintenanceNow(notice, observation, config, replacement_registered);
  }
  if (notice.kind != NoticeKind::kRebalanceRecommendation) return "";
  switch (config.on_rebalance) {
    case RebalanceAction::kIgnore:
      return "rebalance recommendation for " + notice.instance_id +
             " ignored (on-rebalance=ignore)";
    case RebalanceAction::kDrain:
      return "";
    case RebalanceAction::kPrepare:
      if (notice.replaced || replacement_registered) return "";
      return "rebalance recommendation for " + notice.instance_id +
             ": waiting for replacement capacity to register before draining";
  }
  return "";
}

}  // namespace

DrainPlan PlanNoticeDrains(const Observation& observation, const PolicyConfig& config,
                           bool replacement_registered) {
  DrainPlan plan;
  std::vector<const Notice*> notices = OneNoticePerInstance(observation.notices);
  std::sort(notices.begin(), notices.end(), DrainsFirst);
  std::vector<const ContainerInstance*> to_drain;
  for (const Notice* notice : notices) {
    if (std::string why = WhyNotDrainNow(*notice, observation, config, replacement_registered);
        !why.empty()) {
      plan.notes.push_back(why);
      continue;
    }
    const ContainerInstance* container =
        FindContainerOfInstance(observation.container_instances, notice->instance_id);
    if (!container) {
      plan.notes.push_back("no container instance for " + notice->instance_id);
    } else if (container->status != ContainerStatus::kActive) {
      plan.notes.push_back(container->arn + " of " + notice->instance_id +
                           " already draining or inactive");
    } else {
      to_drain.push_back(container);
    }
  }
  plan.actions =
      BatchDrains(to_drain, config.drain_batch_size, "spot notice: drain before the instance goes");
  return plan;
}

std::vector<ClusterBatch> BatchByCluster(const std::vector<const ContainerInstance*>& containers,
                                         size_t batch_size) {
  std::vector<std::string> cluster_order;
  std::map<std::string, std::vector<std::string>> arns_by_cluster;
  for (const ContainerInstance* container : containers) {
    auto& arns = arns_by_cluster[container->cluster];
    if (arns.empty()) cluster_order.push_back(container->cluster);
    arns.push_back(container->arn);
  }
  std::vector<ClusterBatch> batches;
  for (const std::string& cluster : cluster_order) {
    const auto& arns = arns_by_cluster[cluster];
    for (size_t begin = 0; begin < arns.size(); begin += batch_size) {
      size_t end = std::min(arns.size(), begin + batch_size);
      batches.push_back({cluster, {arns.begin() + begin, arns.begin() + end}});
    }
  }
  return batches;
}

std::vector<Action> BatchDrains(const std::vector<const ContainerInstance*>& containers,
                                size_t batch_size, const std::string& reason) {
  std::vector<Action> actions;
  for (ClusterBatch& batch : BatchByCluster(containers, batch_size)) {
    actions.push_back({DrainContainerInstances{batch.cluster, std::move(batch.arns)}, reason});
  }
  return actions;
}

}  // namespace spk::policy
