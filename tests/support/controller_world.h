// The controller's world in moto, for integration tests: a weighted Spot
// Fleet or EC2 Fleet, an ECS cluster whose container instances are EC2 instances, an
// on-demand Auto Scaling group, AWS/EC2Spot metrics (moto has none built in:
// put with PutMetricData), SQS queues and SNS topics.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "aws/client.h"
#include "aws/ec2.h"
#include "support/moto_server.h"

namespace spk::testsupport {

class ControllerWorld {
 public:
  explicit ControllerWorld(aws::AwsClient& client) : client_(client) {}

  // "prefix-N", unique in the process.
  static std::string Unique(const std::string& prefix);
  // The environment a spotkeeper process talking to `server` gets.
  static std::map<std::string, std::string> ProcessEnv(const MotoServer& server);

  // A weighted fleet (c5.4xlarge weight 16, m5.large weight 2), target 16; its id.
  std::string MakeFleet();
  // A fleet of one instance type of weight `weight`, target `target`; its id.
  std::string MakeUniformFleet(const std::string& type, int weight, int target);
  std::vector<aws::SpotFleetInstance> FleetInstances(const std::string& fleet);
  // An EC2 Fleet (maintain, spot) over one launch template with `overrides`
  // (instance type, weight), total target `target`; its id. moto launches the
  // first override only, and reports at least `target` fulfilled.
  std::string MakeEc2Fleet(const std::vector<std::pair<std::string, int>>& overrides, int target);
  // `count` plain instances of `type`; their ids.
  std::vector<std::string> RunInstances(int count, const std::string& type = "m5.large");
  // The cluster, with a container instance registered for each instance: id -> ARN.
  std::map<std::string, std::string> MakeCluster(const std::string& cluster,
                                                 const std::vector<std::string>& instances);
  // An on-demand group of m5.xlarge (4 vCPUs; launch template, $Latest), min 0,
  // max 10, desired `desired`.
  std::string MakeOnDemandGroup(int desired = 1);
  // The Auto Scaling group's ARN ("" when it cannot be read).
  std::string GroupArn(const std::string& group);
  // A capacity provider over `group` (managed scaling ENABLED or DISABLED),
  // put on `cluster` beside FARGATE; returns its name.
  std::string MakeCapacityProvider(const std::string& cluster, const std::string& group,
                                   bool managed_scaling);
  // The reference's on-demand group: `group` on the launch configuration
  // `launch_configuration` of `type`, min 0, max 10, desired 0 (no instance
  // to read the type from).
  void MakeLaunchConfigurationGroup(const std::string& group,
                                    const std::string& launch_configuration,
                                    const std::string& type);
  // A launch template "prefix-N" of `type`; its name.
  std::string MakeLaunchTemplate(const std::string& prefix, const std::string& type);
  void PutFleetMetrics(const std::string& fleet, double pending, double target);
  // A queue (VisibilityTimeout `visibility_s`); its URL, and its ARN in *arn.
  std::string MakeQueue(int visibility_s, std::string* arn = nullptr);
  // A topic that delivers to the queue `queue_arn`; its ARN.
  std::string MakeTopicFor(const std::string& queue_arn);

  std::string ContainerStatus(const std::string& cluster, const std::string& arn);
  int64_t Desired(const std::string& group);

 private:
  aws::AwsClient& client_;
};

// A suite over one moto_server, started once for the suite (server_ is null
// when it could not start: SetUp then fails the test), and a fresh client and
// ControllerWorld for each test.
class ControllerWorldTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;
  aws::AwsClient& client() { return moto_->client; }

  static MotoServer* server_;
  std::unique_ptr<MotoClient> moto_;
  std::unique_ptr<ControllerWorld> world_;
};

// The agent's message (the reference notifier's) for a spot interruption of
// `instance`; `type` "" leaves instanceType out.
std::string AgentMessage(const std::string& instance, const std::string& type,
                         const std::string& cluster, const std::string& arn);

// The reference Lambda's number (its formula, reference_policy.h): the
// modifier from the type's name, int((pending + modifier) / 4 + 0.999999).
int ReferenceInstancesRequired(double pending, const std::string& type);

}  // namespace spk::testsupport
