// The controller's own host: the EC2 instance its ECS task runs on, so that a
// notice for that instance is recognised (docs/controller.md, "Its own host").
//
// Found from the ECS task metadata endpoint v4 (ECS_CONTAINER_METADATA_URI_V4,
// set by the ECS agent in every task of any network mode): its `/task` reply
// names the task's cluster and ARN; ECS DescribeTasks gives the container
// instance, DescribeContainerInstances its EC2 instance id. No IMDS call: a
// bridge-mode container may not reach IMDS (hop limit).
#pragma once

#include <string>

#include "aws/ecs.h"
#include "base/status.h"
#include "net/http.h"

namespace spk::controller {

struct TaskIdentity {
  std::string cluster;  // as the endpoint gives it (a name or an ARN)
  std::string task_arn;
};

// Parses the endpoint's `/task` reply: a JSON object with non-empty string
// members "Cluster" and "TaskARN" (other members are ignored).
// kInvalidArgument, with a bounded message, for anything else (not JSON,
// larger than kMaxEventBytes, too deep, a member missing or not a string).
// Pure; never throws.
Result<TaskIdentity> ParseTaskMetadata(const std::string& body);

// GETs `metadata_uri` + "/task" (2 s timeout) and follows the task to its EC2
// instance id through `ecs`. kUnavailable / kDeadlineExceeded when the
// endpoint does not answer, kInvalidArgument for a reply that does not parse
// or a status other than 200, ECS's error when a call fails, kNotFound when
// ECS does not know the task or its container instance (e.g. Fargate).
Result<std::string> FindOwnInstance(const std::string& metadata_uri, net::HttpTransport& http,
                                    aws::EcsClient& ecs);

}  // namespace spk::controller
