"""moto_server and process helpers shared by the deploy tests (cfn_moto_test,
install_by_hand_test): moto on a free loopback port (read from its log line,
as tests/support/moto_server.cc does), stopped at the end."""

import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import boto3


class MotoServer:
    def __init__(self, region, extra_env=None):
        self.region = region
        self.log = tempfile.NamedTemporaryFile(prefix="spk-moto-", suffix=".log", delete=False)
        env = dict(os.environ, AWS_EC2_METADATA_DISABLED="true", **(extra_env or {}))
        python = os.environ.get("SPK_PYTHON", sys.executable)
        self.proc = subprocess.Popen([python, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"],
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
