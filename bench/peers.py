"""Helpers the benchmark scripts share: free loopback ports, moto_server,
stopping child processes, percentiles and /proc readings. Everything on
127.0.0.1."""
import os
import re
import signal
import socket
import subprocess
import sys
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, limit=10.0):
    end = time.time() + limit
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.02)
    return False


def stop(p, timeout=25):
    """SIGTERM, then SIGKILL after `timeout` seconds."""
    if p is not None and p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def start_moto(logdir):
    """moto_server (no signature checking) on a free port: (process, URL)."""
    port = free_port()
    log = open(os.path.join(logdir, "moto.log"), "w")
    p = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                         stdout=log, stderr=subprocess.STDOUT)
    if not wait_port(port, 30):
        stop(p)
        sys.exit("moto_server did not start")
    return p, "http://127.0.0.1:%d" % port


def percentile(xs, q):
    xs = sorted(xs)
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def proc_status_kb(pid, key):
    """A kB field of /proc/PID/status (VmRSS, VmHWM); 0 when it cannot be read."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(re.findall(r"\d+", line)[0])
    except OSError:
        pass
    return 0
