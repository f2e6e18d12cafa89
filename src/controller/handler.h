// Handler: the controller's one handler, shared by `handle-event`, the
// controller's SQS loop and the Lambda runtime:
//
//   event -> fast path: drain the noticed container instance at once (when the
//            event names it and it is ACTIVE) -> observe AWS state ->
//            policy::Decide -> apply the actions (not with dry_run) -> report.
//
// HandleBatch does the same for the events of one queue receive (up to 10)
// together: one DescribeContainerInstances and one UpdateContainerInstancesState
// per cluster per 10 noticed instances, then one observation and one decision
// for the whole batch, so a burst of notices costs a call per 10 instances, not
// per instance.
//
// Idempotent: a notice is handled once per Handler (by Event::DedupKey()); a
// repeat is reported as a duplicate and changes nothing. Alarms and direct
// invocations are not deduplicated: each asks for a fresh decision, which
// changes nothing when nothing changed. The drain itself
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
  bool dry_run = false;  // not attempted: the handler is in dry run
  Status status;         // the AWS call's Status when attempted
};

// "applied", "dry-run" or "failed": the `result` label of an action in metrics.
const char* ActionResultName(const ActionResult& result);

struct HandleReport {
  std::optional<Event> event;  // nullopt for a reconcile
  bool duplicate = false;      // a repeat: nothing was done
  bool dry_run = false;
  std::vector<ActionResult> fast_path;
  std::optional<policy::Decision> decision;
  std::vector<ActionResult> actions;

  // Ok when everything was decided and every action of the decision
  // succeeded (a failed fast-path drain is retried by the decision's own drain
  // of the still-ACTIVE instance); else kUnavailable naming the first failure:
  // the caller retries (from SQS: it does not delete the message).
  Status status() const;
};

// {"event": ..., "duplicate": false, "dry_run": false, "fast_path": [...],
//  "actions": [{..., "applied": true, "error": "..."}], "skipped": [...],
//  "notes": [...], "shortfall_units": x, "on_demand_needed": n}
nlohmann::json ToJson(const HandleReport& report);

// What Admit did with a batch of events.
struct AdmitReport {
  std::vector<bool> duplicate;          // per event, in order
  std::vector<ActionResult> fast_path;  // the drains of the noticed container instances
};

// The events of one batch and what became of them.
struct BatchReport {
  std::vector<bool> duplicate;  // per event, in order: a repeat, nothing was done for it
  // The batch's fast path, decision and actions (event is nullopt). Its
  // status() is every non-duplicate event's status.
  HandleReport report;
};

class Handler {
 public:
  // `cloud` and `clock` must outlive the handler.
  // REQUIRES: ValidateControllerConfig(config).ok().
  Handler(CloudView& cloud, ControllerConfig config, const Clock& clock);

  // Handles one event at clock.WallNow().
  HandleReport Handle(const Event& event);
  // Handles `events` together at clock.WallNow() (see above):
  // Admit(events), then Settle() of the ones that are not duplicates.
  BatchReport HandleBatch(const std::vector<Event>& events);

  // The two halves of HandleBatch, for a caller that admits several batches
  // before one decision (the controller loop during a burst):
  //  - Admit: marks repeats of handled or admitted events as duplicates,
  //    drains the noticed container instances at once (fast path) and
  //    remembers the notices; no decision.
  //  - Settle: one observation and decision for admitted `events` (their
  //    fleets and clusters read too); when it succeeds they count as handled,
  //    else they may be admitted again (redelivered).
  // Either may throw only what the CloudView throws; the events are then not
  // admitted (a redelivery is handled, not taken for a duplicate).
  AdmitReport Admit(const std::vector<Event>& events);
  HandleReport Settle(const std::vector<Event>& events);
  // Recomputes from AWS state alone (the remembered, unexpired notices still count).
  HandleReport Reconcile();

  // The observation Decide would see now, with `extra_fleets` and
  // `extra_clusters` (named by events) read as well as the configured ones.
  policy::Observation Observe(const std::vector<std::string>& extra_fleets,
                              const std::vector<std::string>& extra_clusters);

  // The on-demand group's desired capacity as last read, or as last set by an
  // applied SetDesiredCapacity; nullopt before the first successful read.
  std::optional<int> on_demand_desired() const { return on_demand_desired_; }

 private:
  std::vector<ActionResult> FastPath(const std::vector<const Event*>& events);
  void Remember(const Event& event, WallTime now);
  std::vector<policy::Notice> ActiveNotices(WallTime now);
  void ResolveUnits(const std::map<std::string, std::string>& instance_types,
                    policy::Observation* observation);
  void ReadSources(const std::vector<std::string>& extra_fleets, policy::Observation* observation,
                   std::map<std::string, std::string>* instance_types);
  void ReadContainers(const std::vector<std::string>& extra_clusters,
                      policy::Observation* observation);
  std::optional<WallTime> RememberTargetChange(const policy::SpotCapacitySource& source,
                                               WallTime now);
  HandleReport DecideAndApply(HandleReport report, const std::vector<std::string>& extra_fleets,
                              const std::vector<std::string>& extra_clusters);
  ActionResult Run(const policy::Action& action);

  CloudView& cloud_;
  ControllerConfig config_;
  const Clock& clock_;
  std::set<std::string> handled_;
  std::set<std::string> admitted_;                 // admitted, not yet settled
  std::map<std::string, policy::Notice> notices_;  // by instance id
  policy::ScaleDownTracker tracker_;
  // Spot Fleet target capacity last seen and when it was seen to change (api mode).
  std::map<std::string, std::pair<double, std::optional<WallTime>>> targets_;
  std::optional<int> on_demand_desired_;
  // Dry-run actions already logged at info (later repeats go to debug, so a
  // remembered test notice is not re-reported at every reconcile); bounded.
  std::set<std::string> dry_run_logged_;
};

}  // namespace spk::controller
