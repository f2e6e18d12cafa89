"""deploy/examples/reference-architecture.yaml: fleet and service autoscaling, and
its spot capacity as a Spot Fleet or as a mixed-instances Auto Scaling group
(SpotCapacity), checked in the template for both and on moto_server's
CloudFormation for the group (issue 13 item 5).

moto on a free 127.0.0.1 port (moto_peer.MotoServer); a VPC, two subnets, SSM
parameters holding a moto AMI id and spotkeeper.yaml in moto's S3 (the nested
stack's TemplateURL) stand in for the real ones. Nothing leaves loopback.

What moto 5.2 does not do, and how the test handles it:
- Fn::GetAtt NestedStack.Outputs.NAME: moto's AWS::CloudFormation::Stack has no
  attributes (AttributeError), so moto runs through moto_nested_outputs.py, which
  answers it with the nested stack's own output and changes nothing else.
  (moto also splits `!GetAtt A.B.C` at every dot and leaves `!GetAtt [A, B]`
  unconstructed: the template spells those GetAtts `Fn::GetAtt: [A, B]`.)
- AWS::EC2::SpotFleet: moto's CloudFormation reads only
  SpotFleetRequestConfigData.LaunchSpecifications (KeyError on the template's
  LaunchTemplateConfigs), so SpotCapacity=spot-fleet does not deploy on moto; that
  variant (the fleet, its Application Auto Scaling target and policy, its role) is
  checked in the template only.
- AWS::AutoScaling::LifecycleHook, AWS::AutoScaling::ScalingPolicy,
  AWS::ApplicationAutoScaling::ScalableTarget and
  AWS::ApplicationAutoScaling::ScalingPolicy: not implemented by moto's
  CloudFormation (listed without a logical id, nothing created). The test applies
  them through moto's Auto Scaling and Application Auto Scaling APIs from the
  template's own properties, Refs resolved against the deployed stack, and reads
  them back: valid API input, pointing at the stack's group, queue and service.
- CapacityRebalance and DesiredCapacityType on the group: moto's CloudFormation
  does not pass them on; checked in the template.
Run: python3 tests/deploy/cfn_reference_test.py
"""
import ast
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moto_peer import MotoServer  # noqa: E402
import cfn_yaml  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
TEMPLATE = os.path.join(ROOT, "deploy", "examples", "reference-architecture.yaml")
SPOTKEEPER_TEMPLATE = os.path.join(ROOT, "deploy", "cloudformation", "spotkeeper.yaml")
LAUNCHER = os.path.join(HERE, "moto_nested_outputs.py")
REGION = "us-east-1"
STACK = "spot-demo"
BUCKET = "spotkeeper-artifacts"
SKIPPED_TYPES = {"AWS::AutoScaling::LifecycleHook", "AWS::AutoScaling::ScalingPolicy",
                 "AWS::ApplicationAutoScaling::ScalableTarget",
                 "AWS::ApplicationAutoScaling::ScalingPolicy"}
FLEET_ONLY = {"SpotFleetRole", "SpotFleet", "FleetScalingRole", "FleetScalableTarget",
              "FleetCpuScaling"}
GROUP_ONLY = {"SpotGroup", "SpotGroupTerminateHook", "HookNotificationRole",
              "SpotGroupCpuScaling"}


def variant(spot_capacity):
    """The template's resources for SpotCapacity=spot_capacity (conditions applied)."""
    t = cfn_yaml.load(TEMPLATE)
    evaluated, conditions = cfn_yaml.evaluate(t, {"SpotCapacity": spot_capacity})
    return {k: r for k, r in evaluated["Resources"].items()
            if conditions.get(r.get("Condition"), True)}, conditions


def pools(overrides):
    return sorted((o["InstanceType"], float(o["WeightedCapacity"])) for o in overrides)


class ReferenceTemplateTest(unittest.TestCase):
    def test_conditions_choose_one_spot_source(self):
        for value, present, absent in (("spot-fleet", FLEET_ONLY, GROUP_ONLY),
                                       ("auto-scaling-group", GROUP_ONLY, FLEET_ONLY)):
            res, conditions = variant(value)
            self.assertEqual({"UseSpotFleet", "UseSpotGroup"}, set(conditions), value)
            self.assertEqual(present, present & set(res), value)
            self.assertEqual(set(), absent & set(res), value)
            # The web service's auto scaling in both.
            self.assertIn("WebScalableTarget", res)
            self.assertIn("WebCpuScaling", res)
        self.assertEqual(["spot-fleet", "auto-scaling-group"],
                         cfn_yaml.load(TEMPLATE)["Parameters"]["SpotCapacity"]["AllowedValues"])

    def test_fleet_target_tracking_on_target_capacity(self):
        res, _ = variant("spot-fleet")
        target = res["FleetScalableTarget"]["Properties"]
        self.assertEqual({"ServiceNamespace": "ec2",
                          "ResourceId": {"Fn::Sub": "spot-fleet-request/${SpotFleet}"},
                          "ScalableDimension": "ec2:spot-fleet-request:TargetCapacity",
                          "MinCapacity": {"Ref": "SpotTargetCapacity"},
                          "MaxCapacity": {"Ref": "SpotMaxCapacity"},
                          "RoleARN": {"Fn::GetAtt": ["FleetScalingRole", "Arn"]}}, target)
        role = res["FleetScalingRole"]["Properties"]
        self.assertEqual({"Service": "application-autoscaling.amazonaws.com"},
                         role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"])
        self.assertEqual([{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                                      "AmazonEC2SpotFleetAutoscaleRole"}],
                         role["ManagedPolicyArns"])
        policy = res["FleetCpuScaling"]["Properties"]
        self.assertEqual("TargetTrackingScaling", policy["PolicyType"])
        self.assertEqual({"Ref": "FleetScalableTarget"}, policy["ScalingTargetId"])
        config = policy["TargetTrackingScalingPolicyConfiguration"]
        self.assertEqual({"PredefinedMetricType": "EC2SpotFleetRequestAverageCPUUtilization"},
                         config["PredefinedMetricSpecification"])
        self.assertEqual({"Ref": "SpotCpuTarget"}, config["TargetValue"])
        nested = res["Spotkeeper"]["Properties"]["Parameters"]
        self.assertEqual({"Ref": "SpotFleet"}, nested["SpotFleetIds"])
        self.assertEqual("", nested["SpotAutoScalingGroups"])

    def test_group_is_the_fleets_pools_all_spot_with_rebalancing_and_the_hook(self):
        res, _ = variant("auto-scaling-group")
        fleet = cfn_yaml.load(TEMPLATE)["Resources"]["SpotFleet"]["Properties"][
            "SpotFleetRequestConfigData"]
        group = res["SpotGroup"]["Properties"]
        self.assertIs(True, group["CapacityRebalance"])
        self.assertEqual("units", group["DesiredCapacityType"])
        dist = group["MixedInstancesPolicy"]["InstancesDistribution"]
        self.assertEqual((0, 0), (dist["OnDemandBaseCapacity"],
                                  dist["OnDemandPercentageAboveBaseCapacity"]))
        # The fleet's instance types and weights (its subnets are the group's zones).
        fleet_pools = sorted(set(p for c in fleet["LaunchTemplateConfigs"]
                                 for p in pools(c["Overrides"])))
        self.assertEqual(fleet_pools, pools(group["MixedInstancesPolicy"]["LaunchTemplate"]
                                            ["Overrides"]))
        self.assertEqual({"Ref": "SubnetIds"}, group["VPCZoneIdentifier"])
        hook = res["SpotGroupTerminateHook"]["Properties"]
        self.assertEqual({"AutoScalingGroupName": {"Ref": "SpotGroup"},
                          "LifecycleHookName": "spotkeeper-drain",
                          "LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING",
                          "HeartbeatTimeout": 900, "DefaultResult": "CONTINUE",
                          "NotificationTargetARN": {"Fn::GetAtt": ["Spotkeeper",
                                                                   "Outputs.NoticeQueueArn"]},
                          "RoleARN": {"Fn::GetAtt": ["HookNotificationRole", "Arn"]}}, hook)
        self.assertIn("NoticeQueueArn", cfn_yaml.load(SPOTKEEPER_TEMPLATE)["Outputs"])
        scaling = res["SpotGroupCpuScaling"]["Properties"]
        self.assertEqual("TargetTrackingScaling", scaling["PolicyType"])
        self.assertEqual("ASGAverageCPUUtilization", scaling["TargetTrackingConfiguration"][
            "PredefinedMetricSpecification"]["PredefinedMetricType"])
        nested = res["Spotkeeper"]["Properties"]["Parameters"]
        self.assertEqual("", nested["SpotFleetIds"])
        self.assertEqual({"Ref": "SpotGroup"}, nested["SpotAutoScalingGroups"])


class ReferenceGroupVariantOnMotoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.moto = MotoServer(REGION, launcher=LAUNCHER)
        cls.cfn, cls.asg, cls.ecs, cls.iam = (cls.moto.client(s) for s in
                                              ("cloudformation", "autoscaling", "ecs", "iam"))
        cls.aas = cls.moto.client("application-autoscaling")
        ec2, ssm, s3 = (cls.moto.client(s) for s in ("ec2", "ssm", "s3"))
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.%d.0/24" % i,
                                     AvailabilityZone=REGION + az)["Subnet"]["SubnetId"]
                   for i, az in ((1, "a"), (2, "b"))]
        ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        ssm.put_parameter(Name="/test/ecs-ami", Value=ami, Type="String")
        ssm.put_parameter(Name="/test/gpu-ami", Value=ami, Type="String")
        s3.create_bucket(Bucket=BUCKET)
        with open(SPOTKEEPER_TEMPLATE, "rb") as f:
            s3.put_object(Bucket=BUCKET, Key="spotkeeper.yaml", Body=f.read())
        cls.params = {
            "VpcId": vpc, "SubnetIds": ",".join(subnets), "EcsAmiId": "/test/ecs-ami",
            "GpuAmiId": "/test/gpu-ami", "SpotCapacity": "auto-scaling-group",
            "SpotkeeperTemplateUrl": "https://%s.s3.%s.amazonaws.com/spotkeeper.yaml"
                                     % (BUCKET, REGION),
            "SpotkeeperImageUri": "public.ecr.aws/example/spotkeeper:test",
            "SpotkeeperControllerMode": "ecs-service"}
        with open(TEMPLATE, encoding="utf-8") as f:
            cls.cfn.create_stack(StackName=STACK, TemplateBody=f.read(),
                                 Parameters=[{"ParameterKey": k, "ParameterValue": v}
                                             for k, v in cls.params.items()],
                                 Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
        cls.stack = cls.cfn.describe_stacks(StackName=STACK)["Stacks"][0]
        cls.outputs = {o["OutputKey"]: o["OutputValue"] for o in cls.stack.get("Outputs", [])}
        cls.physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in
                        cls.cfn.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
                        if r["LogicalResourceId"]}
        cls.resources, _ = variant("auto-scaling-group")
        nested = cls.cfn.describe_stacks(StackName=cls.physical["Spotkeeper"])["Stacks"][0]
        cls.nested = nested
        cls.nested_outputs = {o["OutputKey"]: o["OutputValue"] for o in nested["Outputs"]}

    @classmethod
    def tearDownClass(cls):
        cls.moto.stop()

    def resolve(self, value):
        """Ref / GetAtt / Sub against the parameters and the deployed stack."""
        if isinstance(value, dict) and set(value) == {"Ref"}:
            ref = value["Ref"]
            if ref == "AWS::StackName":
                return STACK
            if ref in self.params:
                return self.params[ref]
            default = cfn_yaml.load(TEMPLATE)["Parameters"].get(ref, {}).get("Default")
            return default if default is not None else self.physical[ref]
        if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
            name, attr = value["Fn::GetAtt"]
            if attr.startswith("Outputs."):
                return self.nested_outputs[attr.split(".", 1)[1]]
            if attr == "Arn":
                return self.iam.get_role(RoleName=self.physical[name])["Role"]["Arn"]
            self.assertEqual("Name", attr)
            return self.physical[name].rsplit("/", 1)[-1]
        if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(self.resolve(
                {"Fn::GetAtt": m.group(1).split(".", 1)} if "." in m.group(1)
                else {"Ref": m.group(1)})), value["Fn::Sub"])
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def props(self, name):
        return self.resolve(self.resources[name]["Properties"])

    def test_stack_deploys_every_resource_moto_implements(self):
        self.assertEqual("CREATE_COMPLETE", self.stack["StackStatus"],
                         self.stack.get("StackStatusReason"))
        skipped = sorted(k for k, r in self.resources.items() if r["Type"] in SKIPPED_TYPES)
        print("not created by moto's CloudFormation (applied through the APIs): %s" % skipped)
        self.assertEqual(["SpotGroupCpuScaling", "SpotGroupTerminateHook", "WebCpuScaling",
                          "WebScalableTarget"], skipped)
        self.assertEqual(sorted(set(self.resources) - set(skipped)), sorted(self.physical))
        self.assertEqual({"LoadBalancerUrl", "ClusterName", "SpotGroupName", "OnDemandGroupName",
                          "NoticeQueueUrl"}, set(self.outputs))
        self.assertEqual(self.nested_outputs["NoticeQueueUrl"], self.outputs["NoticeQueueUrl"])

    def test_spot_group_of_the_fleets_pools(self):
        g = self.asg.describe_auto_scaling_groups(
            AutoScalingGroupNames=[self.outputs["SpotGroupName"]])["AutoScalingGroups"][0]
        self.assertEqual((0, 64), (g["MinSize"], g["MaxSize"]))
        mip = g["MixedInstancesPolicy"]
        self.assertEqual(0, mip["InstancesDistribution"]["OnDemandPercentageAboveBaseCapacity"])
        self.assertEqual(pools(self.resources["SpotGroup"]["Properties"]["MixedInstancesPolicy"]
                               ["LaunchTemplate"]["Overrides"]),
                         pools(mip["LaunchTemplate"]["Overrides"]))
        self.assertEqual(self.physical["SpotLaunchTemplate"],
                         mip["LaunchTemplate"]["LaunchTemplateSpecification"]["LaunchTemplateId"])
        gpu = [o for o in mip["LaunchTemplate"]["Overrides"] if o["InstanceType"] == "g4dn.xlarge"]
        self.assertEqual(self.physical["GpuLaunchTemplate"],
                         gpu[0]["LaunchTemplateSpecification"]["LaunchTemplateId"])

    def test_nested_spotkeeper_sizes_on_demand_against_the_group(self):
        params = {p["ParameterKey"]: p["ParameterValue"] for p in self.nested["Parameters"]}
        # (moto shows a CommaDelimitedList parameter as Python's str() of the list)
        self.assertIn(params["SpotAutoScalingGroups"], (self.outputs["SpotGroupName"],
                                                         str([self.outputs["SpotGroupName"]])))
        self.assertIn(params.get("SpotFleetIds", ""), ("", "['']", "[]"))
        self.assertEqual(self.outputs["OnDemandGroupName"], params["OnDemandAutoScalingGroup"])
        self.assertEqual(self.outputs["ClusterName"], params["ClusterName"])
        # The controller may complete the group's lifecycle actions (LifecycleActionsOfSpotGroups).
        role = self.nested_outputs["ControllerRoleArn"].rsplit("/", 1)[1]
        doc = self.iam.get_role_policy(RoleName=role, PolicyName="spotkeeper-controller")[
            "PolicyDocument"]
        if isinstance(doc, str):  # moto returns the document as Python literal text
            doc = ast.literal_eval(doc)
        spot = [st for st in doc["Statement"]
                if st and st.get("Sid") == "LifecycleActionsOfSpotGroups"]
        self.assertEqual(["arn:*:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/"
                          + self.outputs["SpotGroupName"]], spot[0]["Resource"])
        svc = self.ecs.describe_services(cluster=self.outputs["ClusterName"], services=[
            self.nested_outputs["ControllerServiceName"]])["services"][0]
        td = self.ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])[
            "taskDefinition"]
        # (moto keeps !Ref AWS::NoValue as null in the list; CloudFormation drops it)
        env = {e["name"]: e["value"] for e in td["containerDefinitions"][0]["environment"] if e}
        self.assertEqual(self.outputs["SpotGroupName"], env["SPOTKEEPER_SPOT_ASG"])
        self.assertNotIn("SPOTKEEPER_SPOT_FLEET_ID", env)

    def test_terminate_hook_notifies_spotkeepers_queue(self):
        p = self.props("SpotGroupTerminateHook")
        self.asg.put_lifecycle_hook(**p)
        hooks = self.asg.describe_lifecycle_hooks(
            AutoScalingGroupName=self.outputs["SpotGroupName"])["LifecycleHooks"]
        self.assertEqual(1, len(hooks))
        h = hooks[0]
        self.assertEqual("autoscaling:EC2_INSTANCE_TERMINATING", h["LifecycleTransition"])
        self.assertEqual(900, h["HeartbeatTimeout"])
        self.assertEqual("CONTINUE", h["DefaultResult"])
        sqs = self.moto.client("sqs")
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.outputs["NoticeQueueUrl"],
                                             AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        # moto's DescribeLifecycleHooks answers a fixed NotificationTargetARN and
        # RoleARN (it keeps neither): check what the template gives PutLifecycleHook.
        self.assertEqual(queue_arn, p["NotificationTargetARN"])
        # The role Auto Scaling uses for it may send to that queue only.
        role = self.physical["HookNotificationRole"]
        self.assertEqual(p["RoleARN"], self.iam.get_role(RoleName=role)["Role"]["Arn"])
        names = self.iam.list_role_policies(RoleName=role)["PolicyNames"]
        doc = self.iam.get_role_policy(RoleName=role, PolicyName=names[0])["PolicyDocument"]
        self.assertIn("'Resource': '%s'" % queue_arn, str(doc))
        self.assertEqual(1, str(doc).count("arn:aws:sqs"))

    def test_target_tracking_on_the_group(self):
        p = self.props("SpotGroupCpuScaling")
        self.asg.put_scaling_policy(PolicyName="%s-SpotGroupCpuScaling" % STACK, **p)
        got = self.asg.describe_policies(AutoScalingGroupName=self.outputs["SpotGroupName"])[
            "ScalingPolicies"]
        self.assertEqual(["TargetTrackingScaling"], [x["PolicyType"] for x in got])
        self.assertEqual(60.0, got[0]["TargetTrackingConfiguration"]["TargetValue"])

    def test_web_service_auto_scaling(self):
        t = self.props("WebScalableTarget")
        for k in ("MinCapacity", "MaxCapacity"):
            t[k] = int(t[k])
        # (moto checks that the ECS service exists: the ResourceId names the stack's)
        self.aas.register_scalable_target(**t)
        got = self.aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
        self.assertEqual([("service/%s/%s" % (self.outputs["ClusterName"],
                                               self.physical["WebService"].rsplit("/", 1)[1]),
                           "ecs:service:DesiredCount", 4, 16)],
                         [(x["ResourceId"], x["ScalableDimension"], x["MinCapacity"],
                           x["MaxCapacity"]) for x in got])
        raw = dict(self.resources["WebCpuScaling"]["Properties"])
        # The policy's target is the one registered above (in the API: its three ids).
        self.assertEqual({"Ref": "WebScalableTarget"}, raw.pop("ScalingTargetId"))
        p = self.resolve(raw)
        config = p["TargetTrackingScalingPolicyConfiguration"]
        config["TargetValue"] = float(config["TargetValue"])
        self.aas.put_scaling_policy(
            PolicyName=p["PolicyName"], PolicyType=p["PolicyType"],
            ServiceNamespace=t["ServiceNamespace"], ResourceId=t["ResourceId"],
            ScalableDimension=t["ScalableDimension"],
            TargetTrackingScalingPolicyConfiguration=config)
        policies = self.aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
        self.assertEqual([("%s-web-cpu" % STACK, "TargetTrackingScaling",
                           "ECSServiceAverageCPUUtilization", 50.0)],
                         [(x["PolicyName"], x["PolicyType"],
                           x["TargetTrackingScalingPolicyConfiguration"][
                               "PredefinedMetricSpecification"]["PredefinedMetricType"],
                           x["TargetTrackingScalingPolicyConfiguration"]["TargetValue"])
                          for x in policies])


if __name__ == "__main__":
    unittest.main(verbosity=2)
