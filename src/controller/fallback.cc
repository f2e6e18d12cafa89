#include "controller/fallback.h"

#include <algorithm>
#include <map>
#include <optional>

#include "base/log.h"

namespace spk::controller {
namespace {

bool Contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

Result<FallbackPair> ParseFallbackPair(const std::string& text,
                                       const std::vector<std::string>& clusters) {
  const std::string why = "fallback service \"" + text.substr(0, 128) +
                          "\": want PRIMARY=SHADOW or CLUSTER/PRIMARY=SHADOW";
  const size_t eq = text.find('=');
  if (eq == std::string::npos || text.find('=', eq + 1) != std::string::npos) {
    return InvalidArgumentError(why);
  }
  FallbackPair pair;
  std::string left = text.substr(0, eq);
  pair.shadow = text.substr(eq + 1);
  if (const size_t slash = left.find('/'); slash != std::string::npos) {
    pair.cluster = left.substr(0, slash);
    pair.primary = left.substr(slash + 1);
    if (pair.cluster.empty()) return InvalidArgumentError(why);
  } else {
    pair.primary = left;
    if (clusters.empty()) return InvalidArgumentError(why + " (no --cluster to find it in)");
    pair.cluster = clusters.front();
  }
  if (pair.primary.empty() || pair.shadow.empty() || pair.primary == pair.shadow ||
      pair.shadow.find('/') != std::string::npos || pair.primary.find('/') != std::string::npos) {
    return InvalidArgumentError(why);
  }
  return pair;
}

nlohmann::json ToJson(const FallbackOutcome& o) {
  nlohmann::json j = ToJson(o.decision);
  j["shadow_was"] = o.shadow_was;
  j["updated"] = o.updated;
  if (o.dry_run) j["dry_run"] = true;
  if (!o.update.ok()) j["error"] = o.update.ToString();
  if (!o.tag.ok()) j["tag_error"] = o.tag.ToString();
  return j;
}

policy::FallbackObservation FallbackKeeper::Read(const FallbackPair& pair, ServiceRead* shadow) {
  policy::FallbackObservation o;
  o.cluster = pair.cluster;
  o.primary = pair.primary;
  o.shadow = pair.shadow;
  auto services = cloud_.ReadServices(pair.cluster, {pair.primary, pair.shadow});
  if (!services.ok()) {
    o.read_status = services.status();
    return o;
  }
  const ServiceRead* primary = nullptr;
  for (const ServiceRead& s : *services) {
    if (s.name == pair.primary) primary = &s;
    if (s.name == pair.shadow) *shadow = s;
  }
  if (!primary || shadow->name.empty()) {
    o.read_status = NotFoundError("service " + (primary ? pair.shadow : pair.primary) +
                                  " not found in cluster " + pair.cluster);
    return o;
  }
  o.primary_desired = primary->desired;
  o.primary_running = primary->running;
  o.primary_pending = primary->pending;
  o.placement_failing_since = primary->placement_failing_since;
  o.placement_failed_at = primary->placement_failed_at;
  o.placement_failure = primary->placement_failure;
  o.primary_task_definition = primary->primary_task_definition;
  o.shadow_desired = shadow->desired;
  o.shadow_task_definition = shadow->task_definition;
  if (auto it = shadow->tags.find(policy::kShortfallEndedTag); it != shadow->tags.end()) {
    WallTime t{};
    if (ParseIso8601(it->second, &t)) {
      o.shortfall_ended_at = t;
    } else {
      log::Warn("ignoring a bad settle-window tag on a shadow service (the window starts again)",
                {{"service", pair.shadow}, {"value", it->second.substr(0, 64)}});
    }
  }
  // Whole and nothing to give back: nothing more to read.
  if (o.primary_running >= o.primary_desired && o.shadow_desired == 0) return o;

  std::map<std::string, std::string> group_of;  // provider -> group
  if (std::any_of(primary->capacity_providers.begin(), primary->capacity_providers.end(),
                  [](const std::string& p) { return p != "FARGATE" && p != "FARGATE_SPOT"; })) {
    auto groups = cloud_.ReadCapacityProviderGroups(pair.cluster);
    if (!groups.ok()) {
      o.read_status = groups.status();
      return o;
    }
    for (const CapacityProviderGroup& g : *groups) group_of[g.provider] = g.group;
  }
  for (const std::string& provider : primary->capacity_providers) {
    if (provider == "FARGATE_SPOT") {
      policy::SpotProviderRead fargate;
      fargate.provider = provider;
      o.spot_providers.push_back(std::move(fargate));
      continue;
    }
    auto it = group_of.find(provider);
    if (it == group_of.end()) continue;  // FARGATE, or no Auto Scaling group
    auto group = cloud_.ReadProviderGroup(it->second);
    if (!group.ok()) {
      o.read_status = group.status();
      return o;
    }
    if (!group->spot && !Contains(spot_groups_, it->second)) continue;
    group->read.provider = provider;
    group->read.group = it->second;
    o.spot_providers.push_back(std::move(group->read));
  }
  if (o.primary_running < o.primary_desired) {
    auto tasks = cloud_.ProvisioningTasks(pair.cluster, pair.primary);
    if (!tasks.ok()) {
      o.read_status = tasks.status();
      return o;
    }
    o.provisioning = std::move(*tasks);
  }
  return o;
}

FallbackOutcome FallbackKeeper::Apply(const policy::FallbackObservation& observation,
                                      const policy::FallbackDecision& decision,
                                      const ServiceRead& shadow) {
  FallbackOutcome out;
  out.decision = decision;
  out.shadow_was = observation.shadow_desired;
  const std::string& cluster = observation.cluster;
  if (decision.skipped) {
    log::Warn("fallback skipped",
              {{"cluster", cluster},
               {"primary", observation.primary},
               {"reason", decision.notes.empty() ? "" : decision.notes.back()}});
    return out;
  }
  for (const std::string& note : decision.notes) log::Info("fallback", {{"note", note}});
  if (decision.update(observation)) {
    if (dry_run_) {
      out.dry_run = true;
      log::Info("dry run: would update the shadow service",
                {{"cluster", cluster},
                 {"service", observation.shadow},
                 {"desired", std::to_string(decision.desired)},
                 {"task_definition", decision.task_definition}});
    } else {
      out.update = cloud_.UpdateService(cluster, observation.shadow, decision.desired,
                                        decision.task_definition);
      if (!out.update.ok() && !decision.task_definition.empty() &&
          decision.desired != observation.shadow_desired) {
        // The primary's task definition may not suit the shadow (its target
        // group, a missing permission): the count must not wait for it.
        log::Error(
            "could not give the shadow the primary's task definition; setting its count alone",
            {{"service", observation.shadow},
             {"task_definition", decision.task_definition},
             {"error", out.update.ToString()}});
        out.update = cloud_.UpdateService(cluster, observation.shadow, decision.desired, "");
      }
      out.updated = out.update.ok();
      if (out.updated) {
        log::Info("shadow service updated",
                  {{"cluster", cluster},
                   {"service", observation.shadow},
                   {"desired_was", std::to_string(observation.shadow_desired)},
                   {"desired", std::to_string(decision.desired)},
                   {"task_definition", decision.task_definition}});
      } else {
        log::Error("could not update the shadow service", {{"cluster", cluster},
                                                           {"service", observation.shadow},
                                                           {"error", out.update.ToString()}});
      }
    }
  }
  // The settle window's start, when it changed (never in dry run; not after
  // a failed update: the next pass decides again from what AWS holds).
  if (dry_run_ || !out.update.ok() ||
      decision.shortfall_ended_at == observation.shortfall_ended_at) {
    return out;
  }
  if (decision.shortfall_ended_at) {
    out.tag = cloud_.SetServiceTags(
        shadow.arn,
        {{policy::kShortfallEndedTag,
          FormatIso8601(std::chrono::ceil<std::chrono::seconds>(*decision.shortfall_ended_at))}});
  } else {
    out.tag = cloud_.DeleteServiceTags(shadow.arn, {policy::kShortfallEndedTag});
  }
  if (!out.tag.ok()) {
    log::Error("could not write the shadow's settle-window tag",
               {{"service", observation.shadow}, {"error", out.tag.ToString()}});
  }
  return out;
}

namespace {

// "arn:aws:ecs:r:a:cluster/prod" -> "prod"; a name stays as it is.
std::string ClusterName(const std::string& cluster) {
  const size_t at = cluster.find(":cluster/");
  return at == std::string::npos ? cluster : cluster.substr(at + 9);
}

}  // namespace

std::vector<FallbackOutcome> FallbackKeeper::Run(WallTime now,
                                                 const std::vector<std::string>& clusters,
                                                 std::vector<std::string>* searched_ok) {
  std::vector<FallbackPair> pairs;
  // One shadow per primary: a second one (configured or tagged) is refused,
  // or both would run the primary's stuck tasks.
  auto add = [&](FallbackPair pair) {
    pair.cluster = ClusterName(pair.cluster);
    for (const FallbackPair& p : pairs) {
      if (p.cluster != pair.cluster) continue;
      if (p.shadow == pair.shadow) return;
      if (p.primary == pair.primary) {
        log::Warn("a second shadow for one primary is ignored", {{"cluster", pair.cluster},
                                                                 {"primary", pair.primary},
                                                                 {"shadow", p.shadow},
                                                                 {"ignored", pair.shadow}});
        return;
      }
    }
    pairs.push_back(std::move(pair));
  };
  for (const FallbackPair& pair : pairs_) add(pair);
  if (discover_) {
    std::vector<std::string> searched;
    for (const std::string& c : clusters) {
      const std::string cluster = ClusterName(c);
      if (std::find(searched.begin(), searched.end(), cluster) != searched.end()) continue;
      searched.push_back(cluster);
      auto tagged = cloud_.ServicesTagged(cluster, policy::kFallbackForTag);
      if (!tagged.ok()) {
        log::Error("could not look for tagged shadow services",
                   {{"cluster", cluster}, {"error", tagged.status().ToString()}});
        continue;
      }
      if (searched_ok) searched_ok->push_back(cluster);
      for (const auto& [shadow, primary] : *tagged) {
        if (!primary.empty() && primary != shadow) add({cluster, primary, shadow});
      }
    }
  }
  // Read every pair first: the cluster-wide cap gives what shadows already
  // run first claim, so a new shortfall never takes tasks from a shadow that
  // carries them.
  std::vector<policy::FallbackObservation> observations;
  std::vector<ServiceRead> shadows(pairs.size());
  int held = 0;
  for (size_t i = 0; i < pairs.size(); ++i) {
    observations.push_back(Read(pairs[i], &shadows[i]));
    held += observations.back().shadow_desired;
  }
  std::vector<FallbackOutcome> out;
  int granted = 0;  // increases given so far
  for (size_t i = 0; i < pairs.size(); ++i) {
    const policy::FallbackObservation& o = observations[i];
    std::optional<int> budget;
    if (config_.cluster_max) budget = *config_.cluster_max - (held - o.shadow_desired) - granted;
    policy::FallbackDecision decision = policy::DecideFallback(o, config_, now, budget);
    granted += std::max(0, decision.desired - o.shadow_desired);
    out.push_back(Apply(o, decision, shadows[i]));
  }
  return out;
}

}  // namespace spk::controller
