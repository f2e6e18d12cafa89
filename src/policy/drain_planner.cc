#include "policy/drain_planner.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace spk::policy {
namespace {

// One notice per instance: an interruption wins over a rebalance
// recommendation, then the earliest notice.
std::vector<const Notice*> OneNoticePerInstance(const std::vector<Notice>& notices) {
  std::map<std::string, const Notice*> by_instance;
  for (const Notice& notice : notices) {
    const Notice*& kept = by_instance[notice.instance_id];
    if (!kept ||
        std::tie(notice.kind, notice.notice_time) < std::tie(kept->kind, kept->notice_time)) {
      kept = &notice;
    }
  }
  std::vector<const Notice*> out;
  for (const auto& [id, notice] : by_instance) out.push_back(notice);
  return out;
}

// Soonest termination first (a notice without a termination time, by its
// notice time), then instance id.
bool DrainsFirst(const Notice* a, const Notice* b) {
  WallTime when_a = a->termination_time.value_or(a->notice_time);
  WallTime when_b = b->termination_time.value_or(b->notice_time);
  return std::tie(when_a, a->instance_id) < std::tie(when_b, b->instance_id);
}

// Empty when the notice should drain now; else why not.
std::string WhyNotDrainNow(const Notice& notice, const PolicyConfig& config,
                           bool replacement_registered) {
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
    if (std::string why = WhyNotDrainNow(*notice, config, replacement_registered); !why.empty()) {
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
