// FallbackKeeper: the on-demand fallback of capacity-provider clusters
// (docs/capacity-providers.md): one pass over the primary/shadow pairs at
// every decision, level-triggered from AWS.
//
// Per pair it reads both services (DescribeServices with tags), and while
// the primary is short of its desired count or the shadow runs tasks: the
// primary's PROVISIONING tasks, its strategy's spot providers' groups and
// their recent scaling activities. policy::DecideFallback decides; the keeper
// applies at most one UpdateService per shadow per pass and writes the
// settle window's start (policy::kShortfallEndedTag) on the shadow. The
// shadow's desired count and that tag are the whole state: a restarted
// controller or a second decider reads them back and decides the same.
//
// Pairs come from the configuration and, with `discover`, from services of
// the clusters tagged policy::kFallbackForTag = the primary's name. A pair's
// failed read or write is reported and logged; it never fails the decision
// it runs in (the next pass retries: events only wake the fallback up).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "controller/cloud_view.h"
#include "policy/fallback.h"

namespace spk::controller {

struct FallbackPair {
  std::string cluster;
  std::string primary;
  std::string shadow;
};

// PRIMARY=SHADOW, or CLUSTER/PRIMARY=SHADOW (without a cluster: the first
// configured one); kInvalidArgument otherwise.
Result<FallbackPair> ParseFallbackPair(const std::string& text,
                                       const std::vector<std::string>& clusters);

// What one pass did for one pair.
struct FallbackOutcome {
  policy::FallbackDecision decision;
  int shadow_was = 0;    // the shadow's desired count as read
  bool updated = false;  // UpdateService applied
  bool dry_run = false;  // an update was due but not applied (dry run)
  Status update;         // UpdateService's Status (Ok when none was due)
  Status tag;            // the settle window tag's write (Ok when none was due)
};

nlohmann::json ToJson(const FallbackOutcome& outcome);

class FallbackKeeper {
 public:
  // `cloud` must outlive it. `spot_groups`: groups that count as spot even
  // without a mixed-instances policy (--spot-asg).
  FallbackKeeper(CloudView& cloud, policy::FallbackConfig config, std::vector<FallbackPair> pairs,
                 bool discover, std::vector<std::string> spot_groups, bool dry_run)
      : cloud_(cloud),
        config_(std::move(config)),
        pairs_(std::move(pairs)),
        discover_(discover),
        spot_groups_(std::move(spot_groups)),
        dry_run_(dry_run) {}

  bool enabled() const { return !pairs_.empty() || discover_; }

  // One pass at `now`; `clusters` are searched for tagged pairs (with
  // discover). `searched`, when given, receives the clusters (names) whose
  // tagged shadows were read: a tagged pair of one of them that is not in
  // the outcomes is gone.
  std::vector<FallbackOutcome> Run(WallTime now, const std::vector<std::string>& clusters,
                                   std::vector<std::string>* searched = nullptr);

 private:
  policy::FallbackObservation Read(const FallbackPair& pair, ServiceRead* shadow);
  FallbackOutcome Apply(const policy::FallbackObservation& observation,
                        const policy::FallbackDecision& decision, const ServiceRead& shadow);

  CloudView& cloud_;
  policy::FallbackConfig config_;
  std::vector<FallbackPair> pairs_;
  bool discover_;
  std::vector<std::string> spot_groups_;
  bool dry_run_;
};

}  // namespace spk::controller
