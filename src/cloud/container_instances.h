// ContainerInstances: the ECS container-instance operations the agent makes on
// its own container instance.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "cloud/pending_call.h"

namespace spk::cloud {

class ContainerInstances {
 public:
  virtual ~ContainerInstances() = default;
  // Sets the container instance to DRAINING. Idempotent.
  virtual Status Drain(const std::string& cluster, const std::string& container_instance_arn) = 0;
  // Creates or replaces the custom attribute `name`=`value` on it.
  virtual Status PutAttribute(const std::string& cluster, const std::string& container_instance_arn,
                              const std::string& name, const std::string& value) = 0;
  // The same calls, started and left running (cloud/pending_call.h); by
  // default they run now and return a finished call.
  virtual std::unique_ptr<PendingCall> StartDrain(const std::string& cluster,
                                                  const std::string& container_instance_arn) {
    return Finished(Drain(cluster, container_instance_arn));
  }
  virtual std::unique_ptr<PendingCall> StartPutAttribute(const std::string& cluster,
                                                         const std::string& container_instance_arn,
                                                         const std::string& name,
                                                         const std::string& value) {
    return Finished(PutAttribute(cluster, container_instance_arn, name, value));
  }
};

}  // namespace spk::cloud
