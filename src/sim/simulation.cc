#include "sim/simulation.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>

#include "base/random.h"
#include "policy/decide.h"
#include "policy/reference_policy.h"
#include "policy/units.h"
#include "sim/placement.h"

namespace spk::sim {

const char* PolicyName(PolicyKind policy) {
  switch (policy) {
    case PolicyKind::kNone:
      return "none";
    case PolicyKind::kEcsAgent:
      return "ecs-agent";
    case PolicyKind::kReference:
      return "reference";
    case PolicyKind::kSpotkeeper:
      return "spotkeeper";
  }
  return "?";
}

Result<PolicyKind> ParsePolicy(const std::string& text) {
  for (PolicyKind p : AllPolicies()) {
    if (text == PolicyName(p)) return p;
  }
  return InvalidArgumentError("policy must be none, ecs-agent, reference or spotkeeper, not \"" +
                              text + "\"");
}

std::vector<PolicyKind> AllPolicies() {
  return {PolicyKind::kNone, PolicyKind::kEcsAgent, PolicyKind::kReference,
          PolicyKind::kSpotkeeper};
}

namespace {

enum EventKind : uint32_t {
  kEnd,
  kSample,
  kInstanceBooted,
  kInstanceRegistered,
  kRebalance,
  kNotice,
  kTerminate,
  kTaskRunning,
  kTaskGone,
  kFleetCheck,
  kAsgCheck,
  kPoolRestored,
  kMarketEvent,
  kSchedule,
  kControllerNotice,
  kControllerRebalance,
  kReconcile,
  kAlarmEval,
  kReferenceNotice,
  kAgentDrain,
};

constexpr int kOnDemandPool = -1;
const WallTime kEpoch = WallTime(std::chrono::seconds(1704067200));  // 2024-01-01T00:00:00Z

WallTime Wall(SimTime t) { return kEpoch + std::chrono::milliseconds(t); }

struct Instance {
  std::string id;
  std::string arn;
  int pool = kOnDemandPool;
  double units = 0;
  int free_cpu = 0;
  int free_memory = 0;
  enum class State { kBooting, kRunning, kTerminated } state = State::kBooting;
  enum class Ecs { kNone, kActive, kDraining } ecs = Ecs::kNone;
  SimTime launched = 0;
  bool noticed = false;
  SimTime notice_time = 0;
  SimTime termination_time = 0;
  std::vector<uint32_t> tasks;
  std::vector<int> group_tasks;  // per service: tasks not gone
  std::vector<uint8_t> member;   // per service: passes memberOf (set at registration)
};

struct Task {
  uint32_t service = 0;
  uint32_t instance = 0;
  enum class State { kStarting, kRunning, kStopping, kGone } state = State::kStarting;
};

struct ServiceState {
  int live = 0;     // starting or running, not stopping
  int running = 0;  // RUNNING and serving
  double running_ms = 0;
  SimTime last = 0;
  int64_t lost = 0;
};

// Instance-time and cost of one pool (or the on-demand group), integrated as
// the count changes.
struct PoolMeter {
  int count = 0;  // launched, not terminated
  SimTime last = 0;
  double instance_ms = 0;
  double cost = 0;  // USD
  int dry = 0;      // > 0: no launches
};

class Simulation {
 public:
  Simulation(const Scenario& s, PolicyKind policy, const ProgressFn& progress)
      : s_(s),
        policy_(policy),
        progress_(progress),
        placement_random_(s.seed * 4 + 1),
        market_random_(s.seed * 4 + 2) {
    for (size_t p = 0; p < s.pools.size(); ++p) {
      pool_random_.push_back(
          std::make_unique<SeededRandom>(s.seed * 1000003ULL + 7919ULL * (p + 1)));
    }
    meters_.resize(s.pools.size() + 1);
    services_.resize(s.ecs.services.size());
    for (int p : s.fleet.pools) fleet_pool_.push_back(p);
    result_.policy = policy;
    policy_config_ = s.controller.config;
    reference_config_.hard_coded_fleet_id = s.fleet.id;
    reference_config_.group_name = s.on_demand.name;
    reference_config_.per_server_vcpu = s.on_demand.vcpus;
    asg_desired_ = s.on_demand.desired;
  }

  RunResult Run() {
    WarmStart();
    q_.Push(s_.duration, kEnd);
    q_.Push(0, kSample);
    for (size_t i = 0; i < s_.events.size(); ++i) {
      q_.Push(s_.events[i].at, kMarketEvent, static_cast<uint32_t>(i));
    }
    if (policy_ == PolicyKind::kSpotkeeper) q_.Push(s_.controller.reconcile_interval, kReconcile);
    if (policy_ == PolicyKind::kReference) q_.Push(s_.reference.alarm_period, kAlarmEval);
    while (!q_.empty()) {
      Event e = q_.Pop();
      if (e.kind == kEnd) break;
      Dispatch(e);
      if (progress_ && (q_.popped() & 0xfff) == 0)
        progress_(static_cast<double>(now()) / s_.duration);
    }
    Finish();
    return std::move(result_);
  }

 private:
  SimTime now() const { return q_.now(); }

  void Dispatch(const Event& e) {
    switch (e.kind) {
      case kSample:
        Sample();
        break;
      case kInstanceBooted:
        Booted(e.a);
        break;
      case kInstanceRegistered:
        Registered(e.a);
        break;
      case kRebalance:
        Rebalance(e.a);
        break;
      case kNotice:
        Notice(e.a, -1);
        break;
      case kTerminate:
        Terminate(e.a);
        break;
      case kTaskRunning:
        TaskRunning(e.a);
        break;
      case kTaskGone:
        TaskGone(e.a);
        break;
      case kFleetCheck:
        fleet_retry_pending_ = false;
        FleetCheck();
        break;
      case kAsgCheck:
        AsgCheck();
        break;
      case kPoolRestored:
        PoolRestored(static_cast<int>(e.a));
        break;
      case kMarketEvent:
        MarketEventAt(e.a);
        break;
      case kSchedule:
        schedule_pending_ = false;
        SchedulePass();
        break;
      case kControllerNotice:
        ControllerNotice(e.a, policy::NoticeKind::kSpotInterruption);
        break;
      case kControllerRebalance:
        ControllerNotice(e.a, policy::NoticeKind::kRebalanceRecommendation);
        break;
      case kReconcile:
        SpotkeeperDecide();
        q_.Push(now() + s_.controller.reconcile_interval, kReconcile);
        break;
      case kAlarmEval:
        AlarmEval();
        break;
      case kReferenceNotice:
        ReferenceTermination(e.a);
        break;
      case kAgentDrain:
        SetDraining(e.a);
        break;
      default:
        break;
    }
  }

  // ---- metering ----------------------------------------------------------

  double PriceIntegral(int pool, SimTime from, SimTime to) const {  // USD*ms/h
    if (pool == kOnDemandPool) return s_.on_demand.price * static_cast<double>(to - from);
    const auto& prices = s_.pools[pool].spot_prices;
    double sum = 0;
    for (size_t i = 0; i < prices.size(); ++i) {
      SimTime a = std::max(from, prices[i].first);
      SimTime b = std::min(to, i + 1 < prices.size() ? prices[i + 1].first : to);
      if (b > a) sum += prices[i].second * static_cast<double>(b - a);
    }
    return sum;
  }
  PoolMeter& Meter(int pool) { return meters_[pool == kOnDemandPool ? s_.pools.size() : pool]; }
  void FlushMeter(int pool) {
    PoolMeter& m = Meter(pool);
    if (m.count > 0 && now() > m.last) {
      m.instance_ms += static_cast<double>(m.count) * static_cast<double>(now() - m.last);
      m.cost += m.count * PriceIntegral(pool, m.last, now()) / kHour;
    }
    m.last = now();
  }
  void FlushService(uint32_t s) {
    ServiceState& st = services_[s];
    st.running_ms += static_cast<double>(st.running) * static_cast<double>(now() - st.last);
    st.last = now();
  }
  void FlushCapacity() {
    if (below_target_) below_ms_ += now() - capacity_last_;
    capacity_last_ = now();
    // As the controller sees it: on-demand units (its minimum included) count
    // towards the fleet's target.
    below_target_ = in_service_units_ + 1e-9 < s_.fleet.target_capacity;
  }

  // ---- instances -----------------------------------------------------------

  static std::string InstanceId(size_t index) {
    std::string digits = std::to_string(index);
    return "i-" + std::string(digits.size() < 8 ? 8 - digits.size() : 0, '0') + digits;
  }
  std::optional<uint32_t> IndexOfInstanceId(const std::string& id) const {
    if (id.size() < 3 || id.compare(0, 2, "i-") != 0) return std::nullopt;
    uint64_t v = 0;
    for (size_t i = 2; i < id.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(id[i]))) return std::nullopt;
      v = v * 10 + (id[i] - '0');
      if (v >= instances_.size()) return std::nullopt;
    }
    return static_cast<uint32_t>(v);
  }
  std::optional<uint32_t> IndexOfArn(const std::string& arn) const {
    size_t slash = arn.rfind('/');
    if (slash == std::string::npos) return std::nullopt;
    return IndexOfInstanceId(arn.substr(slash + 1));
  }

  const std::string& TypeOf(const Instance& in) const {
    return in.pool == kOnDemandPool ? s_.on_demand.instance_type : s_.pools[in.pool].instance_type;
  }
  const std::string& ZoneOf(const Instance& in) const {
    return in.pool == kOnDemandPool ? s_.on_demand.zone : s_.pools[in.pool].zone;
  }
  std::string PoolName(int pool) const {
    return pool == kOnDemandPool
               ? "on-demand " + s_.on_demand.instance_type + " " + s_.on_demand.zone
               : s_.pools[pool].name();
  }

  uint32_t Launch(int pool, bool warm) {
    uint32_t index = static_cast<uint32_t>(instances_.size());
    Instance in;
    in.id = InstanceId(index);
    in.arn =
        "arn:aws:ecs:us-east-1:000000000000:container-instance/" + s_.ecs.cluster + "/" + in.id;
    in.pool = pool;
    int vcpus = pool == kOnDemandPool ? s_.on_demand.vcpus : s_.pools[pool].vcpus;
    int memory = pool == kOnDemandPool ? s_.on_demand.memory_mib : s_.pools[pool].memory_mib;
    in.free_cpu = vcpus * 1024;
    in.free_memory = static_cast<int>(memory * (1.0 - s_.ecs.reserved_memory_fraction));
    in.units = pool == kOnDemandPool ? s_.on_demand.units
                                     : s_.fleet.weights.at(s_.pools[pool].instance_type);
    in.launched = now();
    in.group_tasks.assign(s_.ecs.services.size(), 0);
    instances_.push_back(std::move(in));
    FlushMeter(pool);
    Meter(pool).count++;
    if (pool == kOnDemandPool) {
      asg_instances_.push_back(index);
      result_.on_demand_launches++;
    } else {
      fleet_instances_.push_back(index);
      fleet_fulfilled_ += instances_[index].units;
      result_.spot_launches++;
      ScheduleInterruption(index);
    }
    if (warm) {
      Booted(index);
      Registered(index);
    } else {
      SimTime delay = pool == kOnDemandPool ? s_.on_demand.launch_delay : s_.fleet.launch_delay;
      q_.Push(now() + delay, kInstanceBooted, index);
    }
    return index;
  }

  // Draws the instance's interruption from its pool's stream: exponential with
  // the rate that interrupts `monthly_interruption` of instances in 30 days.
  void ScheduleInterruption(uint32_t index) {
    const PoolSpec& pool = s_.pools[instances_[index].pool];
    Random& r = *pool_random_[instances_[index].pool];
    double u = r.Uniform();
    double rebalance_draw = r.Uniform();
    if (pool.monthly_interruption <= 0) return;
    double rate = -std::log(1.0 - pool.monthly_interruption) / static_cast<double>(30 * kDay);
    double wait = -std::log(1.0 - u) / rate;
    if (wait > static_cast<double>(s_.duration)) return;
    SimTime at = now() + static_cast<SimTime>(wait);
    if (at >= s_.duration) return;
    q_.Push(at, kNotice, index);
    if (rebalance_draw < s_.market.rebalance_probability) {
      q_.Push(std::max(now(), at - s_.market.rebalance_lead), kRebalance, index);
    }
  }

  void Booted(uint32_t index) {
    Instance& in = instances_[index];
    if (in.state != Instance::State::kBooting) return;
    in.state = Instance::State::kRunning;
    in_service_units_ += in.units;
    FlushCapacity();
    if (!warm_) q_.Push(now() + s_.ecs.registration_delay, kInstanceRegistered, index);
  }

  void Registered(uint32_t index) {
    Instance& in = instances_[index];
    if (in.state != Instance::State::kRunning || in.ecs != Instance::Ecs::kNone) return;
    in.ecs = Instance::Ecs::kActive;
    Expression::Attributes attributes{TypeOf(in), ZoneOf(in),
                                      in.pool == kOnDemandPool ? "on-demand" : "spot"};
    in.member.resize(s_.ecs.services.size());
    for (size_t sv = 0; sv < s_.ecs.services.size(); ++sv) {
      bool ok = true;
      for (const Expression& e : s_.ecs.services[sv].member_of) ok = ok && e.Matches(attributes);
      in.member[sv] = ok;
    }
    registered_.push_back(index);
    active_dirty_ = true;
    RequestSchedule();
  }

  void Terminate(uint32_t index) {
    Instance& in = instances_[index];
    if (in.state == Instance::State::kTerminated) return;
    for (uint32_t t : in.tasks) {
      Task& task = tasks_[t];
      if (task.state == Task::State::kStarting || task.state == Task::State::kRunning) {
        ServiceState& st = services_[task.service];
        if (task.state == Task::State::kRunning) {
          FlushService(task.service);
          st.running--;
        }
        st.live--;
        st.lost++;
      }
      task.state = Task::State::kGone;
    }
    in.tasks.clear();
    if (in.state == Instance::State::kRunning) {
      in_service_units_ -= in.units;
      FlushCapacity();
    }
    in.state = Instance::State::kTerminated;
    if (in.ecs != Instance::Ecs::kNone) {
      registered_.erase(std::find(registered_.begin(), registered_.end(), index));
      draining_.erase(std::remove(draining_.begin(), draining_.end(), index), draining_.end());
      active_dirty_ = true;
    }
    in.ecs = Instance::Ecs::kNone;
    FlushMeter(in.pool);
    Meter(in.pool).count--;
    if (in.pool == kOnDemandPool) {
      asg_instances_.erase(std::find(asg_instances_.begin(), asg_instances_.end(), index));
      ScheduleAsgCheck();
    } else {
      fleet_instances_.erase(std::find(fleet_instances_.begin(), fleet_instances_.end(), index));
      fleet_fulfilled_ -= in.units;
      FleetCheck();
    }
    RequestSchedule();
  }

  void SetDraining(uint32_t index) {
    Instance& in = instances_[index];
    if (in.state != Instance::State::kRunning || in.ecs != Instance::Ecs::kActive) return;
    in.ecs = Instance::Ecs::kDraining;
    draining_.push_back(index);
    active_dirty_ = true;
    RequestSchedule();
  }
  void SetActive(uint32_t index) {
    Instance& in = instances_[index];
    if (in.ecs != Instance::Ecs::kDraining) return;
    in.ecs = Instance::Ecs::kActive;
    draining_.erase(std::remove(draining_.begin(), draining_.end(), index), draining_.end());
    active_dirty_ = true;
    RequestSchedule();
  }

  // ---- spot market ----------------------------------------------------------

  void AddEvent(const char* kind, int pool, const std::string& instance) {
    result_.events.push_back(RunEvent{static_cast<double>(now()) / kSecond, kind,
                                      pool == kOnDemandPool ? "" : s_.pools[pool].name(),
                                      instance});
  }

  void Rebalance(uint32_t index) {
    Instance& in = instances_[index];
    if (in.state == Instance::State::kTerminated || in.noticed) return;
    AddEvent("rebalance-recommendation", in.pool, in.id);
    if (policy_ == PolicyKind::kSpotkeeper) {
      q_.Push(now() + s_.controller.notice_latency, kControllerRebalance, index);
    }
  }

  // The two-minute notice (or `lead` when >= 0).
  void Notice(uint32_t index, SimTime lead) {
    Instance& in = instances_[index];
    if (in.state == Instance::State::kTerminated || in.noticed) return;
    if (lead < 0) {
      lead = s_.market.notice_lead;
      if (market_random_.Uniform() < s_.market.short_notice_probability) {
        SimTime lo = std::min(s_.market.short_notice_min, lead);
        lead = lo + static_cast<SimTime>(market_random_.Uniform() * static_cast<double>(lead - lo));
      }
    }
    in.noticed = true;
    in.notice_time = now();
    in.termination_time = now() + lead;
    result_.summary.interruptions++;
    AddEvent("spot-interruption", in.pool, in.id);
    q_.Push(in.termination_time, kTerminate, index);
    switch (policy_) {
      case PolicyKind::kNone:
        break;
      case PolicyKind::kEcsAgent:
        q_.Push(now() + s_.reference.agent_drain_latency, kAgentDrain, index);
        break;
      case PolicyKind::kReference:
        q_.Push(now() + s_.reference.notice_latency, kReferenceNotice, index);
        break;
      case PolicyKind::kSpotkeeper:
        q_.Push(now() + s_.controller.notice_latency, kControllerNotice, index);
        break;
    }
  }

  void SetDry(int pool, SimTime duration) {
    if (duration <= 0) return;
    if (Meter(pool).dry++ == 0) AddEvent("pool-dry", pool, "");
    q_.Push(now() + duration, kPoolRestored, static_cast<uint32_t>(pool));
  }
  void PoolRestored(int pool) {
    if (--Meter(pool).dry == 0) {
      AddEvent("pool-restored", pool, "");
      FleetCheck();
    }
  }

  std::vector<uint32_t> LiveInPool(int pool) const {
    std::vector<uint32_t> out;
    for (uint32_t i : fleet_instances_) {
      if (instances_[i].pool == pool && !instances_[i].noticed) out.push_back(i);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  void MarketEventAt(uint32_t which) {
    const MarketEvent& e = s_.events[which];
    for (int pool : e.pools) {
      std::vector<uint32_t> live = LiveInPool(pool);
      switch (e.kind) {
        case MarketEvent::Kind::kMassReclaim: {
          AddEvent("mass-reclaim", pool, "");
          size_t n =
              static_cast<size_t>(std::ceil(e.fraction * static_cast<double>(live.size()) - 1e-9));
          SetDry(pool, e.dry_for);
          for (size_t k = 0; k < n && k < live.size(); ++k) Notice(live[k], -1);
          break;
        }
        case MarketEvent::Kind::kPoolDry:
          SetDry(pool, e.dry_for);
          break;
        case MarketEvent::Kind::kInterruption:
          for (size_t k = 0; k < static_cast<size_t>(e.count) && k < live.size(); ++k)
            Notice(live[k], -1);
          break;
      }
    }
  }

  // ---- Spot Fleet (maintain) --------------------------------------------------

  bool PoolAvailable(int pool) const {
    const PoolMeter& m = meters_[pool];
    return m.dry == 0 && (s_.pools[pool].capacity < 0 || m.count < s_.pools[pool].capacity);
  }
  double PricePerUnit(int pool) const {
    return CurrentSpotPrice(pool) / s_.fleet.weights.at(s_.pools[pool].instance_type);
  }
  double CurrentSpotPrice(int pool) const {
    const auto& prices = s_.pools[pool].spot_prices;
    double price = prices.front().second;
    for (const auto& [from, p] : prices) {
      if (from <= now()) price = p;
    }
    return price;
  }
  double Headroom(int pool) const {
    return s_.pools[pool].capacity < 0 ? 1e18 : s_.pools[pool].capacity - meters_[pool].count;
  }

  // The pool the fleet launches its next instance in; -1 when none can.
  int ChoosePool() const {
    std::vector<int> open;
    for (int p : fleet_pool_) {
      if (PoolAvailable(p)) open.push_back(p);
    }
    if (open.empty()) return -1;
    auto cheaper = [&](int x, int y) { return PricePerUnit(x) < PricePerUnit(y); };
    switch (s_.fleet.allocation_strategy) {
      case AllocationStrategy::kLowestPrice:
        return *std::min_element(open.begin(), open.end(), cheaper);
      case AllocationStrategy::kDiversified: {
        auto units = [&](int p) {
          return meters_[p].count * s_.fleet.weights.at(s_.pools[p].instance_type);
        };
        return *std::min_element(open.begin(), open.end(), [&](int x, int y) {
          if (units(x) != units(y)) return units(x) < units(y);
          return cheaper(x, y);
        });
      }
      case AllocationStrategy::kCapacityOptimized:
        return *std::min_element(open.begin(), open.end(), [&](int x, int y) {
          if (Headroom(x) != Headroom(y)) return Headroom(x) > Headroom(y);
          double rx = s_.pools[x].monthly_interruption, ry = s_.pools[y].monthly_interruption;
          if (rx != ry) return rx < ry;
          return cheaper(x, y);
        });
      case AllocationStrategy::kPriceCapacityOptimized: {
        std::vector<double> rates;
        for (int p : open) rates.push_back(s_.pools[p].monthly_interruption);
        std::sort(rates.begin(), rates.end());
        rates.erase(std::unique(rates.begin(), rates.end()), rates.end());
        double limit = rates[std::min<size_t>(1, rates.size() - 1)];
        int best = -1;
        for (int p : open) {
          if (s_.pools[p].monthly_interruption <= limit && (best < 0 || cheaper(p, best))) best = p;
        }
        return best;
      }
    }
    return open.front();
  }

  void FleetCheck() {
    while (fleet_fulfilled_ + 1e-9 < s_.fleet.target_capacity) {
      int pool = ChoosePool();
      if (pool < 0) {
        if (!fleet_retry_pending_) {
          fleet_retry_pending_ = true;
          q_.Push(now() + s_.fleet.retry_interval, kFleetCheck);
        }
        return;
      }
      Launch(pool, warm_);
    }
  }

  // ---- on-demand Auto Scaling group -----------------------------------------

  // SetDesiredCapacity as Auto Scaling answers it: refused outside [min, max]
  // (ValidationError) or, with honor_cooldown, inside the cooldown.
  bool SetAsgDesired(int desired, bool honor_cooldown) {
    if (desired < s_.on_demand.min_size || desired > s_.on_demand.max_size ||
        (honor_cooldown && asg_last_activity_ >= 0 &&
         now() < asg_last_activity_ + s_.on_demand.cooldown)) {
      result_.rejected_scaling_calls++;
      return false;
    }
    if (desired != asg_desired_) asg_last_activity_ = now();
    asg_desired_ = desired;
    ScheduleAsgCheck();
    return true;
  }
  void ScheduleAsgCheck() {
    if (asg_check_pending_) return;
    asg_check_pending_ = true;
    q_.Push(now(), kAsgCheck);
  }
  // Launches or terminates to the desired capacity. Scale-in picks the newest
  // instances (AWS's default policy would balance zones, then take the oldest
  // launch template, then the instance closest to its next billing hour) and
  // terminates them at once: tasks on them are lost.
  void AsgCheck() {
    asg_check_pending_ = false;
    int live = static_cast<int>(asg_instances_.size());
    for (; live < asg_desired_; ++live) Launch(kOnDemandPool, warm_);
    while (static_cast<int>(asg_instances_.size()) > asg_desired_) Terminate(asg_instances_.back());
  }

  // ---- ECS ------------------------------------------------------------------

  void RequestSchedule() {
    if (schedule_pending_ || warm_) return;
    schedule_pending_ = true;
    q_.Push(now(), kSchedule);
  }

  const std::vector<uint32_t>& Active() {
    if (active_dirty_) {
      active_.clear();
      for (uint32_t i : registered_) {
        if (instances_[i].ecs == Instance::Ecs::kActive) active_.push_back(i);
      }
      std::sort(active_.begin(), active_.end());
      active_dirty_ = false;
    }
    return active_;
  }

  void StartTask(uint32_t service, uint32_t instance) {
    const ServiceSpec& spec = s_.ecs.services[service];
    Instance& in = instances_[instance];
    in.free_cpu -= spec.cpu;
    in.free_memory -= spec.memory;
    in.group_tasks[service]++;
    uint32_t t = static_cast<uint32_t>(tasks_.size());
    tasks_.push_back(Task{service, instance, Task::State::kStarting});
    in.tasks.push_back(t);
    services_[service].live++;
    if (warm_) {
      TaskRunning(t);
    } else {
      q_.Push(now() + spec.start_time, kTaskRunning, t);
    }
  }

  void TaskRunning(uint32_t t) {
    Task& task = tasks_[t];
    if (task.state != Task::State::kStarting) return;
    task.state = Task::State::kRunning;
    FlushService(task.service);
    services_[task.service].running++;
    RequestSchedule();  // a draining task may now be stopped
  }

  void StopTask(uint32_t t) {
    Task& task = tasks_[t];
    ServiceState& st = services_[task.service];
    const ServiceSpec& spec = s_.ecs.services[task.service];
    if (task.state == Task::State::kRunning) {
      FlushService(task.service);
      st.running--;
    } else if (task.state != Task::State::kStarting) {
      return;
    }
    st.live--;
    task.state = Task::State::kStopping;
    if (spec.load_balanced && spec.deregistration_delay > 0) {
      q_.Push(now() + spec.deregistration_delay, kTaskGone, t);
    } else {
      TaskGone(t);
    }
  }

  void TaskGone(uint32_t t) {
    Task& task = tasks_[t];
    if (task.state != Task::State::kStopping) return;
    task.state = Task::State::kGone;
    const ServiceSpec& spec = s_.ecs.services[task.service];
    Instance& in = instances_[task.instance];
    in.free_cpu += spec.cpu;
    in.free_memory += spec.memory;
    in.group_tasks[task.service]--;
    in.tasks.erase(std::find(in.tasks.begin(), in.tasks.end(), t));
    RequestSchedule();
  }

  // The service scheduler: replaces missing tasks and moves tasks off
  // DRAINING instances within minimumHealthyPercent and maximumPercent.
  void SchedulePass() {
    for (uint32_t sv = 0; sv < services_.size(); ++sv) ScheduleService(sv);
  }

  void ScheduleService(uint32_t sv) {
    const ServiceSpec& spec = s_.ecs.services[sv];
    ServiceState& st = services_[sv];
    const int max_total = std::max(spec.desired, spec.desired * spec.maximum_percent / 100);
    const int min_healthy = (spec.desired * spec.minimum_healthy_percent + 99) / 100;
    std::vector<uint32_t> on_draining;  // live tasks on DRAINING instances
    for (uint32_t i : draining_) {
      for (uint32_t t : instances_[i].tasks) {
        const Task& task = tasks_[t];
        if (task.service == sv &&
            (task.state == Task::State::kStarting || task.state == Task::State::kRunning)) {
          on_draining.push_back(t);
        }
      }
    }
    std::sort(on_draining.begin(), on_draining.end());
    int active = st.live - static_cast<int>(on_draining.size());
    PlaceTasks(sv, std::min(spec.desired - active, max_total - st.live));
    bool stopped = false;
    for (uint32_t t : on_draining) {
      if (tasks_[t].state == Task::State::kStarting) {
        StopTask(t);
        stopped = true;
      } else if (st.running - 1 >= min_healthy) {
        StopTask(t);
        stopped = true;
      }
    }
    if (stopped) {
      active = st.live - static_cast<int>(
                             std::count_if(on_draining.begin(), on_draining.end(), [&](uint32_t t) {
                               return tasks_[t].state == Task::State::kStarting ||
                                      tasks_[t].state == Task::State::kRunning;
                             }));
      PlaceTasks(sv, std::min(spec.desired - active, max_total - st.live));
    }
  }

  // Places up to `n` tasks of service `sv`; stops at the first that fits nowhere.
  void PlaceTasks(uint32_t sv, int n) {
    if (n <= 0) return;
    const ServiceSpec& spec = s_.ecs.services[sv];
    const std::vector<uint32_t>& active = Active();
    std::vector<Host> hosts;
    hosts.reserve(active.size());
    for (uint32_t i : active) {
      const Instance& in = instances_[i];
      hosts.push_back(
          Host{in.id,
               {TypeOf(in), ZoneOf(in), in.pool == kOnDemandPool ? "on-demand" : "spot"},
               in.free_cpu,
               in.free_memory,
               in.group_tasks[sv],
               in.member[sv] != 0});
    }
    for (int k = 0; k < n; ++k) {
      int h = ChooseHost(hosts, spec.cpu, spec.memory, spec.strategies, spec.distinct_instance,
                         placement_random_);
      if (h < 0) return;
      StartTask(sv, active[h]);
      const Instance& in = instances_[active[h]];
      hosts[h].free_cpu = in.free_cpu;
      hosts[h].free_memory = in.free_memory;
      hosts[h].group_tasks = in.group_tasks[sv];
    }
  }

  // ---- policies ---------------------------------------------------------------

  void ApplyActions(const std::vector<policy::Action>& actions) {
    for (const policy::Action& action : actions) {
      if (const auto* drain = std::get_if<policy::DrainContainerInstances>(&action.what)) {
        for (const std::string& arn : drain->container_instance_arns) {
          if (auto i = IndexOfArn(arn)) SetDraining(*i);
        }
      } else if (const auto* activate =
                     std::get_if<policy::ActivateContainerInstances>(&action.what)) {
        for (const std::string& arn : activate->container_instance_arns) {
          if (auto i = IndexOfArn(arn)) SetActive(*i);
        }
      } else if (const auto* set = std::get_if<policy::SetDesiredCapacity>(&action.what)) {
        if (set->group == s_.on_demand.name) SetAsgDesired(set->desired, set->honor_cooldown);
      } else if (const auto* term = std::get_if<policy::TerminateInstance>(&action.what)) {
        auto i = IndexOfInstanceId(term->instance_id);
        if (!i || instances_[*i].pool != kOnDemandPool ||
            instances_[*i].state == Instance::State::kTerminated) {
          continue;
        }
        if (term->decrement_desired) {
          if (asg_desired_ - 1 < s_.on_demand.min_size) {
            result_.rejected_scaling_calls++;
            continue;
          }
          asg_desired_--;
        }
        Terminate(*i);
      }
    }
  }

  policy::Notice MakeNotice(uint32_t index, policy::NoticeKind kind) const {
    const Instance& in = instances_[index];
    policy::Notice n;
    n.instance_id = in.id;
    n.instance_type = TypeOf(in);
    n.kind = kind;
    n.notice_time = Wall(now());
    if (kind == policy::NoticeKind::kSpotInterruption)
      n.termination_time = Wall(in.termination_time);
    auto units = policy::LostUnits(s_.fleet.weights, n.instance_type, s_.pools[in.pool].vcpus);
    if (units.ok()) n.units = *units;
    return n;
  }

  void ControllerNotice(uint32_t index, policy::NoticeKind kind) {
    auto it = notices_.find(index);
    if (it == notices_.end() || kind == policy::NoticeKind::kSpotInterruption) {
      if (it == notices_.end() || it->second.kind != policy::NoticeKind::kSpotInterruption) {
        notices_[index] = MakeNotice(index, kind);
      }
    }
    SpotkeeperDecide();
  }

  // Refreshes observation_ in place: its vectors and strings keep their
  // capacity from one decision to the next, so a decision over a large fleet
  // does not allocate and copy every instance's ids again.
  const policy::Observation& BuildObservation() {
    policy::Observation& o = observation_;
    o.now = Wall(now());
    o.sources.resize(1);
    policy::SpotCapacitySource& fleet = o.sources.front();
    fleet.id = s_.fleet.id;
    fleet.kind = policy::SourceKind::kSpotFleet;
    fleet.target_capacity = s_.fleet.target_capacity;
    fleet.fulfilled_capacity = fleet_fulfilled_;
    fleet.weights = s_.fleet.weights;
    fleet.instance_ids.resize(fleet_instances_.size());
    for (size_t k = 0; k < fleet_instances_.size(); ++k) {
      fleet.instance_ids[k] = instances_[fleet_instances_[k]].id;
    }
    o.notices.clear();
    for (auto it = notices_.begin(); it != notices_.end();) {
      if (instances_[it->first].state == Instance::State::kTerminated) {
        it = notices_.erase(it);
      } else {
        o.notices.push_back(it->second);
        ++it;
      }
    }
    BuildOnDemandGroup(o.on_demand ? *o.on_demand : o.on_demand.emplace());
    BuildContainerInstances(o.container_instances);
    return o;
  }

  void BuildOnDemandGroup(policy::OnDemandGroup& group) const {
    group.name = s_.on_demand.name;
    group.min_size = s_.on_demand.min_size;
    group.max_size = s_.on_demand.max_size;
    group.desired_capacity = asg_desired_;
    group.instances.resize(asg_instances_.size());
    for (size_t k = 0; k < asg_instances_.size(); ++k) {
      const Instance& in = instances_[asg_instances_[k]];
      policy::OnDemandInstance& out = group.instances[k];
      out.instance_id = in.id;
      out.lifecycle_state = in.state == Instance::State::kBooting ? "Pending" : "InService";
      out.protected_from_scale_in = false;
    }
    group.units_per_instance = s_.on_demand.units;
  }

  void BuildContainerInstances(std::vector<policy::ContainerInstance>& containers) const {
    containers.resize(registered_.size());
    for (size_t k = 0; k < registered_.size(); ++k) {
      const Instance& in = instances_[registered_[k]];
      policy::ContainerInstance& c = containers[k];
      c.cluster = s_.ecs.cluster;
      c.arn = in.arn;
      c.ec2_instance_id = in.id;
      c.status = in.ecs == Instance::Ecs::kActive ? policy::ContainerStatus::kActive
                                                  : policy::ContainerStatus::kDraining;
      c.pending_tasks = 0;
      c.running_tasks = 0;
      for (uint32_t t : in.tasks) {
        if (tasks_[t].state == Task::State::kStarting) {
          c.pending_tasks++;
        } else {
          c.running_tasks++;
        }
      }
    }
  }

  void SpotkeeperDecide() {
    policy::Decision d = policy::Decide(BuildObservation(), policy_config_, tracker_);
    tracker_ = d.tracker;
    ApplyActions(d.actions);
  }

  double PendingCapacity() const {
    return std::max(0.0, s_.fleet.target_capacity - fleet_fulfilled_);
  }

  void InvokeReference(const policy::ReferenceTrigger& trigger) {
    policy::ReferenceObservation o;
    o.target_capacity_maxima = std::vector<double>(10, s_.fleet.target_capacity);
    o.pending_capacity = PendingCapacity();
    o.target_capacity = s_.fleet.target_capacity;
    o.group_desired = asg_desired_;
    ApplyActions(policy::DecideReference(trigger, o, reference_config_).actions);
  }

  void ReferenceTermination(uint32_t index) {
    const Instance& in = instances_[index];
    policy::ReferenceTrigger trigger;
    trigger.kind = policy::ReferenceTrigger::Kind::kTermination;
    trigger.instance_type = TypeOf(in);
    trigger.ecs_cluster = s_.ecs.cluster;
    trigger.ecs_container = in.ecs != Instance::Ecs::kNone ? in.arn : "";
    InvokeReference(trigger);
  }

  // A CloudWatch alarm on PendingCapacity > 0 (one 60 s period): it notifies
  // SNS, and so the Lambda, only when it goes from OK to ALARM.
  void AlarmEval() {
    bool breaching = PendingCapacity() > 1e-9;
    if (breaching && !alarm_) {
      policy::ReferenceTrigger trigger;
      trigger.kind = policy::ReferenceTrigger::Kind::kAlarm;
      trigger.fleet_id = s_.fleet.id;
      InvokeReference(trigger);
    }
    alarm_ = breaching;
    q_.Push(now() + s_.reference.alarm_period, kAlarmEval);
  }

  // ---- start, samples, end ---------------------------------------------------

  // The steady state at t = 0: the fleet and the group at their capacity, every
  // instance registered, every task placed and running.
  void WarmStart() {
    warm_ = true;
    FlushCapacity();
    FleetCheck();
    AsgCheck();
    for (uint32_t sv = 0; sv < services_.size(); ++sv) {
      PlaceTasks(sv, s_.ecs.services[sv].desired);
    }
    warm_ = false;
    fleet_retry_pending_ = false;
    if (fleet_fulfilled_ + 1e-9 < s_.fleet.target_capacity) {
      fleet_retry_pending_ = true;
      q_.Push(s_.fleet.retry_interval, kFleetCheck);
    }
    RequestSchedule();
  }

  double CostNow() const {
    double cost = 0;
    for (size_t p = 0; p < meters_.size(); ++p) {
      const PoolMeter& m = meters_[p];
      int pool = p == s_.pools.size() ? kOnDemandPool : static_cast<int>(p);
      cost += m.cost + m.count * PriceIntegral(pool, m.last, now()) / kHour;
    }
    return cost;
  }

  void Sample() {
    RunSeries& r = result_.series;
    r.t.push_back(static_cast<double>(now()) / kSecond);
    for (int p : fleet_pool_) r.capacity["spot " + s_.pools[p].name()].push_back(meters_[p].count);
    r.capacity["on-demand"].push_back(Meter(kOnDemandPool).count);
    r.target_units.push_back(s_.fleet.target_capacity);
    for (size_t sv = 0; sv < services_.size(); ++sv) {
      ServiceSeries& ss = r.services[s_.ecs.services[sv].name];
      ss.desired.push_back(s_.ecs.services[sv].desired);
      ss.running.push_back(services_[sv].running);
    }
    r.cost.push_back(CostNow());
    SimTime next = now() + s_.sample_interval;
    if (next <= s_.duration) q_.Push(next, kSample);
  }

  void Finish() {
    // The last sample at exactly the duration was scheduled before kEnd only if
    // it fell strictly inside; take it now when it is due.
    if (!result_.series.t.empty() &&
        static_cast<SimTime>(result_.series.t.back() * kSecond) + s_.sample_interval ==
            s_.duration) {
      Sample();
    }
    for (size_t p = 0; p < s_.pools.size(); ++p) FlushMeter(static_cast<int>(p));
    FlushMeter(kOnDemandPool);
    FlushCapacity();
    RunSummary& sum = result_.summary;
    double running = 0, desired = 0;
    sum.worst_service_availability = 2;
    for (size_t sv = 0; sv < services_.size(); ++sv) {
      FlushService(static_cast<uint32_t>(sv));
      const ServiceState& st = services_[sv];
      double want =
          static_cast<double>(s_.ecs.services[sv].desired) * static_cast<double>(s_.duration);
      double availability = want > 0 ? std::min(1.0, st.running_ms / want) : 1.0;
      running += st.running_ms;
      desired += want;
      result_.services.push_back({s_.ecs.services[sv].name, availability, st.lost});
      sum.tasks_lost_without_drain += st.lost;
      if (availability < sum.worst_service_availability) {
        sum.worst_service_availability = availability;
        sum.worst_service = s_.ecs.services[sv].name;
      }
    }
    sum.availability = desired > 0 ? std::min(1.0, running / desired) : 1.0;
    sum.minutes_below_target = static_cast<double>(below_ms_) / kMinute;
    double spot_cost = 0, od_equivalent = 0;
    for (size_t p = 0; p < s_.pools.size(); ++p) {
      sum.spot_instance_hours += meters_[p].instance_ms / kHour;
      spot_cost += meters_[p].cost;
      od_equivalent += meters_[p].instance_ms / kHour * s_.pools[p].on_demand_price;
    }
    const PoolMeter& od = Meter(kOnDemandPool);
    sum.on_demand_instance_hours = od.instance_ms / kHour;
    sum.cost = spot_cost + od.cost;
    sum.all_on_demand_cost = od_equivalent + od.cost;
    sum.savings = sum.all_on_demand_cost > 0 ? 1.0 - sum.cost / sum.all_on_demand_cost : 0.0;
    result_.engine_events = q_.popped();
    if (progress_) progress_(1.0);
  }

  const Scenario& s_;
  PolicyKind policy_;
  ProgressFn progress_;
  EventQueue q_;
  SeededRandom placement_random_;
  SeededRandom market_random_;
  std::vector<std::unique_ptr<SeededRandom>> pool_random_;
  RunResult result_;
  bool warm_ = false;

  std::vector<Instance> instances_;
  std::vector<Task> tasks_;
  std::vector<ServiceState> services_;
  std::vector<PoolMeter> meters_;  // per pool, then the on-demand group
  std::vector<int> fleet_pool_;
  std::vector<uint32_t> fleet_instances_;
  std::vector<uint32_t> asg_instances_;
  std::vector<uint32_t> registered_;
  std::vector<uint32_t> draining_;
  std::vector<uint32_t> active_;
  bool active_dirty_ = true;
  double fleet_fulfilled_ = 0;
  bool fleet_retry_pending_ = false;
  int asg_desired_ = 0;
  SimTime asg_last_activity_ = -1;
  bool asg_check_pending_ = false;
  bool schedule_pending_ = false;

  double in_service_units_ = 0;
  bool below_target_ = false;
  SimTime capacity_last_ = 0;
  SimTime below_ms_ = 0;

  policy::PolicyConfig policy_config_;
  policy::ScaleDownTracker tracker_;
  policy::Observation observation_;  // reused by BuildObservation
  std::map<uint32_t, policy::Notice> notices_;
  policy::ReferenceConfig reference_config_;
  bool alarm_ = false;
};

}  // namespace

RunResult RunSimulation(const Scenario& scenario, PolicyKind policy, const ProgressFn& progress) {
  return Simulation(scenario, policy, progress).Run();
}

}  // namespace spk::sim
