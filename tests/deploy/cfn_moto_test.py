"""Deploys deploy/cloudformation/spotkeeper.yaml to moto_server's CloudFormation
and checks that the resources exist and are wired as the template says.

moto_server is started here, on a free 127.0.0.1 port (`-p 0`, the port read
from its log line, as tests/support/moto_server.cc does), and stopped at the end.
Nothing leaves loopback; credentials are dummies.

Stacks deployed:
- `lambda`: ControllerMode=lambda, AgentMode=ecs-daemon, with a placeholder zip
  uploaded to moto's S3 (moto stores the function, it never runs it);
- `ecs`: ControllerMode=ecs-service, AgentMode=ecs-daemon;
- `none`: ControllerMode=none, AgentMode=none (supporting resources only).
moto skips AWS::SNS::Subscription and AWS::SQS::QueuePolicy (both are listed as
stack resources but nothing is created): the test records that and checks
everything else; the queue policy is checked when a moto applies it.
The real binary then runs with what the stack gives it: `spotkeeper agent`
with the daemon task's command and environment starts and stops cleanly,
`spotkeeper lambda`
with the function's environment passes its init (it asks a loopback Runtime
API for the next event, no init error), and `spotkeeper controller` with the
ECS task's command and environment starts, consumes the stack's queue on moto
and stops on SIGTERM with exit 0.
Run: python3 tests/deploy/cfn_moto_test.py --spotkeeper build/spotkeeper
"""
import argparse
import ast
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
import zipfile

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moto_peer import FakeRuntimeApi, MotoServer, stop_process  # noqa: E402
import cfn_yaml  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
TEMPLATE = os.path.join(ROOT, "deploy", "cloudformation", "spotkeeper.yaml")
REGION = "us-east-1"
SPOTKEEPER = os.environ.get("SPOTKEEPER_BIN", os.path.join(ROOT, "build", "spotkeeper"))
CLUSTER = "web"
ON_DEMAND = "web-on-demand"
# Resource types moto 5's CloudFormation does not implement (it warns "No Moto
# CloudFormation support for ..." and creates nothing).
SKIPPED_TYPES = {"AWS::SNS::Subscription", "AWS::SQS::QueuePolicy",
                 "AWS::AutoScaling::LifecycleHook"}
SKIPPED_BY_MOTO = set()


def placeholder_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\necho placeholder\n")
    return buf.getvalue()


def base_env(moto_url):
    """A clean environment: dummy credentials, everything on loopback."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_ENDPOINT_URL": moto_url, "AWS_EC2_METADATA_DISABLED": "true",
            "HOME": tempfile.gettempdir()}


class CfnMotoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.moto = MotoServer(REGION)
        cls.cfn = cls.moto.client("cloudformation")
        cls.moto.client("ecs").create_cluster(clusterName=CLUSTER)
        s3 = cls.moto.client("s3")
        s3.create_bucket(Bucket="spotkeeper-artifacts")
        s3.put_object(Bucket="spotkeeper-artifacts", Key="spotkeeper-lambda.zip",
                      Body=placeholder_zip())
        with open(TEMPLATE, encoding="utf-8") as f:
            cls.body = f.read()
        cls.template = cfn_yaml.load(TEMPLATE)
        SKIPPED_BY_MOTO.update(k for k, r in cls.template["Resources"].items()
                               if r["Type"] in SKIPPED_TYPES)
        print("not deployable to moto (skipped by it): %s" % sorted(SKIPPED_BY_MOTO))

    @classmethod
    def tearDownClass(cls):
        cls.moto.stop()

    def deploy(self, name, absent, **params):
        """Creates the stack; checks it lists exactly the template's resources but
        those moto skips (SKIPPED_BY_MOTO) and those the parameters leave out (absent)."""
        base = {"ClusterName": CLUSTER, "OnDemandAutoScalingGroup": ON_DEMAND,
                "SpotFleetIds": "sfr-11111111-2222-3333-4444-555555555555",
                "ImageUri": "public.ecr.aws/example/spotkeeper:test"}
        base.update(params)
        self.cfn.create_stack(StackName=name, TemplateBody=self.body,
                              Parameters=[{"ParameterKey": k, "ParameterValue": v}
                                          for k, v in base.items()],
                              Capabilities=["CAPABILITY_IAM"])
        stack = self.cfn.describe_stacks(StackName=name)["Stacks"][0]
        self.assertEqual("CREATE_COMPLETE", stack["StackStatus"], stack.get("StackStatusReason"))
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        resources = {r["LogicalResourceId"]: r for r in
                     self.cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]}
        expected = set(self.template["Resources"]) - SKIPPED_BY_MOTO - set(absent)
        self.assertEqual(sorted(expected), sorted(r for r in resources if r))
        return outputs, resources

    def check_supporting(self, name, outputs, resources, spot_groups=()):
        sqs, sns, events, iam = (self.moto.client(s) for s in ("sqs", "sns", "events", "iam"))
        # Topic.
        topic = outputs["NoticeTopicArn"]
        self.assertIn(topic, [t["TopicArn"] for t in sns.list_topics()["Topics"]])
        # Queue, dead-letter queue, redrive.
        attrs = sqs.get_queue_attributes(QueueUrl=outputs["NoticeQueueUrl"],
                                         AttributeNames=["All"])["Attributes"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=outputs["DeadLetterQueueUrl"],
                                           AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = json.loads(attrs["RedrivePolicy"])
        self.assertEqual(dlq_arn, redrive["deadLetterTargetArn"])
        self.assertEqual(5, int(redrive["maxReceiveCount"]))
        self.assertEqual("360", attrs["VisibilityTimeout"])
        # Rules: the EC2 events (and the Lambda mode's schedule) into this stack's queue.
        patterns, rule_arns = {}, []
        for rule in events.list_rules()["Rules"]:
            targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
            if [t["Arn"] for t in targets] != [outputs["NoticeQueueArn"]]:
                continue
            rule_arns.append(rule["Arn"])
            if "EventPattern" in rule:
                pattern = json.loads(rule["EventPattern"])
                patterns[pattern["detail-type"][0]] = pattern
        # With FallbackDiscover, the capacity events that wake the fallback too.
        capacity = {"ECS Service Action", "ECS Task State Change"}
        self.assertEqual({"EC2 Spot Instance Interruption Warning",
                          "EC2 Instance Rebalance Recommendation",
                          "EC2 Instance State-change Notification",
                          "AWS Health Event", "EC2 Instance-terminate Lifecycle Action"},
                         set(patterns) - capacity)
        for detail_type, pattern in patterns.items():
            if detail_type in capacity:
                continue
            want = {"AWS Health Event": "aws.health",
                    "EC2 Instance-terminate Lifecycle Action": "aws.autoscaling"}.get(
                        detail_type, "aws.ec2")
            self.assertEqual([want], pattern["source"], detail_type)
        if "ECS Task State Change" in patterns:
            # Only this cluster's events: not every task start of the account.
            cluster_arn = "arn:aws:ecs:%s:123456789012:cluster/%s" % (REGION, CLUSTER)
            task = patterns["ECS Task State Change"]["detail"]
            self.assertEqual([cluster_arn], task["clusterArn"])
            self.assertEqual(["PROVISIONING"], task["lastStatus"])
            service = patterns["ECS Service Action"]["detail"]
            self.assertEqual([cluster_arn], service["clusterArn"])
            self.assertEqual(["SERVICE_TASK_PLACEMENT_FAILURE", "SERVICE_STEADY_STATE"],
                             service["eventName"])
        # Lifecycle actions: both transitions, of the on-demand and spot groups only.
        lifecycle = patterns["EC2 Instance-terminate Lifecycle Action"]
        self.assertEqual(["EC2 Instance-terminate Lifecycle Action",
                          "EC2 Instance-launch Lifecycle Action"], lifecycle["detail-type"])
        self.assertEqual([ON_DEMAND] + list(spot_groups or []),
                         lifecycle["detail"]["AutoScalingGroupName"])
        self.assertEqual(["stopping", "shutting-down", "terminated"],
                         patterns["EC2 Instance State-change Notification"]["detail"]["state"])
        self.assertEqual({"service": ["EC2"], "eventTypeCategory": ["scheduledChange"]},
                         patterns["AWS Health Event"]["detail"])
        # Queue policy: moto 5 skips AWS::SQS::QueuePolicy (lists it, applies nothing);
        # when a moto applies it, check it: SNS limited to the topic, EventBridge to the rules.
        if "Policy" in attrs:
            by_sid = {st["Sid"]: st for st in json.loads(attrs["Policy"])["Statement"]}
            self.assertEqual(topic,
                             by_sid["TopicDelivers"]["Condition"]["ArnEquals"]["aws:SourceArn"])
            self.assertEqual(sorted(rule_arns), sorted(
                by_sid["RulesDeliver"]["Condition"]["ArnEquals"]["aws:SourceArn"]))
        else:
            print("%s: moto applied no queue policy (moto skips AWS::SQS::QueuePolicy)" % name)
        # Roles with their inline policies: resolved, and the actions of deploy/iam/.
        for output, policy_name, doc_file in (("AgentTaskRoleArn", "spotkeeper-agent", "agent"),
                                              ("ControllerRoleArn", "spotkeeper-controller",
                                               "controller")):
            role_name = outputs[output].rsplit("/", 1)[1]
            doc = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
            if isinstance(doc, str):  # moto returns the document as Python literal text
                doc = ast.literal_eval(doc)
            # moto resolves !Ref AWS::NoValue to null and keeps it in a list (the
            # controller's !If [HasSpotGroups, ..., !Ref AWS::NoValue] statement);
            # CloudFormation removes it.
            novalue = [st for st in doc["Statement"] if st is None]
            doc["Statement"] = [st for st in doc["Statement"] if st is not None]
            self.assertEqual(1 if doc_file == "controller" and not spot_groups else 0,
                             len(novalue))
            text = json.dumps(doc)
            self.assertNotIn("${", text, "placeholders left unresolved")
            self.assertIn("arn:aws:ecs:us-east-1:123456789012:container-instance/%s/*" % CLUSTER,
                          text)
            with open(os.path.join(ROOT, "deploy", "iam", doc_file + ".json"),
                      encoding="utf-8") as f:
                want = {a for st in json.load(f)["Statement"] for a in st["Action"]}
            got = {a for st in doc["Statement"] for a in
                   (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])}
            self.assertEqual(want, got)
            if doc_file == "controller":
                self.check_spot_group_statement(doc, spot_groups)
        # The subscription: moto skips it.
        subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        print("%s: SNS subscriptions moto created for the topic: %d (moto skips "
              "AWS::SNS::Subscription)" % (name, len(subs)))
        return rule_arns

    def check_spot_group_statement(self, doc, spot_groups):
        # The lifecycle actions of the spot groups: one ARN per SpotAutoScalingGroups
        # name as CloudFormation (here moto) resolves the template; none without.
        found = [st for st in doc["Statement"] if st.get("Sid") == "LifecycleActionsOfSpotGroups"]
        if not spot_groups:
            self.assertEqual([], found)
            return
        self.assertEqual(1, len(found), doc)
        st = found[0]
        self.assertEqual(["autoscaling:CompleteLifecycleAction",
                          "autoscaling:RecordLifecycleActionHeartbeat"], st["Action"])
        self.assertEqual(["arn:*:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/" + g
                          for g in spot_groups], st["Resource"])
        self.assertEqual({"StringEquals": {"aws:RequestedRegion": REGION}}, st["Condition"])

    def test_lambda_controller_and_agent_daemon(self):
        outputs, resources = self.deploy(
            "spk-lambda", ["ControllerTaskDefinition", "ControllerService",
                           "CapacityServiceEventsRule", "CapacityTaskEventsRule"],
            ControllerMode="lambda", AgentMode="ecs-daemon",
            LambdaCodeS3Bucket="spotkeeper-artifacts", AgentDrain="true")
        rules = self.check_supporting("spk-lambda", outputs, resources)
        self.assertEqual(6, len(rules), "interruption, rebalance, state change, health, "
                                         "lifecycle actions, schedule")
        lam = self.moto.client("lambda")
        fn = lam.get_function(FunctionName=outputs["ControllerFunctionName"])["Configuration"]
        self.assertEqual("provided.al2023", fn["Runtime"])
        self.assertEqual("bootstrap", fn["Handler"])
        self.assertEqual(outputs["ControllerRoleArn"], fn["Role"])
        env = fn["Environment"]["Variables"]
        self.assertEqual(CLUSTER, env["SPOTKEEPER_CLUSTER"])
        self.assertEqual(ON_DEMAND, env["SPOTKEEPER_ON_DEMAND_ASG"])
        self.assertNotIn("SPOTKEEPER_SPOT_ASG", env)
        self.assertNotIn("SPOTKEEPER_EC2_FLEET_ID", env)
        # Unset means "the type's vCPUs"; `spotkeeper lambda` rejects 0 or "".
        self.assertNotIn("SPOTKEEPER_ON_DEMAND_UNITS", env)
        self.assertEqual("10m", env["SPOTKEEPER_LAUNCH_TIMEOUT"])
        mappings = lam.list_event_source_mappings(
            FunctionName=outputs["ControllerFunctionName"])["EventSourceMappings"]
        self.assertEqual([outputs["NoticeQueueArn"]], [m["EventSourceArn"] for m in mappings])
        self.assertEqual(10, mappings[0]["BatchSize"])
        if "FunctionResponseTypes" in mappings[0]:  # moto may not keep it
            self.assertEqual(["ReportBatchItemFailures"], mappings[0]["FunctionResponseTypes"])
        self.check_agent(outputs, drain="true")
        self.check_lambda_init(env)

    def check_lambda_init(self, function_env):
        api = FakeRuntimeApi(poll_delay=2)
        self.addCleanup(api.stop)
        env = base_env(self.moto.url)
        env.update({k: str(v) for k, v in function_env.items()})
        env["AWS_LAMBDA_RUNTIME_API"] = api.address
        proc = subprocess.Popen([SPOTKEEPER, "lambda"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        polled = api.next_polls.wait(15)
        stop_process(proc, 5)
        output = proc.stdout.read()
        proc.stdout.close()
        self.assertEqual([], api.init_errors, output)
        self.assertTrue(polled, "spotkeeper lambda never asked for an event: " + output)

    def check_agent(self, outputs, drain):
        ecs = self.moto.client("ecs")
        svc = ecs.describe_services(cluster=CLUSTER,
                                    services=[outputs["AgentServiceName"]])["services"][0]
        self.assertEqual(CLUSTER, svc["clusterArn"].rsplit("/", 1)[1])
        # (moto's AWS::ECS::Service ignores SchedulingStrategy: checked in the template)
        td = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
        c = td["containerDefinitions"][0]
        self.assertEqual(["agent"], c["command"])
        env = {e["name"]: e["value"] for e in c["environment"]}
        self.assertEqual(outputs["NoticeTopicArn"], env["SPOTKEEPER_SNS_TOPIC_ARN"])
        self.assertEqual(drain, env["SPOTKEEPER_DRAIN"])
        self.check_agent_runs(c["command"], env)

    def check_agent_runs(self, command, task_env):
        # The agent with the task's command and environment starts and stops
        # cleanly (IMDS and the ECS agent unreachable here: it logs and retries).
        env = base_env(self.moto.url)
        env.update({k: str(v) for k, v in task_env.items()})
        env.pop("AWS_EC2_METADATA_DISABLED")
        env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:9"
        env["SPOTKEEPER_ECS_AGENT_ENDPOINT"] = "http://127.0.0.1:9"
        with tempfile.TemporaryFile("w+") as log:
            proc = subprocess.Popen([SPOTKEEPER] + command, env=env, stdout=log,
                                    stderr=subprocess.STDOUT, text=True)
            deadline, text = time.time() + 20, ""
            while time.time() < deadline and "agent started" not in text:
                time.sleep(0.2)
                log.seek(0)
                text = log.read()
            rc = stop_process(proc, 10)
            log.seek(0)
            text = log.read()
        self.assertIn("agent started", text)
        self.assertEqual(0, rc, text)

    def test_ecs_controller_and_agent_daemon(self):
        outputs, resources = self.deploy("spk-ecs", ["ControllerFunction", "ControllerFunctionLogGroup",
                                                     "ControllerEventSource",
                                                     "ControllerLambdaRuntimePolicy",
                                                     "ReconcileScheduleRule"],
                                         ControllerMode="ecs-service", FallbackDiscover="true",
                                         FallbackMax="10,50%", LaunchTimeout="4m",
                                         AgentMode="ecs-daemon", OnDemandUnits="4",
                                         SpotAutoScalingGroups="web-spot-a,web-spot-b",
                                         Ec2FleetIds="fleet-11111111-2222-3333-4444-555555555555")
        rules = self.check_supporting("spk-ecs", outputs, resources,
                                      spot_groups=["web-spot-a", "web-spot-b"])
        self.assertEqual(7, len(rules), "5 and the fallback's capacity events (FallbackDiscover)")
        self.assertNotIn("ControllerFunction", resources)
        ecs = self.moto.client("ecs")
        svc = ecs.describe_services(cluster=CLUSTER,
                                    services=[outputs["ControllerServiceName"]])["services"][0]
        self.assertEqual(1, svc["desiredCount"])
        td = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
        c = td["containerDefinitions"][0]
        self.assertEqual("controller", c["command"][0])
        # The container health check runs the binary's own healthcheck on /healthz.
        self.assertEqual(["CMD", "/usr/local/bin/spotkeeper", "healthcheck", "--url",
                          "http://127.0.0.1:9102/healthz"], c["healthCheck"]["command"])
        self.assertIn("0.0.0.0:9102", c["command"])
        env = {e["name"]: e["value"] for e in c["environment"]}
        self.assertEqual(outputs["NoticeQueueUrl"], env["SPOTKEEPER_QUEUE_URL"])
        self.assertEqual("web-spot-a,web-spot-b", env["SPOTKEEPER_SPOT_ASG"])
        self.assertEqual("fleet-11111111-2222-3333-4444-555555555555",
                         env["SPOTKEEPER_EC2_FLEET_ID"])
        self.assertEqual("4", env["SPOTKEEPER_ON_DEMAND_UNITS"])
        self.assertEqual("true", env["SPOTKEEPER_FALLBACK_DISCOVER"])
        self.assertEqual("10,50%", env["SPOTKEEPER_FALLBACK_MAX"])
        self.assertEqual("4m", env["SPOTKEEPER_LAUNCH_TIMEOUT"])
        self.check_agent(outputs, drain="false")
        self.check_controller_runs(c["command"], env)

    def check_controller_runs(self, command, task_env):
        env = base_env(self.moto.url)
        env.update({k: str(v) for k, v in task_env.items()})
        env["SPOTKEEPER_WAIT_TIME"] = "1s"  # (only so that SIGTERM ends it quickly)
        args = [a if a != "0.0.0.0:9102" else "127.0.0.1:0" for a in command]
        self.assertNotEqual(command, args, "the task should listen on 0.0.0.0:9102")
        with tempfile.TemporaryFile("w+") as log:
            proc = subprocess.Popen([SPOTKEEPER] + args, env=env, stdout=log,
                                    stderr=subprocess.STDOUT, text=True)
            deadline, text = time.time() + 20, ""
            while time.time() < deadline and "controller started" not in text:
                time.sleep(0.2)
                log.seek(0)
                text = log.read()
            rc = stop_process(proc, 20)
            log.seek(0)
            text = log.read()
        self.assertIn("controller started", text)
        self.assertIn("spk-ecs-notices", text)  # the stack's queue
        self.assertEqual(0, rc, text)

    def test_task_definition_properties_moto_drops(self):
        # moto's AWS::ECS::TaskDefinition keeps only Family, ContainerDefinitions,
        # Volumes and Memory, its AWS::ECS::Service ignores SchedulingStrategy:
        # check those in the template itself.
        r = self.template["Resources"]
        agent = r["AgentTaskDefinition"]["Properties"]
        self.assertEqual("host", agent["NetworkMode"])
        self.assertEqual({"Fn::GetAtt": ["AgentTaskRole", "Arn"]}, agent["TaskRoleArn"])
        self.assertEqual(["EC2"], agent["RequiresCompatibilities"])
        controller = r["ControllerTaskDefinition"]["Properties"]
        self.assertEqual({"Fn::GetAtt": ["ControllerRole", "Arn"]}, controller["TaskRoleArn"])
        self.assertEqual("DAEMON", r["AgentService"]["Properties"]["SchedulingStrategy"])

    def test_controller_service_is_placed_on_on_demand_capacity(self):
        # Item 7 of issue 11: the controller must not run on a spot host it drains.
        # The expression is the attribute the agent sets (src/agent/watcher.h).
        r = self.template["Resources"]
        service = r["ControllerService"]["Properties"]
        self.assertEqual({"Fn::If": ["ControllerOnOnDemand",
                                     [{"Type": "memberOf",
                                       "Expression": "attribute:spotkeeper.lifecycle == on-demand"}],
                                     {"Ref": "AWS::NoValue"}]},
                         service["PlacementConstraints"])
        self.assertEqual("on-demand", self.template["Parameters"]["ControllerPlacement"]["Default"])
        self.assertEqual({"Fn::Equals": [{"Ref": "ControllerPlacement"}, "on-demand"]},
                         self.template["Conditions"]["ControllerOnOnDemand"])
        watcher = open(os.path.join(ROOT, "src", "agent", "watcher.h")).read()
        self.assertIn('lifecycle_attribute_name = "spotkeeper.lifecycle"', watcher)
        self.assertIn('"on-demand"', open(os.path.join(ROOT, "src", "agent", "watcher.cc")).read())

    def test_on_demand_lifecycle_hooks_are_optional(self):
        hooks = {k: r for k, r in self.template["Resources"].items()
                 if r["Type"] == "AWS::AutoScaling::LifecycleHook"}
        self.assertEqual({"OnDemandTerminateHook", "OnDemandLaunchHook"}, set(hooks))
        for name, transition in (("OnDemandTerminateHook", "TERMINATING"),
                                 ("OnDemandLaunchHook", "LAUNCHING")):
            props = hooks[name]["Properties"]
            self.assertEqual({"Ref": "OnDemandAutoScalingGroup"}, props["AutoScalingGroupName"])
            self.assertEqual("autoscaling:EC2_INSTANCE_" + transition, props["LifecycleTransition"])
            # An unanswered hook lets the instance go on: a controller outage
            # never stops the group from scaling.
            self.assertEqual("CONTINUE", props["DefaultResult"])
            # At least twice the Lambda's 5-minute schedule: heartbeats come at passes.
            self.assertEqual(900, props["HeartbeatTimeout"])
        for value, terminate, launch in (("none", False, False), ("terminate", True, False),
                                         ("terminate-and-launch", True, True)):
            _, conditions = cfn_yaml.evaluate(self.template, {"OnDemandLifecycleHooks": value})
            self.assertEqual(terminate, conditions["HasOnDemandTerminateHook"], value)
            self.assertEqual(launch, conditions["HasOnDemandLaunchHook"], value)
        self.assertEqual("HasOnDemandTerminateHook", hooks["OnDemandTerminateHook"]["Condition"])
        self.assertEqual("HasOnDemandLaunchHook", hooks["OnDemandLaunchHook"]["Condition"])
        self.assertEqual("none", self.template["Parameters"]["OnDemandLifecycleHooks"]["Default"])
        # The stack deploys with them (moto's CloudFormation skips the type).
        self.deploy("spk-hooks", ["ControllerTaskDefinition", "ControllerService",
                                  "CapacityServiceEventsRule", "CapacityTaskEventsRule"],
                    ControllerMode="lambda", AgentMode="ecs-daemon",
                    LambdaCodeS3Bucket="spotkeeper-artifacts",
                    OnDemandLifecycleHooks="terminate-and-launch")

    def test_supporting_resources_only(self):
        absent = ["ControllerFunction", "ControllerFunctionLogGroup", "ControllerEventSource",
                  "ControllerLambdaRuntimePolicy", "ReconcileScheduleRule", "TaskExecutionRole",
                  "TaskLogGroup", "AgentTaskDefinition", "AgentService",
                  "ControllerTaskDefinition", "ControllerService",
                  "CapacityServiceEventsRule", "CapacityTaskEventsRule"]
        outputs, resources = self.deploy("spk-none", absent, ControllerMode="none",
                                         AgentMode="none", SpotFleetIds="")
        self.check_supporting("spk-none", outputs, resources)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--spotkeeper", default=SPOTKEEPER)
    known, rest = ap.parse_known_args()
    SPOTKEEPER = os.path.abspath(known.spotkeeper)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
