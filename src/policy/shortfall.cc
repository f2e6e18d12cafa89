#include "policy/shortfall.h"

#include <set>

namespace spk::policy {
namespace {

bool RecentlyScaled(const SpotCapacitySource& source, WallTime now, Duration guard_window) {
  return source.last_target_change && now - *source.last_target_change < guard_window;
}

}  // namespace

bool NoticeCountsAsLoss(const Notice& notice, const PolicyConfig& config) {
  return notice.kind == NoticeKind::kSpotInterruption ||
         config.on_rebalance != RebalanceAction::kIgnore;
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
  std::set<std::string> counted;
  for (const Notice& notice : observation.notices) {
    if (notice.replaced || !NoticeCountsAsLoss(notice, config)) continue;
    if (!FindSourceOfInstance(observation.sources, notice.instance_id)) continue;
    if (!counted.insert(notice.instance_id).second) continue;
    if (!notice.units) {
      return FailedPreconditionError("units of " + notice.instance_id + " (" +
                                     notice.instance_type + ") unknown");
    }
    shortfall.noticed_units += *notice.units;
  }
  return shortfall;
}

}  // namespace spk::policy
