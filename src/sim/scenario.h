// A simulation scenario: the spot market, the fleet, the on-demand group, the
// ECS cluster and its services, scripted market events, and the policies'
// settings. Read from YAML (docs/simulator.md "Scenario file"); the built-in
// default scenario is YAML compiled into the binary.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "policy/config.h"
#include "policy/fallback.h"
#include "sim/engine.h"
#include "sim/placement.h"

namespace spk::sim {

// A capacity pool: one instance type in one availability zone.
struct PoolSpec {
  std::string instance_type;
  std::string zone;
  int vcpus = 2;
  int memory_mib = 8192;
  double on_demand_price = 0.096;  // USD per hour
  // Spot price over time: (from, USD per hour), sorted by time, first at 0.
  std::vector<std::pair<SimTime, double>> spot_prices;
  // Probability that an instance is interrupted within 30 days (the Spot
  // Instance Advisor's "frequency of interruption").
  double monthly_interruption = 0.025;
  // Instances this pool can hold for the fleet at once (its spare capacity);
  // -1: unlimited.
  int capacity = -1;

  // "m5.large us-east-1a".
  std::string name() const { return instance_type + " " + zone; }
};

enum class AllocationStrategy {
  kLowestPrice,
  kDiversified,
  kCapacityOptimized,
  kPriceCapacityOptimized
};
const char* AllocationStrategyName(AllocationStrategy s);

// What kind of source the spot capacity comes from (`fleet.type`).
enum class SpotSourceType {
  kSpotFleet,         // a Spot Fleet request of type maintain ("spot-fleet")
  kEc2Fleet,          // an EC2 Fleet of type maintain ("ec2-fleet")
  kAutoScalingGroup,  // an Auto Scaling group with a mixed-instances policy ("auto-scaling-group")
};
// "spot-fleet" | "ec2-fleet" | "auto-scaling-group".
const char* SpotSourceTypeName(SpotSourceType t);

// A fleet's capacity rebalancing (`fleet.replacement_strategy`: the Spot
// Fleet's SpotMaintenanceStrategies.CapacityRebalance, the EC2 Fleet's
// MaintenanceStrategies.CapacityRebalance).
enum class ReplacementStrategy {
  kNone,                   // no capacity rebalancing (the key absent)
  kLaunch,                 // "launch": a replacement; the instance at risk stays
  kLaunchBeforeTerminate,  // "launch-before-terminate": then terminated after the delay
};
// "none" | "launch" | "launch-before-terminate".
const char* ReplacementStrategyName(ReplacementStrategy r);

// The spot capacity source: a Spot Fleet or EC2 Fleet of type maintain, or a
// mixed-instances Auto Scaling group (all spot).
struct FleetSpec {
  SpotSourceType type = SpotSourceType::kSpotFleet;
  std::string id = "sfr-simulated";  // fleet id or group name
  double target_capacity = 0;        // units (a group's desired capacity)
  AllocationStrategy allocation_strategy = AllocationStrategy::kCapacityOptimized;
  std::vector<int> pools;                 // indices into Scenario::pools
  std::map<std::string, double> weights;  // instance type -> units (default: its vCPUs)
  SimTime launch_delay = 90 * kSecond;    // request to running
  SimTime retry_interval = 60 * kSecond;  // a fleet short of capacity tries again
  // kAutoScalingGroup only. Capacity Rebalancing: on a rebalance
  // recommendation the group launches a replacement and, once it is
  // InService, terminates the instance at risk.
  bool capacity_rebalance = false;
  // A terminating lifecycle hook (autoscaling:EC2_INSTANCE_TERMINATING): an
  // instance the group terminates waits in Terminating:Wait until the hook is
  // completed or its heartbeat timeout runs out.
  bool lifecycle_hook = false;
  SimTime hook_heartbeat_timeout = kHour;  // AWS's default HeartbeatTimeout
  // kSpotFleet and kEc2Fleet only. Capacity rebalancing: on a rebalance
  // recommendation the fleet launches a replacement (which then counts toward
  // the fulfilled capacity in place of the instance at risk); with
  // launch-before-terminate EC2 terminates the instance at risk
  // `termination_delay` after that launch (120 s to 7200 s, required, as
  // TerminationDelay in the API).
  ReplacementStrategy replacement_strategy = ReplacementStrategy::kNone;
  SimTime termination_delay = 0;
};

// The on-demand Auto Scaling group.
struct OnDemandSpec {
  std::string name = "spotkeeper-on-demand";
  std::string instance_type = "m5.large";
  std::string zone = "us-east-1a";
  int vcpus = 2;
  int memory_mib = 8192;
  double price = 0.096;
  double units = 2;  // capacity units per instance, in the fleet's units
  int min_size = 0;
  int max_size = 10;
  int desired = 0;
  SimTime launch_delay = 90 * kSecond;
  SimTime cooldown = 300 * kSecond;
};

// One entry of a service's capacity provider strategy (capacity-provider
// clusters only): which of the two providers, its base and weight.
struct StrategyItem {
  enum class Provider { kSpot, kOnDemand } provider = Provider::kSpot;
  int base = 0;
  int weight = 1;
};

struct ServiceSpec {
  std::string name;
  int desired = 1;
  int cpu = 256;                      // CPU units
  int memory = 512;                   // MiB
  SimTime start_time = 30 * kSecond;  // placed to RUNNING and healthy
  int minimum_healthy_percent = 100;
  int maximum_percent = 200;
  std::vector<PlacementStrategy> strategies;
  std::vector<Expression> member_of;
  bool distinct_instance = false;
  // Behind a load balancer (an ALB target group; sim/load_balancer.h): a
  // stopping task is deregistered first and stops after the deregistration
  // delay.
  bool load_balanced = false;
  SimTime deregistration_delay = 300 * kSecond;
  // The target group's health checks (the ELBv2 defaults for an HTTP target
  // group): a target that stops answering is marked unhealthy after
  // `unhealthy_threshold` consecutive checks, each failing after `timeout`.
  SimTime health_check_interval = 30 * kSecond;
  int unhealthy_threshold = 2;
  SimTime health_check_timeout = 6 * kSecond;
  // Requests (load-balanced services only): the service's request rate, spread
  // over its targets; how long a request is in flight; what one task can serve
  // (-1: unlimited; the excess is shed).
  double requests_per_second = 0;  // parsed: kDefaultRequestsPerTask x desired when load-balanced
  SimTime request_duration = 100;
  double max_requests_per_task = -1;
  // Capacity-provider clusters: the service's capacity provider strategy
  // (default: all on the spot provider).
  std::vector<StrategyItem> capacity_provider_strategy;
};

// The request rate of a load-balanced service without `requests_per_second`,
// per desired task (docs/simulator.md, "Load balancer and requests").
inline constexpr double kDefaultRequestsPerTask = 50;

struct EcsSpec {
  std::string cluster = "default";
  SimTime registration_delay = 20 * kSecond;  // boot to ACTIVE container instance
  double reserved_memory_fraction = 0.06;     // of the instance memory, not for tasks
  std::vector<ServiceSpec> services;
};

struct MarketSpec {
  SimTime notice_lead = 120 * kSecond;
  double short_notice_probability = 0;  // a notice with a lead uniform in [min, lead)
  SimTime short_notice_min = 10 * kSecond;
  double rebalance_probability = 0.5;  // a rebalance recommendation precedes the notice
  SimTime rebalance_lead = 10 * kMinute;
};

// A scripted market event.
struct MarketEvent {
  enum class Kind { kMassReclaim, kPoolDry, kInterruption, kRebalance };
  Kind kind = Kind::kMassReclaim;
  SimTime at = 0;
  std::vector<int> pools;  // the pool, or every pool of the zone
  double fraction = 1.0;   // kMassReclaim: share of the pool's running instances
  int count = 1;           // kInterruption, kRebalance: instances
  SimTime dry_for = 0;     // kPoolDry, and a mass reclaim's dry period after it
};

struct ControllerSpec {
  SimTime notice_latency = 1 * kSecond;  // IMDS notice to the controller's decision
  SimTime reconcile_interval = 60 * kSecond;
  policy::PolicyConfig config;
  // The capacity-provider fallback (--fallback-grace, --fallback-max; the
  // settle window is config.settle_window, as in the controller).
  policy::FallbackConfig fallback;
};

// ECS managed scaling of one capacity provider's group (target tracking on
// the CapacityProviderReservation metric).
struct ManagedScalingSpec {
  std::string name;
  int target_capacity = 100;  // percent, 1-100
  int minimum_scaling_step_size = 1;
  int maximum_scaling_step_size = 10000;
  SimTime instance_warmup = 300 * kSecond;
  int max_size = 1000;  // the group's MaxSize (the on-demand group: on_demand.max)
};

// `capacity_providers:` makes the cluster a capacity-provider cluster: a spot
// provider on the spot group (fleet.type: auto-scaling-group) and an
// on-demand provider on the on-demand group, both with managed scaling.
struct CapacityProvidersSpec {
  bool enabled = false;
  ManagedScalingSpec spot;
  ManagedScalingSpec on_demand;
  // How long a task waits in PROVISIONING before ECS stops it.
  SimTime provisioning_timeout = 10 * kMinute;
};

struct ReferenceSpec {
  SimTime notice_latency = 4 * kSecond;       // notifier polls every 3 s, then SNS to Lambda
  SimTime alarm_period = 60 * kSecond;        // PendingCapacity > 0 alarm evaluation
  SimTime agent_drain_latency = 1 * kSecond;  // ecs-agent policy: the agent polls every 1 s
};

struct Scenario {
  std::string name = "scenario";
  std::string description;
  uint64_t seed = 42;
  SimTime duration = kDay;
  SimTime sample_interval = 5 * kMinute;
  MarketSpec market;
  std::vector<PoolSpec> pools;
  FleetSpec fleet;
  OnDemandSpec on_demand;
  EcsSpec ecs;
  std::vector<MarketEvent> events;
  ControllerSpec controller;
  ReferenceSpec reference;
  CapacityProvidersSpec capacity_providers;
};

// Reads a file a scenario refers to (market.spot_price_history,
// market.spot_advisor) by the path written in the scenario; the CLI resolves it
// relative to the scenario file. Fails with the reason.
using FileReader = std::function<Result<std::string>(const std::string& path)>;

// Parses a scenario from YAML text. kInvalidArgument with one line naming the
// offending key ("fleet.allocation_strategy: ...", "unknown key services[2].cpuu").
// Real data (docs/simulator.md "Real data"): market.spot_price_history is the
// JSON of `aws ec2 describe-spot-price-history` (each pool's Linux/UNIX prices
// over time, from the file's earliest timestamp or market.price_history_start);
// market.spot_advisor is the Spot Instance Advisor's spot-advisor-data.json
// (each pool's interruption band and, without a price, its savings) for
// market.region. A pool's own band / price in the scenario wins. Without
// `read_file` such keys are an error. The YAML text and each referenced file
// may be at most kMaxScenarioFileBytes, flow collections nested at most
// kMaxJsonDepth deep; prices must be finite and >= 0. Never throws (fuzzed:
// fuzz/scenario_fuzz.cc).
Result<Scenario> ParseScenario(const std::string& yaml_text, const FileReader& read_file = nullptr);

// The built-in default scenario ("a realistic day"), as YAML.
const std::string& DefaultScenarioYaml();

// The largest scenario YAML, price history or advisor file read.
inline constexpr size_t kMaxScenarioFileBytes = 64 * 1024 * 1024;
// The longest duration ParseDuration accepts: 10 years in ms (so that it fits a
// nanosecond Duration many times over).
inline constexpr SimTime kMaxScenarioDuration = 10LL * 366 * 24 * 3600 * 1000;

// Reads "90", "90s", "15m", "2h", "10h30m", "30d", "500ms" as a duration; false
// if not one, or longer than kMaxScenarioDuration. Never throws.
bool ParseDuration(const std::string& text, SimTime* out);

}  // namespace spk::sim
