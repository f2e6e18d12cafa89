"""IAM: each role's policy allows exactly the AWS operations its code can call.

- The operations come from the C++ sources (iam_derive.py: service-client
  methods -> operation strings; which methods each role's code calls).
- deploy/iam/agent.json and deploy/iam/controller.json must allow exactly those
  actions, no more, no fewer; deploy/iam/controller-lambda-runtime.json exactly
  what the Lambda service itself needs for the function (LAMBDA_RUNTIME below).
- Every action must be scoped as RESOURCE says (the resource types of the
  Service Authorization Reference: "*" only for actions without resource-level
  permissions); ecs container-instance writes/reads carry the ecs:cluster
  condition. A new action with no entry in RESOURCE fails: decide its scope.
- The same statements must be in deploy/cloudformation/spotkeeper.yaml, for
  sample values of its SpotAutoScalingGroups parameter (two names, none): the
  template is evaluated (cfn_yaml.evaluate: its conditions, Fn::If, Fn::Join,
  Fn::Sub, Fn::Split) and the file's ${SpotAutoScalingGroups} resource expanded
  to one ARN per name (its statement dropped when there are none).
- Self-checks: a call added to a copy of the sources, an extra action, a
  widened resource and a template that drifts from the file are each caught.
Run: python3 tests/deploy/iam_policy_test.py
"""
import copy
import json
import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import cfn_yaml  # noqa: E402
import iam_derive  # noqa: E402

SRC = os.path.join(ROOT, "src")
IAM = os.path.join(ROOT, "deploy", "iam")
TEMPLATE = os.path.join(ROOT, "deploy", "cloudformation", "spotkeeper.yaml")

_ECS = "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:"
CLUSTER = _ECS + "cluster/${ClusterName}"
CONTAINER_INSTANCES = _ECS + "container-instance/${ClusterName}/*"
QUEUE = "${NoticeQueue.Arn}"
ON_DEMAND_GROUP = ("arn:${AWS::Partition}:autoscaling:${AWS::Region}:${AWS::AccountId}:"
                   "autoScalingGroup:*:autoScalingGroupName/${OnDemandAutoScalingGroup}")

# The spot Auto Scaling groups (SpotAutoScalingGroups, --spot-asg): one ARN per
# name. The template builds the list with Fn::Join, whose delimiter cannot hold
# a function, so partition, region and account are wildcards there; the region
# is kept by REGION_CONDITION (a role acts in its own partition and account).
SPOT_GROUPS = "arn:*:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/${SpotAutoScalingGroups}"
REGION_CONDITION = {"StringEquals": {"aws:RequestedRegion": "${AWS::Region}"}}
# Sample values of SpotAutoScalingGroups the template is evaluated with.
SPOT_GROUP_SAMPLES = (["web-spot-a", "web-spot-b"], [])

# The resource each action must be limited to ("*": the action has no
# resource-level permissions in the Service Authorization Reference). A tuple:
# the action must be allowed on each of them, in separate statements.
RESOURCE = {
    "sns:Publish": "${NoticeTopic}",
    "sqs:SendMessage": QUEUE,
    "sqs:ReceiveMessage": QUEUE,
    "sqs:DeleteMessage": QUEUE,
    "sqs:ChangeMessageVisibility": QUEUE,
    "sqs:GetQueueAttributes": QUEUE,
    "ecs:ListContainerInstances": CLUSTER,
    # Whether an ECS capacity provider sizes the on-demand group (issue 15).
    "ecs:DescribeClusters": CLUSTER,
    "ecs:DescribeCapacityProviders": _ECS + "capacity-provider/*",
    "ecs:DescribeContainerInstances": CONTAINER_INSTANCES,
    "ecs:UpdateContainerInstancesState": CONTAINER_INSTANCES,
    "ecs:PutAttributes": CONTAINER_INSTANCES,
    "ecs:DeleteAttributes": CONTAINER_INSTANCES,
    "autoscaling:CreateOrUpdateTags": ON_DEMAND_GROUP,
    "autoscaling:DeleteTags": ON_DEMAND_GROUP,
    # The controller's own task, to find its host (controller/self_instance.h).
    "ecs:DescribeTasks": _ECS + "task/${ClusterName}/*",
    "autoscaling:SetDesiredCapacity": ON_DEMAND_GROUP,
    "autoscaling:TerminateInstanceInAutoScalingGroup": ON_DEMAND_GROUP,
    # Terminate lifecycle hooks (controller/lifecycle.h).
    # ... of the on-demand group and of the spot groups (a mixed-instances group
    # with Capacity Rebalancing and a terminate hook).
    "autoscaling:CompleteLifecycleAction": (ON_DEMAND_GROUP, SPOT_GROUPS),
    "autoscaling:RecordLifecycleActionHeartbeat": (ON_DEMAND_GROUP, SPOT_GROUPS),
    "autoscaling:DescribeLifecycleHooks": "*",
    # The on-demand fallback (controller/fallback.h): services, their tasks,
    # and the shadows it sizes (only services tagged spotkeeper:fallback-for).
    "ecs:DescribeServices": _ECS + "service/${ClusterName}/*",
    "ecs:ListServices": "*",
    "ecs:ListTasks": "*",
    "ecs:UpdateService": _ECS + "service/${ClusterName}/*",
    "ecs:TagResource": _ECS + "service/${ClusterName}/*",
    "ecs:UntagResource": _ECS + "service/${ClusterName}/*",
    "autoscaling:DescribeScalingActivities": "*",
    "autoscaling:DescribeAutoScalingGroups": "*",
    "autoscaling:DescribeLaunchConfigurations": "*",
    "cloudwatch:GetMetricStatistics": "*",
    "ec2:DescribeFleetInstances": "*",
    "ec2:DescribeFleets": "*",
    "ec2:DescribeInstanceTypes": "*",
    "ec2:DescribeInstances": "*",
    "ec2:DescribeLaunchTemplateVersions": "*",
    "ec2:DescribeSpotFleetInstances": "*",
    "ec2:DescribeSpotFleetRequests": "*",
    "logs:CreateLogStream": "${ControllerFunctionLogGroup.Arn}",
    "logs:PutLogEvents": "${ControllerFunctionLogGroup.Arn}",
}
# Actions whose statement must also require the cluster (ecs:cluster).
CLUSTER_CONDITION = {"ArnEquals": {"ecs:cluster": CLUSTER}}
NEEDS_CLUSTER_CONDITION = {"ecs:DescribeContainerInstances", "ecs:UpdateContainerInstancesState",
                           "ecs:DescribeTasks", "ecs:DescribeServices", "ecs:ListServices",
                           "ecs:ListTasks"}
# Writes to services: only shadows (tagged spotkeeper:fallback-for).
SHADOW_CONDITION = {"StringLike": {"aws:ResourceTag/spotkeeper:fallback-for": "?*"}}
NEEDS_SHADOW_CONDITION = {"ecs:UpdateService", "ecs:TagResource", "ecs:UntagResource"}

# Not called by spotkeeper's code but by the Lambda service for the function:
# the SQS event source mapping polls the queue, and the runtime writes logs.
LAMBDA_RUNTIME = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                  "logs:CreateLogStream", "logs:PutLogEvents"}

# policy file -> (role whose code it covers or None, CFN role, CFN policy name)
POLICIES = {
    "agent.json": ("agent", "AgentTaskRole", "spotkeeper-agent"),
    "controller.json": ("controller", "ControllerRole", "spotkeeper-controller"),
    "controller-lambda-runtime.json": (None, "ControllerRole",
                                       "spotkeeper-controller-lambda-runtime"),
}


def _load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _as_list(v):
    return v if isinstance(v, list) else [v]


def allowed_actions(doc):
    out = set()
    for st in doc["Statement"]:
        if st.get("Effect") == "Allow":
            out.update(_as_list(st["Action"]))
    return out


def check_policy(name, doc, expected, evidence=None):
    """Problems (strings) of one policy document against the expected actions."""
    problems = []
    if doc.get("Version") != "2012-10-17":
        problems.append("%s: Version must be 2012-10-17" % name)
    allowed = allowed_actions(doc)
    for a in sorted(expected - allowed):
        why = "; ".join((evidence or {}).get(a, [])) or "required"
        problems.append("%s: missing %s (called at %s)" % (name, a, why))
    for a in sorted(allowed - expected):
        problems.append("%s: allows %s, which the role's code never calls" % (name, a))
    for st in doc["Statement"]:
        if st.get("Effect") != "Allow":
            problems.append("%s: statement %s is not Allow" % (name, st.get("Sid")))
            continue
        for key in ("NotAction", "NotResource"):
            if key in st:
                problems.append("%s: statement %s uses %s" % (name, st.get("Sid"), key))
        resources = _as_list(st.get("Resource"))
        for a in _as_list(st["Action"]):
            if "*" in a.split(":", 1)[1]:
                problems.append("%s: wildcard action %s" % (name, a))
                continue
            if a not in RESOURCE:
                problems.append("%s: no scoping decided for %s (add it to RESOURCE)" % (name, a))
                continue
            scopes = _scopes(a)
            if resources not in [[r] for r in scopes]:
                problems.append("%s: %s must be on %s, not %s" %
                                (name, a, " or ".join(scopes), resources))
            if resources == [SPOT_GROUPS] and st.get("Condition") != REGION_CONDITION:
                problems.append("%s: %s on the spot groups needs the condition %s" %
                                (name, a, REGION_CONDITION))
            if a in NEEDS_CLUSTER_CONDITION and st.get("Condition") != CLUSTER_CONDITION:
                problems.append("%s: %s needs the condition %s" % (name, a, CLUSTER_CONDITION))
            if a in NEEDS_SHADOW_CONDITION and st.get("Condition") != SHADOW_CONDITION:
                problems.append("%s: %s needs the condition %s" % (name, a, SHADOW_CONDITION))
    for a in sorted(expected & allowed):
        for scope in _scopes(a):
            if not any(a in _as_list(st["Action"]) and _as_list(st.get("Resource")) == [scope]
                       for st in doc["Statement"]):
                problems.append("%s: %s is not allowed on %s" % (name, a, scope))
    return problems


def _scopes(action):
    r = RESOURCE[action]
    return r if isinstance(r, tuple) else (r,)


def expand_spot_groups(doc, names):
    """A deploy/iam document as it reads for SpotAutoScalingGroups = names: the
    ${SpotAutoScalingGroups} resource one ARN per name; without names, its
    statement is dropped (the template's !If [HasSpotGroups, ...])."""
    out = []
    for st in doc["Statement"]:
        resources = _as_list(st.get("Resource"))
        if not any("${SpotAutoScalingGroups}" in r for r in resources):
            out.append(st)
            continue
        if not names:
            continue
        st = dict(st)
        expanded = []
        for r in resources:
            if "${SpotAutoScalingGroups}" in r:
                expanded += [r.replace("${SpotAutoScalingGroups}", n) for n in names]
            else:
                expanded.append(r)
        st["Resource"] = expanded
        out.append(st)
    return dict(doc, Statement=out)


def normalize(v):
    """CloudFormation intrinsics -> the ${...} placeholders deploy/iam/*.json use."""
    if isinstance(v, dict):
        if set(v) == {"Ref"}:
            return "${%s}" % v["Ref"]
        if set(v) == {"Fn::GetAtt"}:
            return "${%s}" % ".".join(v["Fn::GetAtt"])
        if set(v) == {"Fn::Sub"} and isinstance(v["Fn::Sub"], str):
            return v["Fn::Sub"]
        return {k: normalize(x) for k, x in v.items()}
    if isinstance(v, list):
        return [normalize(x) for x in v]
    return v


def cfn_policy(template, role, policy_name):
    """The named policy of a role: inline, or an AWS::IAM::Policy naming the role."""
    for p in template["Resources"][role]["Properties"].get("Policies", []):
        if p.get("PolicyName") == policy_name:
            return normalize(p["PolicyDocument"])
    for r in template["Resources"].values():
        props = r.get("Properties", {})
        if (r["Type"] == "AWS::IAM::Policy" and props.get("PolicyName") == policy_name and
                {"Ref": role} in props.get("Roles", [])):
            return normalize(props["PolicyDocument"])
    return None


def canonical(doc):
    def st(s):
        s = dict(s)
        s["Action"] = sorted(_as_list(s["Action"]))
        return json.dumps(s, sort_keys=True)
    return sorted(st(s) for s in doc["Statement"]), doc.get("Version")


def template_for(template, spot_groups):
    """The template as CloudFormation reads it with SpotAutoScalingGroups = spot_groups."""
    evaluated, _ = cfn_yaml.evaluate(template, {"SpotAutoScalingGroups": spot_groups})
    return evaluated


def check_all(src=SRC, docs=None, template=None):
    derived = iam_derive.derive(src)
    docs = docs or {f: _load_json(os.path.join(IAM, f)) for f in POLICIES}
    template = template or cfn_yaml.load(TEMPLATE)
    problems = []
    for f, (role, cfn_role, policy_name) in POLICIES.items():
        evidence = derived[role] if role else {}
        expected = set(evidence) if role else LAMBDA_RUNTIME
        problems += check_policy(f, docs[f], expected, evidence)
        for names in SPOT_GROUP_SAMPLES:
            in_template = cfn_policy(template_for(template, names), cfn_role, policy_name)
            if in_template is None:
                problems.append("%s: %s has no policy %s" % (TEMPLATE, cfn_role, policy_name))
            elif canonical(in_template) != canonical(expand_spot_groups(docs[f], names)):
                problems.append("%s: %s/%s differs from deploy/iam/%s (SpotAutoScalingGroups=%s)"
                                % (os.path.basename(TEMPLATE), cfn_role, policy_name, f,
                                   ",".join(names)))
    return derived, problems


class IamPolicyTest(unittest.TestCase):
    def test_policies_allow_exactly_what_the_code_calls(self):
        derived, problems = check_all()
        self.assertEqual([], problems)
        # Sanity: the derivation found the calls we know exist.
        self.assertIn("sns:Publish", derived["agent"])
        self.assertIn("ecs:UpdateContainerInstancesState", derived["controller"])
        self.assertIn("autoscaling:SetDesiredCapacity", derived["controller"])
        self.assertNotIn("ec2:ModifySpotFleetRequest", derived["controller"])
        for role, actions in sorted(derived.items()):
            print("%s: %s" % (role, ", ".join(sorted(actions))))

    def _mutated_src(self, rel, added):
        """A copy of src/ with `added` (a function calling a client) appended to rel."""
        tmp = tempfile.mkdtemp(prefix="spk-iam-")
        self.addCleanup(shutil.rmtree, tmp)
        dst = os.path.join(tmp, "src")
        shutil.copytree(SRC, dst, ignore=shutil.ignore_patterns("*_test.cc"))
        with open(os.path.join(dst, rel), "a", encoding="utf-8") as f:
            f.write("\n" + added + "\n")
        return dst

    def test_fails_when_controller_code_gains_a_call(self):
        src = self._mutated_src(
            "controller/aws_cloud_view.cc",
            "namespace spk::controller {\n"
            "void Injected(aws::Ec2Client& ec2_) {\n"
            '  (void)ec2_.ModifySpotFleetRequest("sfr-x", 1, "default");\n'
            "}\n"
            "}  // namespace spk::controller")
        _, problems = check_all(src=src)
        self.assertTrue(any("controller.json: missing ec2:ModifySpotFleetRequest (called at "
                            "controller/aws_cloud_view.cc:" in p for p in problems), problems)

    def test_fails_when_agent_code_gains_a_call(self):
        src = self._mutated_src(
            "cloud/aws_container_instances.cc",
            "namespace spk::cloud {\n"
            "void Injected(aws::EcsClient& ecs_) {\n"
            '  (void)ecs_.DescribeContainerInstances("c", {"arn"});\n'
            "}\n"
            "}  // namespace spk::cloud")
        _, problems = check_all(src=src)
        self.assertTrue(any("agent.json: missing ecs:DescribeContainerInstances (called at "
                            "cloud/aws_container_instances.cc:" in p for p in problems), problems)
        # ... and only that: the rest of the agent's policy still matches.
        self.assertEqual(1, len(problems), problems)

    def _docs(self):
        return {f: _load_json(os.path.join(IAM, f)) for f in POLICIES}

    def test_fails_on_an_action_the_code_never_calls(self):
        docs = self._docs()
        docs["controller.json"]["Statement"][-1]["Action"].append("ec2:TerminateInstances")
        _, problems = check_all(docs=docs)
        self.assertIn("controller.json: allows ec2:TerminateInstances, which the role's code "
                      "never calls", problems)

    def test_fails_on_a_widened_resource(self):
        docs = self._docs()
        docs["agent.json"]["Statement"][0]["Resource"] = "*"
        _, problems = check_all(docs=docs)
        self.assertIn("agent.json: sns:Publish must be on ${NoticeTopic}, not ['*']", problems)

    def test_fails_when_the_template_drifts(self):
        template = cfn_yaml.load(TEMPLATE)
        t = copy.deepcopy(template)
        stmts = t["Resources"]["ControllerRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        stmts["Statement"].pop(0)
        _, problems = check_all(template=t)
        self.assertIn("spotkeeper.yaml: ControllerRole/spotkeeper-controller differs from "
                      "deploy/iam/controller.json (SpotAutoScalingGroups=)", problems)
        self.assertIn("spotkeeper.yaml: ControllerRole/spotkeeper-controller differs from "
                      "deploy/iam/controller.json (SpotAutoScalingGroups=web-spot-a,web-spot-b)",
                      problems)

    def _spot_statement(self, template, names):
        doc = cfn_policy(template_for(template, names), "ControllerRole", "spotkeeper-controller")
        found = [st for st in doc["Statement"] if st.get("Sid") == "LifecycleActionsOfSpotGroups"]
        self.assertLessEqual(len(found), 1)
        return found[0] if found else None

    def test_spot_groups_get_their_lifecycle_actions(self):
        template = cfn_yaml.load(TEMPLATE)
        arn = "arn:*:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/"
        st = self._spot_statement(template, ["web-spot-a", "web-spot-b"])
        self.assertEqual({"Sid": "LifecycleActionsOfSpotGroups", "Effect": "Allow",
                          "Action": ["autoscaling:CompleteLifecycleAction",
                                     "autoscaling:RecordLifecycleActionHeartbeat"],
                          "Resource": [arn + "web-spot-a", arn + "web-spot-b"],
                          "Condition": REGION_CONDITION}, st)
        self.assertEqual([arn + "web-spot"], self._spot_statement(template, ["web-spot"])["Resource"])
        # No spot groups (the default ""): no statement, and no group but the
        # on-demand one anywhere in the policy.
        self.assertIsNone(self._spot_statement(template, []))
        doc = cfn_policy(template_for(template, []), "ControllerRole", "spotkeeper-controller")
        groups = [r for st in doc["Statement"] for r in _as_list(st["Resource"])
                  if "autoScalingGroupName/" in r]
        self.assertEqual([ON_DEMAND_GROUP], groups)
        # A CommaDelimitedList parameter's "" is the list [""] to CloudFormation.
        self.assertIsNone(self._spot_statement(template, [""]))

    def test_fails_without_the_spot_groups_statement(self):
        docs = self._docs()
        docs["controller.json"]["Statement"] = [
            st for st in docs["controller.json"]["Statement"]
            if st.get("Sid") != "LifecycleActionsOfSpotGroups"]
        _, problems = check_all(docs=docs)
        self.assertIn("controller.json: autoscaling:CompleteLifecycleAction is not allowed on "
                      + SPOT_GROUPS, problems)
        # ... nor may the template lose it (the file is as it was).
        t = cfn_yaml.load(TEMPLATE)
        stmts = t["Resources"]["ControllerRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        stmts["Statement"] = [st for st in stmts["Statement"] if "Fn::If" not in st]
        _, problems = check_all(template=t)
        self.assertEqual(["spotkeeper.yaml: ControllerRole/spotkeeper-controller differs from "
                          "deploy/iam/controller.json (SpotAutoScalingGroups=web-spot-a,"
                          "web-spot-b)"], problems)

    def test_fails_on_a_widened_spot_group_resource(self):
        docs = self._docs()
        for st in docs["controller.json"]["Statement"]:
            if st.get("Sid") == "LifecycleActionsOfSpotGroups":
                st["Resource"] = ["arn:*:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/*"]
        _, problems = check_all(docs=docs)
        self.assertTrue(any(p.startswith("controller.json: autoscaling:CompleteLifecycleAction "
                                         "must be on ") for p in problems), problems)
        # The template's ARNs built from another prefix are caught too.
        t = cfn_yaml.load(TEMPLATE)
        stmts = t["Resources"]["ControllerRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        spot = [st for st in stmts["Statement"] if "Fn::If" in st][0]["Fn::If"][1]
        spot["Resource"]["Fn::Split"][1]["Fn::Sub"][0] = (
            "arn:*:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/*${Names}")
        _, problems = check_all(template=t)
        self.assertIn("spotkeeper.yaml: ControllerRole/spotkeeper-controller differs from "
                      "deploy/iam/controller.json (SpotAutoScalingGroups=web-spot-a,web-spot-b)",
                      problems)


if __name__ == "__main__":
    unittest.main(verbosity=2)
