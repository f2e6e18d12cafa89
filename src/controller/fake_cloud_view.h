// FakeCloudView: an in-memory CloudView for unit tests. Tests fill the
// public maps; Apply() records each action and changes the state the way AWS
// would (container status, desired capacity, terminated instances). A Status
// in `failures` under a method name ("ReadSpotFleet", "Apply", ...) makes
// that method fail with it; a text in `throws` under a method name makes it
// throw std::runtime_error with that text (for the callers' last lines).
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "controller/cloud_view.h"

namespace spk::controller {

class FakeCloudView final : public CloudView {
 public:
  std::map<std::string, SpotSourceRead> fleets;
  std::map<std::string, SpotSourceRead> ec2_fleets;
  std::map<std::string, SpotSourceRead> spot_groups;
  std::map<std::string, OnDemandGroupRead> on_demand_groups;
  std::map<std::string, int> vcpus;
  // Cluster -> the groups behind its capacity providers (none when absent).
  std::map<std::string, std::vector<CapacityProviderGroup>> capacity_providers;
  std::map<std::string, std::vector<policy::ContainerInstance>> clusters;
  std::map<std::string, Status> failures;
  std::map<std::string, std::string> throws;
  std::vector<policy::Action> applied;
  // Auto Scaling groups' pending terminate lifecycle actions (ReadLifecycleWaits);
  // a completed action's instance leaves its group's instance_ids.
  std::map<std::string, LifecycleWaits> lifecycle;
  struct LifecycleCall {
    std::string method;  // "RecordLifecycleHeartbeat" | "CompleteLifecycleAction"
    LifecycleActionRef action;
    std::string result;  // CompleteLifecycleAction's
  };
  std::vector<LifecycleCall> lifecycle_calls;
  // ECS services by cluster, then name (ReadServices, ServicesTagged, UpdateService, tags).
  std::map<std::string, std::map<std::string, ServiceRead>> services;
  // PROVISIONING tasks by cluster + "/" + service.
  std::map<std::string, std::vector<policy::ProvisioningTask>> provisioning;
  std::map<std::string, ProviderGroupRead> provider_groups;
  std::map<std::string, int> calls;  // method name -> times called
  // Called with the method's name at the start of every call (after counting
  // it): a test changes the state there as another decider would meanwhile.
  std::function<void(const std::string& method)> before;

  SpotSourceRead ReadSpotFleet(const std::string& fleet_id, PendingSource, WallTime,
                               Duration) override {
    ++calls["ReadSpotFleet"];
    if (before) before("ReadSpotFleet");
    return ReadSource(fleets, fleet_id, "ReadSpotFleet");
  }
  SpotSourceRead ReadEc2Fleet(const std::string& fleet_id) override {
    ++calls["ReadEc2Fleet"];
    if (before) before("ReadEc2Fleet");
    return ReadSource(ec2_fleets, fleet_id, "ReadEc2Fleet");
  }
  SpotSourceRead ReadSpotGroup(const std::string& group) override {
    ++calls["ReadSpotGroup"];
    if (before) before("ReadSpotGroup");
    return ReadSource(spot_groups, group, "ReadSpotGroup");
  }
  OnDemandGroupRead ReadOnDemandGroup(const std::string& group) override {
    ++calls["ReadOnDemandGroup"];
    if (before) before("ReadOnDemandGroup");
    OnDemandGroupRead out;
    out.group.name = group;
    if (Status s = Failure("ReadOnDemandGroup"); !s.ok()) {
      out.group.read_status = s;
    } else if (auto it = on_demand_groups.find(group); it != on_demand_groups.end()) {
      out = it->second;
    } else {
      out.group.read_status = NotFoundError("no group " + group);
    }
    return out;
  }
  Result<std::vector<CapacityProviderGroup>> ReadCapacityProviderGroups(
      const std::string& cluster) override {
    ++calls["ReadCapacityProviderGroups"];
    if (before) before("ReadCapacityProviderGroups");
    if (Status s = Failure("ReadCapacityProviderGroups"); !s.ok()) return s;
    auto it = capacity_providers.find(cluster);
    if (it == capacity_providers.end()) return std::vector<CapacityProviderGroup>{};
    return it->second;
  }
  Result<int> InstanceTypeVcpus(const std::string& instance_type) override {
    ++calls["InstanceTypeVcpus"];
    if (before) before("InstanceTypeVcpus");
    if (Status s = Failure("InstanceTypeVcpus"); !s.ok()) return s;
    auto it = vcpus.find(instance_type);
    if (it == vcpus.end()) return NotFoundError("no type " + instance_type);
    return it->second;
  }
  Result<std::vector<policy::ContainerInstance>> ListContainerInstances(
      const std::string& cluster) override {
    ++calls["ListContainerInstances"];
    if (before) before("ListContainerInstances");
    if (Status s = Failure("ListContainerInstances"); !s.ok()) return s;
    auto it = clusters.find(cluster);
    if (it == clusters.end()) return NotFoundError("no cluster " + cluster);
    return it->second;
  }
  Result<std::vector<policy::ContainerInstance>> DescribeContainerInstances(
      const std::string& cluster, const std::vector<std::string>& arns) override {
    ++calls["DescribeContainerInstances"];
    if (before) before("DescribeContainerInstances");
    if (Status s = Failure("DescribeContainerInstances"); !s.ok()) return s;
    std::vector<policy::ContainerInstance> out;
    for (const std::string& arn : arns) {
      if (policy::ContainerInstance* ci = Find(cluster, arn)) out.push_back(*ci);
    }
    return out;
  }
  Status Apply(const policy::Action& action) override {
    ++calls["Apply"];
    if (before) before("Apply");
    if (Status s = Failure("Apply"); !s.ok()) return s;
    applied.push_back(action);
    std::visit([&](const auto& what) { Change(what); }, action.what);
    return Status::Ok();
  }

  Status PutContainerAttributes(const std::string& cluster,
                                const std::vector<ContainerAttribute>& attributes) override {
    ++calls["PutContainerAttributes"];
    if (before) before("PutContainerAttributes");
    if (Status s = Failure("PutContainerAttributes"); !s.ok()) return s;
    for (const ContainerAttribute& a : attributes) {
      if (policy::ContainerInstance* ci = Find(cluster, a.arn)) ci->attributes[a.name] = a.value;
    }
    return Status::Ok();
  }

  Status DeleteContainerAttributes(const std::string& cluster,
                                   const std::vector<ContainerAttribute>& attributes) override {
    ++calls["DeleteContainerAttributes"];
    if (before) before("DeleteContainerAttributes");
    if (Status s = Failure("DeleteContainerAttributes"); !s.ok()) return s;
    for (const ContainerAttribute& a : attributes) {
      if (policy::ContainerInstance* ci = Find(cluster, a.arn)) ci->attributes.erase(a.name);
    }
    return Status::Ok();
  }
  Status SetGroupTags(const std::string& group,
                      const std::map<std::string, std::string>& tags) override {
    ++calls["SetGroupTags"];
    if (before) before("SetGroupTags");
    if (Status s = Failure("SetGroupTags"); !s.ok()) return s;
    auto it = on_demand_groups.find(group);
    if (it == on_demand_groups.end()) return NotFoundError("no group " + group);
    for (const auto& [key, value] : tags) it->second.tags[key] = value;
    return Status::Ok();
  }
  Status DeleteGroupTags(const std::string& group, const std::vector<std::string>& keys) override {
    ++calls["DeleteGroupTags"];
    if (before) before("DeleteGroupTags");
    if (Status s = Failure("DeleteGroupTags"); !s.ok()) return s;
    auto it = on_demand_groups.find(group);
    if (it == on_demand_groups.end()) return NotFoundError("no group " + group);
    for (const std::string& key : keys) it->second.tags.erase(key);
    return Status::Ok();
  }

  Result<LifecycleWaits> ReadLifecycleWaits(const std::string& group) override {
    ++calls["ReadLifecycleWaits"];
    if (before) before("ReadLifecycleWaits");
    if (Status s = Failure("ReadLifecycleWaits"); !s.ok()) return s;
    auto it = lifecycle.find(group);
    return it == lifecycle.end() ? LifecycleWaits{} : it->second;
  }
  Status RecordLifecycleHeartbeat(const LifecycleActionRef& action) override {
    return LifecycleCallOf("RecordLifecycleHeartbeat", action, "");
  }
  Status CompleteLifecycleAction(const LifecycleActionRef& action,
                                 const std::string& result) override {
    Status s = LifecycleCallOf("CompleteLifecycleAction", action, result);
    if (s.ok()) {
      LifecycleWaits& waits = lifecycle[action.group];
      std::erase(waits.instance_ids, action.instance_id);
      std::erase_if(waits.launching, [&](const LaunchingInstance& l) {
        return l.instance_id == action.instance_id;
      });
    }
    return s;
  }

  Result<std::vector<ServiceRead>> ReadServices(const std::string& cluster,
                                                const std::vector<std::string>& names) override {
    ++calls["ReadServices"];
    if (before) before("ReadServices");
    if (Status s = Failure("ReadServices"); !s.ok()) return s;
    std::vector<ServiceRead> out;
    for (const std::string& name : names) {
      auto c = services.find(cluster);
      if (c == services.end()) continue;
      if (auto it = c->second.find(name); it != c->second.end()) out.push_back(it->second);
    }
    return out;
  }
  Result<std::map<std::string, std::string>> ServicesTagged(const std::string& cluster,
                                                            const std::string& tag) override {
    ++calls["ServicesTagged"];
    if (before) before("ServicesTagged");
    if (Status s = Failure("ServicesTagged"); !s.ok()) return s;
    std::map<std::string, std::string> out;
    for (const auto& [name, service] : services[cluster]) {
      if (auto it = service.tags.find(tag); it != service.tags.end()) out[name] = it->second;
    }
    return out;
  }
  Result<std::vector<policy::ProvisioningTask>> ProvisioningTasks(
      const std::string& cluster, const std::string& service) override {
    ++calls["ProvisioningTasks"];
    if (before) before("ProvisioningTasks");
    if (Status s = Failure("ProvisioningTasks"); !s.ok()) return s;
    return provisioning[cluster + "/" + service];
  }
  Result<ProviderGroupRead> ReadProviderGroup(const std::string& group) override {
    ++calls["ReadProviderGroup"];
    if (before) before("ReadProviderGroup");
    if (Status s = Failure("ReadProviderGroup"); !s.ok()) return s;
    auto it = provider_groups.find(group);
    if (it == provider_groups.end()) return NotFoundError("no group " + group);
    return it->second;
  }
  Status UpdateService(const std::string& cluster, const std::string& service, int desired,
                       const std::string& task_definition) override {
    ++calls["UpdateService"];
    if (before) before("UpdateService");
    if (Status s = Failure("UpdateService"); !s.ok()) return s;
    auto it = services[cluster].find(service);
    if (it == services[cluster].end()) return NotFoundError("no service " + service);
    it->second.desired = desired;
    if (!task_definition.empty()) it->second.task_definition = task_definition;
    return Status::Ok();
  }
  Status SetServiceTags(const std::string& arn,
                        const std::map<std::string, std::string>& tags) override {
    ++calls["SetServiceTags"];
    if (before) before("SetServiceTags");
    if (Status s = Failure("SetServiceTags"); !s.ok()) return s;
    ServiceRead* service = ServiceByArn(arn);
    if (!service) return NotFoundError("no service " + arn);
    for (const auto& [key, value] : tags) service->tags[key] = value;
    return Status::Ok();
  }
  Status DeleteServiceTags(const std::string& arn, const std::vector<std::string>& keys) override {
    ++calls["DeleteServiceTags"];
    if (before) before("DeleteServiceTags");
    if (Status s = Failure("DeleteServiceTags"); !s.ok()) return s;
    ServiceRead* service = ServiceByArn(arn);
    if (!service) return NotFoundError("no service " + arn);
    for (const std::string& key : keys) service->tags.erase(key);
    return Status::Ok();
  }
  ServiceRead* ServiceByArn(const std::string& arn) {
    for (auto& [cluster, by_name] : services) {
      for (auto& [name, service] : by_name) {
        if (service.arn == arn) return &service;
      }
    }
    return nullptr;
  }

  policy::ContainerInstance* Find(const std::string& cluster, const std::string& arn) {
    for (policy::ContainerInstance& ci : clusters[cluster]) {
      if (ci.arn == arn) return &ci;
    }
    return nullptr;
  }

 private:
  // Records the call; kInvalidArgument (as AWS) when the instance has no
  // pending action in the group.
  Status LifecycleCallOf(const std::string& method, const LifecycleActionRef& action,
                         const std::string& result) {
    ++calls[method];
    if (before) before(method);
    if (Status s = Failure(method); !s.ok()) return s;
    lifecycle_calls.push_back({method, action, result});
    const LifecycleWaits& waits = lifecycle[action.group];
    const bool terminating = std::find(waits.instance_ids.begin(), waits.instance_ids.end(),
                                       action.instance_id) != waits.instance_ids.end();
    const bool launching = std::any_of(
        waits.launching.begin(), waits.launching.end(),
        [&](const LaunchingInstance& l) { return l.instance_id == action.instance_id; });
    if (!terminating && !launching) {
      return InvalidArgumentError("No active Lifecycle Action found with instance ID " +
                                  action.instance_id);
    }
    return Status::Ok();
  }
  Status Failure(const std::string& method) const {
    if (auto t = throws.find(method); t != throws.end()) throw std::runtime_error(t->second);
    auto it = failures.find(method);
    return it == failures.end() ? Status::Ok() : it->second;
  }
  SpotSourceRead ReadSource(const std::map<std::string, SpotSourceRead>& sources,
                            const std::string& id, const std::string& method) const {
    SpotSourceRead out;
    out.source.id = id;
    if (Status s = Failure(method); !s.ok()) {
      out.source.read_status = s;
    } else if (auto it = sources.find(id); it != sources.end()) {
      out = it->second;
    } else {
      out.source.read_status = NotFoundError("no source " + id);
    }
    return out;
  }
  void SetStatus(const std::string& cluster, const std::vector<std::string>& arns,
                 policy::ContainerStatus status) {
    for (const std::string& arn : arns) {
      if (policy::ContainerInstance* ci = Find(cluster, arn)) ci->status = status;
    }
  }
  void Change(const policy::DrainContainerInstances& what) {
    SetStatus(what.cluster, what.container_instance_arns, policy::ContainerStatus::kDraining);
  }
  void Change(const policy::ActivateContainerInstances& what) {
    SetStatus(what.cluster, what.container_instance_arns, policy::ContainerStatus::kActive);
  }
  void Change(const policy::SetDesiredCapacity& what) {
    if (auto it = on_demand_groups.find(what.group); it != on_demand_groups.end()) {
      it->second.group.desired_capacity = what.desired;
    }
  }
  void Change(const policy::TerminateInstance& what) {
    for (auto& [name, read] : on_demand_groups) {
      auto& instances = read.group.instances;
      auto it = std::find_if(instances.begin(), instances.end(),
                             [&](const auto& i) { return i.instance_id == what.instance_id; });
      if (it == instances.end()) continue;
      instances.erase(it);
      if (what.decrement_desired) --read.group.desired_capacity;
    }
  }
};

}  // namespace spk::controller
