"""docs/install.md Option B ("by hand") cannot drift from what works.

The doc and scripts/install_by_hand.sh hold the same commands:
- every ```sh block of Option B is in the script as written, as one run of
  lines (indentation, blank lines and comment lines aside); the settings block
  (step 0) is the exception: each `NAME=value` there is `NAME=${NAME...}` in the
  script (taken from its environment), its other lines are verbatim;
- every line of the script is in one of those blocks, but for the few that only
  a script needs (settings checks, the choice of controller, the endpoint
  wrapper, control flow): SCRIPT_ONLY below. Self-checks show a changed
  command on either side is caught.

The script then runs against moto_server from a clean start (a new moto on a
free 127.0.0.1 port for each controller mode; the cluster, the spot capacity
and the on-demand group created first, as "Before you start" requires),
with AWS_ENDPOINT_URL set, so every `aws` call gets --endpoint-url. Afterwards
each step's resources exist as the doc says (queue, dead-letter queue and
redrive, queue policy, subscription, rules and targets, roles, trust and
policies, log groups, task definitions, services, function and event source).
A test notice (the agent's message) published to the topic arrives in the
queue through the subscription the script made, and the controller, run here
with the environment the script gave the ECS task or the Lambda function,
handles it in dry run: the container instance stays ACTIVE. Finally
`--leave-dry-run` switches the controller to SPOTKEEPER_DRY_RUN=false.

moto does not run Lambda functions or ECS tasks and does not enforce queue
policies: the binary runs here instead, and the policy is checked as data.
Run: python3 tests/deploy/install_by_hand_test.py --spotkeeper build/spotkeeper
"""
import argparse
import ast
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import uuid
import zipfile

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moto_peer import FakeRuntimeApi, MotoServer, stop_process  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DOC = os.path.join(ROOT, "docs", "install.md")
SCRIPT = os.path.join(ROOT, "scripts", "install_by_hand.sh")
SPOTKEEPER = os.environ.get("SPOTKEEPER_BIN", os.path.join(ROOT, "build", "spotkeeper"))
REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's
CLUSTER = "web"
ON_DEMAND = "web-on-demand"

# Lines only the script has (stripped): everything else it runs is in the doc.
SCRIPT_ONLY = [
    r"set -euo pipefail",
    r'if \[ -n "\$\{AWS_ENDPOINT_URL:-\}" \]; then',
    r'aws\(\) \{ command aws --endpoint-url "\$AWS_ENDPOINT_URL" "\$@"; \}',
    r'case "\$CONTROLLER" in',
    r"lambda \| ecs-service\) ;;",
    r"\*\) echo \"CONTROLLER must be lambda or ecs-service, not '\$CONTROLLER'\" >&2; exit 2 ;;",
    r"esac",
    r"leave_dry_run\(\) \{",
    r'if \[ "\$CONTROLLER" = lambda \]; then',
    r"else",
    r"fi",
    r"\}",
    r'if \[ "\$\{1:-\}" = --leave-dry-run \]; then',
    r"leave_dry_run",
    r"exit 0",
    r'echo "TOPIC_ARN=\$TOPIC_ARN QUEUE_URL=\$QUEUE_URL DLQ_URL=\$DLQ_URL"',
]


# --- the doc against the script ---------------------------------------------------

def option_b(doc_text):
    start = doc_text.index("\n## Option B: by hand")
    end = doc_text.index("\n## ", start + 1)
    return doc_text[start:end]


def sh_blocks(section):
    """The ```sh blocks of a section, each a list of stripped lines (no blanks)."""
    blocks, current = [], None
    for line in section.splitlines():
        s = line.strip()
        if current is None:
            if s == "```sh":
                current = []
        elif s == "```":
            blocks.append(current)
            current = None
        elif s:
            current.append(s)
    return blocks


def script_lines(text):
    """The script's stripped lines, without blanks, comment lines and the shebang."""
    return [s for s in (line.strip() for line in text.splitlines()) if s and not s.startswith("#")]


def check(doc_text, script_text):
    problems = []
    blocks = sh_blocks(option_b(doc_text))
    lines = script_lines(script_text)
    covered = set()
    if not blocks:
        return ["docs/install.md: Option B has no ```sh block"]
    settings, rest = blocks[0], blocks[1:]
    for line in settings:
        m = re.match(r"^([A-Z][A-Z0-9_]*)=([^$].*)?$", line)
        if m:
            want = "%s=${%s" % (m.group(1), m.group(1))
            found = [i for i, s in enumerate(lines) if s.startswith(want)]
        else:
            found = [i for i, s in enumerate(lines) if s == line]
        if not found:
            problems.append("settings line not in the script: %s" % line)
        covered.update(found)
    for block in rest:
        n = len(block)
        at = [i for i in range(len(lines) - n + 1) if lines[i:i + n] == block]
        if not at:
            first_missing = next((b for b in block if b not in lines), None)
            problems.append("block not in the script as written (first line: %s%s)" % (
                block[0], "; missing: %s" % first_missing if first_missing else "; order differs"))
            continue
        covered.update(range(at[0], at[0] + n))
    only = [re.compile(p + r"$") for p in SCRIPT_ONLY]
    for i, s in enumerate(lines):
        if i not in covered and not any(p.match(s) for p in only):
            problems.append("script line not in docs/install.md Option B: %s" % s)
    return problems


class DocMatchesScriptTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(DOC, encoding="utf-8") as f:
            cls.doc = f.read()
        with open(SCRIPT, encoding="utf-8") as f:
            cls.script = f.read()

    def test_every_command_of_the_doc_is_in_the_script_and_back(self):
        self.assertEqual([], check(self.doc, self.script))
        self.assertGreaterEqual(len(sh_blocks(option_b(self.doc))), 10)

    def test_a_changed_command_in_the_doc_is_caught(self):
        doc = self.doc.replace("--batch-size 10", "--batch-size 5", 1)
        self.assertNotEqual(doc, self.doc)
        self.assertTrue(any("block not in the script" in p for p in check(doc, self.script)))

    def test_a_command_only_in_the_script_is_caught(self):
        script = self.script.replace("# --- 2. EventBridge rules",
                                     "aws sqs purge-queue --queue-url \"$QUEUE_URL\"\n# --- 2.", 1)
        self.assertIn('script line not in docs/install.md Option B: aws sqs purge-queue '
                      '--queue-url "$QUEUE_URL"', check(self.doc, script))

    def test_a_setting_missing_from_the_script_is_caught(self):
        script = re.sub(r"(?m)^ON_DEMAND_UNITS=.*\n", "", self.script)
        self.assertIn("settings line not in the script: ON_DEMAND_UNITS=",
                      check(self.doc, script))


# --- the script against moto ---------------------------------------------------------

def base_env(moto_url, home):
    """Dummy credentials, everything on loopback, nothing from the caller's AWS setup."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
            "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_ENDPOINT_URL": moto_url, "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}


def as_doc(value):
    """moto returns some policy documents as text (JSON or a Python literal)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return ast.literal_eval(value)
    return value


class InstallByHandOnMotoTest(unittest.TestCase):
    def setUp(self):
        # The task execution role attaches an AWS managed policy: moto loads those on request.
        self.moto = MotoServer(REGION, {"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"})
        self.addCleanup(self.moto.stop)
        self.work = tempfile.mkdtemp(prefix="spk-by-hand-")
        self.addCleanup(shutil.rmtree, self.work, True)
        # A checkout as the doc expects: deploy/iam/ and the Lambda zip (a placeholder:
        # moto stores functions, it never runs them).
        os.symlink(os.path.join(ROOT, "deploy"), os.path.join(self.work, "deploy"))
        os.mkdir(os.path.join(self.work, "build"))
        with zipfile.ZipFile(os.path.join(self.work, "build", "spotkeeper-lambda.zip"), "w") as z:
            z.writestr("bootstrap", "#!/bin/sh\nexit 1\n")
        self.ec2, self.ecs, self.asg = (self.moto.client(s) for s in ("ec2", "ecs", "autoscaling"))

    # Before you start: a cluster, spot capacity, an on-demand group.
    def prerequisites(self, spot):
        self.ecs.create_cluster(clusterName=CLUSTER)
        self.ec2.create_launch_template(LaunchTemplateName="web-lt",
                                        LaunchTemplateData={"InstanceType": "m5.xlarge"})
        lt = {"LaunchTemplateName": "web-lt", "Version": "$Latest"}
        self.asg.create_auto_scaling_group(AutoScalingGroupName=ON_DEMAND, LaunchTemplate=lt,
                                           MinSize=0, MaxSize=4, DesiredCapacity=0,
                                           AvailabilityZones=[REGION + "a"])
        if spot == "fleet":
            image = self.ec2.describe_images()["Images"][0]["ImageId"]
            fleet = self.ec2.request_spot_fleet(SpotFleetRequestConfig={
                "IamFleetRole": "arn:aws:iam::%s:role/fleet" % ACCOUNT, "TargetCapacity": 4,
                "AllocationStrategy": "lowestPrice",  # (moto answers 500 without one)
                "LaunchSpecifications": [{"ImageId": image, "InstanceType": "m5.xlarge",
                                          "WeightedCapacity": 4.0}]})["SpotFleetRequestId"]
            instance = self.ec2.describe_spot_fleet_instances(
                SpotFleetRequestId=fleet)["ActiveInstances"][0]["InstanceId"]
            settings = {"SPOT_FLEET_IDS": fleet, "EC2_FLEET_IDS": "", "SPOT_ASGS": ""}
        else:
            self.asg.create_auto_scaling_group(
                AutoScalingGroupName="web-spot", MinSize=0, MaxSize=4, DesiredCapacity=1,
                AvailabilityZones=[REGION + "a"],
                MixedInstancesPolicy={
                    "LaunchTemplate": {"LaunchTemplateSpecification": lt,
                                       "Overrides": [{"InstanceType": "m5.xlarge"}]},
                    "InstancesDistribution": {"OnDemandPercentageAboveBaseCapacity": 0}})
            group = self.asg.describe_auto_scaling_groups(
                AutoScalingGroupNames=["web-spot"])["AutoScalingGroups"][0]
            instance = group["Instances"][0]["InstanceId"]
            settings = {"SPOT_FLEET_IDS": "", "EC2_FLEET_IDS": "", "SPOT_ASGS": "web-spot"}
        arn = self.ecs.register_container_instance(
            cluster=CLUSTER, instanceIdentityDocument=json.dumps(
                {"instanceId": instance, "region": REGION}))["containerInstance"][
                    "containerInstanceArn"]
        return settings, instance, arn

    def run_script(self, settings, *args):
        env = base_env(self.moto.url, self.work)
        env.update({"REGION": REGION, "CLUSTER": CLUSTER, "ON_DEMAND_GROUP": ON_DEMAND,
                    "IMAGE": "public.ecr.aws/example/spotkeeper:test"})
        env.update(settings)
        r = subprocess.run(["bash", SCRIPT, *args], cwd=self.work, env=env, capture_output=True,
                           text=True, timeout=300)
        self.assertEqual(0, r.returncode, "script failed:\n" + r.stdout[-3000:] + r.stderr[-3000:])
        return r.stdout

    # --- what each step made ----------------------------------------------------------
    def check_notice_plumbing(self, lambda_mode, spot_groups=()):
        sqs, sns, events = (self.moto.client(s) for s in ("sqs", "sns", "events"))
        topic = "arn:aws:sns:%s:%s:spotkeeper-notices" % (REGION, ACCOUNT)
        self.assertIn(topic, [t["TopicArn"] for t in sns.list_topics()["Topics"]])
        queue_url = sqs.get_queue_url(QueueName="spotkeeper-notices")["QueueUrl"]
        dlq_url = sqs.get_queue_url(QueueName="spotkeeper-notices-dlq")["QueueUrl"]
        q = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
        dlq = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["All"])["Attributes"]
        # Step 1: the template's retention and visibility, redrive after 5 receives.
        self.assertEqual(("360", "86400"), (q["VisibilityTimeout"], q["MessageRetentionPeriod"]))
        self.assertEqual("1209600", dlq["MessageRetentionPeriod"])
        redrive = json.loads(q["RedrivePolicy"])
        self.assertEqual(dlq["QueueArn"], redrive["deadLetterTargetArn"])
        self.assertEqual(5, int(redrive["maxReceiveCount"]))
        subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        self.assertEqual([("sqs", q["QueueArn"])], [(s["Protocol"], s["Endpoint"]) for s in subs])
        sub = sns.get_subscription_attributes(SubscriptionArn=subs[0]["SubscriptionArn"])
        self.assertEqual("true", sub["Attributes"]["RawMessageDelivery"])
        # Step 2 (and 6 for a Lambda): the rules, each with the queue as its one target.
        rules = {r["Name"]: r for r in events.list_rules(NamePrefix="spotkeeper-")["Rules"]}
        want = {"spotkeeper-spot-interruption", "spotkeeper-rebalance-recommendation",
                "spotkeeper-instance-state-change", "spotkeeper-lifecycle-action",
                "spotkeeper-health-scheduled-change"}
        if lambda_mode:
            want.add("spotkeeper-reconcile")
        self.assertEqual(want, set(rules))
        for name, rule in rules.items():
            targets = events.list_targets_by_rule(Rule=name)["Targets"]
            self.assertEqual([q["QueueArn"]], [t["Arn"] for t in targets], name)
        self.assertEqual(["EC2 Spot Instance Interruption Warning"], json.loads(
            rules["spotkeeper-spot-interruption"]["EventPattern"])["detail-type"])
        self.assertEqual(["EC2 Instance Rebalance Recommendation"], json.loads(
            rules["spotkeeper-rebalance-recommendation"]["EventPattern"])["detail-type"])
        # The template's other three rules, with its patterns.
        pattern = {n: json.loads(rules["spotkeeper-" + n]["EventPattern"])
                   for n in ("instance-state-change", "lifecycle-action", "health-scheduled-change")}
        self.assertEqual({"source": ["aws.ec2"],
                          "detail-type": ["EC2 Instance State-change Notification"],
                          "detail": {"state": ["stopping", "shutting-down", "terminated"]}},
                         pattern["instance-state-change"])
        self.assertEqual({"source": ["aws.autoscaling"],
                          "detail-type": ["EC2 Instance-terminate Lifecycle Action",
                                          "EC2 Instance-launch Lifecycle Action"],
                          "detail": {"AutoScalingGroupName": [ON_DEMAND, *spot_groups]}},
                         pattern["lifecycle-action"])
        self.assertEqual({"source": ["aws.health"], "detail-type": ["AWS Health Event"],
                          "detail": {"service": ["EC2"], "eventTypeCategory": ["scheduledChange"]}},
                         pattern["health-scheduled-change"])
        if lambda_mode:
            self.assertEqual("rate(5 minutes)", rules["spotkeeper-reconcile"]["ScheduleExpression"])
        # Step 3: the queue policy (moto keeps it, does not enforce it): SNS from the
        # topic only, EventBridge from this install's rules (each rule ARN matches).
        policy = {st["Sid"]: st for st in json.loads(q["Policy"])["Statement"]}
        self.assertEqual({"TopicDelivers", "RulesDeliver"}, set(policy))
        self.assertEqual({"Service": "sns.amazonaws.com"}, policy["TopicDelivers"]["Principal"])
        self.assertEqual(topic, policy["TopicDelivers"]["Condition"]["ArnEquals"]["aws:SourceArn"])
        self.assertEqual({"Service": "events.amazonaws.com"}, policy["RulesDeliver"]["Principal"])
        pattern = policy["RulesDeliver"]["Condition"]["ArnLike"]["aws:SourceArn"]
        for rule in rules.values():
            self.assertTrue(re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), rule["Arn"]),
                            (pattern, rule["Arn"]))
        for st in policy.values():
            self.assertEqual(("sqs:SendMessage", q["QueueArn"]), (st["Action"], st["Resource"]))
        return topic, queue_url, q["QueueArn"]

    def check_roles(self, lambda_mode, spot_groups=()):
        iam = self.moto.client("iam")

        def trust(role):
            doc = as_doc(iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"])
            services = doc["Statement"][0]["Principal"]["Service"]
            return sorted(services if isinstance(services, list) else [services])

        self.assertEqual(["ecs-tasks.amazonaws.com"], trust("spotkeeper-agent"))
        self.assertEqual(["ecs-tasks.amazonaws.com", "lambda.amazonaws.com"],
                         trust("spotkeeper-controller"))
        self.assertEqual(["ecs-tasks.amazonaws.com"], trust("spotkeeper-task-execution"))
        attached = iam.list_attached_role_policies(RoleName="spotkeeper-task-execution")
        self.assertEqual(["AmazonECSTaskExecutionRolePolicy"],
                         [p["PolicyName"] for p in attached["AttachedPolicies"]])
        inline = [("spotkeeper-agent", "spotkeeper-agent", "agent"),
                  ("spotkeeper-controller", "spotkeeper-controller", "controller")]
        if lambda_mode:
            inline.append(("spotkeeper-controller", "spotkeeper-controller-lambda-runtime",
                           "controller-lambda-runtime"))
        for role, name, source in inline:
            doc = as_doc(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])
            text = json.dumps(doc)
            self.assertNotIn("${", text, "placeholder left in %s" % name)
            with open(os.path.join(ROOT, "deploy", "iam", source + ".json"),
                      encoding="utf-8") as f:
                want = json.load(f)
            # Without spot groups step 4 deletes their lifecycle statement.
            want["Statement"] = [s for s in want["Statement"] if spot_groups or
                                 s["Sid"] != "LifecycleActionsOfSpotGroups"]
            self.assertEqual([(s["Sid"], s["Action"]) for s in want["Statement"]],
                             [(s["Sid"], s["Action"]) for s in doc["Statement"]], name)
            spot = [s for s in doc["Statement"] if s["Sid"] == "LifecycleActionsOfSpotGroups"]
            if spot:  # one ARN per group, in this region
                self.assertEqual(["arn:*:autoscaling:*:*:autoScalingGroup:*:"
                                  "autoScalingGroupName/" + g for g in spot_groups],
                                 spot[0]["Resource"])
                self.assertEqual({"StringEquals": {"aws:RequestedRegion": REGION}},
                                 spot[0]["Condition"])
        self.assertEqual(sorted(n for r, n, _ in inline if r == "spotkeeper-controller"),
                         sorted(iam.list_role_policies(RoleName="spotkeeper-controller")[
                             "PolicyNames"]))
        agent = json.dumps(as_doc(iam.get_role_policy(
            RoleName="spotkeeper-agent", PolicyName="spotkeeper-agent")["PolicyDocument"]))
        self.assertIn("arn:aws:ecs:%s:%s:container-instance/%s/*" % (REGION, ACCOUNT, CLUSTER),
                      agent)

    def check_log_groups(self, lambda_mode):
        logs = self.moto.client("logs")
        groups = {g["logGroupName"]: g.get("retentionInDays")
                  for g in logs.describe_log_groups()["logGroups"]}
        want = {"/ecs/spotkeeper": 30}
        if lambda_mode:
            want["/aws/lambda/spotkeeper-controller"] = 30
        self.assertEqual(want, groups)

    def task_definition(self, service):
        svc = self.ecs.describe_services(cluster=CLUSTER, services=[service])["services"][0]
        td = self.ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])
        return svc, td["taskDefinition"]

    def check_container(self, td, family, role, cpu, memory, stream_prefix):
        self.assertEqual(family, td["family"])
        self.assertEqual("arn:aws:iam::%s:role/%s" % (ACCOUNT, role), td["taskRoleArn"])
        self.assertEqual("arn:aws:iam::%s:role/spotkeeper-task-execution" % ACCOUNT,
                         td["executionRoleArn"])
        self.assertEqual(["EC2"], td["requiresCompatibilities"])
        c, = td["containerDefinitions"]
        self.assertEqual((cpu, memory, True), (c["cpu"], c["memory"], c["essential"]))
        self.assertEqual({"logDriver": "awslogs", "options": {
            "awslogs-group": "/ecs/spotkeeper", "awslogs-region": REGION,
            "awslogs-stream-prefix": stream_prefix}}, c["logConfiguration"])
        env = {e["name"]: e["value"] for e in c["environment"]}
        self.assertEqual(("json", REGION), (env["SPOTKEEPER_LOG_FORMAT"], env["AWS_REGION"]))
        return c, env

    def check_agent_daemon(self, topic):
        svc, td = self.task_definition("spotkeeper-agent")
        self.assertEqual("DAEMON", svc.get("schedulingStrategy", "DAEMON"))
        self.assertEqual("host", td["networkMode"])
        c, env = self.check_container(td, "spotkeeper-agent", "spotkeeper-agent", 32, 64, "agent")
        self.assertEqual(("agent", ["agent"]), (c["name"], c["command"]))
        self.assertEqual(topic, env["SPOTKEEPER_SNS_TOPIC_ARN"])

    # --- a test notice, handled in dry run ---------------------------------------------
    def publish_test_notice(self, topic, queue_url, instance, container_arn):
        """Publishes what `agent --terminate` sends; returns the message as the queue has it."""
        body = json.dumps({"terminationNotificiation": "true", "instanceId": instance,
                           "instanceType": "m5.xlarge", "ecsCluster": CLUSTER,
                           "ecsContainer": container_arn, "kind": "test",
                           "messageId": uuid.uuid4().hex})
        self.moto.client("sns").publish(TopicArn=topic, Message=body)
        sqs = self.moto.client("sqs")
        attrs = sqs.get_queue_attributes(QueueUrl=queue_url,
                                         AttributeNames=["ApproximateNumberOfMessages"])
        self.assertEqual("1", attrs["Attributes"]["ApproximateNumberOfMessages"])
        return body

    def container_status(self, arn):
        return self.ecs.describe_container_instances(
            cluster=CLUSTER, containerInstances=[arn])["containerInstances"][0]["status"]

    def test_lambda_controller_with_a_spot_fleet(self):
        settings, instance, container = self.prerequisites("fleet")
        self.run_script(dict(settings, CONTROLLER="lambda", ON_DEMAND_UNITS=""))
        topic, queue_url, queue_arn = self.check_notice_plumbing(lambda_mode=True)
        self.check_roles(lambda_mode=True)
        self.check_log_groups(lambda_mode=True)
        self.check_agent_daemon(topic)
        lam = self.moto.client("lambda")
        fn = lam.get_function(FunctionName="spotkeeper-controller")["Configuration"]
        self.assertEqual(("provided.al2023", "bootstrap", 60, 128, ["x86_64"]),
                         (fn["Runtime"], fn["Handler"], fn["Timeout"], fn["MemorySize"],
                          fn["Architectures"]))
        self.assertEqual("arn:aws:iam::%s:role/spotkeeper-controller" % ACCOUNT, fn["Role"])
        env = fn["Environment"]["Variables"]
        self.assertEqual({"SPOTKEEPER_CLUSTER": CLUSTER,
                          "SPOTKEEPER_SPOT_FLEET_ID": settings["SPOT_FLEET_IDS"],
                          "SPOTKEEPER_EC2_FLEET_ID": "",
                          "SPOTKEEPER_SPOT_ASG": "", "SPOTKEEPER_ON_DEMAND_ASG": ON_DEMAND,
                          "SPOTKEEPER_ON_DEMAND_UNITS": "", "SPOTKEEPER_DRY_RUN": "true",
                          "SPOTKEEPER_LOG_FORMAT": "json"}, env)
        mapping, = lam.list_event_source_mappings(
            FunctionName="spotkeeper-controller")["EventSourceMappings"]
        self.assertEqual((queue_arn, 10), (mapping["EventSourceArn"], mapping["BatchSize"]))
        if "FunctionResponseTypes" in mapping:  # (moto may drop it)
            self.assertEqual(["ReportBatchItemFailures"], mapping["FunctionResponseTypes"])
        # The test notice, through the subscription, into the Lambda handler (run here
        # with the function's environment under a loopback Runtime API), in dry run.
        self.publish_test_notice(topic, queue_url, instance, container)
        msg, = self.moto.client("sqs").receive_message(QueueUrl=queue_url,
                                                       MaxNumberOfMessages=10)["Messages"]
        event = {"Records": [{"messageId": msg["MessageId"], "receiptHandle": msg["ReceiptHandle"],
                              "body": msg["Body"], "attributes": {}, "messageAttributes": {},
                              "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
                              "awsRegion": REGION}]}
        api = FakeRuntimeApi(event)
        self.addCleanup(api.stop)
        run_env = base_env(self.moto.url, self.work)
        run_env.update(env)
        run_env.update({"AWS_REGION": REGION, "AWS_LAMBDA_RUNTIME_API": api.address})
        with tempfile.TemporaryFile("w+") as log:
            proc = subprocess.Popen([SPOTKEEPER, "lambda"], env=run_env, stdout=log,
                                    stderr=subprocess.STDOUT)
            answered = api.answered.wait(30)
            stop_process(proc, 5)
            log.seek(0)
            output = log.read()
        self.assertEqual([], api.init_errors, output)
        self.assertTrue(answered, "no answer from spotkeeper lambda:\n" + output)
        self.assertTrue(api.response[0].endswith("/response"), api.response)
        self.assertEqual({"batchItemFailures": []}, json.loads(api.response[1]), output)
        self.assertIn("dry run: not applied", output)
        self.assertIn(instance, output)
        self.assertEqual("ACTIVE", self.container_status(container), "dry run drained")
        # Step 7.
        self.run_script(dict(settings, CONTROLLER="lambda", ON_DEMAND_UNITS=""),
                        "--leave-dry-run")
        env2 = lam.get_function(FunctionName="spotkeeper-controller")["Configuration"][
            "Environment"]["Variables"]
        self.assertEqual(dict(env, SPOTKEEPER_DRY_RUN="false"), env2)

    def test_ecs_controller_with_a_spot_group(self):
        settings, instance, container = self.prerequisites("asg")
        # Blanks and an empty item, as a hand-typed list has them: the script's
        # normalized "web-spot" is what the rule, the policy and the task get.
        self.run_script(dict(settings, CONTROLLER="ecs-service", ON_DEMAND_UNITS="4",
                             SPOT_ASGS=" web-spot ,"))
        topic, queue_url, _ = self.check_notice_plumbing(lambda_mode=False,
                                                         spot_groups=["web-spot"])
        self.check_roles(lambda_mode=False, spot_groups=["web-spot"])
        self.check_log_groups(lambda_mode=False)
        self.check_agent_daemon(topic)
        self.assertEqual([], self.moto.client("lambda").list_functions()["Functions"])
        svc, td = self.task_definition("spotkeeper-controller")
        self.assertEqual(1, svc["desiredCount"])
        if "deploymentConfiguration" in svc:  # (moto drops it; the script passes it)
            self.assertEqual((0, 100), (svc["deploymentConfiguration"]["minimumHealthyPercent"],
                                        svc["deploymentConfiguration"]["maximumPercent"]))
        else:
            print("moto keeps no deploymentConfiguration for the controller service")
        self.assertEqual("bridge", td["networkMode"])
        c, env = self.check_container(td, "spotkeeper-controller", "spotkeeper-controller", 64,
                                      128, "controller")
        self.assertEqual(["controller", "--metrics-listen", "0.0.0.0:9102"], c["command"])
        # The template's container health check: the binary asks /healthz.
        self.assertEqual(["CMD", "/usr/local/bin/spotkeeper", "healthcheck", "--url",
                          "http://127.0.0.1:9102/healthz"], c["healthCheck"]["command"])
        self.assertEqual((30, 10, 3, 60), tuple(c["healthCheck"][k] for k in (
            "interval", "timeout", "retries", "startPeriod")))
        self.assertEqual([(9102, 0, "tcp")], [(p["containerPort"], p["hostPort"], p["protocol"])
                                              for p in c["portMappings"]])
        self.assertEqual({"SPOTKEEPER_QUEUE_URL": queue_url, "SPOTKEEPER_CLUSTER": CLUSTER,
                          "SPOTKEEPER_SPOT_FLEET_ID": "", "SPOTKEEPER_EC2_FLEET_ID": "",
                          "SPOTKEEPER_SPOT_ASG": "web-spot",
                          "SPOTKEEPER_ON_DEMAND_ASG": ON_DEMAND,
                          "SPOTKEEPER_ON_DEMAND_UNITS": "4", "SPOTKEEPER_DRY_RUN": "true",
                          "SPOTKEEPER_LOG_FORMAT": "json", "AWS_REGION": REGION}, env)
        # The controller with the task's command and environment (metrics on a free
        # loopback port instead of 0.0.0.0:9102), and a test notice through the topic.
        self.publish_test_notice(topic, queue_url, instance, container)
        run_env = base_env(self.moto.url, self.work)
        run_env.update(env)
        run_env["SPOTKEEPER_WAIT_TIME"] = "1s"  # (only so that SIGTERM ends it quickly)
        args = [a if a != "0.0.0.0:9102" else "127.0.0.1:0" for a in c["command"]]
        with tempfile.TemporaryFile("w+") as log:
            proc = subprocess.Popen([SPOTKEEPER] + args, env=run_env, stdout=log,
                                    stderr=subprocess.STDOUT)
            deadline, text = time.time() + 30, ""
            while time.time() < deadline and "message handled and deleted" not in text:
                time.sleep(0.2)
                log.seek(0)
                text = log.read()
            rc = stop_process(proc, 20)
            log.seek(0)
            text = log.read()
        self.assertIn("message handled and deleted", text)
        self.assertIn("dry run: not applied", text)
        self.assertEqual(0, rc, text)
        self.assertEqual("ACTIVE", self.container_status(container), "dry run drained")
        # Step 7: a new revision with SPOTKEEPER_DRY_RUN=false, and the service on it.
        self.run_script(dict(settings, CONTROLLER="ecs-service", ON_DEMAND_UNITS="4"),
                        "--leave-dry-run")
        svc2, td2 = self.task_definition("spotkeeper-controller")
        self.assertEqual(td["revision"] + 1, td2["revision"])
        env2 = {e["name"]: e["value"] for e in td2["containerDefinitions"][0]["environment"]}
        self.assertEqual(dict(env, SPOTKEEPER_DRY_RUN="false"), env2)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--spotkeeper", default=SPOTKEEPER)
    known, rest = ap.parse_known_args()
    SPOTKEEPER = os.path.abspath(known.spotkeeper)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
