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
// Where notices live: a notice is recorded on its container instance as the
// ECS custom attribute kNoticeAttribute, in the same pass as its drain (fast
// path, or the decision's pass for a notice whose instance was not drained at
// once). Every observation reads those records from the listed container
// instances and merges them with the notices this Handler remembers (memory is
// a cache, never the only copy once the record is written), so a fresh
// Handler, another process or a Lambda cold start counts the notices every
// other decider recorded. A notice counts until it is older than
// notice_retention (scheduled maintenance: until notice_retention after its
// NotBefore) or its container instance is gone from the cluster; one notice
// per instance, the kind that policy::Outranks the other (an interruption
// wins over scheduled maintenance, which wins over a rebalance
// recommendation). Scheduled maintenance is recorded when it arrives (it
// comes once, often days ahead) and drained by a decision once due, never
// by the fast path. A
// notice for an instance with no container instance yet lives only in memory.
//
// Where the scale-in lives: an on-demand instance chosen for removal carries
// kRemovingAttribute (written before its drain), and the settle window's
// start is a pair of tags on the on-demand group (kNeedBelowSinceTag,
// kNeedBelowHeldTag). Every decision reads both back (memory keeps only the
// removals of instances that never registered a container instance, which
// are terminated in the decision that chose them), so a restarted controller
// or a Lambda cold start finishes a removal, or re-activates the instance
// and deletes its mark when the need comes back, and does not restart the
// settle window.
//
// Concurrent deciders: a SetDesiredCapacity (only ever a raise) re-reads the
// group just before writing and is not applied when the group already has as
// many (another decider raised it meanwhile): a raise never lowers. Only the
// scale-in path lowers the group, by terminating the instances it drained
// with decrement.
//
// Idempotent: a notice is handled once per Handler (by Event::DedupKey()); a
// repeat is reported as a duplicate and changes nothing. The handled keys are
// bounded (handled_capacity, handled_retention): a repeat that comes after
// its key was forgotten is handled again, which is harmless (below). Alarms and direct
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
#include "controller/fallback.h"
#include "controller/lifecycle.h"
#include "controller/recent_keys.h"
#include "policy/config.h"
#include "policy/decide.h"

namespace spk::controller {

// The ECS custom attribute a notice is recorded under on its container instance.
inline constexpr char kNoticeAttribute[] = "spotkeeper.notice";

// The ECS custom attribute that marks an on-demand instance chosen for
// removal (scale-in), with the time it was chosen (ISO 8601). It is written
// before the instance is drained; an instance is being removed when its
// container instance is DRAINING and carries the mark (a mark on an ACTIVE
// container instance is stale: the removal never started or was cancelled).
inline constexpr char kRemovingAttribute[] = "spotkeeper.removing";
// Tags on the on-demand group holding the settle window: since when the
// group has been larger than the shortfall holds (ISO 8601), and the most
// instances the shortfall held since then.
inline constexpr char kNeedBelowSinceTag[] = "spotkeeper:need-below-since";
inline constexpr char kNeedBelowHeldTag[] = "spotkeeper:need-below-held";
// A tag on the on-demand group per spot capacity source (key: this prefix
// and the fleet id or group name): the source's target capacity as last seen
// and, once it was seen to change, when ("16" or "24@2026-12-02T03:53:43Z"),
// for the guard window (Spot Fleets with --pending-source api: CloudWatch has
// its own record; EC2 Fleets and spot groups always).
inline constexpr char kTargetTagPrefix[] = "spotkeeper:target:";

// A notice's record: "<kind>@<ISO 8601 time>" (kinds as
// policy::NoticeKindName), e.g. "spot-interruption@2026-12-02T03:53:43Z"; the
// time is the notice time, for scheduled maintenance its NotBefore
// ("scheduled-maintenance@2030-01-01T00:00:00Z"); within ECS's attribute value
// limits (128 characters of letters, digits and -_./@:).
std::string NoticeRecord(policy::NoticeKind kind, WallTime notice_time);
// The kind and time of a record; kInvalidArgument for anything else.
Result<std::pair<policy::NoticeKind, WallTime>> ParseNoticeRecord(const std::string& value);

struct ControllerConfig {
  std::vector<std::string> clusters;        // ECS clusters whose container instances count
  std::vector<std::string> spot_fleet_ids;  // Spot Fleet requests (spot capacity sources)
  std::vector<std::string> ec2_fleet_ids;   // EC2 Fleets, "fleet-..." (spot capacity sources)
  std::vector<std::string> spot_asgs;       // mixed-instances groups (spot capacity sources)
  std::string on_demand_asg;                // "" : drain only
  PendingSource pending_source = PendingSource::kApi;
  policy::PolicyConfig policy;
  bool dry_run = false;
  // How long a notice keeps counting as lost capacity after it arrived.
  Duration notice_retention = std::chrono::minutes(15);
  // A launch waiting on a launching lifecycle hook that is no ACTIVE
  // container instance this long after EC2 launched it is abandoned.
  Duration launch_timeout = std::chrono::minutes(10);
  // Handled notices are remembered (to recognise a repeat) for this long, and
  // at most this many: the oldest are forgotten first (recent_keys.h).
  Duration handled_retention = std::chrono::hours(1);
  size_t handled_capacity = 10000;
  // The EC2 instance this controller runs on, "" when unknown: a notice for
  // it and a drain of it are logged at warn ("own host"); they are handled
  // as any other (docs/controller.md, "Its own host").
  std::string self_instance_id;
  // The on-demand fallback of capacity-provider clusters (fallback.h):
  // configured pairs, tagged pairs (discover), and its settings.
  std::vector<FallbackPair> fallback_pairs;
  bool fallback_discover = false;
  policy::FallbackConfig fallback;
};

// Ok, or kInvalidArgument naming the first bad setting.
Status ValidateControllerConfig(const ControllerConfig& config);

// An action and what became of it.
struct ActionResult {
  policy::Action action;
  bool applied = false;  // false with dry_run, or when it failed
  bool dry_run = false;  // not attempted: the handler is in dry run
  // Not attempted: a SetDesiredCapacity whose group already had at least that
  // many when re-read just before the write (another decider raised it).
  bool superseded = false;
  Status status;  // the AWS call's Status when attempted
};

// A write of the controller's state to AWS (removal marks, the settle
// window's tags) and what became of it.
struct StateWrite {
  std::string what;                       // e.g. "removal marks", "settle window"
  std::string target;                     // the cluster or group written to
  std::vector<std::string> instance_ids;  // the instances concerned, if any
  Status status;
};

// Notices recorded (kNoticeAttribute) on the container instances of one cluster.
struct RecordResult {
  std::string cluster;
  std::vector<std::string> instance_ids;  // the noticed EC2 instances
  Status status;                          // PutAttributes's
};

// "applied", "dry-run", "superseded" or "failed": the `result` label of an action in metrics.
const char* ActionResultName(const ActionResult& result);

struct HandleReport {
  std::optional<Event> event;  // nullopt for a reconcile
  bool duplicate = false;      // a repeat: nothing was done
  // Why the event was refused (see Handler::Refusal), "" when it was not:
  // nothing was done for it and retrying cannot change that.
  std::string refused;
  bool dry_run = false;
  std::vector<ActionResult> fast_path;
  std::optional<policy::Decision> decision;
  std::vector<ActionResult> actions;
  // Notices recorded on their container instances with the fast-path drains
  // (a failed one is written again by the decision's pass), and by the
  // decision's pass.
  std::vector<RecordResult> fast_path_recorded;
  std::vector<RecordResult> recorded;
  // The decision's state written to AWS (see "Where state lives" above).
  std::vector<StateWrite> state;
  // The terminate lifecycle actions answered by this decision (lifecycle.h).
  std::vector<LifecycleStep> lifecycle;
  // The fallback's pass over its pairs (fallback.h); a pair's failure is
  // reported here but does not fail the decision (the next pass retries).
  std::vector<FallbackOutcome> fallback;
  // The clusters whose tagged shadows the fallback read (with discover).
  std::vector<std::string> fallback_searched;

  // Ok when everything was decided and every action of the decision
  // succeeded and every notice of the decision's pass was recorded (a failed
  // fast-path drain or record is retried by the decision's pass); else kUnavailable naming the
  // first failure: the caller retries (from SQS: it does not delete the message).
  Status status() const;
};

// {"event": ..., "duplicate": false, "dry_run": false, "fast_path": [...],
//  "actions": [{..., "applied": true, "error": "..."}],
//  "fast_path_recorded": [...], "recorded": [{"cluster": ..., "instances": [...],
//  "error": "..."}], "state": [{"what": ..., "target": ..., "instances": [...],
//  "error": "..."}], "skipped": [...],
//  "notes": [...], "shortfall_units": x, "on_demand_needed": n}
nlohmann::json ToJson(const HandleReport& report);

// What Admit did with a batch of events.
struct AdmitReport {
  std::vector<bool> duplicate;  // per event, in order
  // per event, in order: why it was refused or ignored (kIgnored), or ""
  std::vector<std::string> refused;
  std::vector<ActionResult> fast_path;  // the drains of the noticed container instances
  std::vector<RecordResult> recorded;   // their notices recorded with the drains
};

// The events of one batch and what became of them.
struct BatchReport {
  std::vector<bool> duplicate;  // per event, in order: a repeat, nothing was done for it
  // Per event, in order: why it was refused (nothing was done for it, and
  // nothing will be on a retry: answer it at once), or "".
  std::vector<std::string> refused;
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
  //  - Admit: refuses events the configuration does not cover and notices
  //    that AWS contradicts (see Refusal), marks repeats of handled or
  //    admitted events as duplicates, drains the noticed container instances
  //    at once (fast path) and remembers the notices; no decision.
  //  - Settle: one observation and decision for admitted `events` (their
  //    fleets and clusters read too); when it succeeds they count as handled,
  //    else they may be admitted again (redelivered).
  // Either may throw only what the CloudView throws; the events are then not
  // admitted (a redelivery is handled, not taken for a duplicate).
  AdmitReport Admit(const std::vector<Event>& events);
  HandleReport Settle(const std::vector<Event>& events);
  // For admitted `events` that will not be settled (the Lambda runtime ran out
  // of time): no longer admitted, so a redelivery is handled, not taken for a
  // duplicate. Their notices stay remembered, as after a failed Settle.
  void Abandon(const std::vector<Event>& events);
  // For admitted notices whose record this Admit wrote (AdmitReport.recorded):
  // handled now, without a decision of this Handler (every decider counts
  // them from AWS): no longer admitted, and a repeat is a duplicate.
  void Commit(const std::vector<Event>& events);
  // Recomputes from AWS state alone (the remembered, unexpired notices still count).
  HandleReport Reconcile();

  // Why `event` is outside what this handler may act on, or "": a notice for
  // a cluster that is not configured, an event naming a Spot Fleet (EC2
  // Fleet: "fleet-...") that is not configured (each checked only when the
  // configuration names clusters, Spot Fleets or EC2 Fleets respectively; an
  // unconfigured handler acts on what the event names, as the reference
  // did), and a lifecycle action of a group that is neither the on-demand
  // group nor a spot group. Admit also refuses a notice whose container instance belongs to
  // another EC2 instance than its instanceId (a forged or mistaken message
  // must not drain someone else's instance).
  std::string Refusal(const Event& event) const;

  // The observation Decide would see now, with `extra_fleets` (Spot Fleets,
  // or EC2 Fleets by their "fleet-" prefix) and `extra_clusters` (named by
  // events) read as well as the configured ones.
  policy::Observation Observe(const std::vector<std::string>& extra_fleets,
                              const std::vector<std::string>& extra_clusters);

  // The on-demand group's desired capacity as last read, or as last set by an
  // applied SetDesiredCapacity; nullopt before the first successful read.
  std::optional<int> on_demand_desired() const { return on_demand_desired_; }

 private:
  // Drains the container instances the notices name; a notice whose
  // container instance belongs to another EC2 instance is not drained and
  // gets a reason in `refused` (by event).
  // Fills `recorded` with the notices it recorded with the drains.
  std::vector<ActionResult> FastPath(const std::vector<const Event*>& events,
                                     std::map<const Event*, std::string>* refused,
                                     std::vector<RecordResult>* recorded);
  void Remember(const Event& event, WallTime now, const std::set<std::string>& recorded);
  // The groups whose terminate lifecycle hooks it answers: the on-demand
  // group and the spot groups.
  std::vector<std::string> LifecycleGroups() const;
  // A terminated instance (kInstanceGone): memory drops its notice. What AWS
  // holds (its container instance's notice record) still counts while listed.
  void Forget(const Event& event);
  // The remembered notices merged with those recorded on the container
  // instances of `observation` (see the top of this file).
  void MergeNotices(const std::vector<std::string>& listed_clusters,
                    policy::Observation* observation);
  // Records the counted notices of `observation` that their container
  // instances do not carry yet (not with dry_run).
  std::vector<RecordResult> RecordNotices(const policy::Observation& observation);
  bool Records(const policy::Notice& notice) const;
  void ResolveUnits(const std::map<std::string, std::string>& instance_types,
                    policy::Observation* observation);
  void ReadSources(const std::vector<std::string>& extra_fleets, policy::Observation* observation,
                   std::map<std::string, std::string>* instance_types);
  // The clusters it listed (all of them when containers_status is ok).
  // The configured clusters, then those of `extra` not among them.
  std::vector<std::string> ClustersWith(const std::vector<std::string>& extra) const;
  std::vector<std::string> ReadContainers(const std::vector<std::string>& extra_clusters,
                                          policy::Observation* observation);
  std::optional<WallTime> RememberTargetChange(const policy::SpotCapacitySource& source,
                                               WallTime now);
  // When the source's target last changed, from the on-demand group's tag
  // (kTargetTagPrefix); a new target is queued in target_tags_ to be
  // written. Memory (RememberTargetChange) when the group's tags are unknown.
  std::optional<WallTime> TargetChange(const policy::SpotCapacitySource& source, WallTime now);
  // The scale-in state as AWS holds it (see the top of this file); the
  // removals of instances without a container instance come from memory.
  policy::ScaleDownTracker ReadTracker(const policy::Observation& observation) const;
  // Marks the instances `decided` newly chooses for removal (not with
  // dry_run); the ARNs it could not mark go to `unmarked`.
  std::vector<StateWrite> MarkRemovals(const policy::Observation& observation,
                                       const policy::ScaleDownTracker& read,
                                       const policy::ScaleDownTracker& decided,
                                       std::set<std::string>* unmarked);
  // Deletes the marks of removals the decision cancelled (once re-activated),
  // and writes the settle window's tags when they changed.
  std::vector<StateWrite> WriteBackState(const policy::Observation& observation,
                                         const policy::ScaleDownTracker& read,
                                         const policy::ScaleDownTracker& decided,
                                         const std::vector<ActionResult>& actions);
  HandleReport DecideAndApply(HandleReport report, const std::vector<std::string>& extra_fleets,
                              const std::vector<std::string>& extra_clusters);
  ActionResult Run(const policy::Action& action);
  // Warns when `instance_ids` holds config_.self_instance_id.
  void WarnIfOwnHost(const std::vector<std::string>& instance_ids, const char* what) const;

  CloudView& cloud_;
  ControllerConfig config_;
  const Clock& clock_;
  RecentKeys handled_;
  std::set<std::string> admitted_;  // admitted, not yet settled
  struct RememberedNotice {
    policy::Notice notice;
    std::string cluster;    // of its container instance, "" when not known
    bool recorded = false;  // its container instance carries it (kNoticeAttribute)
  };
  std::map<std::string, RememberedNotice> notices_;  // by instance id
  policy::ScaleDownTracker tracker_;
  LifecycleKeeper lifecycle_;
  FallbackKeeper fallback_;
  // A source's target capacity last seen and when it was seen to change (api mode).
  std::map<std::string, std::pair<double, std::optional<WallTime>>> targets_;
  std::optional<int> on_demand_desired_;
  // The on-demand group's tags as last observed (nullopt: not read).
  std::optional<std::map<std::string, std::string>> group_tags_;
  // Target tags of the current observation still to be written.
  std::map<std::string, std::string> target_tags_;
  // Dry-run actions already logged at info (later repeats go to debug, so a
  // remembered test notice is not re-reported at every reconcile); bounded.
  std::set<std::string> dry_run_logged_;
};

}  // namespace spk::controller
