// The spot shortfall: capacity the spot sources are missing, in their units.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "policy/config.h"
#include "policy/observation.h"

namespace spk::policy {

struct Shortfall {
  // Pending capacity of sources not recently scaled: covered with on-demand.
  double pending_units = 0;
  // Pending capacity of sources whose target changed within the guard window:
  // not added, but on-demand already covering it is kept (no scale-in for it).
  double guarded_pending_units = 0;
  // Capacity of instances under notice, still counted in their source's
  // fulfilled capacity (so not yet in its pending), and not replaced.
  double noticed_units = 0;
  // Sources inside the guard window, for the reason text.
  std::vector<std::string> guarded_sources;

  // What on-demand may grow to cover.
  double addable_units() const { return pending_units + noticed_units; }
  // What on-demand already running should keep covering.
  double held_units() const { return addable_units() + guarded_pending_units; }
};

// When a scheduled-maintenance notice is due: config.maintenance_drain_before
// before its termination_time (NotBefore); one without a NotBefore is due at
// once (its notice_time).
WallTime MaintenanceDueAt(const Notice& notice, const PolicyConfig& config);

// When a due maintenance notice's instance is drained even though replacement
// capacity has not registered: half of config.maintenance_drain_before before
// its NotBefore (its notice_time when it has none).
WallTime MaintenanceDrainDeadline(const Notice& notice, const PolicyConfig& config);

// True when `instance_id` is in some source's instance_ids and its container
// instance (if listed) does not carry kLifecycleAttribute = "on-demand" (the
// agent's word: e.g. an on-demand base instance of a mixed-instances group).
bool IsSpotCapacity(const Observation& observation, const std::string& instance_id);

// True when the notice's units count as missing under `config` at `now`:
// interruption notices always, rebalance recommendations unless on_rebalance
// is kIgnore, scheduled maintenance once due (MaintenanceDueAt), whatever
// on_rebalance says.
bool NoticeCountsAsLoss(const Notice& notice, const PolicyConfig& config, WallTime now);

// Computes the shortfall over all sources and notices at observation.now.
// One notice per instance counts (OneNoticePerInstance), only if the
// instance is in some source's instance_ids, is not replaced and counts as a
// loss; a scheduled-maintenance notice only if IsSpotCapacity (an on-demand
// instance's maintenance is never spot capacity lost). Fails (and the caller must skip on-demand
// sizing) with the source's read_status when a source could not be read, or kFailedPrecondition
// when a counted notice's units are unknown.
Result<Shortfall> ComputeShortfall(const Observation& observation, const PolicyConfig& config);

}  // namespace spk::policy
