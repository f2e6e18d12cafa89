#include "sim/simulation.h"

#include "sim/asg.h"
#include "sim/capacity_providers.h"
#include "sim/capacity_source.h"
#include "sim/ecs_cluster.h"
#include "sim/instances.h"
#include "sim/load_balancer.h"
#include "sim/market.h"
#include "sim/metrics.h"
#include "sim/policy_adapter.h"
#include "sim/world.h"

namespace spk::sim {

const char* PolicyName(PolicyKind policy) {
  switch (policy) {
    case PolicyKind::kNone:
      return "none";
    case PolicyKind::kEcsAgent:
      return "ecs-agent";
    case PolicyKind::kReference:
      return "reference";
    case PolicyKind::kSpotkeeper:
      return "spotkeeper";
  }
  return "?";
}

Result<PolicyKind> ParsePolicy(const std::string& text) {
  for (PolicyKind p : AllPolicies()) {
    if (text == PolicyName(p)) return p;
  }
  return InvalidArgumentError("policy must be none, ecs-agent, reference or spotkeeper, not \"" +
                              text + "\"");
}

std::vector<PolicyKind> AllPolicies() {
  return {PolicyKind::kNone, PolicyKind::kEcsAgent, PolicyKind::kReference,
          PolicyKind::kSpotkeeper};
}

namespace {

// The engine: owns the world and its models, and runs the event loop,
// handing each event to the model it belongs to.
class Simulation {
 public:
  Simulation(const Scenario& s, PolicyKind policy, const ProgressFn& progress)
      : w_(s),
        progress_(progress),
        market_(w_),
        ec2_(w_),
        fleet_(w_),
        asg_(w_),
        ecs_(w_),
        lb_(w_),
        policies_(w_, policy),
        metrics_(w_, policy),
        providers_(w_) {
    w_.market = &market_;
    w_.ec2 = &ec2_;
    w_.fleet = &fleet_;
    w_.asg = &asg_;
    w_.ecs = &ecs_;
    w_.lb = &lb_;
    w_.policies = &policies_;
    w_.metrics = &metrics_;
    w_.providers = &providers_;
  }

  RunResult Run() {
    WarmStart();
    w_.q.Push(w_.s.duration, kEnd);
    w_.q.Push(0, kSample);
    market_.Start();
    policies_.Start();
    providers_.Start();
    while (!w_.q.empty()) {
      Event e = w_.q.Pop();
      if (e.kind == kEnd) break;
      Dispatch(e);
      if (progress_ && (w_.q.popped() & 0xfff) == 0)
        progress_(static_cast<double>(w_.now()) / w_.s.duration);
    }
    RunResult result = metrics_.Finish();
    if (progress_) progress_(1.0);
    return result;
  }

 private:
  // The steady state at t = 0: the fleet and the group at their capacity, every
  // instance registered, every task placed and running.
  void WarmStart() {
    w_.warm = true;
    metrics_.ChangeUnitsInService(0);
    fleet_.Check();
    asg_.Check();
    ecs_.WarmStart();
    w_.warm = false;
    fleet_.EndWarmStart();
    ecs_.RequestSchedule();
  }

  void Dispatch(const Event& e) {
    switch (e.kind) {
      case kSample:
        metrics_.Sample();
        break;
      case kInstanceBooted:
        ec2_.Booted(e.a);
        break;
      case kInstanceRegistered:
        ecs_.Registered(e.a);
        break;
      case kRebalance:
        market_.Rebalance(e.a);
        break;
      case kNotice:
        market_.Notice(e.a);
        break;
      case kTerminate:
        ec2_.Terminate(e.a);
        break;
      case kTaskRunning:
        ecs_.TaskRunning(e.a);
        break;
      case kTaskGone:
        ecs_.TaskGone(e.a);
        break;
      case kFleetCheck:
        fleet_.Retry();
        break;
      case kAsgCheck:
        asg_.Check();
        break;
      case kPoolRestored:
        market_.PoolRestored(static_cast<int>(e.a));
        break;
      case kMarketEvent:
        market_.ApplyEvent(e.a);
        break;
      case kSchedule:
        ecs_.Schedule();
        break;
      case kTargetUnhealthy:
        lb_.MarkedUnhealthy(e.a);
        break;
      case kHookTimeout:
        fleet_.HookTimeout(e.a);
        break;
      case kRebalanceTerminate:
        fleet_.RebalanceTerminate(e.a);
        break;
      case kManagedScaling:
        providers_.Evaluate();
        break;
      case kProvisioningTimeout:
        ecs_.ProvisioningTimeout(e.a);
        break;
      default:
        policies_.Handle(e);
        break;
    }
  }

  World w_;
  ProgressFn progress_;
  Market market_;
  Ec2 ec2_;
  SpotFleet fleet_;
  AutoScalingGroup asg_;
  EcsCluster ecs_;
  LoadBalancer lb_;
  Policies policies_;
  Metrics metrics_;
  CapacityProviders providers_;
};

}  // namespace

RunResult RunSimulation(const Scenario& scenario, PolicyKind policy, const ProgressFn& progress) {
  return Simulation(scenario, policy, progress).Run();
}

}  // namespace spk::sim
