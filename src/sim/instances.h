// EC2: an instance's life, launched by a capacity source (the Spot Fleet or
// the Auto Scaling group), booting, registered with ECS, terminated; on each
// step it tells the models that hold it.
#pragma once

#include <cstdint>

#include "sim/world.h"

namespace spk::sim {

class Ec2 {
 public:
  explicit Ec2(World& w) : w_(w) {}

  // Launches an instance in `pool` (kOnDemandPool: the group's type and zone).
  // During the warm start it is at once running and registered; otherwise it
  // boots after the source's launch delay. Returns its index.
  uint32_t Launch(int pool);
  // kInstanceBooted: running (InService to a group); registers with ECS
  // after the registration delay.
  void Booted(uint32_t index);
  // kTerminate, or a capacity source's scale-in: its tasks are lost.
  void Terminate(uint32_t index);

 private:
  World& w_;
};

}  // namespace spk::sim
