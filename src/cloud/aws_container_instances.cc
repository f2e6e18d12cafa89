#include "cloud/aws_container_instances.h"

namespace spk::cloud {

Status AwsContainerInstances::Drain(const std::string& cluster,
                                    const std::string& container_instance_arn) {
  auto r = ecs_.UpdateContainerInstancesState(cluster, {container_instance_arn}, "DRAINING");
  if (!r.ok()) return r.status();
  if (!r->failures.empty()) {
    return NotFoundError("ECS UpdateContainerInstancesState " + container_instance_arn + ": " +
                         r->failures[0].reason + " " + r->failures[0].detail);
  }
  return Status::Ok();
}

Status AwsContainerInstances::PutAttribute(const std::string& cluster,
                                           const std::string& container_instance_arn,
                                           const std::string& name, const std::string& value) {
  return ecs_.PutAttributes(cluster, {{name, value, "", container_instance_arn}});
}

}  // namespace spk::cloud
