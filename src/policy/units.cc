#include "policy/units.h"

#include <cmath>

namespace spk::policy {

Result<double> LostUnits(const std::map<std::string, double>& weights,
                         const std::string& instance_type, std::optional<int> vcpus) {
  if (auto it = weights.find(instance_type); it != weights.end()) {
    if (!(it->second > 0)) {
      return InvalidArgumentError("weight of " + instance_type + " is not positive");
    }
    return it->second;
  }
  if (vcpus) {
    if (*vcpus <= 0) return InvalidArgumentError("vCPUs of " + instance_type + " not positive");
    return static_cast<double>(*vcpus);
  }
  return NotFoundError("no weight and no vCPU count known for instance type \"" + instance_type +
                       "\"");
}

int InstancesToCover(double units, double units_per_instance) {
  if (!(units > 0)) return 0;
  double ratio = units / units_per_instance;
  return static_cast<int>(std::ceil(ratio - ratio * 1e-9));
}

}  // namespace spk::policy
