#include "sim/ecs_cluster.h"

#include <algorithm>

#include "sim/load_balancer.h"
#include "sim/metrics.h"
#include "sim/placement.h"

namespace spk::sim {

EcsCluster::EcsCluster(World& w)
    : w_(w), placement_random_(w.s.seed * 4 + 1), live_(w.s.ecs.services.size(), 0) {}

void EcsCluster::WarmStart() {
  for (uint32_t sv = 0; sv < live_.size(); ++sv) PlaceTasks(sv, w_.s.ecs.services[sv].desired);
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
      if (task.state == Task::State::kRunning) w_.metrics->ChangeRunning(task.service, -1);
      live_[task.service]--;
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
  const ServiceSpec& spec = w_.s.ecs.services[service];
  Instance& in = w_.instances[instance];
  in.free_cpu -= spec.cpu;
  in.free_memory -= spec.memory;
  in.group_tasks[service]++;
  uint32_t t = static_cast<uint32_t>(tasks_.size());
  tasks_.push_back(Task{service, instance, Task::State::kStarting});
  in.tasks.push_back(t);
  in.starting_tasks++;
  live_[service]++;
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
  w_.lb->Register(t, task.service);
  RequestSchedule();  // a draining task may now be stopped
}

void EcsCluster::StopTask(uint32_t t) {
  Task& task = tasks_[t];
  const bool running = task.state == Task::State::kRunning;
  if (running) {
    w_.metrics->ChangeRunning(task.service, -1);
  } else if (task.state != Task::State::kStarting) {
    return;
  } else {
    w_.instances[task.instance].starting_tasks--;
  }
  live_[task.service]--;
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
      if (tasks_[t].service == sv && live(t)) on_draining.push_back(t);
    }
  }
  std::sort(on_draining.begin(), on_draining.end());
  int active = live_[sv] - static_cast<int>(on_draining.size());
  PlaceTasks(sv, std::min(spec.desired - active, max_total - live_[sv]));
  bool stopped = false;
  for (uint32_t t : on_draining) {
    if (tasks_[t].state == Task::State::kStarting) {
      StopTask(t);
      stopped = true;
    } else if (w_.metrics->Running(sv) - 1 >= min_healthy) {
      StopTask(t);
      stopped = true;
    }
  }
  if (stopped) {
    active =
        live_[sv] - static_cast<int>(std::count_if(on_draining.begin(), on_draining.end(), live));
    PlaceTasks(sv, std::min(spec.desired - active, max_total - live_[sv]));
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
    hosts.push_back(
        Host{in.id,
             {w_.TypeOf(in), w_.ZoneOf(in), in.pool == kOnDemandPool ? "on-demand" : "spot"},
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
    const Instance& in = w_.instances[active[h]];
    hosts[h].free_cpu = in.free_cpu;
    hosts[h].free_memory = in.free_memory;
    hosts[h].group_tasks = in.group_tasks[sv];
  }
}

}  // namespace spk::sim
