#include "policy/action.h"

namespace spk::policy {
namespace {

struct Named {
  const char* operator()(const DrainContainerInstances&) const {
    return "drain-container-instances";
  }
  const char* operator()(const ActivateContainerInstances&) const {
    return "activate-container-instances";
  }
  const char* operator()(const SetDesiredCapacity&) const { return "set-desired-capacity"; }
  const char* operator()(const TerminateInstance&) const { return "terminate-instance"; }
};

struct Fields {
  nlohmann::json* out;
  void operator()(const DrainContainerInstances& a) const {
    (*out)["cluster"] = a.cluster;
    (*out)["container_instance_arns"] = a.container_instance_arns;
  }
  void operator()(const ActivateContainerInstances& a) const {
    (*out)["cluster"] = a.cluster;
    (*out)["container_instance_arns"] = a.container_instance_arns;
  }
  void operator()(const SetDesiredCapacity& a) const {
    (*out)["group"] = a.group;
    (*out)["desired"] = a.desired;
    (*out)["honor_cooldown"] = a.honor_cooldown;
  }
  void operator()(const TerminateInstance& a) const {
    (*out)["instance_id"] = a.instance_id;
    (*out)["decrement_desired"] = a.decrement_desired;
  }
};

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ',';
    out += item;
  }
  return out;
}

struct Summary {
  std::string operator()(const DrainContainerInstances& a) const {
    return "cluster=" + a.cluster + " container_instances=" + Joined(a.container_instance_arns);
  }
  std::string operator()(const ActivateContainerInstances& a) const {
    return "cluster=" + a.cluster + " container_instances=" + Joined(a.container_instance_arns);
  }
  std::string operator()(const SetDesiredCapacity& a) const {
    return "group=" + a.group + " desired=" + std::to_string(a.desired) +
           " honor_cooldown=" + (a.honor_cooldown ? "true" : "false");
  }
  std::string operator()(const TerminateInstance& a) const {
    return "instance=" + a.instance_id +
           " decrement_desired=" + (a.decrement_desired ? "true" : "false");
  }
};

}  // namespace

const char* ActionName(const ActionKind& action) { return std::visit(Named{}, action); }

std::string Describe(const Action& action) {
  return std::string(ActionName(action.what)) + " " + std::visit(Summary{}, action.what) + ": " +
         action.reason;
}

nlohmann::json ToJson(const Action& action) {
  nlohmann::json out = nlohmann::json::object();
  out["action"] = ActionName(action.what);
  std::visit(Fields{&out}, action.what);
  out["reason"] = action.reason;
  return out;
}

nlohmann::json ToJson(const std::vector<Action>& actions) {
  nlohmann::json out = nlohmann::json::array();
  for (const Action& action : actions) out.push_back(ToJson(action));
  return out;
}

nlohmann::json ToJson(const Skip& skip) {
  return nlohmann::json{{"part", skip.part}, {"reason", skip.reason}};
}

}  // namespace spk::policy
