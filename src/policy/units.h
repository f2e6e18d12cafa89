// Capacity units: how much capacity an instance provides, and how many
// on-demand instances cover a number of units.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "base/status.h"

namespace spk::policy {

// The units an instance of `instance_type` provides to a source: its weight in
// `weights` when present, else its vCPU count when known (DescribeInstanceTypes).
// Never guessed from the size name (the reference: 2xlarge=8, xlarge=4, else 2).
// Fails with kNotFound when neither is known, kInvalidArgument for a weight or
// vCPU count <= 0.
Result<double> LostUnits(const std::map<std::string, double>& weights,
                         const std::string& instance_type, std::optional<int> vcpus);

// Instances of `units_per_instance` needed to cover `units`: ceil(units / per),
// 0 for units <= 0. A relative tolerance of 1e-9 absorbs floating-point noise
// from fractional weights (3 x 0.1 units over 0.3 per instance is 1, not 2).
// REQUIRES: units_per_instance > 0.
int InstancesToCover(double units, double units_per_instance);

}  // namespace spk::policy
