// The in-memory world the controller's unit tests and the Lambda fuzz harness
// share: Spot Fleet "sfr-1" (target = fulfilled = 16; c5.2xlarge weight 8,
// c5.xlarge 4) whose c5.2xlarge instances i-spot1 and i-spot2 are the
// container instances kExampleArn (3 tasks) and "arn:c2" (2 tasks) of cluster
// "web"; an empty on-demand group "od" of m5.xlarge (4 vCPUs), min 0, max 10;
// and a ControllerConfig naming the three.
#pragma once

#include "controller/fake_cloud_view.h"
#include "controller/handler.h"

namespace spk::controller {

inline constexpr const char* kExampleArn = "arn:aws:ecs:us-east-1:1:container-instance/web/c1";

inline void FillExampleWorld(FakeCloudView& cloud, ControllerConfig& config) {
  SpotSourceRead fleet;
  fleet.source.id = "sfr-1";
  fleet.source.target_capacity = 16;
  fleet.source.fulfilled_capacity = 16;
  fleet.source.weights = {{"c5.2xlarge", 8}, {"c5.xlarge", 4}};
  fleet.source.instance_ids = {"i-spot1", "i-spot2"};
  fleet.instance_types = {{"i-spot1", "c5.2xlarge"}, {"i-spot2", "c5.2xlarge"}};
  cloud.fleets["sfr-1"] = fleet;
  OnDemandGroupRead od;
  od.group.name = "od";
  od.group.min_size = 0;
  od.group.max_size = 10;
  od.instance_type = "m5.xlarge";
  od.instance_type_source = "launch configuration od-lc";
  cloud.on_demand_groups["od"] = od;
  cloud.vcpus = {{"m5.xlarge", 4}, {"c5.2xlarge", 8}};
  cloud.clusters["web"] = {{"web", kExampleArn, "i-spot1", policy::ContainerStatus::kActive, 3, 0},
                           {"web", "arn:c2", "i-spot2", policy::ContainerStatus::kActive, 2, 0}};
  config.clusters = {"web"};
  config.spot_fleet_ids = {"sfr-1"};
  config.on_demand_asg = "od";
}

}  // namespace spk::controller
