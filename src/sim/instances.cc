#include "sim/instances.h"

#include <utility>

#include "sim/asg.h"
#include "sim/capacity_source.h"
#include "sim/ecs_cluster.h"
#include "sim/market.h"
#include "sim/metrics.h"

namespace spk::sim {

uint32_t Ec2::Launch(int pool) {
  const Scenario& s = w_.s;
  const bool on_demand = pool == kOnDemandPool;
  uint32_t index = static_cast<uint32_t>(w_.instances.size());
  Instance in;
  in.id = World::InstanceId(index);
  in.arn = "arn:aws:ecs:us-east-1:000000000000:container-instance/" + s.ecs.cluster + "/" + in.id;
  in.pool = pool;
  int vcpus = on_demand ? s.on_demand.vcpus : s.pools[pool].vcpus;
  int memory = on_demand ? s.on_demand.memory_mib : s.pools[pool].memory_mib;
  in.free_cpu = vcpus * 1024;
  in.free_memory = static_cast<int>(memory * (1.0 - s.ecs.reserved_memory_fraction));
  in.units = on_demand ? s.on_demand.units : s.fleet.weights.at(s.pools[pool].instance_type);
  in.launched = w_.now();
  in.group_tasks.assign(s.ecs.services.size(), 0);
  w_.instances.push_back(std::move(in));
  w_.metrics->InstanceLaunched(pool);
  if (on_demand) {
    w_.asg->Added(index);
  } else {
    w_.fleet->Added(index);
    w_.market->ScheduleInterruption(index);
  }
  if (w_.warm) {
    Booted(index);
    w_.ecs->Registered(index);
  } else {
    w_.q.Push(w_.now() + (on_demand ? s.on_demand.launch_delay : s.fleet.launch_delay),
              kInstanceBooted, index);
  }
  return index;
}

void Ec2::Booted(uint32_t index) {
  Instance& in = w_.instances[index];
  if (in.state != Instance::State::kBooting) return;
  in.state = Instance::State::kRunning;
  w_.metrics->ChangeUnitsInService(in.units);
  if (!w_.warm) w_.q.Push(w_.now() + w_.s.ecs.registration_delay, kInstanceRegistered, index);
  if (in.pool != kOnDemandPool) w_.fleet->InService(index);
}

void Ec2::Terminate(uint32_t index) {
  Instance& in = w_.instances[index];
  if (in.state == Instance::State::kTerminated) return;
  w_.ecs->InstanceLost(index);
  if (in.state == Instance::State::kRunning) w_.metrics->ChangeUnitsInService(-in.units);
  in.state = Instance::State::kTerminated;
  w_.ecs->Deregister(index);
  w_.metrics->InstanceTerminated(in.pool);
  if (in.pool == kOnDemandPool) {
    w_.asg->Removed(index);
  } else {
    w_.fleet->Removed(index);
  }
  w_.ecs->RequestSchedule();
}

}  // namespace spk::sim
