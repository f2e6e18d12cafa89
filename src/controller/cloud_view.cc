#include "controller/cloud_view.h"

namespace spk::controller {

const char* PendingSourceName(PendingSource source) {
  return source == PendingSource::kApi ? "api" : "cloudwatch";
}

Result<PendingSource> ParsePendingSource(const std::string& text) {
  if (text == "api") return PendingSource::kApi;
  if (text == "cloudwatch") return PendingSource::kCloudWatch;
  return InvalidArgumentError("pending source must be api or cloudwatch, not \"" + text + "\"");
}

void FindCapacityProviderOwner(CloudView& cloud, const std::vector<std::string>& clusters,
                               OnDemandGroupRead* read) {
  policy::OnDemandGroup& group = read->group;
  if (!group.read_status.ok()) return;
  for (const std::string& cluster : clusters) {
    auto groups = cloud.ReadCapacityProviderGroups(cluster);
    if (!groups.ok()) {
      group.read_status = groups.status().WithContext(
          "capacity providers of cluster " + cluster +
          " (whether ECS managed scaling sizes the group)");
      return;
    }
    for (const CapacityProviderGroup& owner : *groups) {
      if (owner.managed_scaling && owner.group == group.name) {
        group.managed_by_capacity_provider = owner.provider;
        return;
      }
    }
  }
}

void ResolveOnDemandUnits(CloudView& cloud, std::optional<double> configured,
                          OnDemandGroupRead* read) {
  policy::OnDemandGroup& group = read->group;
  if (!group.read_status.ok()) return;
  if (configured) {
    group.units_source = "from the on-demand-units setting";
    return;
  }
  if (read->instance_type.empty()) {
    group.units_source = "instance type unknown: " + read->instance_type_source;
    return;
  }
  const std::string& source = read->instance_type_source;
  const std::string type = (source.empty() ? "" : source + ": ") + read->instance_type;
  auto vcpus = cloud.InstanceTypeVcpus(read->instance_type);
  if (!vcpus.ok()) {
    group.units_source = type + ", vCPUs unknown: " + vcpus.status().message();
    return;
  }
  group.units_per_instance = *vcpus;
  group.units_source = type + ", " + std::to_string(*vcpus) + " vCPUs";
}

}  // namespace spk::controller
