#include "policy/observation.h"

#include <algorithm>
#include <map>

namespace spk::policy {

double PendingUnits(const SpotCapacitySource& source) {
  double pending =
      source.pending_capacity.value_or(source.target_capacity - source.fulfilled_capacity);
  return std::max(0.0, pending);
}

const SpotCapacitySource* FindSourceOfInstance(const std::vector<SpotCapacitySource>& sources,
                                               const std::string& instance_id) {
  for (const SpotCapacitySource& source : sources) {
    const auto& ids = source.instance_ids;
    if (std::find(ids.begin(), ids.end(), instance_id) != ids.end()) return &source;
  }
  return nullptr;
}

const char* NoticeKindName(NoticeKind kind) {
  switch (kind) {
    case NoticeKind::kSpotInterruption:
      return "spot-interruption";
    case NoticeKind::kRebalanceRecommendation:
      return "rebalance-recommendation";
    case NoticeKind::kScheduledMaintenance:
      return "scheduled-maintenance";
    case NoticeKind::kInstanceStopping:
      return "instance-stopping";
  }
  return "unknown";
}

std::vector<const Notice*> OneNoticePerInstance(const std::vector<Notice>& notices) {
  std::map<std::string, const Notice*> by_instance;
  for (const Notice& notice : notices) {
    const Notice*& kept = by_instance[notice.instance_id];
    if (!kept || Outranks(notice.kind, kept->kind) ||
        (notice.kind == kept->kind && notice.notice_time < kept->notice_time)) {
      kept = &notice;
    }
  }
  std::vector<const Notice*> out;
  for (const auto& [id, notice] : by_instance) out.push_back(notice);
  return out;
}

bool Outranks(NoticeKind a, NoticeKind b) {
  auto rank = [](NoticeKind kind) {
    switch (kind) {
      case NoticeKind::kSpotInterruption:
      case NoticeKind::kInstanceStopping:
        return 2;
      case NoticeKind::kScheduledMaintenance:
        return 1;
      case NoticeKind::kRebalanceRecommendation:
        return 0;
    }
    return 0;
  };
  return rank(a) > rank(b);
}

ContainerStatus ParseContainerStatus(const std::string& status) {
  if (status == "ACTIVE") return ContainerStatus::kActive;
  if (status == "DRAINING") return ContainerStatus::kDraining;
  return ContainerStatus::kOther;
}

const ContainerInstance* FindContainerOfInstance(const std::vector<ContainerInstance>& containers,
                                                 const std::string& instance_id) {
  for (const ContainerInstance& container : containers) {
    if (container.ec2_instance_id == instance_id) return &container;
  }
  return nullptr;
}

ContainerIndex::ContainerIndex(const std::vector<ContainerInstance>& containers,
                               const std::vector<std::string_view>& instance_ids) {
  by_instance_id_.reserve(instance_ids.size());
  for (std::string_view id : instance_ids) by_instance_id_.emplace(id, nullptr);
  for (const ContainerInstance& container : containers) {
    auto it = by_instance_id_.find(container.ec2_instance_id);
    if (it != by_instance_id_.end() && !it->second) it->second = &container;  // the first
  }
}

const ContainerInstance* ContainerIndex::Find(const std::string& instance_id) const {
  auto it = by_instance_id_.find(instance_id);
  return it == by_instance_id_.end() ? nullptr : it->second;
}

}  // namespace spk::policy
