#!/usr/bin/env python3
"""Lambda benchmark: init time of `spotkeeper lambda` under the AWS Lambda
Runtime Interface Emulator (aws-lambda-rie), over N cold starts.

Each run starts the emulator on free loopback ports with build/spotkeeper as
`bootstrap` (a symlink, as provided.al2023 starts it), invokes it once, and
stops it. Reported, p50/p90/max over the runs:
  init_ms   the emulator's own INIT REPORT(durationMs) for the init phase:
            exec of bootstrap -> its first GET /runtime/invocation/next;
  cold_ms   wall time from starting aws-lambda-rie to the first invocation's
            response (emulator start-up + init + one invocation).
The invocation is an unsupported event ({"bench": 1}), so the handler answers
with an error without any AWS call: nothing leaves 127.0.0.1
(AWS_ENDPOINT_URL points at a closed loopback port anyway).

Usage: bench/lambda_init.py [--build build] [--runs 10]
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from peers import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rie_binary():
    found = shutil.which("aws-lambda-rie")
    if found:
        return found
    local = os.path.join(ROOT, "tools", "bin", "aws-lambda-rie")
    if os.access(local, os.X_OK):
        return local
    sys.exit("aws-lambda-rie not found: run scripts/setup.sh")


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def one_run(rie, spotkeeper, workdir):
    port, api_port = free_port(), free_port()
    boot = os.path.join(workdir, "bootstrap")
    if not os.path.exists(boot):
        os.symlink(spotkeeper, boot)
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "AKIDBENCH",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "SPOTKEEPER_CLUSTER": "bench",
        "SPOTKEEPER_SPOT_FLEET_ID": "sfr-bench",
        "SPOTKEEPER_ON_DEMAND_ASG": "bench-od",
    }
    log_path = os.path.join(workdir, "rie.log")
    with open(log_path, "w") as log:
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [rie, "--runtime-interface-emulator-address", f"127.0.0.1:{port}",
             "--runtime-api-address", f"127.0.0.1:{api_port}", boot],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir,
            start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}/2015-03-31/functions/function/invocations"
            body = None
            deadline = t0 + 20
            while body is None:
                try:
                    req = urllib.request.Request(url, data=b'{"bench": 1}', method="POST")
                    with urllib.request.urlopen(req, timeout=20) as r:
                        body = r.read()
                except (ConnectionError, urllib.error.URLError):
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.002)
            cold_ms = (time.monotonic() - t0) * 1000
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    reply = json.loads(body)
    if reply.get("errorType") != "Spotkeeper.InvalidEvent":
        sys.exit(f"unexpected reply {reply}; log:\n{open(log_path).read()}")
    text = open(log_path).read()
    m = re.search(r"INIT REPORT\(durationMs: ([0-9.]+)\)", text) or re.search(
        r"Init Duration: ([0-9.]+) ms", text)
    if not m:
        sys.exit(f"no init duration in the emulator's log:\n{text}")
    return float(m.group(1)), cold_ms


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    spotkeeper = os.path.abspath(os.path.join(args.build, "spotkeeper"))
    if not os.access(spotkeeper, os.X_OK):
        sys.exit(f"{spotkeeper} not built")
    rie = rie_binary()
    inits, colds = [], []
    with tempfile.TemporaryDirectory(prefix="spk-lambda-bench-") as workdir:
        for i in range(args.runs):
            init_ms, cold_ms = one_run(rie, spotkeeper, workdir)
            inits.append(init_ms)
            colds.append(cold_ms)
            print(f"run {i + 1:2d}: init {init_ms:7.2f} ms   cold start to first response {cold_ms:7.1f} ms")
    for name, v in (("init_ms (emulator INIT REPORT)", inits), ("cold_ms (rie start -> first response)", colds)):
        print(f"{name}: p50 {statistics.median(v):.2f}  p90 {pct(v, 0.9):.2f}  max {max(v):.2f}  (n={len(v)})")


if __name__ == "__main__":
    main()
