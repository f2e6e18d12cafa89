#include "aws/ec2.h"

#include "aws/service_util.h"

namespace spk::aws {

using internal::XmlFields;

namespace {

std::map<std::string, std::string> ReadTags(const pugi::xml_node& set) {
  std::map<std::string, std::string> tags;
  for (pugi::xml_node item : set.children("item")) {
    tags[item.child("key").text().get()] = item.child("value").text().get();
  }
  return tags;
}

std::vector<std::string> ReadItems(const pugi::xml_node& set) {
  std::vector<std::string> out;
  for (pugi::xml_node item : set.children("item")) out.emplace_back(item.text().get());
  return out;
}

Result<SpotFleetSlot> ReadSlot(const pugi::xml_node& node, const char* what) {
  XmlFields f(node, what);
  SpotFleetSlot slot;
  slot.instance_type = f.Str("instanceType");
  slot.weighted_capacity = f.OptDouble("weightedCapacity");
  slot.subnet_id = f.Str("subnetId");
  slot.availability_zone = f.Str("availabilityZone");
  if (slot.availability_zone.empty()) {
    // Launch specifications carry the zone inside <placement>.
    slot.availability_zone = node.child("placement").child("availabilityZone").text().get();
  }
  slot.spot_price = f.Has("spotPrice") ? f.Str("spotPrice") : f.Str("maxPrice");
  slot.priority = f.OptDouble("priority");
  SPK_RETURN_IF_ERROR(f.status());
  return slot;
}

// A Spot Fleet's or an EC2 Fleet's launchTemplateConfigs (the same shape).
Result<std::vector<SpotFleetTemplateConfig>> ReadTemplateConfigs(const pugi::xml_node& set) {
  std::vector<SpotFleetTemplateConfig> out;
  for (pugi::xml_node ltc : set.children("item")) {
    SpotFleetTemplateConfig tc;
    pugi::xml_node spec = ltc.child("launchTemplateSpecification");
    tc.launch_template_id = spec.child("launchTemplateId").text().get();
    tc.launch_template_name = spec.child("launchTemplateName").text().get();
    tc.version = spec.child("version").text().get();
    for (pugi::xml_node o : ltc.child("overrides").children("item")) {
      SPK_ASSIGN_OR_RETURN(SpotFleetSlot slot, ReadSlot(o, "LaunchTemplateOverrides"));
      tc.overrides.push_back(std::move(slot));
    }
    out.push_back(std::move(tc));
  }
  return out;
}

Result<SpotFleetRequest> ReadFleet(const pugi::xml_node& item) {
  XmlFields top(item, "SpotFleetRequestConfigSet.item");
  SpotFleetRequest fleet;
  fleet.id = top.Str("spotFleetRequestId");
  fleet.state = top.Str("spotFleetRequestState");
  fleet.activity_status = top.Str("activityStatus");
  fleet.create_time = top.OptTime("createTime");
  fleet.tags = ReadTags(item.child("tagSet"));
  SPK_RETURN_IF_ERROR(top.status());
  if (fleet.id.empty())
    return InternalError("reply's spot fleet request has no spotFleetRequestId");

  pugi::xml_node config = item.child("spotFleetRequestConfig");
  XmlFields f(config, "SpotFleetRequestConfig(" + fleet.id + ")");
  fleet.target_capacity = f.Int("targetCapacity");
  // A fleet still being submitted has not reported fulfilment yet: 0 is the truth then.
  fleet.fulfilled_capacity = f.OptDouble("fulfilledCapacity").value_or(0);
  fleet.on_demand_target_capacity = f.OptInt("onDemandTargetCapacity").value_or(0);
  fleet.on_demand_fulfilled_capacity = f.OptDouble("onDemandFulfilledCapacity").value_or(0);
  fleet.type = f.Str("type");
  fleet.allocation_strategy = f.Str("allocationStrategy");
  fleet.excess_capacity_termination_policy = f.Str("excessCapacityTerminationPolicy");
  fleet.target_capacity_unit_type = f.Str("targetCapacityUnitType");
  SPK_RETURN_IF_ERROR(f.status());

  for (pugi::xml_node spec : config.child("launchSpecifications").children("item")) {
    SPK_ASSIGN_OR_RETURN(SpotFleetSlot slot, ReadSlot(spec, "SpotFleetLaunchSpecification"));
    fleet.launch_specifications.push_back(std::move(slot));
  }
  SPK_ASSIGN_OR_RETURN(fleet.launch_template_configs,
                       ReadTemplateConfigs(config.child("launchTemplateConfigs")));
  return fleet;
}

Result<Ec2Fleet> ReadEc2Fleet(const pugi::xml_node& item) {
  XmlFields f(item, "FleetData");
  Ec2Fleet fleet;
  fleet.id = f.Str("fleetId");
  if (fleet.id.empty()) return InternalError("reply's EC2 Fleet has no fleetId");
  fleet.state = f.Str("fleetState");
  fleet.activity_status = f.Str("activityStatus");
  fleet.type = f.Str("type");
  // A fleet still being submitted has not reported fulfilment yet: 0 is the truth then.
  fleet.fulfilled_capacity = f.OptDouble("fulfilledCapacity").value_or(0);
  fleet.fulfilled_on_demand_capacity = f.OptDouble("fulfilledOnDemandCapacity").value_or(0);
  fleet.excess_capacity_termination_policy = f.Str("excessCapacityTerminationPolicy");
  fleet.create_time = f.OptTime("createTime");
  fleet.tags = ReadTags(item.child("tagSet"));
  SPK_RETURN_IF_ERROR(f.status());
  XmlFields target(item.child("targetCapacitySpecification"),
                   "FleetData(" + fleet.id + ").targetCapacitySpecification");
  fleet.total_target_capacity = target.Int("totalTargetCapacity");
  fleet.on_demand_target_capacity = target.OptInt("onDemandTargetCapacity").value_or(0);
  fleet.spot_target_capacity = target.OptInt("spotTargetCapacity").value_or(0);
  fleet.default_target_capacity_type = target.Str("defaultTargetCapacityType");
  fleet.target_capacity_unit_type = target.Str("targetCapacityUnitType");
  SPK_RETURN_IF_ERROR(target.status());
  SPK_ASSIGN_OR_RETURN(fleet.launch_template_configs,
                       ReadTemplateConfigs(item.child("launchTemplateConfigs")));
  return fleet;
}

Result<Ec2Instance> ReadInstance(const pugi::xml_node& node) {
  XmlFields f(node, "Instance");
  Ec2Instance in;
  in.instance_id = f.Str("instanceId");
  in.instance_type = f.Str("instanceType");
  XmlFields state(node.child("instanceState"), "Instance.instanceState");
  in.state = state.Str("name");
  in.state_code = state.OptInt("code").value_or(0);
  in.lifecycle = f.Str("instanceLifecycle");
  in.spot_instance_request_id = f.Str("spotInstanceRequestId");
  in.availability_zone = node.child("placement").child("availabilityZone").text().get();
  in.image_id = f.Str("imageId");
  in.subnet_id = f.Str("subnetId");
  in.vpc_id = f.Str("vpcId");
  in.private_ip_address = f.Str("privateIpAddress");
  in.private_dns_name = f.Str("privateDnsName");
  in.launch_time = f.OptTime("launchTime");
  in.tags = ReadTags(node.child("tagSet"));
  SPK_RETURN_IF_ERROR(f.status());
  SPK_RETURN_IF_ERROR(state.status());
  if (in.instance_id.empty()) return InternalError("reply's instance has no instanceId");
  return in;
}

Result<SpotFleetInstance> ReadActiveInstance(const pugi::xml_node& item) {
  XmlFields f(item, "ActiveInstance");
  SpotFleetInstance in;
  in.instance_id = f.Str("instanceId");
  in.instance_type = f.Str("instanceType");
  in.spot_instance_request_id = f.Str("spotInstanceRequestId");
  in.instance_health = f.Str("instanceHealth");
  if (in.instance_id.empty()) return InternalError("reply's active instance has no instanceId");
  return in;
}

// Every <item> of the list `set` on every page of `action` (MaxResults
// `page_size` when > 0), each read with `read`.
template <typename T, typename Read>
Result<std::vector<T>> ListAll(AwsClient& client, int page_size, const std::string& action,
                               const QueryParams& first, const char* set, Read read) {
  std::vector<T> out;
  Status st = internal::FollowPages([&](const std::string& token) -> Result<std::string> {
    QueryParams params = first;
    if (page_size > 0) params["MaxResults"] = std::to_string(page_size);
    if (!token.empty()) params["NextToken"] = token;
    SPK_ASSIGN_OR_RETURN(XmlReply reply, client.CallQuery(services::Ec2(), action, params));
    SPK_ASSIGN_OR_RETURN(pugi::xml_node root, internal::QueryResultNode(reply, action));
    for (pugi::xml_node item : root.child(set).children("item")) {
      SPK_ASSIGN_OR_RETURN(T value, read(item));
      out.push_back(std::move(value));
    }
    return std::string(root.child("nextToken").text().get());
  });
  if (!st.ok()) return st;
  return out;
}

}  // namespace

std::optional<double> SpotFleetRequest::WeightOf(const std::string& instance_type) const {
  for (const auto& s : launch_specifications) {
    if (s.instance_type == instance_type && s.weighted_capacity) return s.weighted_capacity;
  }
  for (const auto& c : launch_template_configs) {
    for (const auto& o : c.overrides) {
      if (o.instance_type == instance_type && o.weighted_capacity) return o.weighted_capacity;
    }
  }
  return std::nullopt;
}

Result<XmlReply> Ec2Client::Call(const std::string& action, const QueryParams& params) {
  return client_.CallQuery(services::Ec2(), action, params);
}

Result<std::vector<SpotFleetRequest>> Ec2Client::DescribeSpotFleetRequests(
    const std::vector<std::string>& fleet_ids) {
  static const std::string kAction = "DescribeSpotFleetRequests";
  QueryParams params;
  internal::AddList(params, "SpotFleetRequestId", fleet_ids);
  return ListAll<SpotFleetRequest>(client_, page_size_, kAction, params,
                                   "spotFleetRequestConfigSet", ReadFleet);
}

Result<std::vector<SpotFleetInstance>> Ec2Client::DescribeSpotFleetInstances(
    const std::string& fleet_id) {
  static const std::string kAction = "DescribeSpotFleetInstances";
  return ListAll<SpotFleetInstance>(client_, page_size_, kAction,
                                    {{"SpotFleetRequestId", fleet_id}}, "activeInstanceSet",
                                    ReadActiveInstance);
}

Result<std::vector<Ec2Fleet>> Ec2Client::DescribeFleets(const std::vector<std::string>& fleet_ids) {
  static const std::string kAction = "DescribeFleets";
  QueryParams params;
  internal::AddList(params, "FleetId", fleet_ids);
  return ListAll<Ec2Fleet>(client_, page_size_, kAction, params, "fleetSet", ReadEc2Fleet);
}

Result<std::vector<SpotFleetInstance>> Ec2Client::DescribeFleetInstances(
    const std::string& fleet_id) {
  static const std::string kAction = "DescribeFleetInstances";
  return ListAll<SpotFleetInstance>(client_, page_size_, kAction, {{"FleetId", fleet_id}},
                                    "activeInstanceSet", ReadActiveInstance);
}

Status Ec2Client::ModifySpotFleetRequest(const std::string& fleet_id, int64_t target_capacity,
                                         const std::string& excess_capacity_termination_policy) {
  static const std::string kAction = "ModifySpotFleetRequest";
  QueryParams params{{"SpotFleetRequestId", fleet_id},
                     {"TargetCapacity", std::to_string(target_capacity)}};
  if (!excess_capacity_termination_policy.empty()) {
    params["ExcessCapacityTerminationPolicy"] = excess_capacity_termination_policy;
  }
  SPK_ASSIGN_OR_RETURN(XmlReply reply, Call(kAction, params));
  SPK_ASSIGN_OR_RETURN(pugi::xml_node root, internal::QueryResultNode(reply, kAction));
  XmlFields f(root, kAction + "Response");
  auto ok = f.OptBool("return");
  SPK_RETURN_IF_ERROR(f.status());
  if (ok && !*ok) {
    return InternalError("ec2 ModifySpotFleetRequest " + fleet_id + ": EC2 answered return=false");
  }
  return Status::Ok();
}

Result<std::vector<Ec2Instance>> Ec2Client::DescribeInstances(const InstanceQuery& query) {
  static const std::string kAction = "DescribeInstances";
  std::vector<Ec2Instance> out;
  Status st = internal::FollowPages([&](const std::string& token) -> Result<std::string> {
    QueryParams params;
    internal::AddList(params, "InstanceId", query.instance_ids);
    for (size_t i = 0; i < query.filters.size(); ++i) {
      std::string prefix = "Filter." + std::to_string(i + 1);
      params[prefix + ".Name"] = query.filters[i].name;
      internal::AddList(params, prefix + ".Value", query.filters[i].values);
    }
    // EC2 rejects MaxResults together with InstanceId.
    if (page_size_ > 0 && query.instance_ids.empty()) {
      params["MaxResults"] = std::to_string(page_size_);
    }
    if (!token.empty()) params["NextToken"] = token;
    SPK_ASSIGN_OR_RETURN(XmlReply reply, Call(kAction, params));
    SPK_ASSIGN_OR_RETURN(pugi::xml_node root, internal::QueryResultNode(reply, kAction));
    for (pugi::xml_node reservation : root.child("reservationSet").children("item")) {
      for (pugi::xml_node item : reservation.child("instancesSet").children("item")) {
        SPK_ASSIGN_OR_RETURN(Ec2Instance in, ReadInstance(item));
        out.push_back(std::move(in));
      }
    }
    return std::string(root.child("nextToken").text().get());
  });
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<InstanceTypeInfo>> Ec2Client::DescribeInstanceTypes(
    const std::vector<std::string>& instance_types) {
  static const std::string kAction = "DescribeInstanceTypes";
  constexpr size_t kMaxTypesPerCall = 100;  // the model's RequestInstanceTypeList max
  std::vector<InstanceTypeInfo> out;
  if (instance_types.empty()) return out;
  for (const auto& batch : internal::Batches(instance_types, kMaxTypesPerCall)) {
    Status st = internal::FollowPages([&](const std::string& token) -> Result<std::string> {
      QueryParams params;
      internal::AddList(params, "InstanceType", batch);
      if (page_size_ > 0) params["MaxResults"] = std::to_string(page_size_);
      if (!token.empty()) params["NextToken"] = token;
      SPK_ASSIGN_OR_RETURN(XmlReply reply, Call(kAction, params));
      SPK_ASSIGN_OR_RETURN(pugi::xml_node root, internal::QueryResultNode(reply, kAction));
      for (pugi::xml_node item : root.child("instanceTypeSet").children("item")) {
        XmlFields f(item, "InstanceTypeInfo");
        InstanceTypeInfo info;
        info.instance_type = f.Str("instanceType");
        XmlFields cpu(item.child("vCpuInfo"),
                      "InstanceTypeInfo(" + info.instance_type + ").vCpuInfo");
        info.vcpus = cpu.Int("defaultVCpus");
        XmlFields mem(item.child("memoryInfo"),
                      "InstanceTypeInfo(" + info.instance_type + ").memoryInfo");
        info.memory_mib = mem.Int("sizeInMiB");
        info.current_generation = f.Bool("currentGeneration", false);
        info.architectures = ReadItems(item.child("processorInfo").child("supportedArchitectures"));
        info.supported_usage_classes = ReadItems(item.child("supportedUsageClasses"));
        SPK_RETURN_IF_ERROR(f.status());
        SPK_RETURN_IF_ERROR(cpu.status());
        SPK_RETURN_IF_ERROR(mem.status());
        out.push_back(std::move(info));
      }
      return std::string(root.child("nextToken").text().get());
    });
    if (!st.ok()) return st;
  }
  return out;
}

Result<std::string> Ec2Client::LaunchTemplateInstanceType(const std::string& name,
                                                          const std::string& id,
                                                          const std::string& version) {
  static const std::string kAction = "DescribeLaunchTemplateVersions";
  if (name.empty() && id.empty()) {
    return InvalidArgumentError("launch template: neither a name nor an id");
  }
  QueryParams params;
  if (!name.empty()) {
    params["LaunchTemplateName"] = name;
  } else {
    params["LaunchTemplateId"] = id;
  }
  params["LaunchTemplateVersion.1"] = version.empty() ? "$Default" : version;
  SPK_ASSIGN_OR_RETURN(XmlReply reply, Call(kAction, params));
  SPK_ASSIGN_OR_RETURN(pugi::xml_node root, internal::QueryResultNode(reply, kAction));
  pugi::xml_node item = root.child("launchTemplateVersionSet").child("item");
  if (!item) {
    return NotFoundError("launch template " + (name.empty() ? id : name) + " version " +
                         params["LaunchTemplateVersion.1"] + " not found");
  }
  return std::string(item.child("launchTemplateData").child("instanceType").text().get());
}

Result<std::vector<SpotPrice>> Ec2Client::DescribeSpotPriceHistory(const SpotPriceQuery& query) {
  static const std::string kAction = "DescribeSpotPriceHistory";
  std::vector<SpotPrice> out;
  Status st = internal::FollowPages([&](const std::string& token) -> Result<std::string> {
    QueryParams params;
    internal::AddList(params, "InstanceType", query.instance_types);
    internal::AddList(params, "ProductDescription", query.product_descriptions);
    if (!query.availability_zone.empty()) params["AvailabilityZone"] = query.availability_zone;
    if (query.start_time) params["StartTime"] = FormatIso8601(*query.start_time);
    if (query.end_time) params["EndTime"] = FormatIso8601(*query.end_time);
    if (page_size_ > 0) params["MaxResults"] = std::to_string(page_size_);
    if (!token.empty()) params["NextToken"] = token;
    SPK_ASSIGN_OR_RETURN(XmlReply reply, Call(kAction, params));
    SPK_ASSIGN_OR_RETURN(pugi::xml_node root, internal::QueryResultNode(reply, kAction));
    for (pugi::xml_node item : root.child("spotPriceHistorySet").children("item")) {
      if (out.size() >= query.max_items) return std::string();
      XmlFields f(item, "SpotPrice");
      SpotPrice p;
      p.availability_zone = f.Str("availabilityZone");
      p.instance_type = f.Str("instanceType");
      p.product_description = f.Str("productDescription");
      p.price = f.Double("spotPrice");
      auto ts = f.OptTime("timestamp");
      SPK_RETURN_IF_ERROR(f.status());
      if (!ts) return InternalError("reply's SpotPrice has no timestamp");
      p.timestamp = *ts;
      out.push_back(std::move(p));
    }
    if (out.size() >= query.max_items) return std::string();
    return std::string(root.child("nextToken").text().get());
  });
  if (!st.ok()) return st;
  return out;
}

}  // namespace spk::aws
