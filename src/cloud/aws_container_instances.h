// ContainerInstances over the ECS API (aws::EcsClient).
#pragma once

#include "aws/ecs.h"
#include "cloud/container_instances.h"

namespace spk::cloud {

class AwsContainerInstances final : public ContainerInstances {
 public:
  // `client` must outlive this object.
  explicit AwsContainerInstances(aws::AwsClient& client) : ecs_(client) {}
  // A per-instance failure ECS reports (e.g. MISSING) is kNotFound.
  Status Drain(const std::string& cluster, const std::string& container_instance_arn) override;
  Status PutAttribute(const std::string& cluster, const std::string& container_instance_arn,
                      const std::string& name, const std::string& value) override;

 private:
  aws::EcsClient ecs_;
};

}  // namespace spk::cloud
