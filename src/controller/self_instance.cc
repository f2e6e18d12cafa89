#include "controller/self_instance.h"

#include <chrono>

#include "base/json.h"

namespace spk::controller {
namespace {

// The string member `key`, or "" when it is absent or not a string.
std::string StringMember(const nlohmann::json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Result<TaskIdentity> ParseTaskMetadata(const std::string& body) {
  try {
    SPK_ASSIGN_OR_RETURN(nlohmann::json doc, ParseJson(body, kMaxEventBytes, "task metadata"));
    if (!doc.is_object()) return InvalidArgumentError("task metadata is not a JSON object");
    TaskIdentity identity{StringMember(doc, "Cluster"), StringMember(doc, "TaskARN")};
    if (identity.cluster.empty() || identity.task_arn.empty()) {
      return InvalidArgumentError("task metadata without the strings Cluster and TaskARN");
    }
    return identity;
  } catch (const std::exception&) {
    return InvalidArgumentError("task metadata could not be parsed");
  }
}

Result<std::string> FindOwnInstance(const std::string& metadata_uri, net::HttpTransport& http,
                                    aws::EcsClient& ecs) {
  net::HttpRequest request;
  request.url = metadata_uri + "/task";
  request.connect_timeout = std::chrono::milliseconds(2000);
  request.total_timeout = std::chrono::milliseconds(2000);
  SPK_ASSIGN_OR_RETURN(net::HttpResponse reply, http.Send(request));
  if (reply.status != 200) {
    return InvalidArgumentError("task metadata endpoint answered HTTP " +
                                std::to_string(reply.status));
  }
  SPK_ASSIGN_OR_RETURN(TaskIdentity task, ParseTaskMetadata(reply.body));
  SPK_ASSIGN_OR_RETURN(aws::TasksResult tasks, ecs.DescribeTasks(task.cluster, {task.task_arn}));
  if (tasks.tasks.empty() || tasks.tasks.front().container_instance_arn.empty()) {
    return NotFoundError("ECS knows no container instance of task " + task.task_arn);
  }
  const std::string arn = tasks.tasks.front().container_instance_arn;
  SPK_ASSIGN_OR_RETURN(aws::ContainerInstancesResult instances,
                       ecs.DescribeContainerInstances(task.cluster, {arn}));
  if (instances.container_instances.empty() ||
      instances.container_instances.front().ec2_instance_id.empty()) {
    return NotFoundError("ECS knows no EC2 instance of container instance " + arn);
  }
  return instances.container_instances.front().ec2_instance_id;
}

}  // namespace spk::controller
