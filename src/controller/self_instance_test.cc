#include "controller/self_instance.h"

#include <gtest/gtest.h>

#include <string>

namespace spk::controller {
namespace {

TEST(ParseTaskMetadataTest, ReadsClusterAndTaskArn) {
  // An abridged reply of the ECS task metadata endpoint v4 (/task).
  const std::string body = R"({
    "Cluster": "arn:aws:ecs:us-east-1:123456789012:cluster/web",
    "TaskARN": "arn:aws:ecs:us-east-1:123456789012:task/web/0123456789abcdef",
    "Family": "spk-controller", "Revision": "3", "DesiredStatus": "RUNNING",
    "AvailabilityZone": "us-east-1a", "LaunchType": "EC2",
    "Containers": [{"Name": "controller"}]})";
  auto task = ParseTaskMetadata(body);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->cluster, "arn:aws:ecs:us-east-1:123456789012:cluster/web");
  EXPECT_EQ(task->task_arn, "arn:aws:ecs:us-east-1:123456789012:task/web/0123456789abcdef");
}

TEST(ParseTaskMetadataTest, RefusesAnythingElse) {
  for (const char* bad :
       {"", "not json", "[]", "{}", R"({"Cluster": "web"})", R"({"TaskARN": "t"})",
        R"({"Cluster": 1, "TaskARN": "t"})", R"({"Cluster": "web", "TaskARN": ""})",
        R"({"Cluster": "web", "TaskARN": ["t"]})"}) {
    auto task = ParseTaskMetadata(bad);
    EXPECT_FALSE(task.ok()) << bad;
    EXPECT_EQ(task.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(ParseTaskMetadata(std::string(300000, ' ') + "{}").ok());
  EXPECT_FALSE(ParseTaskMetadata(std::string(10000, '[') + std::string(10000, ']')).ok());
}

}  // namespace
}  // namespace spk::controller
