"""moto_server, a fake Lambda Runtime API and process helpers shared by the deploy tests (cfn_moto_test,
install_by_hand_test): moto on a free loopback port (read from its log line,
as tests/support/moto_server.cc does), stopped at the end."""

import http.server
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

import boto3


class MotoServer:
    def __init__(self, region, extra_env=None, launcher=None):
        """launcher: a script to run instead of `-m moto.server` (same arguments)."""
        self.region = region
        self.log = tempfile.NamedTemporaryFile(prefix="spk-moto-", suffix=".log", delete=False)
        env = dict(os.environ, AWS_EC2_METADATA_DISABLED="true", **(extra_env or {}))
        python = os.environ.get("SPK_PYTHON", sys.executable)
        start = [python, launcher] if launcher else [python, "-m", "moto.server"]
        self.proc = subprocess.Popen(start + ["-H", "127.0.0.1", "-p", "0"],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline, self.port = time.time() + 60, None
        while time.time() < deadline and self.port is None:
            with open(self.log.name, encoding="utf-8", errors="replace") as f:
                m = re.search(r"Running on http://127\.0\.0\.1:(\d+)", f.read())
            if m:
                self.port = int(m.group(1))
            elif self.proc.poll() is not None:
                break
            else:
                time.sleep(0.1)
        if self.port is None:
            self.stop()
            raise RuntimeError("moto_server did not start; log: " + self.log.name)
        self.url = "http://127.0.0.1:%d" % self.port

    def client(self, service):
        return boto3.client(service, endpoint_url=self.url, region_name=self.region,
                            aws_access_key_id="test", aws_secret_access_key="test")

    def stop(self):
        if self.proc.poll() is None:
            stop_process(self.proc, 5)
        self.log.close()
        os.unlink(self.log.name)


def stop_process(proc, timeout):
    """SIGTERM, then the exit code (SIGKILL after timeout: returns None)."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


class FakeRuntimeApi:
    """A loopback Lambda Runtime API. With `event`, hands it out once (request id
    req-1) and records the answer; records init errors and that /next was polled.
    Every other /next waits `poll_delay` seconds and answers 500."""

    def __init__(self, event=None, poll_delay=1):
        self.response, self.init_errors = None, []
        self.answered, self.next_polls = threading.Event(), threading.Event()
        outer, served = self, []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                if self.path.endswith("/runtime/invocation/next"):
                    outer.next_polls.set()
                    if event is not None and not served:
                        served.append(1)
                        body = json.dumps(event).encode()
                        self.send_response(200)
                        self.send_header("Lambda-Runtime-Aws-Request-Id", "req-1")
                        self.send_header("Lambda-Runtime-Deadline-Ms",
                                         str(int(time.time() * 1000) + 60000))
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                        return
                    time.sleep(poll_delay)
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path.endswith("/runtime/init/error"):
                    outer.init_errors.append(body.decode("utf-8", "replace"))
                elif self.path.endswith("/req-1/response") or self.path.endswith("/req-1/error"):
                    outer.response = (self.path, body.decode("utf-8", "replace"))
                    outer.answered.set()
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = "127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
