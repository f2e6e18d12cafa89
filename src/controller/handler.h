// Handler: the controller's one handler, shared by `handle-event`, the
// controller's SQS loop and (later) the Lambda runtime:
//
//   event -> fast path: drain the noticed container instance at once (when the
//            event names it and it is ACTIVE) -> observe AWS state ->
//            policy::Decide -> apply the actions (not with dry_run) -> report.
//
// Idempotent: a notice is handled once per Handler (by Event::DedupKey());
// a repeat is reported as a duplicate and changes nothing. The drain itself
// only touches ACTIVE container instances, so a repeat across processes does
// not drain again either. Not thread-safe: one Handler per loop.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "controller/cloud_view.h"
#include "controller/event.h"
#include "policy/config.h"
#include "policy/decide.h"

namespace spk::controller {

struct ControllerConfig {
  std::vector<std::string> clusters;        // ECS clusters whose container instances count
  std::vector<std::string> spot_fleet_ids;  // Spot Fleet requests (spot capacity sources)
  std::vector<std::string> spot_asgs;       // mixed-instances groups (spot capacity sources)
  std::string on_demand_asg;                // "" : drain only
  PendingSource pending_source = PendingSource::kApi;
  policy::PolicyConfig policy;
  bool dry_run = false;
  // How long a notice keeps counting as lost capacity after it arrived.
  Duration notice_retention = std::chrono::minutes(15);
};

// Ok, or kInvalidArgument naming the first bad setting.
Status ValidateControllerConfig(const ControllerConfig& config);

// An action and what became of it.
struct ActionResult {
  policy::Action action;
  bool applied = false;  // false with dry_run, or when it failed
  Status status;         // the AWS call's Status when attempted
};

struct HandleReport {
  std::optional<Event> event;  // nullopt for a reconcile
  bool duplicate = false;      // a repeat: nothing was done
  bool dry_run = false;
  std::vector<ActionResult> fast_path;
  std::optional<policy::Decision> decision;
  std::vector<ActionResult> actions;

  // Ok when everything was decided and every attempted action succeeded;
  // else kUnavailable naming the first failure: the caller retries (from SQS:
  // it does not delete the message).
  Status status() const;
};

// {"event": ..., "duplicate": false, "dry_run": false, "fast_path": [...],
//  "actions": [{..., "applied": true, "error": "..."}], "skipped": [...],
//  "notes": [...], "shortfall_units": x, "on_demand_needed": n}
nlohmann::json ToJson(const HandleReport& report);

class Handler {
 public:
  // `cloud` and `clock` must outlive the handler.
  // REQUIRES: ValidateControllerConfig(config).ok().
  Handler(CloudView& cloud, ControllerConfig config, const Clock& clock);

  // Handles one event at clock.WallNow().
  HandleReport Handle(const Event& event);
  // Recomputes from AWS state alone (the remembered, unexpired notices still count).
  HandleReport Reconcile();

  // The observation Decide would see now, with `extra_fleet` (if not "") and
  // `extra_cluster` (if not "") read as well. Exposed for tests.
  policy::Observation Observe(const std::string& extra_fleet, const std::string& extra_cluster);

  // The on-demand group's desired capacity as last read, or as last set by an
  // applied SetDesiredCapacity; nullopt before the first successful read.
  std::optional<int> on_demand_desired() const { return on_demand_desired_; }

 private:
  std::vector<ActionResult> FastPath(const Event& event);
  void Remember(const Event& event, WallTime now);
  std::vector<policy::Notice> ActiveNotices(WallTime now);
  void ResolveUnits(const std::map<std::string, std::string>& instance_types,
                    policy::Observation* observation);
  void ReadSources(const std::string& extra_fleet, policy::Observation* observation,
                   std::map<std::string, std::string>* instance_types);
  void ReadContainers(const std::string& extra_cluster, policy::Observation* observation);
  std::optional<WallTime> RememberTargetChange(const policy::SpotCapacitySource& source,
                                               WallTime now);
  HandleReport DecideAndApply(HandleReport report, const std::string& extra_fleet,
                              const std::string& extra_cluster);
  ActionResult Run(const policy::Action& action);

  CloudView& cloud_;
  ControllerConfig config_;
  const Clock& clock_;
  std::set<std::string> handled_;
  std::map<std::string, policy::Notice> notices_;  // by instance id
  policy::ScaleDownTracker tracker_;
  // Spot Fleet target capacity last seen and when it was seen to change (api mode).
  std::map<std::string, std::pair<double, std::optional<WallTime>>> targets_;
  std::optional<int> on_demand_desired_;
};

}  // namespace spk::controller
