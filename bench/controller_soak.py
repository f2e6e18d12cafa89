#!/usr/bin/env python3
"""Controller soak: notices through SNS -> SQS -> `spotkeeper controller` while
every AWS call of the controller goes through a fault proxy.

World (moto_server on a free 127.0.0.1 port, no signature checking): --notices
EC2 instances, each registered as an ECS container instance, in clusters of
--cluster-size (soak-0, soak-1, ...); an SNS topic subscribed by an SQS queue
(raw delivery off: the SNS envelope) whose redrive policy sends a message to a
dead-letter queue after --max-receive receives (visibility timeout
--visibility s, which the controller also asks for on each receive:
--visibility-timeout).

The controller (drain only: no fleet, no on-demand group; its clusters come
from the notices) reaches every service through tests/tools/fault_proxy.py
(AWS_ENDPOINT_URL), which injects faults at --fault-rate (seeded: --seed) of
the kinds and weights of --mix, before or after forwarding to moto. The
publisher goes to moto directly. One agent-format notice per container
instance is published (SNS PublishBatch, 10 at a time), at most --backlog
(default 500) ahead of what the controller has handled: moto's SQS scans the
whole queue on every send and receive, so publishing 10^4 at once leaves moto,
not the controller, as what is measured (about 2 requests/s).

Checked at the end (exit 1 if any fails):
  - every noticed container instance is DRAINING (DescribeContainerInstances);
  - the queue and the dead-letter queue are empty;
  - no message deleted before its drain: every DeleteMessage (or entry of a
    DeleteMessageBatch) moto applied is
    preceded (in moto's order) by an UpdateContainerInstancesState DRAINING
    moto applied that names the message's container instance;
  - nothing drained twice: for each container instance, every applied
    DRAINING update after its first is a retry, i.e. the same request body as
    the previous applied one naming it, whose reply the client never got
    (a fault after forwarding). Anything else (a second drain after the
    controller saw the first succeed, or a different call) counts as a double
    drain.
Reported: wall time, notices/s, faults by kind and phase, requests forwarded,
the controller's RSS before the first notice and at the end (VmRSS) and its
peak (VmHWM), the AWS calls and retries from /metrics.

Usage: bench/controller_soak.py [--build build | --spotkeeper BIN] [--notices 10000] [--fault-rate 0.3]
         [--backlog 500] [--seed 1] [--cluster-size 100] [--timeout 3600] [--json FILE]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict

import boto3
from botocore.config import Config

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests", "tools"))
from fault_proxy import DEFAULT_MIX, FaultProxy, parse_mix  # noqa: E402
from peers import free_port, proc_status_kb, start_moto, stop, wait_port  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AMI = "ami-12c6146b"


def metrics(addr):
    try:
        return urllib.request.urlopen("http://%s/metrics" % addr, timeout=5).read().decode()
    except OSError:
        return ""


def metric_sum(text, name):
    total = 0.0
    for m in re.finditer(r"^%s(?:\{[^}]*\})? ([0-9.e+-]+)$" % re.escape(name), text, re.M):
        total += float(m.group(1))
    return total


def queue_depth(sqs, url):
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])


def build_world(kw, n, cluster_size, visibility, max_receive):
    ec2, ecs = boto3.client("ec2", **kw), boto3.client("ecs", **kw)
    sqs, sns = boto3.client("sqs", **kw), boto3.client("sns", **kw)
    ids = []
    while len(ids) < n:
        k = min(100, n - len(ids))
        r = ec2.run_instances(ImageId=AMI, InstanceType="m5.large", MinCount=k, MaxCount=k)
        ids += [i["InstanceId"] for i in r["Instances"]]
    instances = []  # (instance id, cluster, container instance ARN)
    for c in range(0, n, cluster_size):
        cluster = "soak-%d" % (c // cluster_size)
        ecs.create_cluster(clusterName=cluster)
        for i in ids[c:c + cluster_size]:
            r = ecs.register_container_instance(
                cluster=cluster, instanceIdentityDocument=json.dumps({"instanceId": i}))
            instances.append((i, cluster, r["containerInstance"]["containerInstanceArn"]))
    dlq = sqs.create_queue(QueueName="spk-soak-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    queue = sqs.create_queue(QueueName="spk-soak", Attributes={
        "VisibilityTimeout": str(visibility),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn,
                                     "maxReceiveCount": str(max_receive)})})["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    topic = sns.create_topic(Name="spk-soak")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    return instances, queue, dlq, topic


def agent_message(instance, cluster, arn):
    # The agent's message (the reference's misspelling included).
    return json.dumps({"terminationNotificiation": "true", "instanceId": instance,
                       "instanceType": "m5.large", "ecsCluster": cluster, "ecsContainer": arn})


def publish_all(sns, topic, instances, errors, backlog=0, maddr=None):
    """Publishes one notice per instance, 10 per PublishBatch. With a backlog,
    waits while more than that many published notices are not yet handled by
    the controller (its /metrics), at most 120 s per batch."""
    for k in range(0, len(instances), 10):
        if backlog:
            waited = time.monotonic()
            while time.monotonic() - waited < 120:
                m = metrics(maddr)
                done = sum(metric_sum(m, 'spotkeeper_messages_total{outcome="%s"}' % o)
                           for o in ("handled", "duplicate"))
                if k - done <= backlog:
                    break
                time.sleep(0.5)
        entries = [{"Id": str(j), "Message": agent_message(i, c, arn)}
                   for j, (i, c, arn) in enumerate(instances[k:k + 10])]
        for attempt in range(5):
            try:
                r = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
                failed = {f["Id"] for f in r.get("Failed", [])}
                entries = [e for e in entries if e["Id"] in failed]
                if not entries:
                    break
            except Exception as e:  # moto busy: try again
                errors.append(str(e))
                time.sleep(0.5)
        if entries:
            errors.append("not published: %s" % entries)


def statuses(ecs, instances):
    by_cluster = defaultdict(list)
    for _, c, arn in instances:
        by_cluster[c].append(arn)
    out = {}
    for c, arns in by_cluster.items():
        for k in range(0, len(arns), 100):
            r = ecs.describe_container_instances(cluster=c, containerInstances=arns[k:k + 100])
            for ci in r["containerInstances"]:
                out[ci["containerInstanceArn"]] = ci["status"]
    return out


def check_records(applied, receipts, noticed):
    """(deleted before drain, double drains, drain calls, retries, deletes, details)."""
    arn_of_receipt = {}
    for handle, (_, body) in receipts.items():
        try:
            arn_of_receipt[handle] = json.loads(json.loads(body)["Message"])["ecsContainer"]
        except (ValueError, KeyError, TypeError):
            pass
    first_drain = {}   # arn -> seq of the first applied DRAINING update naming it
    last_drain = {}    # arn -> the last applied DRAINING update naming it
    double, retries, drains, deletes, early = [], 0, 0, 0, []
    for rec in applied:
        req = rec["request"]
        if rec["op"] == "UpdateContainerInstancesState":
            if req.get("status") != "DRAINING":
                continue
            drains += 1
            for arn in req.get("containerInstances", []):
                prev = last_drain.get(arn)
                if prev is None:
                    first_drain[arn] = rec["seq"]
                elif prev["body"] == rec["body"] and not prev["delivered"]:
                    retries += 1
                else:
                    double.append({"arn": arn, "first": prev["seq"], "again": rec["seq"],
                                   "first_delivered": prev["delivered"]})
                last_drain[arn] = rec
        elif rec["op"] in ("DeleteMessage", "DeleteMessageBatch"):
            # A batch's entries as if each were deleted by this call (one that
            # SQS refused is counted too: stricter, never laxer).
            handles = ([req.get("ReceiptHandle")] if rec["op"] == "DeleteMessage" else
                       [e.get("ReceiptHandle") for e in req.get("Entries") or []
                        if isinstance(e, dict)])
            for handle in handles:
                deletes += 1
                arn = arn_of_receipt.get(handle)
                if arn is None:
                    early.append({"seq": rec["seq"], "why": "receipt handle of no received message"})
                elif arn not in first_drain or first_drain[arn] > rec["seq"]:
                    early.append({"seq": rec["seq"], "arn": arn, "why": "deleted before its drain"})
    undrained_by_controller = [a for a in noticed if a not in first_drain]
    return early, double, drains, retries, deletes, undrained_by_controller


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--spotkeeper", help="the binary (default: BUILD/spotkeeper)")
    ap.add_argument("--check-faults", action="store_true",
                    help="also fail unless 20-40%% of the requests were faulted and some "
                         "drain or delete was applied with its reply lost (make test)")
    ap.add_argument("--notices", type=int, default=10000)
    ap.add_argument("--fault-rate", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mix", default="", help="fault kinds and weights, kind=w,... (default %s)"
                    % ",".join("%s=%g" % kv for kv in DEFAULT_MIX.items()))
    ap.add_argument("--cluster-size", type=int, default=100)
    ap.add_argument("--visibility", type=int, default=10, help="the queue's visibility timeout, s")
    ap.add_argument("--max-receive", type=int, default=10, help="the redrive policy's maxReceiveCount")
    ap.add_argument("--wait-time", default="2s", help="the controller's --wait-time")
    ap.add_argument("--timeout", type=float, default=3600,
                    help="give up waiting for the notices after this many seconds")
    ap.add_argument("--backlog", type=int, default=500,
                    help="publish no further while more notices than this wait unhandled "
                         "(0: publish all at once). moto's SQS scans every message of the "
                         "queue on each send and receive, so 10^4 at once measures moto")
    ap.add_argument("--json", help="write the result here too")
    a = ap.parse_args()
    binary = a.spotkeeper or os.path.join(a.build, "spotkeeper")
    logdir = tempfile.mkdtemp(prefix="spk-controller-soak-")
    moto = controller = proxy = None
    result = {"notices": a.notices, "fault_rate": a.fault_rate, "seed": a.seed,
              "backlog": a.backlog}
    try:
        moto, moto_url = start_moto(logdir)
        kw = dict(endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id="testing",
                  aws_secret_access_key="testing",
                  config=Config(retries={"max_attempts": 3}, max_pool_connections=20))
        t0 = time.monotonic()
        instances, queue, dlq, topic = build_world(kw, a.notices, a.cluster_size, a.visibility,
                                                   a.max_receive)
        result["world_s"] = round(time.monotonic() - t0, 1)
        print("world: %d container instances in %d clusters in %.1f s; logs in %s"
              % (len(instances), (len(instances) + a.cluster_size - 1) // a.cluster_size,
                 result["world_s"], logdir), flush=True)
        ecs, sqs, sns = boto3.client("ecs", **kw), boto3.client("sqs", **kw), boto3.client("sns", **kw)

        proxy = FaultProxy(int(moto_url.rsplit(":", 1)[1]), fault_rate=a.fault_rate, seed=a.seed,
                           mix=parse_mix(a.mix) if a.mix else None)
        maddr = "127.0.0.1:%d" % free_port()
        env = {"PATH": "/usr/bin:/bin", "HOME": logdir, "AWS_ENDPOINT_URL": proxy.url,
               "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
               "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true",
               "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
        controller = subprocess.Popen(
            [binary, "--log-format", "json", "controller", "--queue-url", queue,
             "--wait-time", a.wait_time, "--visibility-timeout", "%ds" % a.visibility,
             "--metrics-listen", maddr],
            env=env, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(logdir, "controller.log"), "w"))
        if not wait_port(int(maddr.rsplit(":", 1)[1]), 15):
            sys.exit("controller did not serve /metrics (log: %s)" % logdir)
        time.sleep(1)
        rss_start = proc_status_kb(controller.pid, "VmRSS")

        errors = []
        start = time.monotonic()
        publisher = threading.Thread(target=publish_all, args=(sns, topic, instances, errors,
                                                               a.backlog, maddr))
        publisher.start()
        noticed = [arn for _, _, arn in instances]
        last_print, draining, done = 0, 0, False
        rss_samples = []
        while time.monotonic() - start < a.timeout:
            time.sleep(2)
            if controller.poll() is not None:
                print("controller exited with %s" % controller.returncode, flush=True)
                break
            rss_samples.append(proc_status_kb(controller.pid, "VmRSS"))
            m = metrics(maddr)
            drained = int(metric_sum(m, "spotkeeper_drains_total"))
            # The controller's drain counter is progress only: a drain moto
            # applied whose reply was lost is not counted there. Done is an
            # empty queue and every container instance DRAINING in moto.
            if not publisher.is_alive():
                visible, invisible = queue_depth(sqs, queue)
                if visible + invisible == 0:
                    st = statuses(ecs, instances)
                    draining = sum(1 for arn in noticed if st.get(arn) == "DRAINING")
                    if draining == len(noticed):
                        done = True
                        break
            if time.monotonic() - last_print > 15:
                last_print = time.monotonic()
                s = proxy.stats()
                print("%5.0f s: %d/%d drains counted by the controller, %d faults in %d requests, "
                      "RSS %.1f MB" % (last_print - start, drained, len(noticed), s["faults"],
                                       s["requests"], rss_samples[-1] / 1024), flush=True)
        wall = time.monotonic() - start
        publisher.join()
        alive = controller.poll() is None
        rss_end = proc_status_kb(controller.pid, "VmRSS")
        hwm = proc_status_kb(controller.pid, "VmHWM")
        m = metrics(maddr)
        st = statuses(ecs, instances)
        draining = sum(1 for arn in noticed if st.get(arn) == "DRAINING")
        visible, invisible = queue_depth(sqs, queue)
        dlq_visible, dlq_invisible = queue_depth(sqs, dlq)
        applied, receipts = proxy.records()
        early, double, drain_calls, drain_retries, deletes, not_by_controller = check_records(
            applied, receipts, noticed)
        stats = proxy.stats()
        result.update({
            "completed": done, "wall_s": round(wall, 1),
            "notices_per_s": round(len(noticed) / wall, 2),
            "draining": draining, "container_instances": len(noticed),
            "queue_left": visible + invisible, "dlq": dlq_visible + dlq_invisible,
            "deleted_before_drain": len(early), "double_drains": len(double),
            "drain_calls_applied": drain_calls, "drain_retries_after_lost_reply": drain_retries,
            "deletes_applied": deletes,
            "proxy": stats,
            "controller_alive": alive,
            "controller_rss_start_mb": round(rss_start / 1024, 2),
            "controller_rss_end_mb": round(rss_end / 1024, 2),
            "controller_rss_max_sampled_mb": round(max(rss_samples or [0]) / 1024, 2),
            "controller_vmhwm_mb": round(hwm / 1024, 2),
            "publish_errors": len(errors),
            "metrics": {
                "aws_calls": metric_sum(m, "spotkeeper_aws_calls_total"),
                "aws_retries": metric_sum(m, "spotkeeper_aws_retries_total"),
                "aws_errors_after_retries": metric_sum(m, "spotkeeper_aws_errors_total"),
                "messages": {o: metric_sum(m, 'spotkeeper_messages_total{outcome="%s"}' % o)
                             for o in ("handled", "duplicate", "unsupported", "failed",
                                       "delete-failed")},
                "drains": metric_sum(m, "spotkeeper_drains_total"),
                "receive_errors": metric_sum(m, "spotkeeper_queue_receive_errors_total"),
                "visibility_extensions": {
                    r: metric_sum(m, 'spotkeeper_queue_visibility_extensions_total{result="%s"}' % r)
                    for r in ("ok", "failed")}},
            "logs": logdir})
        if early:
            result["deleted_before_drain_examples"] = early[:5]
        if double:
            result["double_drain_examples"] = double[:5]
        if not_by_controller:
            result["never_drained_by_controller"] = len(not_by_controller)
        print(json.dumps(result, indent=2), flush=True)
        if a.json:
            with open(a.json, "w") as f:
                json.dump(result, f, indent=2)
        checks = {"completed in time": done, "controller alive": alive,
                  "every noticed container instance DRAINING": draining == len(noticed),
                  "queue empty": result["queue_left"] == 0, "dead-letter queue empty":
                  result["dlq"] == 0, "no message deleted before its drain": not early,
                  "nothing drained twice": not double, "every notice published": not errors}
        if a.check_faults:
            lost = sum(1 for r in applied if not r["delivered"])
            share = stats["faults"] / max(1, stats["requests"])
            faults_ok = a.fault_rate * 2 / 3 <= share <= a.fault_rate * 4 / 3 and lost > 0
            print("faults: %.1f%% of %d requests; %d drains/deletes applied with the reply lost: %s"
                  % (100 * share, stats["requests"], lost, "ok" if faults_ok else "NOT as asked"))
            checks["faults as asked"] = faults_ok
        failed = [name for name, held in checks.items() if not held]
        ok = not failed
        print("soak: %s" % ("PASS" if ok else "FAIL: " + "; ".join(failed)), flush=True)
        return 0 if ok else 1
    finally:
        stop(controller)
        if proxy is not None:
            proxy.close()
        stop(moto)


if __name__ == "__main__":
    sys.exit(main())
