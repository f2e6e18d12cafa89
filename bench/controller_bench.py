#!/usr/bin/env python3
"""Controller benchmark: `spotkeeper controller` against a local moto_server.

World (as tests/support/controller_world.cc builds it): a weighted Spot Fleet
(c5.4xlarge weight 16, m5.large weight 2, target 16), an on-demand Auto
Scaling group of m5.xlarge, AWS/EC2Spot metrics put with PutMetricData, one
SQS queue. Two ECS clusters: "lat" (the fleet's instances plus plain m5.large
instances, one container instance each) and "burst" (--burst plain instances,
RunInstances in batches, RegisterContainerInstance each).

(a) Latency: --notices reference SNS termination messages (the agent's
    {"terminationNotificiation": "true", ...} inside an SNS envelope), sent
    into the queue one at a time; from SendMessage returning to the container
    instance being DRAINING (DescribeContainerInstances polled every 20 ms).
(b) Burst: --burst notices sent with SendMessageBatch as fast as possible;
    wall time until every burst container instance is DRAINING, the mean
    notice -> DRAINING over the burst (the controller's own histogram
    spotkeeper_notice_to_draining_seconds, from each message's SentTimestamp
    to its drain call returning), the number of
    ECS calls per operation (counted by tests/tools/fault_proxy.py with its
    faults off, between the controller and moto: AWS_ENDPOINT_URL_ECS points
    at it), and the
    controller's peak RSS (VmHWM).
(c) Floor: in the same run, on the same moto, an equal burst into a second
    queue for a second cluster ("floor"), drained by a bare boto3 client
    making only the minimal calls, back to back: ReceiveMessage (10),
    DescribeContainerInstances (10), UpdateContainerInstancesState (10),
    DeleteMessageBatch (10), while the notices are being sent (as for (b)).
    Its ECS calls go through the same counting proxy as the controller's, so
    both pay the same hop.
    Its wall time (from the first send to its last drain) and mean notice ->
    DRAINING (from just before each notice's send to its drain returning).
    Target: burst wall time <= 1.2 x the floor's.

Everything on 127.0.0.1; moto runs without signature checking here (the
integration tests cover signing).

Usage: bench/controller_bench.py [--build build] [--notices 20] [--burst 1000]
                                 [--burst-timeout 600]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import boto3
from botocore.config import Config

from peers import free_port, percentile, proc_status_kb, start_moto, stop, wait_port

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests", "tools"))
from fault_proxy import FaultProxy  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AMI = "ami-12c6146b"


def agent_message(instance, itype, cluster, arn, i):
    # The reference notifier's message (its misspelling included), as SNS
    # delivers it into a subscribed queue with raw delivery off.
    msg = json.dumps({"terminationNotificiation": "true", "instanceId": instance,
                      "instanceType": itype, "ecsCluster": cluster, "ecsContainer": arn})
    return json.dumps({"Type": "Notification", "MessageId": "bench-%d-%s" % (i, instance),
                       "TopicArn": "arn:aws:sns:us-east-1:123456789012:spot", "Message": msg})


def run_instances(ec2, count, itype="m5.large", batch=100):
    ids = []
    while len(ids) < count:
        n = min(batch, count - len(ids))
        r = ec2.run_instances(ImageId=AMI, InstanceType=itype, MinCount=n, MaxCount=n)
        ids += [i["InstanceId"] for i in r["Instances"]]
    return ids


def register(ecs, cluster, ids):
    ecs.create_cluster(clusterName=cluster)
    arns = {}
    for i in ids:
        r = ecs.register_container_instance(cluster=cluster,
                                            instanceIdentityDocument=json.dumps({"instanceId": i}))
        arns[i] = r["containerInstance"]["containerInstanceArn"]
    return arns


def statuses(ecs, cluster, arns):
    out = {}
    for k in range(0, len(arns), 100):
        r = ecs.describe_container_instances(cluster=cluster, containerInstances=arns[k:k + 100])
        for ci in r["containerInstances"]:
            out[ci["containerInstanceArn"]] = ci["status"]
    return out


def metrics(addr):
    try:
        return urllib.request.urlopen("http://%s/metrics" % addr, timeout=5).read().decode()
    except OSError:
        return ""


def handled(addr):
    m = re.search(r'^spotkeeper_messages_total\{outcome="handled"\} (\d+)', metrics(addr), re.M)
    return int(m.group(1)) if m else 0


def drains(addr):
    m = re.search(r'^spotkeeper_drains_total (\d+)', metrics(addr), re.M)
    return int(m.group(1)) if m else 0


def histogram(text, name):
    """(sum, count) of a histogram in a /metrics text, (0, 0) when absent."""
    def value(suffix):
        m = re.search(r'^%s_%s ([0-9.e+-]+)' % (name, suffix), text, re.M)
        return float(m.group(1)) if m else 0.0
    return value("sum"), value("count")


def floor_burst(kw, ec2, n, ecs_url):
    """(c): the bare client's drain of an equal burst; its result dict. Its ECS
    calls take the controller's path (ecs_url: the counting proxy)."""
    ecs = boto3.client("ecs", **dict(kw, endpoint_url=ecs_url))
    sqs = boto3.client("sqs", **kw)
    ids = run_instances(ec2, n)
    arns = register(ecs, "floor", ids)
    queue = sqs.create_queue(QueueName="spk-floor-bench",
                             Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    bodies = [agent_message(i, "m5.large", "floor", arns[i], k) for k, i in enumerate(ids)]
    sender = boto3.client("sqs", **kw)
    sent_at = {}

    def send():
        for k in range(0, len(bodies), 10):
            now = time.monotonic()
            for i in ids[k:k + 10]:
                sent_at[i] = now
            sender.send_message_batch(QueueUrl=queue, Entries=[
                {"Id": str(j), "MessageBody": b} for j, b in enumerate(bodies[k:k + 10])])

    calls = {"ReceiveMessage": 0, "DescribeContainerInstances": 0,
             "UpdateContainerInstancesState": 0, "DeleteMessageBatch": 0}
    latencies = []
    drained = set()
    start = time.monotonic()
    t = threading.Thread(target=send)
    t.start()
    while len(drained) < n and time.monotonic() - start < 600:
        calls["ReceiveMessage"] += 1
        msgs = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10,
                                   WaitTimeSeconds=1).get("Messages", [])
        if not msgs:
            continue
        notices = [json.loads(json.loads(m["Body"])["Message"]) for m in msgs]
        calls["DescribeContainerInstances"] += 1
        cis = ecs.describe_container_instances(
            cluster="floor", containerInstances=[x["ecsContainer"] for x in notices])
        active = [ci["containerInstanceArn"] for ci in cis["containerInstances"]
                  if ci["status"] == "ACTIVE"]
        if active:
            calls["UpdateContainerInstancesState"] += 1
            ecs.update_container_instances_state(cluster="floor", containerInstances=active,
                                                 status="DRAINING")
        now = time.monotonic()
        for x in notices:
            if x["ecsContainer"] in active:
                latencies.append(now - sent_at[x["instanceId"]])
        drained.update(active)
        calls["DeleteMessageBatch"] += 1
        sqs.delete_message_batch(QueueUrl=queue, Entries=[
            {"Id": str(j), "ReceiptHandle": m["ReceiptHandle"]} for j, m in enumerate(msgs)])
    wall = time.monotonic() - start
    t.join()
    return {"container_instances": n, "drained": len(drained), "wall_s": round(wall, 2),
            "mean_notice_to_draining_s": round(statistics.mean(latencies), 2) if latencies else None,
            "calls": calls}


def metric_lines(text, names):
    return [l for l in text.splitlines() if any(l.startswith(n) for n in names)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--notices", type=int, default=20)
    ap.add_argument("--burst", type=int, default=1000)
    ap.add_argument("--burst-timeout", type=float, default=600,
                    help="give up waiting for the burst to be DRAINING after this many seconds")
    a = ap.parse_args()
    binary = os.path.join(a.build, "spotkeeper")
    logdir = tempfile.mkdtemp(prefix="spk-controller-bench-")
    moto = controller = proxy = None
    result = {}
    try:
        moto, moto_url = start_moto(logdir)
        kw = dict(endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id="testing",
                  aws_secret_access_key="testing",
                  config=Config(retries={"max_attempts": 2}, max_pool_connections=20))
        ec2, ecs, sqs = boto3.client("ec2", **kw), boto3.client("ecs", **kw), boto3.client("sqs", **kw)
        asg, cw = boto3.client("autoscaling", **kw), boto3.client("cloudwatch", **kw)

        # The world.
        t0 = time.monotonic()
        fleet = ec2.request_spot_fleet(SpotFleetRequestConfig={
            "IamFleetRole": "arn:aws:iam::123456789012:role/fleet", "TargetCapacity": 16,
            "AllocationStrategy": "lowestPrice",
            "LaunchSpecifications": [
                {"ImageId": AMI, "InstanceType": "c5.4xlarge", "WeightedCapacity": 16},
                {"ImageId": AMI, "InstanceType": "m5.large", "WeightedCapacity": 2}]})["SpotFleetRequestId"]
        fleet_instances = [(i["InstanceId"], i["InstanceType"]) for i in
                           ec2.describe_spot_fleet_instances(SpotFleetRequestId=fleet)["ActiveInstances"]]
        ec2.create_launch_template(LaunchTemplateName="od-lt", LaunchTemplateData={
            "ImageId": AMI, "InstanceType": "m5.xlarge"})
        asg.create_auto_scaling_group(AutoScalingGroupName="od", MinSize=0, MaxSize=10,
                                      DesiredCapacity=1, AvailabilityZones=["us-east-1a"],
                                      LaunchTemplate={"LaunchTemplateName": "od-lt", "Version": "$Latest"})
        def put_fleet_metrics():
            cw.put_metric_data(Namespace="AWS/EC2Spot", MetricData=[
                {"MetricName": n, "Dimensions": [{"Name": "FleetRequestId", "Value": fleet}],
                 "Value": v, "Unit": "Count"}
                for n, v in (("PendingCapacity", 0), ("TargetCapacity", 16))])
        put_fleet_metrics()

        # AWS/EC2Spot publishes every minute; the controller refuses a datapoint
        # older than 5 minutes (no silent zero), so a long run must keep them fresh.
        def keep_metrics_fresh():
            while not stop_metrics.wait(60):
                try:
                    put_fleet_metrics()
                except Exception as e:  # moto busy: try again next minute
                    print("put_metric_data failed: %s" % e, flush=True)
        stop_metrics = threading.Event()
        threading.Thread(target=keep_metrics_fresh, daemon=True).start()
        queue = sqs.create_queue(QueueName="spk-ctl-bench",
                                 Attributes={"VisibilityTimeout": "60"})["QueueUrl"]

        extra = max(0, a.notices - len(fleet_instances))
        lat_instances = fleet_instances + [(i, "m5.large") for i in run_instances(ec2, extra)]
        lat_arns = register(ecs, "lat", [i for i, _ in lat_instances])
        ecs.create_cluster(clusterName="burst")

        # The controller; its ECS calls go through tests/tools/fault_proxy.py
        # with no faults: it forwards and counts them by operation.
        proxy = FaultProxy(int(moto_url.rsplit(":", 1)[1]), fault_rate=0)
        maddr = "127.0.0.1:%d" % free_port()
        env = {"PATH": "/usr/bin:/bin", "HOME": logdir,
               "AWS_ENDPOINT_URL": moto_url, "AWS_ENDPOINT_URL_ECS": proxy.url,
               "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
               "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true",
               "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
        controller = subprocess.Popen(
            [binary, "--log-format", "json", "controller", "--queue-url", queue,
             "--cluster", "lat", "--cluster", "burst", "--spot-fleet-id", fleet,
             "--on-demand-asg", "od", "--pending-source", "cloudwatch",
             "--metrics-listen", maddr],
            env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(logdir, "controller.log"), "w"))
        if not wait_port(int(maddr.rsplit(":", 1)[1]), 15):
            sys.exit("controller did not serve /metrics (log: %s)" % logdir)
        time.sleep(1)  # past the start-up reconcile
        print("world ready in %.1f s; logs in %s" % (time.monotonic() - t0, logdir), flush=True)

        # (a) Latency, one notice at a time.
        latencies = []
        for n, (iid, itype) in enumerate(lat_instances[:a.notices]):
            arn = lat_arns[iid]
            want = handled(maddr) + 1
            sqs.send_message(QueueUrl=queue, MessageBody=agent_message(iid, itype, "lat", arn, n))
            sent = time.monotonic()
            end = sent + 30
            while time.monotonic() < end:
                if ecs.describe_container_instances(cluster="lat", containerInstances=[arn])[
                        "containerInstances"][0]["status"] == "DRAINING":
                    latencies.append(time.monotonic() - sent)
                    break
                time.sleep(0.02)
            else:
                print("notice %d: not DRAINING within 30 s" % n)
                continue
            print("notice %2d: %.3f s" % (n, latencies[-1]), flush=True)
            # One at a time: the next notice goes in once the controller has
            # finished this one (the decision after the fast-path drain), so
            # each measures an idle controller, not the tail of the previous.
            end = time.monotonic() + 30
            while handled(maddr) < want and time.monotonic() < end:
                time.sleep(0.02)
        result["latency"] = {"notices": len(latencies)}
        if latencies:
            result["latency"].update(
                p50_s=round(percentile(latencies, 0.5), 3), p99_s=round(percentile(latencies, 0.99), 3),
                max_s=round(max(latencies), 3), mean_s=round(statistics.mean(latencies), 3))

        # (b) Burst: register the container instances, then all notices at once.
        t0 = time.monotonic()
        burst_ids = run_instances(ec2, a.burst)
        burst_arns = register(ecs, "burst", burst_ids)
        setup_s = time.monotonic() - t0
        print("burst: %d container instances registered in %.1f s" % (len(burst_arns), setup_s),
              flush=True)

        # (c) The floor, on the same moto, before the controller's burst.
        floor = floor_burst(kw, ec2, a.burst, proxy.url)
        result["floor"] = floor
        print("floor: %d drained in %.2f s by a bare client" % (floor["drained"], floor["wall_s"]),
              flush=True)
        before = proxy.stats()["requests_by_operation"]
        hwm_before = proc_status_kb(controller.pid, "VmHWM")
        bodies = [agent_message(i, "m5.large", "burst", burst_arns[i], n)
                  for n, i in enumerate(burst_ids)]
        drains_before = drains(maddr)
        latency_before = histogram(metrics(maddr), "spotkeeper_notice_to_draining_seconds")
        start = time.monotonic()
        for k in range(0, len(bodies), 10):
            r = sqs.send_message_batch(QueueUrl=queue, Entries=[
                {"Id": str(j), "MessageBody": b} for j, b in enumerate(bodies[k:k + 10])])
            if r.get("Failed"):
                print("send_message_batch failures: %s" % r["Failed"])
        sent_s = time.monotonic() - start
        print("burst: %d notices sent in %.2f s" % (len(bodies), sent_s), flush=True)
        arn_list = list(burst_arns.values())
        draining, rss_max = 0, 0
        last_print = 0
        # Progress from the controller's own drain counter (cheap); describing
        # 1,000 container instances every poll would load moto more than the
        # controller does. Once it says all, DescribeContainerInstances checks.
        while time.monotonic() - start < a.burst_timeout:
            done = drains(maddr) - drains_before
            rss_max = max(rss_max, proc_status_kb(controller.pid, "VmRSS"))
            if done >= len(arn_list):
                st = statuses(ecs, "burst", arn_list)
                draining = sum(1 for s in st.values() if s == "DRAINING")
                if draining == len(arn_list):
                    break
            if time.monotonic() - last_print > 10:
                last_print = time.monotonic()
                print("burst: %4d/%d drained after %.0f s" % (done, len(arn_list),
                                                             last_print - start), flush=True)
            time.sleep(0.1)
        wall = time.monotonic() - start
        if draining != len(arn_list):
            st = statuses(ecs, "burst", arn_list)
            draining = sum(1 for s in st.values() if s == "DRAINING")
        after = proxy.stats()["requests_by_operation"]
        calls = {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) - before.get(k, 0)}
        updates = calls.get("UpdateContainerInstancesState", 0)
        hwm = proc_status_kb(controller.pid, "VmHWM")
        latency_after = histogram(metrics(maddr), "spotkeeper_notice_to_draining_seconds")
        latency_n = latency_after[1] - latency_before[1]
        mean_latency = ((latency_after[0] - latency_before[0]) / latency_n) if latency_n else None
        result["burst"] = {
            "container_instances": len(arn_list), "register_s": round(setup_s, 1),
            "send_s": round(sent_s, 2), "all_draining": draining == len(arn_list),
            "draining": draining, "wall_s": round(wall, 2),
            "floor_wall_s": floor["wall_s"],
            "ratio_to_floor": round(wall / floor["wall_s"], 2) if floor["wall_s"] else None,
            "mean_notice_to_draining_s": round(mean_latency, 2) if mean_latency is not None else None,
            "floor_mean_notice_to_draining_s": floor["mean_notice_to_draining_s"],
            "ecs_calls": dict(sorted(calls.items())),
            "update_container_instances_state_calls": updates,
            "update_calls_per_10_instances": round(10.0 * updates / max(1, len(arn_list)), 2),
            "controller_rss_max_mb": round(rss_max / 1024, 2),
            "controller_vmhwm_mb": round(hwm / 1024, 2),
            "controller_vmhwm_before_burst_mb": round(hwm_before / 1024, 2)}
        m = metrics(maddr)
        result["controller_metrics"] = metric_lines(m, ("spotkeeper_messages_total",
                                                        "spotkeeper_drains_total",
                                                        "spotkeeper_aws_errors_total",
                                                        "spotkeeper_notice_to_draining_seconds_count",
                                                        "spotkeeper_notice_to_draining_seconds_sum"))
        print(json.dumps(result, indent=2))
        print("logs: " + logdir)
        complete = result["burst"]["all_draining"]
        ok_updates = complete and updates * 10 <= len(arn_list)
        verdict = ("met" if ok_updates else "NOT met") if complete else (
            "NOT measured: only %d of %d DRAINING after %.0f s (already %d calls)"
            % (draining, len(arn_list), wall, updates))
        print("target: at most one UpdateContainerInstancesState per 10 instances "
              "(<= %d for %d): %s (%d calls)" % (len(arn_list) // 10, len(arn_list), verdict, updates))
        ratio = result["burst"]["ratio_to_floor"]
        ok_floor = complete and floor["drained"] == a.burst and ratio is not None and ratio <= 1.2
        print("target: burst wall time <= 1.2 x the floor's (%.2f s x 1.2 = %.2f s): %s "
              "(%.2f s, %.2f x; mean notice -> DRAINING %s s, floor %s s)"
              % (floor["wall_s"], 1.2 * floor["wall_s"], "met" if ok_floor else "NOT met", wall,
                 ratio or 0, result["burst"]["mean_notice_to_draining_s"],
                 floor["mean_notice_to_draining_s"]))
        return 0 if ok_updates and ok_floor else 1
    finally:
        stop(controller)
        if proxy is not None:
            proxy.close()
        stop(moto)


if __name__ == "__main__":
    sys.exit(main())
