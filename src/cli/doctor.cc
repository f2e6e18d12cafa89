#include "cli/doctor.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aws/session.h"
#include "aws/sts.h"
#include "cli/duration_setting.h"
#include "controller/aws_cloud_view.h"
#include "controller/fallback.h"
#include "policy/on_demand_planner.h"

namespace spk::cli {
namespace {

using nlohmann::ordered_json;

const char* ImdsModeName(aws::ImdsClient::Mode m) {
  switch (m) {
    case aws::ImdsClient::Mode::kV2:
      return "IMDSv2";
    case aws::ImdsClient::Mode::kV1:
      return "IMDSv1";
    case aws::ImdsClient::Mode::kUnknown:
      break;
  }
  return "unknown";
}

// Probes IMDS with a cheap read; fills report["imds"].
void CheckImds(aws::ImdsClient& imds, ordered_json& report) {
  ordered_json j;
  j["endpoint"] = imds.options().endpoint;
  if (imds.options().disabled) {
    j["status"] = "disabled (AWS_EC2_METADATA_DISABLED)";
  } else {
    auto id = imds.Get("/latest/meta-data/instance-id");
    if (id.ok()) {
      j["status"] = fmt::format("answers ({})", ImdsModeName(imds.mode()));
      j["instance_id"] = *id;
    } else {
      j["status"] = "not reachable: " + id.status().message();
    }
  }
  report["imds"] = j;
}

// Reads the on-demand group as the controller does and says how its units
// per instance are found; fills report["on_demand_units"], adds a problem
// when the group cannot be read or its units are unknown.
void CheckOnDemandUnits(const DoctorOptions& options, aws::AwsClient& client, ordered_json& report,
                        std::vector<std::string>& problems) {
  controller::AwsCloudView cloud(client);
  controller::OnDemandGroupRead read = cloud.ReadOnDemandGroup(options.on_demand_asg);
  policy::PolicyConfig config;
  if (options.on_demand_units != 0) config.on_demand_units = options.on_demand_units;
  controller::FindCapacityProviderOwner(cloud, options.clusters, &read);
  controller::ResolveOnDemandUnits(cloud, config.on_demand_units, &read);
  if (!read.group.read_status.ok()) {
    report["on_demand_units"] =
        options.on_demand_asg + ": not readable: " + read.group.read_status.ToString();
    problems.push_back("on-demand group " + options.on_demand_asg + " not readable");
    return;
  }
  if (!read.group.managed_by_capacity_provider.empty()) {
    report["on_demand_units"] = options.on_demand_asg + ": sized by ECS (capacity provider " +
                                read.group.managed_by_capacity_provider +
                                " with managed scaling): spotkeeper never resizes it";
    return;
  }
  report["on_demand_units"] = policy::DescribeUnitsPerInstance(read.group, config);
  if (!policy::OnDemandUnitsPerInstance(read.group, config).ok()) {
    problems.push_back("units per on-demand instance of " + options.on_demand_asg + " unknown");
  }
}

// One pair: its setup, then a dry-run pass of the fallback over it.
ordered_json CheckPair(controller::CloudView& cloud, const controller::FallbackPair& pair,
                       const std::vector<std::string>& spot_asgs,
                       const policy::FallbackConfig& config, WallTime now,
                       std::vector<std::string>& problems) {
  ordered_json j;
  j["pair"] = pair.cluster + "/" + pair.primary + " -> " + pair.shadow;
  std::vector<std::string> findings;
  auto problem = [&](const std::string& what) {
    findings.push_back("problem: " + what);
    problems.push_back("fallback " + pair.primary + " -> " + pair.shadow + ": " + what);
  };
  auto services = cloud.ReadServices(pair.cluster, {pair.primary, pair.shadow});
  if (!services.ok()) {
    problem("services not readable: " + services.status().message());
    j["checks"] = findings;
    return j;
  }
  const controller::ServiceRead* primary = nullptr;
  const controller::ServiceRead* shadow = nullptr;
  for (const controller::ServiceRead& s : *services) {
    if (s.name == pair.primary) primary = &s;
    if (s.name == pair.shadow) shadow = &s;
  }
  if (!primary) problem("primary service " + pair.primary + " not found");
  if (!shadow) problem("shadow service " + pair.shadow + " not found");
  if (primary && shadow) {
    std::map<std::string, std::string> group_of;
    auto groups = cloud.ReadCapacityProviderGroups(pair.cluster);
    if (groups.ok()) {
      for (const auto& g : *groups) group_of[g.provider] = g.group;
    } else {
      problem("capacity providers not readable: " + groups.status().message());
    }
    auto is_spot = [&](const std::string& provider) -> std::optional<bool> {
      if (provider == "FARGATE_SPOT") return true;
      if (provider == "FARGATE") return false;
      auto it = group_of.find(provider);
      if (it == group_of.end()) return std::nullopt;
      if (std::find(spot_asgs.begin(), spot_asgs.end(), it->second) != spot_asgs.end()) return true;
      auto read = cloud.ReadProviderGroup(it->second);
      if (!read.ok()) return std::nullopt;
      return read->spot;
    };
    std::vector<std::string> spot;
    for (const std::string& p : primary->capacity_providers) {
      if (is_spot(p).value_or(false)) spot.push_back(p);
    }
    if (spot.empty()) {
      problem(pair.primary +
              "'s capacity provider strategy has no spot provider (a group "
              "with a mixed-instances policy and 0% on-demand above its base, a --spot-asg "
              "group, or FARGATE_SPOT): nothing to fall back from");
    } else {
      std::string names;
      for (const std::string& p : spot) names += (names.empty() ? "" : ", ") + p;
      findings.push_back(pair.primary + " asks for spot on " + names);
    }
    if (shadow->capacity_providers.empty()) {
      findings.push_back(pair.shadow +
                         " has no capacity provider strategy (launch type): check "
                         "it runs on on-demand capacity");
    }
    for (const std::string& p : shadow->capacity_providers) {
      if (is_spot(p).value_or(false)) {
        problem(pair.shadow + " uses spot provider " + p + ": a shadow must run on-demand");
      }
    }
    auto tag = shadow->tags.find(policy::kFallbackForTag);
    if (tag == shadow->tags.end() || tag->second != pair.primary) {
      findings.push_back(pair.shadow + " lacks the tag " + std::string(policy::kFallbackForTag) +
                         "=" + pair.primary +
                         " (the CloudFormation template's role may size only tagged shadows)");
    }
    auto family = [](const std::string& td) {
      std::string name = td.substr(td.rfind('/') == std::string::npos ? 0 : td.rfind('/') + 1);
      return name.substr(0, name.find(':'));
    };
    if (family(primary->task_definition) != family(shadow->task_definition)) {
      findings.push_back(pair.shadow + " runs task definition family " +
                         family(shadow->task_definition) + ", " + pair.primary + " " +
                         family(primary->task_definition) +
                         " (the fallback sets the primary's on its next update)");
    }
  }
  j["checks"] = findings;
  controller::FallbackKeeper keeper(cloud, config, {pair}, false, spot_asgs, true);
  std::vector<controller::FallbackOutcome> now_outcome = keeper.Run(now, {pair.cluster});
  if (!now_outcome.empty()) {
    const policy::FallbackDecision& d = now_outcome.front().decision;
    j["now"] = fmt::format("{} stuck, {} confirmed short of spot: shadow {} -> {}", d.stuck,
                           d.confirmed, now_outcome.front().shadow_was, d.desired);
    j["notes"] = d.notes;
  }
  return j;
}

// The pairs of options.fallback_services and, with fallback_discover, the
// tagged shadows of the clusters; fills report["fallback"].
// The controller's fallback settings from `options`; "" or what is wrong.
std::string FallbackSettings(const DoctorOptions& options, policy::FallbackConfig* config) {
  if (!ParseDurationSetting(options.fallback_grace, &config->grace)) {
    return "--fallback-grace: not a duration: \"" + options.fallback_grace + "\"";
  }
  if (!ParseDurationSetting(options.settle_window, &config->settle_window)) {
    return "--settle-window: not a duration: \"" + options.settle_window + "\"";
  }
  auto max = policy::ParseFallbackMax(options.fallback_max);
  if (!max.ok()) return "--fallback-max: " + max.status().message();
  config->max = *max;
  if (options.fallback_cluster_max < -1) return "--fallback-cluster-max must not be negative";
  if (options.fallback_cluster_max >= 0) config->cluster_max = options.fallback_cluster_max;
  return "";
}

void CheckFallback(const DoctorOptions& options, aws::AwsClient& client, WallTime now,
                   ordered_json& report, std::vector<std::string>& problems) {
  policy::FallbackConfig config;
  if (std::string bad = FallbackSettings(options, &config); !bad.empty()) {
    problems.push_back(bad);
    return;
  }
  report["fallback_settings"] =
      fmt::format("grace {}, max {}, settle window {}{}", options.fallback_grace,
                  policy::FallbackMaxText(config.max), options.settle_window,
                  config.cluster_max ? fmt::format(", cluster max {}", *config.cluster_max) : "");
  controller::AwsCloudView cloud(client);
  std::vector<controller::FallbackPair> pairs;
  for (const std::string& text : options.fallback_services) {
    auto pair = controller::ParseFallbackPair(text, options.clusters);
    if (!pair.ok()) {
      problems.push_back("--fallback-service: " + pair.status().message());
      continue;
    }
    pairs.push_back(*pair);
  }
  if (options.fallback_discover) {
    for (const std::string& cluster : options.clusters) {
      auto tagged = cloud.ServicesTagged(cluster, policy::kFallbackForTag);
      if (!tagged.ok()) {
        problems.push_back("tagged shadows of " + cluster + " not readable");
        continue;
      }
      for (const auto& [shadow, primary] : *tagged) pairs.push_back({cluster, primary, shadow});
    }
  }
  ordered_json list = ordered_json::array();
  for (const controller::FallbackPair& pair : pairs) {
    list.push_back(CheckPair(cloud, pair, options.spot_asgs, config, now, problems));
  }
  report["fallback"] = list;
}

void PrintText(const ordered_json& r, std::ostream& out) {
  auto str = [](const ordered_json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  if (r.contains("config")) out << "config:      " << str(r["config"]) << "\n";
  out << "region:      " << str(r["region"]) << "\n";
  if (r.contains("credentials")) {
    const auto& c = r["credentials"];
    out << "credentials: " << str(c["status"]) << "\n";
    if (c.contains("tried")) {
      for (const auto& t : c["tried"]) out << "  tried " << str(t) << "\n";
    }
  }
  if (r.contains("identity")) out << "identity:    " << str(r["identity"]) << "\n";
  out << "endpoints:\n";
  for (const auto& [name, e] : r["endpoints"].items()) {
    out << fmt::format("  {:<13}{}\n", name, str(e));
  }
  if (r.contains("on_demand_units")) out << "on-demand:   " << str(r["on_demand_units"]) << "\n";
  if (r.contains("fallback")) {
    out << "fallback:" << (r["fallback"].empty() ? "    no pair found" : "") << "\n";
    if (r.contains("fallback_settings")) {
      out << "  settings: " << str(r["fallback_settings"]) << "\n";
    }
    for (const auto& pair : r["fallback"]) {
      out << "  " << str(pair["pair"]) << "\n";
      for (const auto& check : pair["checks"]) out << "    " << str(check) << "\n";
      if (pair.contains("now")) out << "    now: " << str(pair["now"]) << "\n";
      if (pair.contains("notes")) {
        for (const auto& note : pair["notes"]) out << "      " << str(note) << "\n";
      }
    }
  }
  out << "imds:        " << str(r["imds"]["status"]) << " at " << str(r["imds"]["endpoint"])
      << "\n";
  out << "result:      " << str(r["result"]) << "\n";
}

}  // namespace

std::string MaskKeyId(const std::string& key_id) {
  if (key_id.size() <= 8) return std::string(key_id.size(), '*');
  return key_id.substr(0, 4) + std::string(key_id.size() - 8, '*') +
         key_id.substr(key_id.size() - 4);
}

int RunDoctor(const DoctorOptions& options, const Env& env, net::HttpTransport& http, Clock& clock,
              Random& random, std::ostream& out) {
  ordered_json report;
  std::vector<std::string> problems;  // what makes the exit code 1, in report order
  if (!options.config_file.empty()) {
    std::string used;
    for (const std::string& key : options.config_keys) used += (used.empty() ? "" : ", ") + key;
    report["config"] =
        fmt::format("{} (used here: {})", options.config_file, used.empty() ? "none" : used);
  }
  aws::SessionOptions session_options;
  session_options.region = options.region;
  session_options.client.retry.max_attempts = 1;  // report what happens, do not wait it out
  auto session = aws::AwsSession::Create(env, http, clock, random, session_options);
  if (!session.ok()) {
    // No region: still report what we can about credentials and IMDS.
    report["region"] = "none: " + session.status().message();
    session_options.region = "us-east-1";
    session = aws::AwsSession::Create(env, http, clock, random, session_options);
    problems.push_back("no region");
    if (!session.ok()) {
      out << session.status().ToString() << "\n";
      return 1;
    }
  } else {
    report["region"] =
        fmt::format("{} (from {})", (*session)->region().region, (*session)->region().source);
  }
  aws::AwsSession& s = **session;

  ordered_json creds;
  auto c = s.credentials().Resolve();
  if (c.ok()) {
    creds["status"] = fmt::format("{} (access key {}{})", c->source, MaskKeyId(c->access_key_id),
                                  c->session_token.empty() ? "" : ", with session token");
    if (c->expiration) creds["expires"] = FormatIso8601(*c->expiration);
  } else {
    problems.push_back("no credentials");
    creds["status"] = "none found";
    ordered_json tried = ordered_json::array();
    for (const auto& a : s.credentials().attempts()) {
      tried.push_back(fmt::format("{}: {}", a.provider, a.status.message()));
    }
    creds["tried"] = tried;
  }
  report["credentials"] = creds;

  if (c.ok()) {
    auto id = aws::StsClient(s.client()).GetCallerIdentity();
    if (id.ok()) {
      report["identity"] = fmt::format("{} (account {})", id->arn, id->account);
    } else {
      problems.push_back("STS refused the credentials or did not answer");
      report["identity"] = "STS GetCallerIdentity failed: " + id.status().ToString();
    }
  }

  ordered_json endpoints;
  for (const aws::ServiceInfo* svc : aws::services::All()) {
    auto e = s.endpoints().Resolve(*svc);
    endpoints[svc->id] =
        e.ok() ? fmt::format("{} ({})", e->url, e->source) : "invalid: " + e.status().message();
    if (!e.ok()) problems.push_back("invalid " + svc->id + " endpoint");
  }
  report["endpoints"] = endpoints;
  if (!options.on_demand_asg.empty() && c.ok()) {
    CheckOnDemandUnits(options, s.client(), report, problems);
  }
  if ((!options.fallback_services.empty() || options.fallback_discover) && c.ok()) {
    CheckFallback(options, s.client(), clock.WallNow(), report, problems);
  }
  CheckImds(s.imds(), report);
  std::string result = problems.empty() ? "ok" : "problems found: ";
  for (size_t i = 0; i < problems.size(); ++i) result += (i ? ", " : "") + problems[i];
  report["result"] = result;

  if (options.json) {
    out << report.dump(2) << "\n";
  } else {
    PrintText(report, out);
  }
  return problems.empty() ? 0 : 1;
}

}  // namespace spk::cli
