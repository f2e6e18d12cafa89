// Metadata: what the instance knows about itself. The agent reads notices, the
// identity document and the lifecycle through this interface; AwsMetadata
// reads them from IMDS, FakeMetadata (fake_metadata.h) from a map.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"

namespace spk::cloud {

// Paths, relative to the metadata service root.
inline constexpr char kInstanceActionPath[] = "/latest/meta-data/spot/instance-action";
inline constexpr char kTerminationTimePath[] = "/latest/meta-data/spot/termination-time";
inline constexpr char kRebalancePath[] = "/latest/meta-data/events/recommendations/rebalance";
inline constexpr char kScheduledEventsPath[] = "/latest/meta-data/events/maintenance/scheduled";
inline constexpr char kIdentityDocumentPath[] = "/latest/dynamic/instance-identity/document";
inline constexpr char kLifecyclePath[] = "/latest/meta-data/instance-life-cycle";

class Metadata {
 public:
  virtual ~Metadata() = default;
  // The body at `path`. Errors (as aws::ImdsClient):
  //   kNotFound          the path has no value: for a notice path, no notice
  //   kUnavailable       refused, reset, 5xx, or 401 after a fresh token
  //   kDeadlineExceeded  timed out
  //   others             a reply that makes no sense (kInternal, kPermissionDenied, ...)
  // Only kNotFound means "nothing there"; every other error is an error.
  virtual Result<std::string> Get(const std::string& path) = 0;
  // Where the metadata comes from, for logs ("http://169.254.169.254").
  virtual std::string Describe() const = 0;
};

// The ECS container agent's view of this instance (its introspection API,
// GET /v1/metadata).
struct EcsAgentInfo {
  std::string cluster;
  std::string container_instance_arn;
};

class EcsAgentIntrospection {
 public:
  virtual ~EcsAgentIntrospection() = default;
  // kUnavailable/kDeadlineExceeded when the agent does not answer, kInternal
  // when its reply is not the expected JSON.
  virtual Result<EcsAgentInfo> Get() = 0;
};

}  // namespace spk::cloud
