// ECS task placement as the ECS documentation defines it ("Amazon ECS task
// placement strategies" and "... constraints", cluster query language):
//  - constraints first: memberOf(expression) keeps the container instances
//    whose attributes satisfy the expression; distinctInstance keeps those that
//    run no task of the same group (here: the service);
//  - resources: the instance must have the task's CPU and memory free;
//  - then the strategies in order, each narrowing the candidates: binpack(cpu
//    | memory) keeps those with the least of that resource left, spread(field)
//    keeps those whose field value (instanceId / host, or attribute:NAME) runs
//    the fewest tasks of the group, random picks one with the run's seeded
//    generator;
//  - when several remain, the first in the caller's order (deterministic).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/random.h"
#include "base/status.h"

namespace spk::sim {

// A memberOf expression of the cluster query language, the subset:
//   attribute:NAME OP VALUE  with OP one of == != (or equals, not_equals),
//     =~ !~ (regular expression, full match), in [a, b], not_in [a, b],
//     exists, !exists (no value);
//   clauses joined by `and` / `&&` and `or` / `||` (and binds tighter); no
//   parentheses. Attribute names: ecs.instance-type, ecs.availability-zone,
//   spotkeeper.lifecycle ("spot" | "on-demand"), ecs.os-type ("linux"),
//   ecs.cpu-architecture ("x86_64").
class Expression {
 public:
  // kInvalidArgument naming the part that does not parse.
  static Result<Expression> Parse(const std::string& text);

  // The attributes of one container instance.
  struct Attributes {
    std::string_view instance_type;
    std::string_view zone;
    std::string_view lifecycle;
  };
  bool Matches(const Attributes& attributes) const;
  const std::string& text() const { return text_; }

 private:
  enum class Op { kEq, kNe, kMatch, kNotMatch, kIn, kNotIn, kExists, kNotExists };
  struct Clause {
    std::string attribute;
    Op op = Op::kEq;
    std::vector<std::string> values;
  };
  std::string text_;
  std::vector<std::vector<Clause>> any_of_;  // OR of ANDs
};

// The value of attribute `name` ("ecs.instance-type", ...); empty when unknown.
std::string_view AttributeValue(const Expression::Attributes& attributes, std::string_view name);

struct PlacementStrategy {
  enum class Type { kBinpack, kSpread, kRandom };
  Type type = Type::kSpread;
  // binpack: "cpu" | "memory"; spread: "instanceId" | "host" | "attribute:NAME".
  std::string field;
};

// Parses one strategy; kInvalidArgument for an unknown type or field.
Result<PlacementStrategy> MakeStrategy(const std::string& type, const std::string& field);

// A container instance as placement sees it.
struct Host {
  std::string_view instance_id;
  Expression::Attributes attributes;
  int free_cpu = 0;     // CPU units (1024 per vCPU) not reserved by tasks
  int free_memory = 0;  // MiB
  int group_tasks = 0;  // tasks of the task's group (service) on it
  bool member = true;   // satisfies every memberOf constraint (the caller evaluates)
};

// The position in `hosts` where a task of `cpu` units and `memory` MiB goes,
// or -1 when no host satisfies the constraints and resources. `hosts` are the
// cluster's ACTIVE container instances; spread counts tasks over all of them.
int ChooseHost(const std::vector<Host>& hosts, int cpu, int memory,
               const std::vector<PlacementStrategy>& strategies, bool distinct_instance,
               Random& random);

}  // namespace spk::sim
