#include "policy/shortfall.h"

namespace spk::policy {
namespace {

bool RecentlyScaled(const SpotCapacitySource& source, WallTime now, Duration guard_window) {
  return source.last_target_change && now - *source.last_target_change < guard_window;
}

}  // namespace

WallTime MaintenanceDueAt(const Notice& notice, const PolicyConfig& config) {
  if (!notice.termination_time) return notice.notice_time;
  return *notice.termination_time - config.maintenance_drain_before;
}

WallTime MaintenanceDrainDeadline(const Notice& notice, const PolicyConfig& config) {
  if (!notice.termination_time) return notice.notice_time;
  return *notice.termination_time - config.maintenance_drain_before / 2;
}

bool IsSpotCapacity(const Observation& observation, const std::string& instance_id) {
  if (!FindSourceOfInstance(observation.sources, instance_id)) return false;
  const ContainerInstance* container =
      FindContainerOfInstance(observation.container_instances, instance_id);
  if (!container) return true;
  auto lifecycle = container->attributes.find(kLifecycleAttribute);
  return lifecycle == container->attributes.end() || lifecycle->second != "on-demand";
}

bool NoticeCountsAsLoss(const Notice& notice, const PolicyConfig& config, WallTime now) {
  switch (notice.kind) {
    case NoticeKind::kSpotInterruption:
    case NoticeKind::kInstanceStopping:
      return true;
    case NoticeKind::kRebalanceRecommendation:
      return config.on_rebalance != RebalanceAction::kIgnore;
    case NoticeKind::kScheduledMaintenance:
      return now >= MaintenanceDueAt(notice, config);
  }
  return true;
}

Result<Shortfall> ComputeShortfall(const Observation& observation, const PolicyConfig& config) {
  Shortfall shortfall;
  for (const SpotCapacitySource& source : observation.sources) {
    if (!source.read_status.ok()) {
      return source.read_status.WithContext("spot capacity source " + source.id);
    }
    if (RecentlyScaled(source, observation.now, config.guard_window)) {
      shortfall.guarded_pending_units += PendingUnits(source);
      shortfall.guarded_sources.push_back(source.id);
    } else {
      shortfall.pending_units += PendingUnits(source);
    }
  }
  // One notice per instance, as the drain planner sees them.
  for (const Notice* kept : OneNoticePerInstance(observation.notices)) {
    const Notice& notice = *kept;
    if (notice.replaced || !NoticeCountsAsLoss(notice, config, observation.now)) continue;
    if (!FindSourceOfInstance(observation.sources, notice.instance_id)) continue;
    // Maintenance and stops come to on-demand instances too: not spot capacity lost.
    const bool any_lifecycle = notice.kind == NoticeKind::kScheduledMaintenance ||
                               notice.kind == NoticeKind::kInstanceStopping;
    if (any_lifecycle && !IsSpotCapacity(observation, notice.instance_id)) {
      continue;
    }
    if (!notice.units) {
      return FailedPreconditionError("units of " + notice.instance_id + " (" +
                                     notice.instance_type + ") unknown");
    }
    shortfall.noticed_units += *notice.units;
  }
  return shortfall;
}

}  // namespace spk::policy
