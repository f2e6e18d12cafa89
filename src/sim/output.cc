#include "sim/output.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace spk::sim {
namespace {

double Round(double x, int decimals) {
  double scale = std::pow(10.0, decimals);
  double r = std::round(x * scale) / scale;
  return r == 0 ? 0.0 : r;  // no "-0"
}

// A count (a whole number held as a double in the result structs) as an integer.
long long Count(double x) { return static_cast<long long>(x); }

// Requests (a fluid in the model, sim/load_balancer.h) to the nearest whole request.
long long Requests(double x) { return std::llround(std::max(0.0, x)); }

nlohmann::json Counts(const std::vector<double>& values) {
  nlohmann::json out = nlohmann::json::array();
  for (double v : values) out.push_back(Count(v));
  return out;
}

nlohmann::json RequestCounts(const std::vector<double>& values) {
  nlohmann::json out = nlohmann::json::array();
  for (double v : values) out.push_back(Requests(v));
  return out;
}

nlohmann::json RoundAll(const std::vector<double>& values, int decimals) {
  nlohmann::json out = nlohmann::json::array();
  for (double v : values) out.push_back(Round(v, decimals));
  return out;
}

nlohmann::json SummaryJson(const report::RunSummary& s) {
  return {
      {"availability", Round(s.availability, 6)},
      {"worst_service", s.worst_service},
      {"worst_service_availability", Round(s.worst_service_availability, 6)},
      {"tasks_lost_without_drain", Count(s.tasks_lost_without_drain)},
      {"minutes_below_target", Round(s.minutes_below_target, 3)},
      {"interruptions", Count(s.interruptions)},
      {"spot_instance_hours", Round(s.spot_instance_hours, 3)},
      {"on_demand_instance_hours", Round(s.on_demand_instance_hours, 3)},
      {"cost", Round(s.cost, 4)},
      {"all_on_demand_cost", Round(s.all_on_demand_cost, 4)},
      {"savings", Round(s.savings, 6)},
      {"requests_served", Requests(s.requests_served)},
      {"failed_requests", Requests(s.failed_requests)},
      {"failed_requests_per_million", Round(s.failed_requests_per_million, 3)},
  };
}

nlohmann::json RunJson(const RunResult& run) {
  nlohmann::json services = nlohmann::json::array();
  for (const report::ServiceResult& s : run.services) {
    services.push_back({{"name", s.name},
                        {"availability", Round(s.availability, 6)},
                        {"tasks_lost_without_drain", Count(s.tasks_lost_without_drain)},
                        {"requests_served", Requests(s.requests_served)},
                        {"failed_requests", Requests(s.failed_requests)},
                        {"failed_requests_per_million", Round(s.failed_requests_per_million, 3)}});
  }
  nlohmann::json capacity = nlohmann::json::object();
  for (const report::NamedSeries& pool : run.series.capacity) {
    capacity[pool.name] = Counts(pool.values);
  }
  nlohmann::json service_series = nlohmann::json::object();
  for (const report::ServiceSeries& s : run.series.services) {
    service_series[s.name] = {{"desired", Counts(s.desired)}, {"running", Counts(s.running)}};
  }
  nlohmann::json events = nlohmann::json::array();
  for (const report::Event& e : run.events) {
    events.push_back(
        {{"t", Round(e.t, 3)}, {"kind", e.kind}, {"pool", e.pool}, {"instance", e.instance}});
  }
  return {
      {"policy", PolicyName(run.policy)},
      {"summary", SummaryJson(run.summary)},
      {"services", services},
      {"series",
       {{"t", RoundAll(run.series.t, 3)},
        {"capacity", capacity},
        {"target_units", RoundAll(run.series.target_units, 3)},
        {"services", service_series},
        {"cost", RoundAll(run.series.cost, 4)},
        {"failed_requests", RequestCounts(run.series.failed_requests)}}},
      {"events", events},
  };
}

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

nlohmann::json SpreadValues(const report::Percentiles& s, int decimals) {
  return {{"p5", Round(s.p5, decimals)},
          {"p50", Round(s.p50, decimals)},
          {"p95", Round(s.p95, decimals)}};
}

// "p50 (p5-p95)".
std::string Range(const report::Percentiles& s, double scale, int decimals) {
  return Fixed(scale * s.p50, decimals) + " (" + Fixed(scale * s.p5, decimals) + "-" +
         Fixed(scale * s.p95, decimals) + ")";
}

}  // namespace

const char* const kCsvColumns =
    "policy,availability,worst_service,worst_service_availability,tasks_lost_without_drain,"
    "minutes_below_target,interruptions,spot_instance_hours,on_demand_instance_hours,cost,"
    "all_on_demand_cost,savings,requests_served,failed_requests,failed_requests_per_million";

nlohmann::json ResultToJson(const Scenario& scenario, const std::vector<RunResult>& runs) {
  nlohmann::json out;
  out["scenario"] = {
      {"name", scenario.name},
      {"description", scenario.description},
      {"seed", scenario.seed},
      {"duration_s", Round(static_cast<double>(scenario.duration) / kSecond, 3)},
      {"sample_interval_s", Round(static_cast<double>(scenario.sample_interval) / kSecond, 3)}};
  out["runs"] = nlohmann::json::array();
  for (const RunResult& run : runs) out["runs"].push_back(RunJson(run));
  return out;
}

std::string FormatTable(const std::vector<RunResult>& runs) {
  std::ostringstream os;
  char line[512];
  std::snprintf(line, sizeof line, "%-11s %9s  %-22s %10s %11s %11s %10s %10s %10s %8s %11s %9s\n",
                "policy", "avail %", "worst service (avail %)", "tasks lost", "min < tgt",
                "spot inst-h", "od inst-h", "cost USD", "all-OD USD", "savings", "failed req",
                "failed/M");
  os << line;
  for (const RunResult& r : runs) {
    const report::RunSummary& s = r.summary;
    std::string worst = s.worst_service + " (" + Fixed(100 * s.worst_service_availability, 3) + ")";
    std::snprintf(line, sizeof line,
                  "%-11s %9s  %-22s %10lld %11s %11s %10s %10s %10s %7s%% %11lld %9s\n",
                  PolicyName(r.policy), Fixed(100 * s.availability, 3).c_str(), worst.c_str(),
                  Count(s.tasks_lost_without_drain), Fixed(s.minutes_below_target, 1).c_str(),
                  Fixed(s.spot_instance_hours, 1).c_str(),
                  Fixed(s.on_demand_instance_hours, 1).c_str(), Fixed(s.cost, 2).c_str(),
                  Fixed(s.all_on_demand_cost, 2).c_str(), Fixed(100 * s.savings, 1).c_str(),
                  Requests(s.failed_requests), Fixed(s.failed_requests_per_million, 1).c_str());
    os << line;
  }
  return os.str();
}

std::string FormatCsv(const std::vector<RunResult>& runs) {
  std::ostringstream os;
  os << kCsvColumns << "\n";
  for (const RunResult& r : runs) {
    const report::RunSummary& s = r.summary;
    std::string worst = s.worst_service;
    if (worst.find_first_of(",\"\n") != std::string::npos) {
      std::string quoted = "\"";
      for (char c : worst) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
      worst = quoted + "\"";
    }
    os << PolicyName(r.policy) << "," << Fixed(s.availability, 6) << "," << worst << ","
       << Fixed(s.worst_service_availability, 6) << "," << Count(s.tasks_lost_without_drain) << ","
       << Fixed(s.minutes_below_target, 3) << "," << Count(s.interruptions) << ","
       << Fixed(s.spot_instance_hours, 3) << "," << Fixed(s.on_demand_instance_hours, 3) << ","
       << Fixed(s.cost, 4) << "," << Fixed(s.all_on_demand_cost, 4) << "," << Fixed(s.savings, 6)
       << "," << Requests(s.requests_served) << "," << Requests(s.failed_requests) << ","
       << Fixed(s.failed_requests_per_million, 3) << "\n";
  }
  return os.str();
}

const char* const kSpreadCsvColumns =
    "policy,seeds,availability_p5,availability_p50,availability_p95,"
    "tasks_lost_without_drain_p5,tasks_lost_without_drain_p50,tasks_lost_without_drain_p95,"
    "cost_p5,cost_p50,cost_p95,failed_requests_p5,failed_requests_p50,failed_requests_p95";

std::string FormatSpreadTable(const std::vector<report::Distribution>& spreads) {
  std::ostringstream os;
  char line[512];
  std::snprintf(line, sizeof line, "%-11s %5s  %-27s %-20s %-24s %s\n", "policy", "seeds",
                "avail % p50 (p5-p95)", "tasks lost p50", "cost USD p50", "failed requests p50");
  os << line;
  for (const report::Distribution& p : spreads) {
    std::snprintf(line, sizeof line, "%-11s %5d  %-27s %-20s %-24s %s\n", p.policy.c_str(),
                  static_cast<int>(p.seeds), Range(p.availability, 100, 3).c_str(),
                  Range(p.tasks_lost_without_drain, 1, 0).c_str(), Range(p.cost, 1, 2).c_str(),
                  Range(p.failed_requests, 1, 0).c_str());
    os << line;
  }
  return os.str();
}

std::string FormatSpreadCsv(const std::vector<report::Distribution>& spreads) {
  std::ostringstream os;
  os << kSpreadCsvColumns << "\n";
  for (const report::Distribution& p : spreads) {
    os << p.policy << "," << Count(p.seeds);
    for (const auto& [spread, decimals] : {std::pair{&p.availability, 6},
                                           {&p.tasks_lost_without_drain, 1},
                                           {&p.cost, 4},
                                           {&p.failed_requests, 0}}) {
      os << "," << Fixed(spread->p5, decimals) << "," << Fixed(spread->p50, decimals) << ","
         << Fixed(spread->p95, decimals);
    }
    os << "\n";
  }
  return os.str();
}

nlohmann::json SpreadJson(const std::vector<report::Distribution>& spreads) {
  nlohmann::json out = nlohmann::json::array();
  for (const report::Distribution& p : spreads) {
    out.push_back({{"policy", p.policy},
                   {"seeds", Count(p.seeds)},
                   {"availability", SpreadValues(p.availability, 6)},
                   {"tasks_lost_without_drain", SpreadValues(p.tasks_lost_without_drain, 1)},
                   {"failed_requests", SpreadValues(p.failed_requests, 0)},
                   {"cost", SpreadValues(p.cost, 4)}});
  }
  return out;
}

}  // namespace spk::sim
