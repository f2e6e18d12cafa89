#!/usr/bin/env python3
"""Agent benchmark: notice latency and idle cost of `spotkeeper agent`.

Latency: for each of N notices, starts amazon-ec2-metadata-mock (IMDSv2 only)
with the spot notice triggered at a whole second T a little in the future,
starts the agent (default settings, SNS topic subscribed by an SQS queue on a
local moto_server), and measures SentTimestamp of the message in the queue
minus T: notice appears in IMDS -> message is in SQS. Reports p50/p99/max.
A second sink beside SNS is a dead webhook (a loopback server that accepts
connections and never answers: each try hangs until the 5 s timeout), and a
rebalance recommendation is in IMDS from the start, so its webhook delivery and
retries are running when the spot notice comes: the SNS message must not wait
for them (target p99 <= 0.3 s). --no-dead-webhook measures SNS alone.

Start-up: for each of --startup-notices runs, the spot notice (and the
rebalance recommendation) are already in IMDS when the agent starts; measures
SentTimestamp minus the moment the agent was started (target p99 <= 0.5 s).
A fake ECS agent introspection endpoint names a container instance registered
in moto, so the agent also sets its lifecycle attribute (ECS PutAttributes)
at start: the notice must not wait for it.

Idle: runs the agent with default settings against a mock with no notice for
--idle-seconds (default 600) and reports its CPU (% of one core, from
/proc/PID/stat utime+stime) and RSS (VmRSS sampled, VmHWM at the end). The
agent execs itself into spotkeeper-watch (same PID), which is what is measured.

Child calls: the watcher makes each delivery in a short-lived
`spotkeeper agent-call` child; runs 10 such SNS publishes by hand and reports
their wall time and peak RSS (GNU time's %M: wait4 of a small parent, so the
peak is the child's own, not that of a forked Python), the cost paid per call instead of
keeping the AWS and TLS libraries resident.

Everything is on 127.0.0.1; moto runs without signature checking here (the
integration tests cover signing).

Usage: bench/agent_latency.py [--build build] [--notices 20] [--startup-notices 10]
                              [--idle-seconds 600] [--no-dead-webhook]
"""
import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import http.server
import socket
import tempfile
import threading
import time

import boto3

from peers import free_port, percentile, proc_status_kb, start_moto, stop, wait_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_aemm(aemm, args, logdir, name):
    port = free_port()
    log = open(os.path.join(logdir, name + ".log"), "w")
    p = subprocess.Popen([aemm, "-n", "127.0.0.1", "-p", str(port), "-I"] + args,
                         stdout=log, stderr=subprocess.STDOUT, env={"PATH": "/usr/bin:/bin", "HOME": logdir})
    if not wait_port(port):
        sys.exit("ec2-metadata-mock did not start")
    return p, "http://127.0.0.1:%d" % port


def agent_env(moto_url, imds_url, home, ecs_agent="http://127.0.0.1:9"):
    return {
        "PATH": "/usr/bin:/bin", "HOME": home,
        "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds_url,
        "SPOTKEEPER_ECS_AGENT_ENDPOINT": ecs_agent,  # default: none, stay on loopback
    }


class DeadWebhook:
    """A loopback HTTP 'server' that accepts connections and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.conns = []
        self.url = "http://127.0.0.1:%d/services/T0BENCH/B0BENCH/bench-secret" % self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)  # kept open, never read, never answered


def fake_ecs_agent(cluster, arn):
    """A loopback ECS agent introspection endpoint: (server, URL)."""
    body = json.dumps({"Cluster": cluster, "ContainerInstanceArn": arn, "Version": "bench"}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/v1/metadata" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, "http://127.0.0.1:%d" % server.server_address[1]


def receive_spot(sqs, q, limit_s):
    """SentTimestamp (s) of the first spot-interruption message within limit_s, or None."""
    end = time.time() + limit_s
    while time.time() < end:
        r = sqs.receive_message(QueueUrl=q, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                AttributeNames=["SentTimestamp"])
        got = None
        for m in r.get("Messages", []):
            sqs.delete_message(QueueUrl=q, ReceiptHandle=m["ReceiptHandle"])
            body = json.loads(json.loads(m["Body"])["Message"])
            if body.get("kind") == "spot-interruption" and got is None:
                got = int(m["Attributes"]["SentTimestamp"]) / 1000.0
        if got is not None:
            return got
    return None


def purge(sqs, q):
    while True:
        ms = sqs.receive_message(QueueUrl=q, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not ms:
            return
        for m in ms:
            sqs.delete_message(QueueUrl=q, ReceiptHandle=m["ReceiptHandle"])


def summary(xs, prefix):
    if not xs:
        return {prefix + "notices": 0}
    return {prefix + "notices": len(xs), prefix + "p50_s": round(percentile(xs, 0.5), 3),
            prefix + "p99_s": round(percentile(xs, 0.99), 3), prefix + "max_s": round(max(xs), 3)}


def proc_cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--aemm", default=os.path.join(ROOT, "tools", "bin", "ec2-metadata-mock"))
    ap.add_argument("--notices", type=int, default=20)
    ap.add_argument("--startup-notices", type=int, default=10)
    ap.add_argument("--no-dead-webhook", action="store_true",
                    help="SNS as the only sink (no dead webhook beside it)")
    ap.add_argument("--idle-seconds", type=float, default=600)
    ap.add_argument("--agent-args", default="", help="extra agent flags (default: none = defaults)")
    a = ap.parse_args()
    binary = os.path.join(a.build, "spotkeeper")
    logdir = tempfile.mkdtemp(prefix="spk-agent-bench-")
    moto, moto_url = start_moto(logdir)
    try:
        kw = dict(endpoint_url=moto_url, region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
        sqs, sns = boto3.client("sqs", **kw), boto3.client("sns", **kw)
        q = sqs.create_queue(QueueName="spk-bench")["QueueUrl"]
        qarn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        topic = sns.create_topic(Name="spk-bench")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)
        extra = a.agent_args.split()
        dead = None
        if not a.no_dead_webhook:
            dead = DeadWebhook()
            extra = ["--webhook-url", dead.url] + extra
        # With the dead webhook, a rebalance recommendation from the start keeps
        # its webhook delivery (and retries) running when the spot notice comes.
        rebalance = "2099-01-01T00:00:00Z" if a.no_dead_webhook else "2000-01-01T00:00:00Z"

        latencies = []
        for i in range(a.notices):
            trigger = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=2)).replace(microsecond=0)
            trigger_s = trigger.strftime("%Y-%m-%dT%H:%M:%SZ")
            aemm, imds = start_aemm(a.aemm, ["spot", "--mock-trigger-time", trigger_s,
                                             "--rebalance-trigger-time", rebalance],
                                    logdir, "aemm-%d" % i)
            agent = subprocess.Popen([binary, "agent", "--sns-topic-arn", topic] + extra,
                                     env=agent_env(moto_url, imds, logdir),
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(logdir, "agent-%d.log" % i), "w"))
            got = receive_spot(sqs, q, 15)
            stop(agent)
            stop(aemm)
            if got is None:
                print("notice %d: no message within 15 s (logs in %s)" % (i, logdir))
                continue
            lat = got - trigger.timestamp()
            latencies.append(lat)
            print("notice %2d: %.3f s" % (i, lat), flush=True)

        result = {"dead_webhook": dead is not None, "notices": len(latencies)}
        if latencies:
            result.update(p50_s=round(percentile(latencies, 0.5), 3),
                          p99_s=round(percentile(latencies, 0.99), 3),
                          max_s=round(max(latencies), 3), mean_s=round(statistics.mean(latencies), 3))

        # Start-up: the notices are in IMDS before the agent starts, and the
        # ECS agent answers, so the lifecycle attribute is set at start too.
        ecs, ec2 = boto3.client("ecs", **kw), boto3.client("ec2", **kw)
        ecs.create_cluster(clusterName="spk-bench")
        iid = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1,
                                InstanceType="m4.xlarge")["Instances"][0]["InstanceId"]
        ci_arn = ecs.register_container_instance(
            cluster="spk-bench", instanceIdentityDocument=json.dumps({"instanceId": iid})
        )["containerInstance"]["containerInstanceArn"]
        ecs_server, ecs_url = fake_ecs_agent("spk-bench", ci_arn)
        startup = []
        for i in range(a.startup_notices):
            purge(sqs, q)
            aemm, imds = start_aemm(a.aemm, ["spot", "--mock-trigger-time", "2000-01-01T00:00:00Z",
                                             "--rebalance-trigger-time", rebalance],
                                    logdir, "aemm-startup-%d" % i)
            time.sleep(0.2)
            started = time.time()
            agent = subprocess.Popen([binary, "agent", "--sns-topic-arn", topic] + extra,
                                     env=agent_env(moto_url, imds, logdir, ecs_url),
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(logdir, "agent-startup-%d.log" % i), "w"))
            got = receive_spot(sqs, q, 15)
            stop(agent)
            stop(aemm)
            if got is None:
                print("start-up %d: no message within 15 s (logs in %s)" % (i, logdir))
                continue
            startup.append(got - started)
            print("start-up %2d: %.3f s" % (i, got - started), flush=True)
        ecs_server.shutdown()
        result.update(summary(startup, "startup_"))

        # Idle: no notice (both triggers far in the future).
        aemm, imds = start_aemm(a.aemm, ["spot", "--mock-trigger-time", "2099-01-01T00:00:00Z",
                                         "--rebalance-trigger-time", "2099-01-01T00:00:00Z"],
                                logdir, "aemm-idle")
        agent = subprocess.Popen([binary, "agent", "--sns-topic-arn", topic] + extra,
                                 env=agent_env(moto_url, imds, logdir), stdout=subprocess.DEVNULL,
                                 stderr=open(os.path.join(logdir, "agent-idle.log"), "w"))
        time.sleep(2)  # past start-up
        cpu0, t0 = proc_cpu_seconds(agent.pid), time.monotonic()
        rss_max = 0
        while time.monotonic() - t0 < a.idle_seconds:
            time.sleep(min(5, a.idle_seconds))
            rss_max = max(rss_max, proc_status_kb(agent.pid, "VmRSS"))
        cpu1, t1 = proc_cpu_seconds(agent.pid), time.monotonic()
        hwm = proc_status_kb(agent.pid, "VmHWM")
        result["idle_process"] = os.path.basename(os.readlink("/proc/%d/exe" % agent.pid))
        stop(agent)
        stop(aemm)
        result.update(idle_seconds=round(t1 - t0, 1),
                      idle_cpu_percent_of_core=round(100 * (cpu1 - cpu0) / (t1 - t0), 3),
                      idle_rss_max_mb=round(rss_max / 1024, 2), rss_hwm_mb=round(hwm / 1024, 2))
        # Child calls, as the watcher makes them.
        call_s, call_rss = [], []
        request = json.dumps({"call": "publish", "sink": {"type": "sns", "target": topic},
                              "message": json.dumps({"kind": "test"}), "messageId": "bench"})
        rss_file = os.path.join(logdir, "agent-call.maxrss")
        for _ in range(10):
            t0 = time.monotonic()
            answer = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file, binary,
                                     "agent-call", "--region", "us-east-1"],
                                    input=request.encode(), stdout=subprocess.PIPE,
                                    env=agent_env(moto_url, "http://127.0.0.1:9", logdir)).stdout
            call_s.append(time.monotonic() - t0)
            with open(rss_file) as f:
                call_rss.append(int(f.read().split()[-1]))
            if b'"OK"' not in answer:
                print("agent-call failed: " + answer.decode())
        result.update(child_call_p50_ms=round(1000 * percentile(call_s, 0.5), 1),
                      child_call_max_ms=round(1000 * max(call_s), 1),
                      child_call_peak_rss_mb=round(max(call_rss) / 1024, 2))
        print(json.dumps(result, indent=2))
        print("logs: " + logdir)
        ok = (result.get("p99_s", 99) <= 0.3
              and (a.startup_notices == 0 or result.get("startup_p99_s", 99) <= 0.5)
              and result["idle_cpu_percent_of_core"] <= 0.2 and result["idle_rss_max_mb"] <= 8)
        print("targets (p99 <= 0.3 s, start-up p99 <= 0.5 s, idle CPU <= 0.2%, RSS <= 8 MB): "
              + ("met" if ok else "NOT met"))
        return 0 if ok else 1
    finally:
        stop(moto)


if __name__ == "__main__":
    sys.exit(main())
