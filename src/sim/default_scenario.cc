#include "sim/scenario.h"

namespace spk::sim {

// Prices: us-east-1 on-demand list prices; spot prices in the range the Spot
// Instance Advisor shows for these types (about 60-65% off). Bands: plausible
// Advisor bands for these pools, not a snapshot of today's data.
// Sized as ECS capacity providers size a cluster (managed scaling, target
// capacity 100%: no instance more than the tasks need): api, web and worker
// are the most tasks the fleet and the on-demand pair hold with every pool
// up (one step more, x1.65, leaves tasks unplaced), 96.5 of 104 vCPUs
// reserved (93%). docs/simulator.md "The default scenario"; the roomier day
// it replaced is examples/roomy-day.yaml.
const std::string& DefaultScenarioYaml() {
  static const std::string kYaml = R"(name: default-day
description: >-
  A realistic day: a 96-vCPU Spot Fleet (capacityOptimized) over six pools in three zones
  and two on-demand instances, filled the way ECS capacity providers fill a cluster (93%
  of the vCPUs reserved), five services (one on on-demand only), a mass reclaim of
  m5.xlarge us-east-1c at 10:30 after which that pool stays dry for 2 hours, and
  c5.xlarge us-east-1a running dry from 14:00 to 17:00.
seed: 42
duration: 24h
sample_interval: 5m
market:
  notice_lead: 120s
  short_notice_probability: 0.05
  short_notice_min: 30s
  rebalance_probability: 0.6
  rebalance_lead: 10m
pools:
  - {type: m5.large,  zone: us-east-1a, vcpus: 2, memory_mib: 8192,  on_demand_price: 0.096, spot_price: 0.0362, band: "<5%",    capacity: 7}
  - {type: m5.large,  zone: us-east-1b, vcpus: 2, memory_mib: 8192,  on_demand_price: 0.096, spot_price: 0.0371, band: "5-10%",  capacity: 6}
  - {type: m5.xlarge, zone: us-east-1b, vcpus: 4, memory_mib: 16384, on_demand_price: 0.192, spot_price: 0.0741, band: "<5%",    capacity: 5}
  - {type: m5.xlarge, zone: us-east-1c, vcpus: 4, memory_mib: 16384, on_demand_price: 0.192, spot_price: 0.0712, band: "10-15%", capacity: 10}
  - {type: c5.xlarge, zone: us-east-1a, vcpus: 4, memory_mib: 8192,  on_demand_price: 0.170, spot_price: 0.0655, band: "5-10%",  capacity: 6}
  - {type: r5.large,  zone: us-east-1c, vcpus: 2, memory_mib: 16384, on_demand_price: 0.126, spot_price: 0.0398, band: "15-20%", capacity: 5}
fleet:
  id: sfr-default-day
  target_capacity: 96
  allocation_strategy: capacityOptimized
  launch_delay: 90s
  retry_interval: 60s
on_demand:
  name: ecs-on-demand
  instance_type: m5.xlarge
  zone: us-east-1a
  min: 2
  max: 12
  launch_delay: 90s
  cooldown: 300s
ecs:
  cluster: prod
  registration_delay: 20s
  services:
    - name: api
      desired: 48
      cpu: 512
      memory: 1024
      start_time: 40s
      minimum_healthy_percent: 100
      maximum_percent: 200
      placement_strategy:
        - {type: spread, field: "attribute:ecs.availability-zone"}
        - {type: spread, field: instanceId}
      placement_constraints:
        - {type: memberOf, expression: "attribute:spotkeeper.lifecycle == spot"}
      load_balancer: {deregistration_delay: 30s}
    - name: web
      desired: 38
      cpu: 256
      memory: 512
      start_time: 30s
      minimum_healthy_percent: 50
      maximum_percent: 200
      placement_strategy:
        - {type: spread, field: "attribute:ecs.availability-zone"}
        - {type: binpack, field: memory}
      load_balancer: {deregistration_delay: 30s}
    - name: worker
      desired: 58
      cpu: 1024
      memory: 2048
      start_time: 20s
      minimum_healthy_percent: 50
      maximum_percent: 200
      placement_strategy:
        - {type: binpack, field: memory}
    - name: cache
      desired: 6
      cpu: 512
      memory: 4096
      start_time: 60s
      minimum_healthy_percent: 50
      maximum_percent: 150
      placement_strategy:
        - {type: spread, field: "attribute:ecs.availability-zone"}
      placement_constraints:
        - {type: distinctInstance}
    - name: billing
      desired: 4
      cpu: 512
      memory: 1024
      start_time: 45s
      minimum_healthy_percent: 50
      maximum_percent: 200
      placement_strategy:
        - {type: spread, field: instanceId}
      placement_constraints:
        - {type: memberOf, expression: "attribute:spotkeeper.lifecycle == on-demand"}
      load_balancer: {deregistration_delay: 30s}
events:
  - {at: 10h30m, kind: mass-reclaim, pool: "m5.xlarge us-east-1c", dry_for: 2h}
  - {at: 14h, kind: pool-dry, pool: "c5.xlarge us-east-1a", duration: 3h}
  - {at: 15h, kind: interruption, pool: "c5.xlarge us-east-1a", count: 2}
controller:
  notice_latency: 1s
  reconcile_interval: 60s
  on_rebalance: ignore
  settle_window: 10m
reference:
  notice_latency: 4s
  alarm_period: 60s
)";
  return kYaml;
}

}  // namespace spk::sim
