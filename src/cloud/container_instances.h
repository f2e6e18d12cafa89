// ContainerInstances: the ECS container-instance operations the agent makes on
// its own container instance.
#pragma once

#include <string>

#include "base/status.h"

namespace spk::cloud {

class ContainerInstances {
 public:
  virtual ~ContainerInstances() = default;
  // Sets the container instance to DRAINING. Idempotent.
  virtual Status Drain(const std::string& cluster, const std::string& container_instance_arn) = 0;
  // Creates or replaces the custom attribute `name`=`value` on it.
  virtual Status PutAttribute(const std::string& cluster, const std::string& container_instance_arn,
                              const std::string& name, const std::string& value) = 0;
};

}  // namespace spk::cloud
