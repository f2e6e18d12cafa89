// The on-demand fallback of capacity-provider clusters (docs/capacity-providers.md):
// a primary service whose capacity provider strategy asks for spot is paired
// with a shadow service on an on-demand provider, desired 0 while spot is
// there. When the primary's tasks wait in PROVISIONING on a spot provider and
// the spot market is shown to be short, the shadow runs as many tasks; when
// the primary is whole again for the settle window, the shadow steps down.
//
// DecideFallback is the pure decision for one pair, from what was read of
// AWS; the controller (controller/fallback.h) reads, applies and writes the
// state back. Everything it needs is in FallbackObservation, so two deciders
// or a restarted one decide the same.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace spk::policy {

// The tag on a shadow service holding when its primary's shortfall was
// last seen to end (ISO 8601): the settle window's start.
inline constexpr char kShortfallEndedTag[] = "spotkeeper:shortfall-ended-at";
// The tag that pairs a shadow service with its primary (value: the
// primary's name), as --fallback-service does.
inline constexpr char kFallbackForTag[] = "spotkeeper:fallback-for";

// The most tasks a shadow may run: at most `tasks` (when set) and at most
// `fraction` of its primary's desired count (rounded up).
struct FallbackMax {
  std::optional<int> tasks;
  double fraction = 1.0;
};

// "N", "P%" or "N,P%" (both: the smaller bound); kInvalidArgument otherwise.
Result<FallbackMax> ParseFallbackMax(const std::string& text);
std::string FallbackMaxText(const FallbackMax& max);

struct FallbackConfig {
  // How long a primary's task may wait in PROVISIONING on a spot provider
  // before it counts as stuck (ECS stops such a task after 10 to 30 minutes).
  Duration grace = std::chrono::minutes(3);
  FallbackMax max;
  // The most shadow tasks over all pairs of one decision; nullopt: no cap.
  std::optional<int> cluster_max;
  // How long the primary must stay whole before the shadow steps down.
  Duration settle_window = std::chrono::minutes(10);
};

// Ok, or kInvalidArgument naming the bad setting.
Status ValidateFallbackConfig(const FallbackConfig& config);

// A task of the primary that waits to be placed.
struct ProvisioningTask {
  std::string arn;
  std::string capacity_provider;  // "" when ECS does not say
  WallTime created_at{};
};

// What was read of one spot capacity provider the primary's strategy uses.
struct SpotProviderRead {
  std::string provider;
  std::string group;  // its Auto Scaling group ("" for FARGATE_SPOT)
  // The group's desired, InService and MaxSize (0 for Fargate).
  int desired = 0;
  int in_service = 0;
  int max_size = 0;
  // The newest Failed scaling activity whose message says spot capacity is
  // short, and when it happened (nullopt: none among the recent activities).
  std::optional<WallTime> spot_failure_at;
  std::string spot_failure_message;
  // When the oldest launch still waiting for a spot request to be fulfilled
  // began (nullopt: none): how long the group has been short of spot.
  std::optional<WallTime> launching_since;
};

// True when a Failed scaling activity's message names spot capacity
// (InsufficientInstanceCapacity, "no Spot capacity available",
// UnfulfillableCapacity, ...).
bool IsSpotCapacityFailure(const std::string& message);

// A placement failure older than this is history, not a failure going on
// (ECS writes the event again while it keeps failing).
inline constexpr Duration kPlacementFailureRecent = std::chrono::minutes(10);

// True when a service event's message says ECS could not place a task
// ("(service web) was unable to place a task ...").
bool IsPlacementFailure(const std::string& message);
// True when such a message says Fargate had no capacity ("Capacity is
// unavailable at this time"): on FARGATE_SPOT, the spot market is short.
bool IsFargateCapacityFailure(const std::string& message);
// True when such a message names capacity, a limit or PROVISIONING (the
// cluster's PROVISIONING quota; no container instance in the capacity
// provider): on a group's provider, a reason that spot can explain. A
// placement constraint, a port or another requirement is not.
bool IsCapacityPlacementFailure(const std::string& message);

struct FallbackObservation {
  std::string cluster;
  std::string primary;
  std::string shadow;
  // Not ok: something could not be read; nothing changes.
  Status read_status;
  int primary_desired = 0;
  int primary_running = 0;
  int primary_pending = 0;  // the service's pendingCount
  // Since when ECS has failed to place the primary's tasks: the oldest
  // placement failure among its service events since it last reached a
  // steady state (nullopt: none), and the newest one's time and message.
  // Tasks ECS could not even create (the cluster's PROVISIONING quota is
  // full; Fargate Spot has no capacity) are not PROVISIONING: they are
  // desired - running - pending, and count as stuck once ECS has failed for
  // the grace and failed again lately (kPlacementFailureRecent).
  std::optional<WallTime> placement_failing_since;
  std::optional<WallTime> placement_failed_at;  // the newest one
  std::string placement_failure;
  std::string primary_task_definition;  // of its PRIMARY deployment
  std::vector<ProvisioningTask> provisioning;
  // The primary's strategy's spot providers, as read.
  std::vector<SpotProviderRead> spot_providers;
  int shadow_desired = 0;
  std::string shadow_task_definition;
  std::optional<WallTime> shortfall_ended_at;  // kShortfallEndedTag
};

struct FallbackDecision {
  std::string cluster;
  std::string primary;
  std::string shadow;
  bool skipped = false;  // the read failed: nothing changes
  int stuck = 0;         // tasks past the grace on a spot provider (or not placed at all)
  int confirmed = 0;     // of those, on a provider shown short of spot
  int shortfall = 0;     // primary desired - running (>= 0)
  int cap = 0;           // the most the shadow may run
  int desired = 0;       // the shadow's desired count to set
  // The task definition to give the shadow ("" : it already runs the primary's).
  std::string task_definition;
  // The settle window's start as it should be stored (nullopt: no tag).
  std::optional<WallTime> shortfall_ended_at;
  std::vector<std::string> notes;  // why, in words

  // The shadow needs an UpdateService.
  bool update(const FallbackObservation& observation) const {
    return !skipped && (desired != observation.shadow_desired || !task_definition.empty());
  }
};

// The decision for one pair at `now`; `budget` is what the cluster-wide cap
// leaves for this pair (nullopt: no cap). Deterministic.
FallbackDecision DecideFallback(const FallbackObservation& observation,
                                const FallbackConfig& config, WallTime now,
                                std::optional<int> budget);

nlohmann::json ToJson(const FallbackDecision& decision);

}  // namespace spk::policy
