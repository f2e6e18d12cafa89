#include "policy/fallback.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace spk::policy {
namespace {

std::optional<int> ParseCount(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

std::string SecondsText(Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + " s";
}

}  // namespace

Result<FallbackMax> ParseFallbackMax(const std::string& text) {
  FallbackMax max;
  bool have_tasks = false;
  bool have_fraction = false;
  const std::string why = "fallback max \"" + text.substr(0, 64) +
                          "\": want N (tasks), P% (of the primary's desired count) or N,P%";
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t comma = text.find(',', start);
    parts.push_back(std::string_view(text).substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  for (std::string_view part : parts) {
    if (part.empty()) return InvalidArgumentError(why);
    if (part.back() == '%') {
      std::optional<int> percent = ParseCount(part.substr(0, part.size() - 1));
      if (!percent || *percent < 1 || *percent > 100 || have_fraction) {
        return InvalidArgumentError(why + " (a percentage is 1 to 100, given once)");
      }
      max.fraction = *percent / 100.0;
      have_fraction = true;
    } else {
      std::optional<int> tasks = ParseCount(part);
      if (!tasks || have_tasks) return InvalidArgumentError(why);
      max.tasks = *tasks;
      have_tasks = true;
    }
  }
  if (!have_tasks && !have_fraction) return InvalidArgumentError(why);
  return max;
}

std::string FallbackMaxText(const FallbackMax& max) {
  std::string percent = std::to_string(static_cast<int>(std::lround(max.fraction * 100))) + "%";
  return max.tasks ? std::to_string(*max.tasks) + "," + percent : percent;
}

Status ValidateFallbackConfig(const FallbackConfig& config) {
  if (config.grace < Duration::zero()) return InvalidArgumentError("fallback grace is negative");
  if (config.settle_window < Duration::zero()) {
    return InvalidArgumentError("fallback settle window is negative");
  }
  if (!(config.max.fraction > 0 && config.max.fraction <= 1)) {
    return InvalidArgumentError("fallback max fraction must be in (0, 1]");
  }
  if (config.max.tasks && *config.max.tasks < 0) {
    return InvalidArgumentError("fallback max tasks is negative");
  }
  if (config.cluster_max && *config.cluster_max < 0) {
    return InvalidArgumentError("fallback cluster max is negative");
  }
  return Status::Ok();
}

bool IsSpotCapacityFailure(const std::string& message) {
  static const char* const kMarkers[] = {
      "InsufficientInstanceCapacity", "no Spot capacity available",
      "UnfulfillableCapacity",        "Could not launch Spot Instances",
      "SpotMaxPriceTooLow",           "MaxSpotInstanceCountExceeded"};
  for (const char* marker : kMarkers) {
    if (message.find(marker) != std::string::npos) return true;
  }
  return false;
}

bool IsPlacementFailure(const std::string& message) {
  return message.find("unable to place a task") != std::string::npos;
}

bool IsFargateCapacityFailure(const std::string& message) {
  return IsPlacementFailure(message) &&
         message.find("Capacity is unavailable at this time") != std::string::npos;
}

bool IsCapacityPlacementFailure(const std::string& message) {
  if (!IsPlacementFailure(message)) return false;
  std::string lower = message;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* word : {"capacity", "limit", "provisioning"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

namespace {

// Whether spot provider `p` is shown short of spot capacity for tasks that
// began waiting at `since`: "" with `*short_of_spot` set, or why not; the
// evidence (or the reason against) in words.
std::string SpotEvidence(const SpotProviderRead& p, const FallbackObservation& o,
                         const FallbackConfig& config, WallTime since, WallTime now,
                         bool not_placed, bool* short_of_spot) {
  *short_of_spot = false;
  if (p.group.empty()) {
    // Fargate Spot has no group to show evidence. Tasks that wait in
    // PROVISIONING past the grace are it; tasks it could not place at all are
    // when ECS said Fargate had no capacity.
    if (!not_placed || IsFargateCapacityFailure(o.placement_failure)) {
      *short_of_spot = true;
      return "Fargate Spot capacity is short";
    }
    return "ECS did not say Fargate had no capacity (" + o.placement_failure.substr(0, 200) +
           "): no fallback";
  }
  if (not_placed && !IsCapacityPlacementFailure(o.placement_failure)) {
    return "ECS's reason names no capacity, limit or PROVISIONING (" +
           o.placement_failure.substr(0, 200) + "): no fallback";
  }
  if (p.spot_failure_at && *p.spot_failure_at >= since - config.grace) {
    *short_of_spot = true;
    return "spot capacity is short (group " + p.group + ": " +
           p.spot_failure_message.substr(0, 200) + ")";
  }
  if (p.max_size > 0 && p.desired >= p.max_size) {
    return "group " + p.group + " is at its MaxSize " + std::to_string(p.max_size) +
           " (raise it): not a spot shortage, no fallback";
  }
  if (p.desired > p.in_service && p.launching_since && now - *p.launching_since >= config.grace) {
    *short_of_spot = true;
    return "group " + p.group + " has waited for spot since " + FormatIso8601(*p.launching_since) +
           " (desired " + std::to_string(p.desired) + ", InService " +
           std::to_string(p.in_service) + ")";
  }
  return "no sign that spot capacity is short (no failed spot launch, no spot request of group " +
         p.group + " waiting past the grace): no fallback";
}

}  // namespace

FallbackDecision DecideFallback(const FallbackObservation& o, const FallbackConfig& config,
                                WallTime now, std::optional<int> budget) {
  FallbackDecision d;
  d.cluster = o.cluster;
  d.primary = o.primary;
  d.shadow = o.shadow;
  const std::string pair = o.primary + " -> " + o.shadow;
  if (!o.read_status.ok()) {
    // A failed read skips: never zeroes a shadow that may be carrying tasks.
    d.skipped = true;
    d.desired = o.shadow_desired;
    d.shortfall_ended_at = o.shortfall_ended_at;
    d.notes.push_back(pair + ": skipped, could not read: " + o.read_status.message());
    return d;
  }
  d.shortfall = std::max(0, o.primary_desired - o.primary_running);
  int cap = static_cast<int>(std::ceil(config.max.fraction * o.primary_desired - 1e-9));
  if (config.max.tasks) cap = std::min(cap, *config.max.tasks);
  if (budget) cap = std::min(cap, std::max(0, *budget));
  d.cap = std::max(0, cap);

  // Stuck tasks, by spot provider; confirmed where the spot market is shown short.
  std::optional<WallTime> latest_failure;
  for (const SpotProviderRead& p : o.spot_providers) {
    if (p.spot_failure_at && (!latest_failure || *p.spot_failure_at > *latest_failure)) {
      latest_failure = p.spot_failure_at;
    }
    int stuck = 0;
    std::optional<WallTime> oldest;
    for (const ProvisioningTask& t : o.provisioning) {
      if (t.capacity_provider != p.provider || now - t.created_at < config.grace) continue;
      ++stuck;
      if (!oldest || t.created_at < *oldest) oldest = t.created_at;
    }
    if (stuck == 0) continue;
    d.stuck += stuck;
    bool short_of_spot = false;
    const std::string why = SpotEvidence(p, o, config, *oldest, now, false, &short_of_spot);
    if (short_of_spot) d.confirmed += stuck;
    d.notes.push_back(o.primary + ": " + std::to_string(stuck) + " task(s) in PROVISIONING on " +
                      p.provider + " for over " + SecondsText(config.grace) + ": " + why);
  }

  // Tasks ECS could not even create: counted on the first spot provider
  // shown short (they are bound to none yet).
  const int waiting = std::max(o.primary_pending, static_cast<int>(o.provisioning.size()));
  const int not_placed = std::max(0, o.primary_desired - o.primary_running - waiting);
  // ECS has failed to place them for the grace, and failed again lately.
  const bool failing = o.placement_failing_since && o.placement_failed_at &&
                       now - *o.placement_failing_since >= config.grace &&
                       now - *o.placement_failed_at <= kPlacementFailureRecent;
  if (not_placed > 0 && failing && !o.spot_providers.empty()) {
    d.stuck += not_placed;
    std::string why;
    for (const SpotProviderRead& p : o.spot_providers) {
      bool short_of_spot = false;
      // Evidence as recent as ECS's latest failure (within the grace of it).
      const std::string evidence =
          SpotEvidence(p, o, config, *o.placement_failed_at, now, true, &short_of_spot);
      if (why.empty() || short_of_spot) why = p.provider + ": " + evidence;
      if (short_of_spot) {
        d.confirmed += not_placed;
        break;
      }
    }
    d.notes.push_back(o.primary + ": " + std::to_string(not_placed) +
                      " task(s) not placed at all since " +
                      FormatIso8601(*o.placement_failing_since) +
                      " (ECS: " + o.placement_failure.substr(0, 200) + "); " + why);
  }

  const int held = o.shadow_desired;
  const bool whole = d.shortfall == 0 && d.stuck == 0;
  if (d.confirmed > 0) {
    d.desired = std::min(std::max(held, d.confirmed), d.cap);
    d.notes.push_back(pair + ": shadow desired " + std::to_string(d.desired) + " (" +
                      std::to_string(d.confirmed) + " confirmed stuck, cap " +
                      std::to_string(d.cap) + ")");
  } else if (!whole || held == 0) {
    // Short for another reason, or nothing to give back: hold (within the cap).
    d.desired = std::min(held, d.cap);
  } else {
    // Whole again: the settle window runs from when that was first seen, or
    // from the last spot failure if that is later.
    WallTime ended = o.shortfall_ended_at.value_or(now);
    if (latest_failure && *latest_failure > ended) ended = std::min(*latest_failure, now);
    if (now - ended >= config.settle_window) {
      const int step = std::max(1, (held + 1) / 2);
      d.desired = std::min(std::max(d.shortfall, held - step), d.cap);
      d.notes.push_back(pair + ": primary whole since " + FormatIso8601(ended) +
                        ", stepping the shadow down to " + std::to_string(d.desired));
    } else {
      d.desired = std::min(held, d.cap);
      d.notes.push_back(pair + ": primary whole since " + FormatIso8601(ended) + ", settling for " +
                        SecondsText(config.settle_window));
    }
    if (d.desired > 0) d.shortfall_ended_at = ended;
  }
  if (d.desired < held && d.desired == d.cap && d.confirmed == 0 && !whole) {
    d.notes.push_back(pair + ": shadow capped at " + std::to_string(d.cap));
  }
  if (!o.primary_task_definition.empty() && o.primary_task_definition != o.shadow_task_definition) {
    d.task_definition = o.primary_task_definition;
  }
  return d;
}

nlohmann::json ToJson(const FallbackDecision& d) {
  nlohmann::json j = {{"cluster", d.cluster},     {"primary", d.primary},
                      {"shadow", d.shadow},       {"skipped", d.skipped},
                      {"stuck", d.stuck},         {"confirmed", d.confirmed},
                      {"shortfall", d.shortfall}, {"cap", d.cap},
                      {"desired", d.desired},     {"notes", d.notes}};
  if (!d.task_definition.empty()) j["task_definition"] = d.task_definition;
  if (d.shortfall_ended_at) j["shortfall_ended_at"] = FormatIso8601(*d.shortfall_ended_at);
  return j;
}

}  // namespace spk::policy
