// `spotkeeper doctor`: what the AWS setup resolves to, for the person
// debugging "no credentials" or "SignatureDoesNotMatch" at 3 a.m.
// Prints the region and where it came from, the credential source (never a
// secret), the caller identity from STS, each service's endpoint, and whether
// IMDS answers (v2 or v1); with an on-demand group, its units per instance
// and how they were found (as the controller finds them); with fallback
// pairs, whether each is set up right and what the fallback would do now.
#pragma once

#include <ostream>

#include "base/clock.h"
#include "base/env.h"
#include "base/random.h"
#include "net/http.h"

namespace spk::cli {

struct DoctorOptions {
  std::string region;  // overrides resolution when set
  bool json = false;   // one JSON object instead of the text report
  // The controller's on-demand group ("": none) and its --on-demand-units (0: not set).
  std::string on_demand_asg;
  double on_demand_units = 0;
  // The controller's clusters: with an on-demand group, whether one of their
  // capacity providers sizes it with managed scaling (then spotkeeper does not).
  std::vector<std::string> clusters;
  // The controller's fallback pairs (PRIMARY=SHADOW or CLUSTER/PRIMARY=SHADOW)
  // and --fallback-discover: each pair is checked (both services exist, the
  // primary asks for a spot provider, the shadow runs on-demand and carries
  // the tag) and what a decision would do now is shown (dry run).
  std::vector<std::string> fallback_services;
  bool fallback_discover = false;
  // The controller's --spot-asg groups: they count as spot providers' groups.
  std::vector<std::string> spot_asgs;
  // The controller's fallback settings, for the decision shown: its
  // --fallback-grace, --fallback-max, --fallback-cluster-max (< 0: none)
  // and --settle-window, as given to it.
  std::string fallback_grace = "3m";
  std::string fallback_max = "100%";
  int fallback_cluster_max = -1;
  std::string settle_window = "10m";
  // The controller's settings file (--config) and the keys of it doctor
  // used (those it shares with the controller and not given otherwise).
  std::string config_file;
  std::vector<std::string> config_keys;
};

// Returns 0 when a region is set, credentials resolve, STS accepts them and
// every endpoint is valid (and, with an on-demand group, its units per
// instance are known); 1 otherwise, with each problem named on the
// `result` line ("problems found: no region, ..."). Without a region the rest
// is still checked (against us-east-1), but nothing spotkeeper runs could work.
int RunDoctor(const DoctorOptions& options, const Env& env, net::HttpTransport& http, Clock& clock,
              Random& random, std::ostream& out);

// "AKIA************MPLE": the first 4 and last 4 characters of an access key id.
std::string MaskKeyId(const std::string& key_id);

}  // namespace spk::cli
