#include "report/contract.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace spk::report {
namespace {

using nlohmann::json;

const char* TypeName(const json& j) {
  if (j.is_null()) return "null";
  if (j.is_boolean()) return "a boolean";
  if (j.is_number()) return "a number";
  if (j.is_string()) return "a string";
  if (j.is_array()) return "an array";
  if (j.is_object()) return "an object";
  return "an unknown type";
}

Status WrongType(const std::string& path, const char* want, const json& got) {
  return InvalidArgumentError(fmt::format("{}: expected {}, got {}", path, want, TypeName(got)));
}

// `parent` must be an object (checked by the caller); `path` is the parent's path.
Result<const json*> Field(const json& parent, const std::string& path, const char* key) {
  auto it = parent.find(key);
  if (it == parent.end()) {
    return InvalidArgumentError(
        fmt::format("{}: missing field \"{}\"", path.empty() ? "simulation result" : path, key));
  }
  return &*it;
}

std::string Join(const std::string& path, const char* key) {
  return path.empty() ? std::string(key) : path + "." + key;
}

Result<const json*> ObjectField(const json& parent, const std::string& path, const char* key) {
  SPK_ASSIGN_OR_RETURN(const json* j, Field(parent, path, key));
  if (!j->is_object()) return WrongType(Join(path, key), "an object", *j);
  return j;
}

Result<const json*> ArrayField(const json& parent, const std::string& path, const char* key) {
  SPK_ASSIGN_OR_RETURN(const json* j, Field(parent, path, key));
  if (!j->is_array()) return WrongType(Join(path, key), "an array", *j);
  return j;
}

Result<double> AsNumber(const json& j, const std::string& path) {
  if (!j.is_number()) return WrongType(path, "a number", j);
  double v = j.get<double>();
  if (!std::isfinite(v)) return InvalidArgumentError(path + ": not a finite number");
  return v;
}

Status ReadNumber(const json& parent, const std::string& path, const char* key, double* out) {
  SPK_ASSIGN_OR_RETURN(const json* j, Field(parent, path, key));
  SPK_ASSIGN_OR_RETURN(*out, AsNumber(*j, Join(path, key)));
  return Status::Ok();
}

Status ReadString(const json& parent, const std::string& path, const char* key, std::string* out) {
  SPK_ASSIGN_OR_RETURN(const json* j, Field(parent, path, key));
  if (!j->is_string()) return WrongType(Join(path, key), "a string", *j);
  *out = j->get<std::string>();
  return Status::Ok();
}

// The requests of a summary or a service: served, failed and failed per
// million, none negative.
Status ReadRequests(const json& parent, const std::string& path, double* served, double* failed,
                    double* per_million) {
  SPK_RETURN_IF_ERROR(ReadNumber(parent, path, "requests_served", served));
  SPK_RETURN_IF_ERROR(ReadNumber(parent, path, "failed_requests", failed));
  SPK_RETURN_IF_ERROR(ReadNumber(parent, path, "failed_requests_per_million", per_million));
  for (auto [key, v] : {std::pair{"requests_served", *served},
                        {"failed_requests", *failed},
                        {"failed_requests_per_million", *per_million}}) {
    if (v < 0) return InvalidArgumentError(Join(path, key) + ": negative");
  }
  return Status::Ok();
}

// An array of numbers at `path`; when `want_size` >= 0 it must have that many values.
Result<std::vector<double>> NumberArray(const json& j, const std::string& path,
                                        long long want_size) {
  if (!j.is_array()) return WrongType(path, "an array of numbers", j);
  if (want_size >= 0 && static_cast<long long>(j.size()) != want_size) {
    return InvalidArgumentError(
        fmt::format("{}: {} values, series.t has {}", path, j.size(), want_size));
  }
  std::vector<double> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    const json& x = j[i];
    // The fast path builds no path string: there are millions of samples.
    if (x.is_number() && std::isfinite(x.get<double>())) {
      out.push_back(x.get<double>());
      continue;
    }
    return AsNumber(x, fmt::format("{}[{}]", path, i)).status();
  }
  return out;
}

// `path["key"]`, with the key quoted as JSON so any name reads unambiguously.
std::string KeyPath(const std::string& path, const std::string& key) {
  return fmt::format("{}[{}]", path,
                     json(key).dump(-1, ' ', false, json::error_handler_t::replace));
}

Result<ScenarioInfo> ParseScenario(const json& root) {
  SPK_ASSIGN_OR_RETURN(const json* s, ObjectField(root, "", "scenario"));
  ScenarioInfo out;
  const std::string path = "scenario";
  SPK_RETURN_IF_ERROR(ReadString(*s, path, "name", &out.name));
  SPK_RETURN_IF_ERROR(ReadString(*s, path, "description", &out.description));
  SPK_RETURN_IF_ERROR(ReadNumber(*s, path, "seed", &out.seed));
  SPK_RETURN_IF_ERROR(ReadNumber(*s, path, "duration_s", &out.duration_s));
  SPK_RETURN_IF_ERROR(ReadNumber(*s, path, "sample_interval_s", &out.sample_interval_s));
  if (out.duration_s < 0) return InvalidArgumentError("scenario.duration_s: negative");
  if (out.sample_interval_s < 0)
    return InvalidArgumentError("scenario.sample_interval_s: negative");
  return out;
}

Result<RunSummary> ParseSummary(const json& run, const std::string& run_path) {
  SPK_ASSIGN_OR_RETURN(const json* s, ObjectField(run, run_path, "summary"));
  const std::string path = run_path + ".summary";
  RunSummary out;
  SPK_RETURN_IF_ERROR(ReadNumber(*s, path, "availability", &out.availability));
  SPK_RETURN_IF_ERROR(ReadString(*s, path, "worst_service", &out.worst_service));
  SPK_RETURN_IF_ERROR(
      ReadNumber(*s, path, "worst_service_availability", &out.worst_service_availability));
  SPK_RETURN_IF_ERROR(
      ReadNumber(*s, path, "tasks_lost_without_drain", &out.tasks_lost_without_drain));
  SPK_RETURN_IF_ERROR(ReadNumber(*s, path, "minutes_below_target", &out.minutes_below_target));
  SPK_RETURN_IF_ERROR(ReadNumber(*s, path, "interruptions", &out.interruptions));
  SPK_RETURN_IF_ERROR(ReadNumber(*s, path, "spot_instance_hours", &out.spot_instance_hours));
  SPK_RETURN_IF_ERROR(
      ReadNumber(*s, path, "on_demand_instance_hours", &out.on_demand_instance_hours));
  SPK_RETURN_IF_ERROR(ReadNumber(*s, path, "cost", &out.cost));
  SPK_RETURN_IF_ERROR(ReadNumber(*s, path, "all_on_demand_cost", &out.all_on_demand_cost));
  SPK_RETURN_IF_ERROR(ReadNumber(*s, path, "savings", &out.savings));
  SPK_RETURN_IF_ERROR(ReadRequests(*s, path, &out.requests_served, &out.failed_requests,
                                   &out.failed_requests_per_million));
  return out;
}

Result<std::vector<ServiceResult>> ParseServices(const json& run, const std::string& run_path) {
  SPK_ASSIGN_OR_RETURN(const json* a, ArrayField(run, run_path, "services"));
  std::vector<ServiceResult> out;
  for (size_t i = 0; i < a->size(); ++i) {
    const std::string path = fmt::format("{}.services[{}]", run_path, i);
    const json& s = (*a)[i];
    if (!s.is_object()) return WrongType(path, "an object", s);
    ServiceResult r;
    SPK_RETURN_IF_ERROR(ReadString(s, path, "name", &r.name));
    SPK_RETURN_IF_ERROR(ReadNumber(s, path, "availability", &r.availability));
    SPK_RETURN_IF_ERROR(
        ReadNumber(s, path, "tasks_lost_without_drain", &r.tasks_lost_without_drain));
    SPK_RETURN_IF_ERROR(ReadRequests(s, path, &r.requests_served, &r.failed_requests,
                                     &r.failed_requests_per_million));
    out.push_back(std::move(r));
  }
  return out;
}

Result<RunSeries> ParseSeries(const json& run, const std::string& run_path) {
  SPK_ASSIGN_OR_RETURN(const json* s, ObjectField(run, run_path, "series"));
  const std::string path = run_path + ".series";
  RunSeries out;
  SPK_ASSIGN_OR_RETURN(const json* t, Field(*s, path, "t"));
  SPK_ASSIGN_OR_RETURN(out.t, NumberArray(*t, path + ".t", -1));
  for (size_t i = 1; i < out.t.size(); ++i) {
    if (out.t[i] < out.t[i - 1]) {
      return InvalidArgumentError(fmt::format("{}.t[{}]: time goes backwards ({} after {})", path,
                                              i, out.t[i], out.t[i - 1]));
    }
  }
  const auto n = static_cast<long long>(out.t.size());

  SPK_ASSIGN_OR_RETURN(const json* cap, ObjectField(*s, path, "capacity"));
  for (const auto& [pool, values] : cap->items()) {
    NamedSeries ns{pool, {}};
    SPK_ASSIGN_OR_RETURN(ns.values, NumberArray(values, KeyPath(path + ".capacity", pool), n));
    out.capacity.push_back(std::move(ns));
  }
  SPK_ASSIGN_OR_RETURN(const json* target, Field(*s, path, "target_units"));
  SPK_ASSIGN_OR_RETURN(out.target_units, NumberArray(*target, path + ".target_units", n));

  SPK_ASSIGN_OR_RETURN(const json* services, ObjectField(*s, path, "services"));
  for (const auto& [name, svc] : services->items()) {
    const std::string svc_path = KeyPath(path + ".services", name);
    if (!svc.is_object()) return WrongType(svc_path, "an object", svc);
    ServiceSeries ss;
    ss.name = name;
    SPK_ASSIGN_OR_RETURN(const json* desired, Field(svc, svc_path, "desired"));
    SPK_ASSIGN_OR_RETURN(ss.desired, NumberArray(*desired, svc_path + ".desired", n));
    SPK_ASSIGN_OR_RETURN(const json* running, Field(svc, svc_path, "running"));
    SPK_ASSIGN_OR_RETURN(ss.running, NumberArray(*running, svc_path + ".running", n));
    out.services.push_back(std::move(ss));
  }
  SPK_ASSIGN_OR_RETURN(const json* cost, Field(*s, path, "cost"));
  SPK_ASSIGN_OR_RETURN(out.cost, NumberArray(*cost, path + ".cost", n));
  SPK_ASSIGN_OR_RETURN(const json* failed, Field(*s, path, "failed_requests"));
  SPK_ASSIGN_OR_RETURN(out.failed_requests, NumberArray(*failed, path + ".failed_requests", n));
  return out;
}

Result<std::vector<Event>> ParseEvents(const json& run, const std::string& run_path) {
  SPK_ASSIGN_OR_RETURN(const json* a, ArrayField(run, run_path, "events"));
  std::vector<Event> out;
  out.reserve(a->size());
  const auto& kinds = EventKinds();
  for (size_t i = 0; i < a->size(); ++i) {
    const std::string path = fmt::format("{}.events[{}]", run_path, i);
    const json& e = (*a)[i];
    if (!e.is_object()) return WrongType(path, "an object", e);
    Event ev;
    SPK_RETURN_IF_ERROR(ReadNumber(e, path, "t", &ev.t));
    SPK_RETURN_IF_ERROR(ReadString(e, path, "kind", &ev.kind));
    if (std::find(kinds.begin(), kinds.end(), ev.kind) == kinds.end()) {
      return InvalidArgumentError(
          fmt::format("{}.kind: unknown event kind {}", path,
                      json(ev.kind).dump(-1, ' ', false, json::error_handler_t::replace)));
    }
    SPK_RETURN_IF_ERROR(ReadString(e, path, "pool", &ev.pool));
    SPK_RETURN_IF_ERROR(ReadString(e, path, "instance", &ev.instance));
    out.push_back(std::move(ev));
  }
  return out;
}

Result<Percentiles> ParsePercentiles(const json& parent, const std::string& path, const char* key) {
  SPK_ASSIGN_OR_RETURN(const json* j, ObjectField(parent, path, key));
  const std::string at = Join(path, key);
  Percentiles p;
  SPK_RETURN_IF_ERROR(ReadNumber(*j, at, "p5", &p.p5));
  SPK_RETURN_IF_ERROR(ReadNumber(*j, at, "p50", &p.p50));
  SPK_RETURN_IF_ERROR(ReadNumber(*j, at, "p95", &p.p95));
  if (!(p.p5 <= p.p50 && p.p50 <= p.p95)) {
    return InvalidArgumentError(at + ": percentiles out of order (p5 <= p50 <= p95)");
  }
  return p;
}

Result<std::vector<Distribution>> ParseDistribution(const json& result) {
  std::vector<Distribution> out;
  if (!result.contains("distribution")) return out;
  SPK_ASSIGN_OR_RETURN(const json* a, ArrayField(result, "", "distribution"));
  for (size_t i = 0; i < a->size(); ++i) {
    const std::string path = fmt::format("distribution[{}]", i);
    const json& d = (*a)[i];
    if (!d.is_object()) return WrongType(path, "an object", d);
    Distribution dist;
    SPK_RETURN_IF_ERROR(ReadString(d, path, "policy", &dist.policy));
    SPK_RETURN_IF_ERROR(ReadNumber(d, path, "seeds", &dist.seeds));
    SPK_ASSIGN_OR_RETURN(dist.availability, ParsePercentiles(d, path, "availability"));
    SPK_ASSIGN_OR_RETURN(dist.tasks_lost_without_drain,
                         ParsePercentiles(d, path, "tasks_lost_without_drain"));
    SPK_ASSIGN_OR_RETURN(dist.failed_requests, ParsePercentiles(d, path, "failed_requests"));
    SPK_ASSIGN_OR_RETURN(dist.cost, ParsePercentiles(d, path, "cost"));
    out.push_back(std::move(dist));
  }
  return out;
}

Result<Run> ParseRun(const json& j, const std::string& path) {
  if (!j.is_object()) return WrongType(path, "an object", j);
  Run run;
  SPK_RETURN_IF_ERROR(ReadString(j, path, "policy", &run.policy));
  SPK_ASSIGN_OR_RETURN(run.summary, ParseSummary(j, path));
  SPK_ASSIGN_OR_RETURN(run.services, ParseServices(j, path));
  SPK_ASSIGN_OR_RETURN(run.series, ParseSeries(j, path));
  SPK_ASSIGN_OR_RETURN(run.events, ParseEvents(j, path));
  return run;
}

}  // namespace

const std::vector<std::string>& EventKinds() {
  static const std::vector<std::string> kKinds = {"spot-interruption",
                                                  "rebalance-recommendation",
                                                  "rebalance-replacement",
                                                  "rebalance-termination",
                                                  "pool-dry",
                                                  "pool-restored",
                                                  "mass-reclaim"};
  return kKinds;
}

Result<SimResult> ParseSimResult(const nlohmann::json& result) {
  if (!result.is_object()) return WrongType("simulation result", "an object", result);
  SimResult out;
  SPK_ASSIGN_OR_RETURN(out.scenario, ParseScenario(result));
  SPK_ASSIGN_OR_RETURN(const json* runs, ArrayField(result, "", "runs"));
  for (size_t i = 0; i < runs->size(); ++i) {
    SPK_ASSIGN_OR_RETURN(Run run, ParseRun((*runs)[i], fmt::format("runs[{}]", i)));
    out.runs.push_back(std::move(run));
  }
  SPK_ASSIGN_OR_RETURN(out.distribution, ParseDistribution(result));
  return out;
}

}  // namespace spk::report
