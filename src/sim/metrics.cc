#include "sim/metrics.h"

#include <algorithm>
#include <map>

#include "sim/ecs_cluster.h"
#include "sim/load_balancer.h"
#include "sim/market.h"

namespace spk::sim {

Metrics::Metrics(World& w, PolicyKind policy) : w_(w) {
  meters_.resize(w.s.pools.size() + 1);
  services_.resize(w.s.ecs.services.size());
  result_.policy = policy;
}

void Metrics::InstanceLaunched(int pool) {
  FlushMeter(pool);
  meters_[Slot(pool)].count++;
  if (pool == kOnDemandPool) {
    result_.on_demand_launches++;
  } else {
    result_.spot_launches++;
  }
}

void Metrics::InstanceTerminated(int pool) {
  FlushMeter(pool);
  meters_[Slot(pool)].count--;
}

void Metrics::ChangeUnitsInService(double delta) {
  in_service_units_ += delta;
  FlushCapacity();
}

void Metrics::ChangeRunning(uint32_t sv, int delta) {
  FlushService(sv);
  services_[sv].running += delta;
}

void Metrics::AddEvent(const char* kind, int pool, const std::string& instance) {
  result_.events.push_back(report::Event{static_cast<double>(w_.now()) / kSecond, kind,
                                         pool == kOnDemandPool ? "" : w_.s.pools[pool].name(),
                                         instance});
}

void Metrics::FlushMeter(int pool) {
  PoolMeter& m = meters_[Slot(pool)];
  const SimTime now = w_.now();
  if (m.count > 0 && now > m.last) {
    m.instance_ms += static_cast<double>(m.count) * static_cast<double>(now - m.last);
    m.cost += m.count * w_.market->PriceIntegral(pool, m.last, now) / kHour;
  }
  m.last = now;
}

void Metrics::FlushService(uint32_t sv) {
  ServiceMeter& st = services_[sv];
  // A capacity-provider cluster's shadow tasks serve their primary (its
  // target group): what runs counts up to the primary's desired count.
  const int running = w_.s.capacity_providers.enabled
                          ? std::min(st.running, w_.s.ecs.services[sv].desired)
                          : st.running;
  st.running_ms += static_cast<double>(running) * static_cast<double>(w_.now() - st.last);
  st.last = w_.now();
}

void Metrics::FlushCapacity() {
  if (below_target_) below_ms_ += w_.now() - capacity_last_;
  capacity_last_ = w_.now();
  // As the controller sees it: on-demand units (its minimum included) count
  // towards the fleet's target.
  below_target_ = in_service_units_ + 1e-9 < w_.s.fleet.target_capacity;
}

double Metrics::CostNow() const {
  double cost = 0;
  for (size_t p = 0; p < meters_.size(); ++p) {
    const PoolMeter& m = meters_[p];
    int pool = p == w_.s.pools.size() ? kOnDemandPool : static_cast<int>(p);
    cost += m.cost + m.count * w_.market->PriceIntegral(pool, m.last, w_.now()) / kHour;
  }
  return cost;
}

namespace {

// Sorted `names` without repeats (each series once, as in a JSON object), and
// where each of `names` stands among them.
std::vector<std::string> SortedNames(const std::vector<std::string>& names,
                                     std::vector<size_t>* where) {
  std::map<std::string, size_t> index;
  for (const std::string& name : names) index[name];
  std::vector<std::string> sorted;
  for (auto& [name, i] : index) {
    i = sorted.size();
    sorted.push_back(name);
  }
  where->clear();
  for (const std::string& name : names) where->push_back(index[name]);
  return sorted;
}

// Failed requests per million requests (0 without requests).
double PerMillion(const LoadBalancer::Requests& r) {
  const double total = r.served + r.failed;
  return total > 0 ? 1e6 * r.failed / total : 0.0;
}

}  // namespace

// The series' names, at the first sample.
void Metrics::StartSeries() {
  const Scenario& s = w_.s;
  std::vector<std::string> pools;
  for (int p : s.fleet.pools) pools.push_back("spot " + s.pools[p].name());
  pools.push_back("on-demand");
  std::vector<size_t> where;
  for (std::string& name : SortedNames(pools, &where)) {
    result_.series.capacity.push_back({std::move(name), {}});
  }
  on_demand_series_ = where.back();
  where.pop_back();
  pool_series_ = where;
  std::vector<std::string> services;
  for (const ServiceSpec& spec : s.ecs.services) services.push_back(spec.name);
  for (std::string& name : SortedNames(services, &service_series_)) {
    result_.series.services.push_back({std::move(name), {}, {}});
  }
}

void Metrics::Sample() {
  const Scenario& s = w_.s;
  report::RunSeries& r = result_.series;
  if (r.t.empty()) StartSeries();
  r.t.push_back(static_cast<double>(w_.now()) / kSecond);
  for (size_t k = 0; k < s.fleet.pools.size(); ++k) {
    r.capacity[pool_series_[k]].values.push_back(meters_[s.fleet.pools[k]].count);
  }
  r.capacity[on_demand_series_].values.push_back(InstanceCount(kOnDemandPool));
  r.target_units.push_back(s.fleet.target_capacity);
  for (size_t sv = 0; sv < services_.size(); ++sv) {
    report::ServiceSeries& ss = r.services[service_series_[sv]];
    ss.desired.push_back(s.ecs.services[sv].desired);
    ss.running.push_back(services_[sv].running);
  }
  r.cost.push_back(CostNow());
  r.failed_requests.push_back(w_.lb->FailedSoFar());
  SimTime next = w_.now() + s.sample_interval;
  if (next <= s.duration) w_.q.Push(next, kSample);
}

RunResult Metrics::Finish() {
  // The last sample at exactly the duration was scheduled before kEnd only if
  // it fell strictly inside; take it now when it is due.
  if (!result_.series.t.empty() &&
      static_cast<SimTime>(result_.series.t.back() * kSecond) + w_.s.sample_interval ==
          w_.s.duration) {
    Sample();
  }
  for (size_t p = 0; p < w_.s.pools.size(); ++p) FlushMeter(static_cast<int>(p));
  FlushMeter(kOnDemandPool);
  FlushCapacity();
  Summarize();
  result_.engine_events = w_.q.popped();
  result_.provisioning_timeouts = w_.ecs->provisioning_timeouts();
  return std::move(result_);
}

void Metrics::Summarize() {
  const Scenario& s = w_.s;
  report::RunSummary& sum = result_.summary;
  double running = 0, desired = 0;
  sum.worst_service_availability = 2;
  for (size_t sv = 0; sv < services_.size(); ++sv) {
    FlushService(static_cast<uint32_t>(sv));
    const ServiceMeter& st = services_[sv];
    double want = static_cast<double>(s.ecs.services[sv].desired) * static_cast<double>(s.duration);
    double availability = want > 0 ? std::min(1.0, st.running_ms / want) : 1.0;
    running += st.running_ms;
    desired += want;
    const LoadBalancer::Requests requests = w_.lb->Totals(static_cast<uint32_t>(sv));
    result_.services.push_back({s.ecs.services[sv].name, availability, static_cast<double>(st.lost),
                                requests.served, requests.failed, PerMillion(requests)});
    sum.tasks_lost_without_drain += static_cast<double>(st.lost);
    sum.requests_served += requests.served;
    sum.failed_requests += requests.failed;
    if (availability < sum.worst_service_availability) {
      sum.worst_service_availability = availability;
      sum.worst_service = s.ecs.services[sv].name;
    }
  }
  sum.availability = desired > 0 ? std::min(1.0, running / desired) : 1.0;
  sum.failed_requests_per_million = PerMillion({sum.requests_served, sum.failed_requests});
  sum.minutes_below_target = static_cast<double>(below_ms_) / kMinute;
  double spot_cost = 0, od_equivalent = 0;
  for (size_t p = 0; p < s.pools.size(); ++p) {
    sum.spot_instance_hours += meters_[p].instance_ms / kHour;
    spot_cost += meters_[p].cost;
    od_equivalent += meters_[p].instance_ms / kHour * s.pools[p].on_demand_price;
  }
  const PoolMeter& od = meters_[Slot(kOnDemandPool)];
  sum.on_demand_instance_hours = od.instance_ms / kHour;
  sum.cost = spot_cost + od.cost;
  sum.all_on_demand_cost = od_equivalent + od.cost;
  sum.savings = sum.all_on_demand_cost > 0 ? 1.0 - sum.cost / sum.all_on_demand_cost : 0.0;
}

}  // namespace spk::sim
