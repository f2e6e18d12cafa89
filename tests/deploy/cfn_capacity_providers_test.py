"""Deploys deploy/examples/capacity-providers.yaml to moto_server's CloudFormation
and checks the capacity-provider cluster it describes (issue 15 item 5).

moto on a free 127.0.0.1 port (moto_peer.MotoServer); a VPC, two subnets and an
SSM parameter holding a moto AMI id stand in for the real ones. Nothing leaves
loopback; credentials are dummies.

What moto 5 does not do, and how the test handles it:
- AWS::ECS::CapacityProvider and AWS::ECS::ClusterCapacityProviderAssociations:
  moto's CloudFormation does not implement them (it lists them with no logical id
  and creates nothing). The test creates them through moto's ECS API from the
  template's own properties, Refs resolved against the deployed stack, then checks
  what ECS reports: that shows the providers are valid API input and point at the
  stack's groups.
- AWS::ECS::Service: moto keeps the cluster, task definition and desired count
  but drops CapacityProviderStrategy and Tags; the test applies those two from the
  template (UpdateService, TagResource) the same way and reads them back.
- CapacityRebalance on the Auto Scaling group is not passed on by moto's
  CloudFormation; it is checked in the template.
Last, deploy/cloudformation/spotkeeper.yaml (ControllerMode=none, AgentMode=none,
FallbackDiscover=true) is deployed with the example's outputs as its parameters.
Run: python3 tests/deploy/cfn_capacity_providers_test.py
"""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moto_peer import MotoServer  # noqa: E402
import cfn_yaml  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
TEMPLATE = os.path.join(ROOT, "deploy", "examples", "capacity-providers.yaml")
SPOTKEEPER_TEMPLATE = os.path.join(ROOT, "deploy", "cloudformation", "spotkeeper.yaml")
REGION = "us-east-1"
STACK = "cp-demo"
PRIMARY_DESIRED = 3
# Resource types moto 5's CloudFormation does not implement.
SKIPPED_TYPES = {"AWS::ECS::CapacityProvider", "AWS::ECS::ClusterCapacityProviderAssociations"}
FALLBACK_TAG = "spotkeeper:fallback-for"


def camel(value):
    """CloudFormation's PascalCase keys to the ECS API's camelCase, recursively."""
    if isinstance(value, dict):
        return {k[0].lower() + k[1:]: camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


class CapacityProvidersStackTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.moto = MotoServer(REGION)
        cls.ecs = cls.moto.client("ecs")
        cls.asg = cls.moto.client("autoscaling")
        cls.cfn = cls.moto.client("cloudformation")
        cls.template = cfn_yaml.load(TEMPLATE)
        cls.skipped = sorted(k for k, r in cls.template["Resources"].items()
                             if r["Type"] in SKIPPED_TYPES)
        print("not deployable to moto (skipped by it, applied through the ECS API): %s"
              % cls.skipped)
        ec2, ssm = cls.moto.client("ec2"), cls.moto.client("ssm")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.%d.0/24" % i,
                                     AvailabilityZone=REGION + az)["Subnet"]["SubnetId"]
                   for i, az in ((1, "a"), (2, "b"))]
        ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        ssm.put_parameter(Name="/test/ecs-ami", Value=ami, Type="String")
        cls.params = {"VpcId": vpc, "SubnetIds": ",".join(subnets), "EcsAmiId": "/test/ecs-ami",
                      "PrimaryDesiredCount": str(PRIMARY_DESIRED)}
        with open(TEMPLATE, encoding="utf-8") as f:
            cls.cfn.create_stack(StackName=STACK, TemplateBody=f.read(),
                                 Parameters=[{"ParameterKey": k, "ParameterValue": v}
                                             for k, v in cls.params.items()],
                                 Capabilities=["CAPABILITY_IAM"])
        cls.stack = cls.cfn.describe_stacks(StackName=STACK)["Stacks"][0]
        cls.outputs = {o["OutputKey"]: o["OutputValue"] for o in cls.stack.get("Outputs", [])}
        cls.physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in
                        cls.cfn.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
                        if r["LogicalResourceId"]}
        cls.apply_what_moto_skips()

    @classmethod
    def tearDownClass(cls):
        cls.moto.stop()

    @classmethod
    def resolve(cls, value):
        """Ref / GetAtt Name against the parameters and the deployed stack (and the providers
        created here)."""
        if isinstance(value, dict) and set(value) == {"Ref"}:
            ref = value["Ref"]
            return cls.params[ref] if ref in cls.params else cls.physical[ref]
        if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
            name, attr = value["Fn::GetAtt"]
            assert attr == "Name", attr
            return cls.physical[name].rsplit("/", 1)[-1]
        if isinstance(value, dict):
            return {k: cls.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [cls.resolve(v) for v in value]
        return value

    @classmethod
    def apply_what_moto_skips(cls):
        res = cls.template["Resources"]
        for name, r in res.items():
            if r["Type"] == "AWS::ECS::CapacityProvider":
                props = cls.resolve(r["Properties"])
                cp_name = "%s-%s" % (STACK, name)  # CloudFormation names it likewise
                cls.ecs.create_capacity_provider(
                    name=cp_name, autoScalingGroupProvider=camel(props["AutoScalingGroupProvider"]))
                cls.physical[name] = cp_name
        for name, r in res.items():
            if r["Type"] == "AWS::ECS::ClusterCapacityProviderAssociations":
                props = cls.resolve(r["Properties"])
                cls.ecs.put_cluster_capacity_providers(
                    cluster=props["Cluster"], capacityProviders=props["CapacityProviders"],
                    defaultCapacityProviderStrategy=camel(props["DefaultCapacityProviderStrategy"]))
        for name, r in res.items():
            if r["Type"] != "AWS::ECS::Service":
                continue
            props = cls.resolve(r["Properties"])
            if "CapacityProviderStrategy" in props:
                cls.ecs.update_service(cluster=props["Cluster"], service=cls.physical[name],
                                       capacityProviderStrategy=camel(props["CapacityProviderStrategy"]))
            if "Tags" in props:
                cls.ecs.tag_resource(resourceArn=cls.physical[name], tags=camel(props["Tags"]))

    def test_stack_deploys_every_resource_moto_implements(self):
        self.assertEqual("CREATE_COMPLETE", self.stack["StackStatus"], self.stack.get("StackStatusReason"))
        created = {k for k in self.physical if k not in self.skipped}
        self.assertEqual(sorted(set(self.template["Resources"]) - set(self.skipped)), sorted(created))
        self.assertEqual(self.skipped, ["ClusterCapacityProviders", "OnDemandCapacityProvider",
                                        "SpotCapacityProvider"])

    def providers(self):
        names = [self.physical["SpotCapacityProvider"], self.physical["OnDemandCapacityProvider"]]
        got = self.ecs.describe_capacity_providers(capacityProviders=names)["capacityProviders"]
        return {p["name"]: p for p in got}

    def test_two_providers_with_managed_scaling_on_the_right_groups(self):
        got = self.providers()
        groups = {"SpotCapacityProvider": self.outputs["SpotGroupName"],
                  "OnDemandCapacityProvider": self.outputs["OnDemandGroupName"]}
        self.assertNotEqual(groups["SpotCapacityProvider"], groups["OnDemandCapacityProvider"])
        for logical, group in groups.items():
            p = got[self.physical[logical]]["autoScalingGroupProvider"]
            self.assertEqual(group, p["autoScalingGroupArn"])
            self.assertEqual("ENABLED", p["managedScaling"]["status"])
            self.assertEqual(100, p["managedScaling"]["targetCapacity"])
            self.assertEqual("ENABLED", p["managedDraining"])
            g = self.asg.describe_auto_scaling_groups(AutoScalingGroupNames=[group])["AutoScalingGroups"]
            self.assertEqual(1, len(g))
        # Spot empty until ECS scales it; one on-demand instance kept for the controller.
        spot, od = (self.asg.describe_auto_scaling_groups(AutoScalingGroupNames=[groups[k]])
                    ["AutoScalingGroups"][0] for k in ("SpotCapacityProvider", "OnDemandCapacityProvider"))
        self.assertEqual((0, 10), (spot["MinSize"], spot["MaxSize"]))
        self.assertEqual((1, 6), (od["MinSize"], od["MaxSize"]))

    def test_cluster_defaults_to_the_spot_provider(self):
        c = self.ecs.describe_clusters(clusters=[self.outputs["ClusterName"]])["clusters"][0]
        spot, od = self.physical["SpotCapacityProvider"], self.physical["OnDemandCapacityProvider"]
        self.assertEqual(sorted([spot, od]), sorted(c["capacityProviders"]))
        self.assertEqual([spot], [s["capacityProvider"] for s in c["defaultCapacityProviderStrategy"]])

    def test_spot_group_is_all_spot(self):
        g = self.asg.describe_auto_scaling_groups(
            AutoScalingGroupNames=[self.outputs["SpotGroupName"]])["AutoScalingGroups"][0]
        dist = g["MixedInstancesPolicy"]["InstancesDistribution"]
        self.assertEqual(0, dist["OnDemandPercentageAboveBaseCapacity"])
        self.assertEqual(0, dist["OnDemandBaseCapacity"])
        self.assertEqual("price-capacity-optimized", dist["SpotAllocationStrategy"])
        types = [o["InstanceType"] for o in g["MixedInstancesPolicy"]["LaunchTemplate"]["Overrides"]]
        self.assertGreaterEqual(len(set(types)), 3)
        self.assertEqual(self.physical["SpotLaunchTemplate"], g["MixedInstancesPolicy"]["LaunchTemplate"]
                         ["LaunchTemplateSpecification"]["LaunchTemplateId"])
        # moto's CloudFormation drops CapacityRebalance: the template says it.
        self.assertIs(True, self.template["Resources"]["SpotGroup"]["Properties"]["CapacityRebalance"])
        od = self.asg.describe_auto_scaling_groups(
            AutoScalingGroupNames=[self.outputs["OnDemandGroupName"]])["AutoScalingGroups"][0]
        self.assertFalse(od.get("MixedInstancesPolicy"))  # moto reports {} for none
        self.assertEqual(self.physical["OnDemandLaunchTemplate"], od["LaunchTemplate"]["LaunchTemplateId"])

    def test_primary_on_spot_and_its_shadow(self):
        cluster = self.outputs["ClusterName"]
        primary_name, shadow_name = self.outputs["PrimaryServiceName"], self.outputs["ShadowServiceName"]
        got = {s["serviceName"]: s for s in self.ecs.describe_services(
            cluster=cluster, services=[primary_name, shadow_name], include=["TAGS"])["services"]}
        primary, shadow = got[primary_name], got[shadow_name]
        self.assertEqual(PRIMARY_DESIRED, primary["desiredCount"])
        self.assertEqual(0, shadow["desiredCount"])
        self.assertEqual(primary["taskDefinition"], shadow["taskDefinition"])
        self.assertEqual([self.physical["SpotCapacityProvider"]],
                         [s["capacityProvider"] for s in primary["capacityProviderStrategy"]])
        self.assertEqual([self.physical["OnDemandCapacityProvider"]],
                         [s["capacityProvider"] for s in shadow["capacityProviderStrategy"]])
        self.assertEqual([{"key": FALLBACK_TAG, "value": primary_name}], shadow.get("tags"))
        self.assertFalse(primary.get("tags"))  # spotkeeper's role may change tagged services only
        # Same target group (moto drops LoadBalancers): the template says it.
        res = self.template["Resources"]
        self.assertEqual(res["WebService"]["Properties"]["LoadBalancers"],
                         res["WebShadowService"]["Properties"]["LoadBalancers"])
        self.assertNotIn("LaunchType", res["WebService"]["Properties"])
        self.assertNotIn("LaunchType", res["WebShadowService"]["Properties"])

    def test_outputs_feed_spotkeeper_stack(self):
        sk = cfn_yaml.load(SPOTKEEPER_TEMPLATE)["Parameters"]
        for p in ("ClusterName", "SpotAutoScalingGroups", "OnDemandAutoScalingGroup", "FallbackDiscover"):
            self.assertIn(p, sk)
        for p, out in (("ClusterName", "ClusterName"), ("OnDemandAutoScalingGroup", "OnDemandGroupName")):
            self.assertRegex(self.outputs[out], sk[p]["AllowedPattern"])
        params = {"ClusterName": self.outputs["ClusterName"],
                  "SpotAutoScalingGroups": self.outputs["SpotGroupName"],
                  "OnDemandAutoScalingGroup": self.outputs["OnDemandGroupName"],
                  "FallbackDiscover": "true", "ControllerMode": "none", "AgentMode": "none"}
        with open(SPOTKEEPER_TEMPLATE, encoding="utf-8") as f:
            self.cfn.create_stack(StackName="spotkeeper", TemplateBody=f.read(),
                                  Parameters=[{"ParameterKey": k, "ParameterValue": v}
                                              for k, v in params.items()],
                                  Capabilities=["CAPABILITY_IAM"])
        stack = self.cfn.describe_stacks(StackName="spotkeeper")["Stacks"][0]
        self.assertEqual("CREATE_COMPLETE", stack["StackStatus"], stack.get("StackStatusReason"))
        self.assertTrue(re.match(r"^https?://", self.outputs["LoadBalancerUrl"]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
