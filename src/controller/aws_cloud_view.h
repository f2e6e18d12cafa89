// AwsCloudView: CloudView over the typed AWS clients (EC2, Auto Scaling,
// CloudWatch, ECS). Stateless apart from a cache of instance-type vCPUs.
// Not thread-safe (the cache); use one per thread.
#pragma once

#include <map>
#include <string>

#include "aws/autoscaling.h"
#include "aws/client.h"
#include "aws/cloudwatch.h"
#include "aws/ec2.h"
#include "aws/ecs.h"
#include "controller/cloud_view.h"

namespace spk::controller {

class AwsCloudView final : public CloudView {
 public:
  // `client` must outlive this object.
  explicit AwsCloudView(aws::AwsClient& client)
      : ec2_(client), autoscaling_(client), cloudwatch_(client), ecs_(client) {}

  SpotSourceRead ReadSpotFleet(const std::string& fleet_id, PendingSource pending, WallTime now,
                               Duration guard_window) override;
  SpotSourceRead ReadEc2Fleet(const std::string& fleet_id) override;
  SpotSourceRead ReadSpotGroup(const std::string& group) override;
  OnDemandGroupRead ReadOnDemandGroup(const std::string& group) override;
  Result<std::vector<CapacityProviderGroup>> ReadCapacityProviderGroups(
      const std::string& cluster) override;
  Result<int> InstanceTypeVcpus(const std::string& instance_type) override;
  Result<std::vector<policy::ContainerInstance>> ListContainerInstances(
      const std::string& cluster) override;
  Result<std::vector<policy::ContainerInstance>> DescribeContainerInstances(
      const std::string& cluster, const std::vector<std::string>& arns) override;
  Status Apply(const policy::Action& action) override;
  Status PutContainerAttributes(const std::string& cluster,
                                const std::vector<ContainerAttribute>& attributes) override;
  Status DeleteContainerAttributes(const std::string& cluster,
                                   const std::vector<ContainerAttribute>& attributes) override;
  Status SetGroupTags(const std::string& group,
                      const std::map<std::string, std::string>& tags) override;
  Status DeleteGroupTags(const std::string& group, const std::vector<std::string>& keys) override;
  Result<LifecycleWaits> ReadLifecycleWaits(const std::string& group) override;
  Status RecordLifecycleHeartbeat(const LifecycleActionRef& action) override;
  Status CompleteLifecycleAction(const LifecycleActionRef& action,
                                 const std::string& result) override;
  Result<std::vector<ServiceRead>> ReadServices(const std::string& cluster,
                                                const std::vector<std::string>& names) override;
  Result<std::map<std::string, std::string>> ServicesTagged(const std::string& cluster,
                                                            const std::string& tag) override;
  Result<std::vector<policy::ProvisioningTask>> ProvisioningTasks(
      const std::string& cluster, const std::string& service) override;
  Result<ProviderGroupRead> ReadProviderGroup(const std::string& group) override;
  Status UpdateService(const std::string& cluster, const std::string& service, int desired,
                       const std::string& task_definition) override;
  Status SetServiceTags(const std::string& arn,
                        const std::map<std::string, std::string>& tags) override;
  Status DeleteServiceTags(const std::string& arn, const std::vector<std::string>& keys) override;

 private:
  Status ReadFleetMetrics(const std::string& fleet_id, WallTime now, Duration guard_window,
                          policy::SpotCapacitySource* source);
  Result<std::vector<aws::Datapoint>> FleetMetric(const std::string& fleet_id,
                                                  const std::string& metric, WallTime start,
                                                  WallTime end);
  // What a group without instances would launch: its first mixed-instances
  // override, else its launch template's type, else its launch
  // configuration's; sets out->instance_type and instance_type_source.
  void ReadLaunchedType(const aws::AutoScalingGroup& asg, OnDemandGroupRead* out);
  Result<std::string> LaunchConfigurationType(const std::string& name);
  Status SetContainerState(const std::string& cluster, const std::vector<std::string>& arns,
                           const std::string& state);

  aws::Ec2Client ec2_;
  aws::AutoScalingClient autoscaling_;
  aws::CloudWatchClient cloudwatch_;
  aws::EcsClient ecs_;
  std::map<std::string, int> vcpus_;
};

}  // namespace spk::controller
