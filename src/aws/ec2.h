// Ec2Client: the EC2 calls spotkeeper makes (query protocol, Version
// 2016-11-15, replies <ActionResponse xmlns=...> with lists as <item>).
// Shapes checked against botocore's ec2/2016-11-15 model.
//
// Every call returns the AwsClient's Status on failure (error.h mapping: e.g.
// kNotFound for InvalidInstanceID.NotFound, kUnauthenticated for AuthFailure),
// or kInternal when a reply lacks a field spotkeeper decides on. Listing calls
// follow nextToken to the end. Thread-safe (as AwsClient).
//
// moto_server gaps (tests): fleets are fulfilled at once (an EC2 Fleet's
// fulfilledCapacity is at least its target, whatever its weights); DescribeSpotPriceHistory
// answers constants and ignores MaxResults; the `instance-lifecycle` filter
// answers 500, so tell spot from on-demand by Instance::lifecycle instead.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "aws/client.h"
#include "base/clock.h"
#include "base/status.h"

namespace spk::aws {

// One way a spot fleet may launch: a launch specification, or an override of a
// launch template config (a Spot Fleet's or an EC2 Fleet's). Capacity units
// per instance are `weighted_capacity` (absent: 1 unit, as EC2 counts it).
struct SpotFleetSlot {
  std::string instance_type;
  std::optional<double> weighted_capacity;
  std::string subnet_id;
  std::string availability_zone;
  std::string spot_price;  // max price (an EC2 Fleet's maxPrice), "" when not set
  std::optional<double> priority;
};

struct SpotFleetTemplateConfig {
  std::string launch_template_id;
  std::string launch_template_name;
  std::string version;
  std::vector<SpotFleetSlot> overrides;
};

struct SpotFleetRequest {
  std::string id;  // "sfr-..."
  std::string
      state;  // submitted|active|cancelled|failed|cancelled_running|cancelled_terminating|modifying
  std::string
      activity_status;  // error|pending_fulfillment|pending_termination|fulfilled; "" when absent
  int64_t target_capacity = 0;  // in the fleet's capacity units
  double fulfilled_capacity = 0;
  int64_t on_demand_target_capacity = 0;
  double on_demand_fulfilled_capacity = 0;
  std::string type;  // request|maintain|instant; "" when absent
  std::string allocation_strategy;
  std::string excess_capacity_termination_policy;
  std::string target_capacity_unit_type;  // units|vcpu|memory-mib; "" when absent (units)
  std::optional<WallTime> create_time;
  std::vector<SpotFleetSlot> launch_specifications;
  std::vector<SpotFleetTemplateConfig> launch_template_configs;
  std::map<std::string, std::string> tags;

  // The weight of `instance_type` from the launch specifications, then the
  // template overrides; nullopt when the fleet names the type without a weight
  // or not at all (then the caller decides, e.g. from vCPUs).
  std::optional<double> WeightOf(const std::string& instance_type) const;
};

// A running instance of a Spot Fleet or an EC2 Fleet (both answer the same
// ActiveInstance shape).
struct SpotFleetInstance {
  std::string instance_id;
  std::string instance_type;
  std::string spot_instance_request_id;
  std::string instance_health;  // healthy|unhealthy; "" when absent
};

// An EC2 Fleet (CreateFleet, "fleet-..."), as DescribeFleets answers it.
// Capacities are in the fleet's capacity units; its weights are those of its
// launch template configs' overrides.
struct Ec2Fleet {
  std::string id;  // "fleet-..."
  std::string
      state;  // submitted|active|deleted|failed|deleted_running|deleted_terminating|modifying
  std::string activity_status;        // error|pending_fulfillment|pending_termination|fulfilled; ""
  std::string type;                   // request|maintain|instant; "" when absent
  int64_t total_target_capacity = 0;  // targetCapacitySpecification.totalTargetCapacity
  int64_t on_demand_target_capacity = 0;
  int64_t spot_target_capacity = 0;
  std::string default_target_capacity_type;  // spot|on-demand|capacity-block; ""
  std::string target_capacity_unit_type;     // units|vcpu|memory-mib; "" when absent (units)
  double fulfilled_capacity = 0;             // on-demand and spot
  double fulfilled_on_demand_capacity = 0;
  std::string excess_capacity_termination_policy;
  std::optional<WallTime> create_time;
  std::vector<SpotFleetTemplateConfig> launch_template_configs;
  std::map<std::string, std::string> tags;
};

struct Ec2Filter {
  std::string name;  // "instance-state-name", "tag:Name", ...
  std::vector<std::string> values;
};

struct InstanceQuery {
  std::vector<std::string> instance_ids;  // empty: all (subject to filters)
  std::vector<Ec2Filter> filters;
};

struct Ec2Instance {
  std::string instance_id;
  std::string instance_type;
  std::string state;  // pending|running|shutting-down|terminated|stopping|stopped
  int64_t state_code = 0;
  std::string lifecycle;  // "spot", "scheduled", "capacity-block"; "" for on-demand
  std::string spot_instance_request_id;
  std::string availability_zone;
  std::string image_id;
  std::string subnet_id;
  std::string vpc_id;
  std::string private_ip_address;
  std::string private_dns_name;
  std::optional<WallTime> launch_time;
  std::map<std::string, std::string> tags;

  bool is_spot() const { return lifecycle == "spot"; }
};

struct InstanceTypeInfo {
  std::string instance_type;
  int64_t vcpus = 0;       // vCpuInfo.defaultVCpus
  int64_t memory_mib = 0;  // memoryInfo.sizeInMiB
  bool current_generation = false;
  std::vector<std::string> architectures;            // "x86_64", "arm64"
  std::vector<std::string> supported_usage_classes;  // "on-demand", "spot"
};

struct SpotPriceQuery {
  std::vector<std::string> instance_types;        // empty: all
  std::vector<std::string> product_descriptions;  // e.g. "Linux/UNIX (Amazon VPC)"
  std::string availability_zone;                  // "": all
  std::optional<WallTime> start_time;             // absent: the service's default (now)
  std::optional<WallTime> end_time;
  size_t max_items = 10000;  // stop following pages after this many prices
};

struct SpotPrice {
  std::string availability_zone;
  std::string instance_type;
  std::string product_description;
  double price = 0;  // USD per hour
  WallTime timestamp;
};

class Ec2Client {
 public:
  // `client` must outlive this object.
  explicit Ec2Client(AwsClient& client) : client_(client) {}

  // Items requested per page by listing calls (MaxResults); 0: the service's
  // default. Not sent where EC2 forbids it (DescribeInstances with ids).
  void set_page_size(int page_size) { page_size_ = page_size; }

  // The given fleets (empty: every fleet of the account and region).
  // Unknown ids: kNotFound or kInvalidArgument as EC2 reports them.
  Result<std::vector<SpotFleetRequest>> DescribeSpotFleetRequests(
      const std::vector<std::string>& fleet_ids = {});

  // The fleet's running instances (all pages).
  Result<std::vector<SpotFleetInstance>> DescribeSpotFleetInstances(const std::string& fleet_id);

  // Sets the fleet's target capacity (its capacity units). With
  // `excess_capacity_termination_policy` ("noTermination" or "default"), also
  // sets what EC2 does when the target drops below fulfilled. kInternal when
  // EC2 answers <return>false</return>.
  Status ModifySpotFleetRequest(const std::string& fleet_id, int64_t target_capacity,
                                const std::string& excess_capacity_termination_policy = "");

  // The given EC2 Fleets (empty: every fleet of the account and region).
  Result<std::vector<Ec2Fleet>> DescribeFleets(const std::vector<std::string>& fleet_ids = {});

  // The EC2 Fleet's running instances (all pages).
  Result<std::vector<SpotFleetInstance>> DescribeFleetInstances(const std::string& fleet_id);

  // Instances by ids and/or filters, flattened across reservations (all pages).
  Result<std::vector<Ec2Instance>> DescribeInstances(const InstanceQuery& query);

  // vCPUs and memory of the given types, in batches of 100 (the API's limit).
  // Unknown types: kInvalidArgument (InvalidInstanceType) as EC2 reports them.
  Result<std::vector<InstanceTypeInfo>> DescribeInstanceTypes(
      const std::vector<std::string>& instance_types);

  // The instance type one version of a launch template launches ("" when
  // that version sets none), by name (or by id when `name` is ""); `version`
  // is a number, "$Latest" or "$Default" ("" means "$Default").
  // DescribeLaunchTemplateVersions.
  Result<std::string> LaunchTemplateInstanceType(const std::string& name, const std::string& id,
                                                 const std::string& version);

  // Spot price history (all pages, up to query.max_items), as EC2 orders it
  // (newest first).
  Result<std::vector<SpotPrice>> DescribeSpotPriceHistory(const SpotPriceQuery& query);

 private:
  Result<XmlReply> Call(const std::string& action, const QueryParams& params);

  AwsClient& client_;
  int page_size_ = 0;
};

}  // namespace spk::aws
