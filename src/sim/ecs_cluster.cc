#include "sim/ecs_cluster.h"

#include <algorithm>

#include "sim/load_balancer.h"
#include "sim/metrics.h"
#include "sim/placement.h"

namespace spk::sim {
namespace {

// Instance `in` as placement sees it for a task of service `sv`.
Host HostOf(const World& w, const Instance& in, uint32_t sv) {
  return Host{in.id,
              {w.TypeOf(in), w.ZoneOf(in), in.pool == kOnDemandPool ? "on-demand" : "spot"},
              in.free_cpu,
              in.free_memory,
              in.group_tasks[sv],
              in.member[sv] != 0};
}

}  // namespace

EcsCluster::EcsCluster(World& w)
    : w_(w),
      placement_random_(w.s.seed * 4 + 1),
      live_(w.s.ecs.services.size(), 0),
      cp_(w.s.capacity_providers.enabled),
      provisioning_(cp_ ? 2 * w.s.ecs.services.size() : 0),
      shadow_live_(w.s.ecs.services.size(), 0),
      shadow_desired_(w.s.ecs.services.size(), 0),
      primary_running_(w.s.ecs.services.size(), 0),
      bound_(2 * w.s.ecs.services.size(), 0) {}

void EcsCluster::WarmStart() {
  for (uint32_t sv = 0; sv < live_.size(); ++sv) {
    if (cp_) {
      PlaceBound(sv, false, w_.s.ecs.services[sv].desired);
    } else {
      PlaceTasks(sv, w_.s.ecs.services[sv].desired);
    }
  }
}

void EcsCluster::Registered(uint32_t index) {
  Instance& in = w_.instances[index];
  if (in.state != Instance::State::kRunning || in.ecs != Instance::Ecs::kNone) return;
  in.ecs = Instance::Ecs::kActive;
  Expression::Attributes attributes{w_.TypeOf(in), w_.ZoneOf(in),
                                    in.pool == kOnDemandPool ? "on-demand" : "spot"};
  const std::vector<ServiceSpec>& services = w_.s.ecs.services;
  in.member.resize(services.size());
  for (size_t sv = 0; sv < services.size(); ++sv) {
    bool ok = true;
    for (const Expression& e : services[sv].member_of) ok = ok && e.Matches(attributes);
    in.member[sv] = ok;
  }
  registered_.push_back(index);
  active_dirty_ = true;
  RequestSchedule();
}

void EcsCluster::SetDraining(uint32_t index) {
  Instance& in = w_.instances[index];
  if (in.state != Instance::State::kRunning || in.ecs != Instance::Ecs::kActive) return;
  in.ecs = Instance::Ecs::kDraining;
  draining_.push_back(index);
  active_dirty_ = true;
  RequestSchedule();
}

void EcsCluster::SetActive(uint32_t index) {
  Instance& in = w_.instances[index];
  if (in.ecs != Instance::Ecs::kDraining) return;
  in.ecs = Instance::Ecs::kActive;
  draining_.erase(std::remove(draining_.begin(), draining_.end(), index), draining_.end());
  active_dirty_ = true;
  RequestSchedule();
}

void EcsCluster::InstanceLost(uint32_t index) {
  Instance& in = w_.instances[index];
  for (uint32_t t : in.tasks) {
    Task& task = tasks_[t];
    if (task.state == Task::State::kStarting || task.state == Task::State::kRunning) {
      if (task.state == Task::State::kRunning) {
        w_.metrics->ChangeRunning(task.service, -1);
        if (!task.shadow) primary_running_[task.service]--;
      }
      Live(task)--;
      if (!task.shadow) bound_[task.service * 2 + task.provider]--;
      w_.metrics->TaskLost(task.service);
    }
    if (task.state == Task::State::kRunning || task.state == Task::State::kStopping) {
      w_.lb->Killed(t);
    }
    task.state = Task::State::kGone;
  }
  in.tasks.clear();
  in.starting_tasks = 0;
}

void EcsCluster::Deregister(uint32_t index) {
  Instance& in = w_.instances[index];
  if (in.ecs != Instance::Ecs::kNone) {
    registered_.erase(std::find(registered_.begin(), registered_.end(), index));
    draining_.erase(std::remove(draining_.begin(), draining_.end(), index), draining_.end());
    active_dirty_ = true;
  }
  in.ecs = Instance::Ecs::kNone;
}

void EcsCluster::RequestSchedule() {
  if (schedule_pending_ || w_.warm) return;
  schedule_pending_ = true;
  w_.q.Push(w_.now(), kSchedule);
}

void EcsCluster::Schedule() {
  schedule_pending_ = false;
  for (uint32_t sv = 0; sv < live_.size(); ++sv) ScheduleService(sv);
}

const std::vector<uint32_t>& EcsCluster::Active() {
  if (active_dirty_) {
    active_.clear();
    for (uint32_t i : registered_) {
      if (w_.instances[i].ecs == Instance::Ecs::kActive) active_.push_back(i);
    }
    std::sort(active_.begin(), active_.end());
    active_dirty_ = false;
  }
  return active_;
}

void EcsCluster::StartTask(uint32_t service, uint32_t instance) {
  const uint32_t t = static_cast<uint32_t>(tasks_.size());
  tasks_.push_back(Task{service, instance, Task::State::kStarting});
  if (!tasks_[t].shadow) bound_[service * 2 + tasks_[t].provider]++;
  Begin(t, instance);
}

// Task `t` (new, or PROVISIONING) is placed on `instance` and starts.
void EcsCluster::Begin(uint32_t t, uint32_t instance) {
  Task& task = tasks_[t];
  const uint32_t service = task.service;
  const ServiceSpec& spec = w_.s.ecs.services[service];
  Instance& in = w_.instances[instance];
  in.free_cpu -= spec.cpu;
  in.free_memory -= spec.memory;
  in.group_tasks[service]++;
  task.instance = instance;
  task.state = Task::State::kStarting;
  in.tasks.push_back(t);
  in.starting_tasks++;
  Live(task)++;
  if (w_.warm) {
    TaskRunning(t);
  } else {
    w_.q.Push(w_.now() + spec.start_time, kTaskRunning, t);
  }
}

void EcsCluster::TaskRunning(uint32_t t) {
  Task& task = tasks_[t];
  if (task.state != Task::State::kStarting) return;
  task.state = Task::State::kRunning;
  w_.instances[task.instance].starting_tasks--;
  w_.metrics->ChangeRunning(task.service, +1);
  if (!task.shadow) primary_running_[task.service]++;
  w_.lb->Register(t, task.service);
  RequestSchedule();  // a draining task may now be stopped
}

void EcsCluster::StopTask(uint32_t t) {
  Task& task = tasks_[t];
  const bool running = task.state == Task::State::kRunning;
  if (running) {
    w_.metrics->ChangeRunning(task.service, -1);
    if (!task.shadow) primary_running_[task.service]--;
  } else if (task.state != Task::State::kStarting) {
    return;
  } else {
    w_.instances[task.instance].starting_tasks--;
  }
  Live(task)--;
  if (!task.shadow) bound_[task.service * 2 + task.provider]--;
  task.state = Task::State::kStopping;
  // Deregistered from its load balancer first (none: no delay).
  const SimTime delay = w_.lb->Deregister(t, task.service, running);
  if (delay > 0) {
    w_.q.Push(w_.now() + delay, kTaskGone, t);
  } else {
    TaskGone(t);
  }
}

void EcsCluster::TaskGone(uint32_t t) {
  Task& task = tasks_[t];
  if (task.state != Task::State::kStopping) return;
  task.state = Task::State::kGone;
  w_.lb->Stopped(t);
  const ServiceSpec& spec = w_.s.ecs.services[task.service];
  Instance& in = w_.instances[task.instance];
  in.free_cpu += spec.cpu;
  in.free_memory += spec.memory;
  in.group_tasks[task.service]--;
  in.tasks.erase(std::find(in.tasks.begin(), in.tasks.end(), t));
  RequestSchedule();
}

void EcsCluster::ScheduleService(uint32_t sv) {
  const ServiceSpec& spec = w_.s.ecs.services[sv];
  const int max_total = std::max(spec.desired, spec.desired * spec.maximum_percent / 100);
  const int min_healthy = (spec.desired * spec.minimum_healthy_percent + 99) / 100;
  auto live = [&](uint32_t t) {
    return tasks_[t].state == Task::State::kStarting || tasks_[t].state == Task::State::kRunning;
  };
  std::vector<uint32_t> on_draining;  // live tasks on DRAINING instances
  for (uint32_t i : draining_) {
    for (uint32_t t : w_.instances[i].tasks) {
      if (tasks_[t].service == sv && !tasks_[t].shadow && live(t)) on_draining.push_back(t);
    }
  }
  std::sort(on_draining.begin(), on_draining.end());
  // Capacity-provider clusters: PROVISIONING tasks count as the service's.
  const int waiting = cp_ ? static_cast<int>(provisioning(sv, false).size()) : 0;
  auto place = [&](int n) {
    if (cp_) {
      PlaceBound(sv, false, n);
    } else {
      PlaceTasks(sv, n);
    }
  };
  int active = live_[sv] - static_cast<int>(on_draining.size()) + waiting;
  place(std::min(spec.desired - active, max_total - live_[sv] - waiting));
  bool stopped = false;
  for (uint32_t t : on_draining) {
    if (tasks_[t].state == Task::State::kStarting) {
      StopTask(t);
      stopped = true;
    } else if ((cp_ ? primary_running_[sv] : w_.metrics->Running(sv)) - 1 >= min_healthy) {
      StopTask(t);
      stopped = true;
    }
  }
  if (stopped) {
    const int still = cp_ ? static_cast<int>(provisioning(sv, false).size()) : 0;
    active = live_[sv] -
             static_cast<int>(std::count_if(on_draining.begin(), on_draining.end(), live)) + still;
    place(std::min(spec.desired - active, max_total - live_[sv] - still));
  }
  if (cp_) ScheduleShadow(sv);
}

int EcsCluster::PrimaryStarting(uint32_t sv) const { return live_[sv] - primary_running_[sv]; }

void EcsCluster::SetShadowDesired(uint32_t sv, int desired) {
  if (shadow_desired_[sv] == desired) return;
  shadow_desired_[sv] = desired;
  RequestSchedule();
}

// The shadow: desired set by the fallback, all its tasks on the on-demand
// provider; scaled in newest first (PROVISIONING ones, then placed ones).
void EcsCluster::ScheduleShadow(uint32_t sv) {
  std::vector<uint32_t>& waiting = provisioning_[sv * 2 + 1];
  const int have = shadow_live_[sv] + static_cast<int>(waiting.size());
  const int want = shadow_desired_[sv];
  PlaceBound(sv, true, std::max(0, want - have));
  int excess = shadow_live_[sv] + static_cast<int>(waiting.size()) - want;
  while (excess > 0 && !waiting.empty()) {
    const uint32_t t = waiting.back();
    RemoveProvisioning(t);
    tasks_[t].state = Task::State::kGone;
    --excess;
  }
  for (size_t k = tasks_.size(); excess > 0 && k-- > 0;) {
    const Task& task = tasks_[k];
    if (task.shadow && task.service == sv &&
        (task.state == Task::State::kStarting || task.state == Task::State::kRunning)) {
      StopTask(static_cast<uint32_t>(k));
      --excess;
    }
  }
}

// The service's strategy: each provider's base first (in the order
// listed), then the provider furthest below its weight's share.
Provider EcsCluster::Bind(uint32_t sv) const {
  const std::vector<StrategyItem>& strategy = w_.s.ecs.services[sv].capacity_provider_strategy;
  auto provider = [](const StrategyItem& item) {
    return item.provider == StrategyItem::Provider::kSpot ? kSpotProvider : kOnDemandProvider;
  };
  for (const StrategyItem& item : strategy) {
    if (bound_[sv * 2 + provider(item)] < item.base) return provider(item);
  }
  const StrategyItem* best = nullptr;
  double best_share = 0;
  for (const StrategyItem& item : strategy) {
    if (item.weight <= 0) continue;
    const double share =
        static_cast<double>(std::max(0, bound_[sv * 2 + provider(item)] - item.base)) / item.weight;
    if (!best || share < best_share) {
      best = &item;
      best_share = share;
    }
  }
  return best ? provider(*best) : kSpotProvider;
}

void EcsCluster::AddProvisioning(uint32_t t, size_t at) {
  const Task& task = tasks_[t];
  std::vector<uint32_t>& waiting = provisioning_[task.service * 2 + (task.shadow ? 1 : 0)];
  waiting.insert(waiting.begin() + static_cast<std::ptrdiff_t>(std::min(at, waiting.size())), t);
  const ServiceSpec& spec = w_.s.ecs.services[task.service];
  Demand& d = demand_[task.provider];
  d.tasks++;
  d.cpu += spec.cpu;
  d.memory += spec.memory;
}

void EcsCluster::RemoveProvisioning(uint32_t t) {
  const Task& task = tasks_[t];
  std::vector<uint32_t>& waiting = provisioning_[task.service * 2 + (task.shadow ? 1 : 0)];
  waiting.erase(std::find(waiting.begin(), waiting.end(), t));
  const ServiceSpec& spec = w_.s.ecs.services[task.service];
  Demand& d = demand_[task.provider];
  d.tasks--;
  d.cpu -= spec.cpu;
  d.memory -= spec.memory;
  if (!task.shadow) bound_[task.service * 2 + task.provider]--;
}

void EcsCluster::ProvisioningTimeout(uint32_t t) {
  if (tasks_[t].state != Task::State::kProvisioning) return;
  RemoveProvisioning(t);
  tasks_[t].state = Task::State::kGone;
  provisioning_timeouts_++;
  RequestSchedule();
}

void EcsCluster::PlaceBound(uint32_t sv, bool shadow, int n) {
  std::vector<uint32_t>& waiting = provisioning_[sv * 2 + (shadow ? 1 : 0)];
  if (waiting.empty() && n <= 0) return;
  const ServiceSpec& spec = w_.s.ecs.services[sv];
  const std::vector<uint32_t>& active = Active();
  std::vector<Host> hosts[2];
  std::vector<uint32_t> where[2];
  for (uint32_t i : active) {
    const Instance& in = w_.instances[i];
    const int p = in.pool == kOnDemandPool ? kOnDemandProvider : kSpotProvider;
    hosts[p].push_back(HostOf(w_, in, sv));
    where[p].push_back(i);
  }
  bool full[2] = {false, false};
  // Places task `t` on its provider's instances; false when none has room.
  auto place = [&](uint32_t t) {
    const int p = tasks_[t].provider;
    if (full[p]) return false;
    const int h = ChooseHost(hosts[p], spec.cpu, spec.memory, spec.strategies,
                             spec.distinct_instance, placement_random_);
    if (h < 0) {
      full[p] = true;
      return false;
    }
    Begin(t, where[p][h]);
    const Instance& in = w_.instances[where[p][h]];
    hosts[p][h].free_cpu = in.free_cpu;
    hosts[p][h].free_memory = in.free_memory;
    hosts[p][h].group_tasks = in.group_tasks[sv];
    return true;
  };
  for (size_t k = 0; k < waiting.size() && !(full[0] && full[1]);) {
    const uint32_t t = waiting[k];
    if (full[tasks_[t].provider]) {
      ++k;
      continue;
    }
    // Leaves PROVISIONING (and the provider's demand) before it starts.
    RemoveProvisioning(t);
    if (!tasks_[t].shadow) bound_[sv * 2 + tasks_[t].provider]++;
    if (place(t)) continue;  // waiting[k] is now the next one
    // No room after all: back where it was.
    AddProvisioning(t, k);
    ++k;
  }
  for (int k = 0; k < n; ++k) {
    const Provider p = shadow ? kOnDemandProvider : Bind(sv);
    const uint32_t t = static_cast<uint32_t>(tasks_.size());
    tasks_.push_back(Task{sv, kNoInstance, Task::State::kProvisioning, p, shadow, w_.now()});
    if (!shadow) bound_[sv * 2 + p]++;
    if (place(t)) continue;
    AddProvisioning(t, waiting.size());
    w_.q.Push(w_.now() + w_.s.capacity_providers.provisioning_timeout, kProvisioningTimeout, t);
  }
}

// Places up to `n` tasks of service `sv`; stops at the first that fits nowhere.
void EcsCluster::PlaceTasks(uint32_t sv, int n) {
  if (n <= 0) return;
  const ServiceSpec& spec = w_.s.ecs.services[sv];
  const std::vector<uint32_t>& active = Active();
  std::vector<Host> hosts;
  hosts.reserve(active.size());
  for (uint32_t i : active) {
    const Instance& in = w_.instances[i];
    hosts.push_back(HostOf(w_, in, sv));
  }
  for (int k = 0; k < n; ++k) {
    int h = ChooseHost(hosts, spec.cpu, spec.memory, spec.strategies, spec.distinct_instance,
                       placement_random_);
    if (h < 0) return;
    StartTask(sv, active[h]);
    const Instance& in = w_.instances[active[h]];
    hosts[h].free_cpu = in.free_cpu;
    hosts[h].free_memory = in.free_memory;
    hosts[h].group_tasks = in.group_tasks[sv];
  }
}

}  // namespace spk::sim
