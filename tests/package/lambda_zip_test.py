#!/usr/bin/env python3
"""The Lambda bundle runs in an otherwise empty root.

Unzips build/spotkeeper-lambda.zip into a fresh directory that holds nothing
else (no /bin/sh, no /lib, no /etc, no /proc, no /dev, no /tmp), chroots into
it and runs /bootstrap: once with --version, and once as the Lambda runtime
against a loopback Runtime API server started here, which hands out two events
and records what the runtime posts back. A fake AWS endpoint on loopback
records the signed request the second event causes. Nothing leaves loopback:
AWS_EC2_METADATA_DISABLED=true, fake credentials, AWS_ENDPOINT_URL on 127.0.0.1.

Needs root for chroot(2); falls back to `unshare -r --root` (a user namespace)
and fails, with the reason, when neither is permitted. Never skips.

usage: lambda_zip_test.py --zip ZIP --version X.Y.Z
"""
import argparse
import http.server
import json
import os
import queue
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import unittest
import zipfile

from datetime import datetime, timedelta, timezone

ARGS = None
REQUEST_ID_1 = "req-invalid-0001"
REQUEST_ID_2 = "req-fleet-0002"


PT_INTERP = 3


def program_header_types(elf):
    """The p_type of every program header of a little-endian ELF64 image."""
    phoff = int.from_bytes(elf[0x20:0x28], "little")
    phentsize = int.from_bytes(elf[0x36:0x38], "little")
    phnum = int.from_bytes(elf[0x38:0x3A], "little")
    return [int.from_bytes(elf[phoff + i * phentsize:phoff + i * phentsize + 4], "little")
            for i in range(phnum)]


def unzip_into(zip_path, root):
    """Unzips with Info-ZIP unzip, as an operator would; keeps the file modes."""
    os.makedirs(root, exist_ok=True)
    subprocess.run(["unzip", "-q", zip_path, "-d", root], check=True)


def run_in_root(root, argv, env, **popen_kwargs):
    """Starts argv (a path inside root) chrooted into root; returns the Popen."""
    def enter_root():
        os.chroot(root)
        os.chdir("/")

    if os.geteuid() == 0:
        try:
            return subprocess.Popen(argv, env=env, preexec_fn=enter_root, **popen_kwargs)
        except (PermissionError, subprocess.SubprocessError) as e:
            chroot_error = e
    else:
        chroot_error = "not running as root"
    if shutil.which("unshare") is None:
        raise AssertionError(f"cannot chroot ({chroot_error}) and unshare is not installed")
    probe = subprocess.run(["unshare", "-r", "--root", "/", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        raise AssertionError(f"cannot chroot ({chroot_error}) nor `unshare -r --root` "
                             f"({probe.stderr.strip()}): this test needs one of them")
    return subprocess.Popen(["unshare", "-r", "--root", root, *argv], env=env, **popen_kwargs)


def run_to_end(root, argv, env, timeout=60):
    p = run_in_root(root, argv, env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out, err


def make_test_pki(directory):
    """A throw-away CA and a certificate for 127.0.0.1 it signed; returns
    (CA certificate PEM path, server chain PEM path, server key PEM path)."""
    import ipaddress
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "spotkeeper empty-root test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    paths = [os.path.join(directory, n) for n in ("ca.pem", "server.pem", "server.key")]
    with open(paths[0], "wb") as f:
        f.write(ca.public_bytes(pem))
    with open(paths[1], "wb") as f:
        f.write(cert.public_bytes(pem))
    with open(paths[2], "wb") as f:
        f.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return paths


AWS_ERROR_REPLY = (400, {"Content-Type": "text/xml"},
                   b"<Response><Errors><Error><Code>UnauthorizedOperation</Code>"
                   b"<Message>empty-root test</Message></Error></Errors>"
                   b"<RequestID>test</RequestID></Response>")
# The runtime cases use Lambda's layout, the zip under /var/task: with no /lib in
# the root, only the launcher's --library-path can find the bundled libraries.
LAMBDA_TASK_ROOT = "var/task"
LAMBDA_BOOTSTRAP = "/var/task/bootstrap"
FLEET_ID = "sfr-11111111-2222-3333-4444-555555555555"


class RecordingServer:
    """A loopback HTTP server; `respond(handler, method)` -> (status, headers, body)."""

    def __init__(self, respond, tls=None):
        self.requests = queue.Queue()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.requests.put((self.command, self.path, dict(self.headers), body))
                status, headers, reply = respond(self.command, self.path)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(reply)))
                try:
                    self.end_headers()
                    self.wfile.write(reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the runtime was stopped while its long poll was held

            do_GET = do_POST = do_PUT = _handle

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        # Refused TLS handshakes and runtimes killed mid-poll are expected here.
        self.httpd.handle_error = lambda request, client_address: None
        if tls is not None:  # (certificate chain file, key file)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def address(self):
        return f"127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class RuntimeApi:
    """The Lambda Runtime API (2018-06-01): hands out the given events, then
    holds the next long poll open (as Lambda does between invocations)."""

    def __init__(self, events):
        self.events = list(events)  # (request id, body bytes)
        self.lock = threading.Lock()
        self.released = threading.Event()
        self.server = RecordingServer(self._respond)

    def _respond(self, method, path):
        if method == "GET" and path == "/2018-06-01/runtime/invocation/next":
            with self.lock:
                event = self.events.pop(0) if self.events else None
            if event is None:
                self.released.wait(120)
                return 500, {}, b'{"errorMessage":"test over"}'
            request_id, body = event
            return 200, {
                "Lambda-Runtime-Aws-Request-Id": request_id,
                "Lambda-Runtime-Deadline-Ms": "4102444800000",
                "Lambda-Runtime-Invoked-Function-Arn":
                    "arn:aws:lambda:us-east-1:123456789012:function:spotkeeper",
                "Content-Type": "application/json",
            }, body
        return 202, {"Content-Type": "application/json"}, b'{"status":"OK"}'

    def posts(self, count, timeout):
        """The first `count` POSTs the runtime made, as (path, headers, body)."""
        got = []
        while len(got) < count:
            method, path, headers, body = self.server.requests.get(timeout=timeout)
            if method == "POST":
                got.append((path, headers, body))
        return got

    def close(self):
        self.released.set()
        self.server.close()


class EmptyRootTest(unittest.TestCase):
    def setUp(self):
        self.assertTrue(os.path.isfile(ARGS.zip),
                        f"{ARGS.zip} is missing: build it with `make lambda-zip`")
        self.tmp = tempfile.mkdtemp(prefix="spk-lambda-root-")
        self.root = os.path.join(self.tmp, "root")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def base_env(self):
        # Exactly these variables: nothing inherited from the host.
        return {
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "AKIDEMPTYROOTTEST",
            "AWS_SECRET_ACCESS_KEY": "empty-root-test-secret",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # discard port: never answered
            "LAMBDA_TASK_ROOT": "/" + LAMBDA_TASK_ROOT,
            "_HANDLER": "bootstrap",
        }

    def test_layout(self):
        with zipfile.ZipFile(ARGS.zip) as z:
            names = set(z.namelist())
            modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in z.infolist()}
        for required in ("bootstrap", "bin/spotkeeper", "lib/ld-linux-x86-64.so.2",
                         "lib/libc.so.6", "lib/libcurl.so.4", "lib/libssl.so.3"):
            self.assertIn(required, names)
        for executable in ("bootstrap", "bin/spotkeeper", "lib/ld-linux-x86-64.so.2"):
            self.assertEqual(modes[executable] & 0o111, 0o111, f"{executable} not executable")
        self.assertEqual({n.split("/")[0] for n in names}, {"bootstrap", "bin", "lib", "licenses"})
        unzip_into(ARGS.zip, self.root)
        with open(os.path.join(self.root, "bootstrap"), "rb") as f:
            elf = f.read()
        self.assertEqual(elf[:5], b"\x7fELF\x02")  # ELF, 64-bit
        self.assertNotIn(PT_INTERP, program_header_types(elf),
                         "bootstrap must be static: it names a program interpreter")

    def test_version_in_empty_root(self):
        unzip_into(ARGS.zip, self.root)
        self.assertEqual(sorted(os.listdir(self.root)), ["bin", "bootstrap", "lib", "licenses"])
        rc, out, err = run_to_end(self.root, ["/bootstrap", "--version"], self.base_env())
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), f"spotkeeper {ARGS.version}")

    def test_version_from_var_task(self):
        # Lambda's own layout: the zip under /var/task, started by absolute path.
        unzip_into(ARGS.zip, os.path.join(self.root, "var", "task"))
        rc, out, err = run_to_end(self.root, ["/var/task/bootstrap", "--version"], self.base_env())
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), f"spotkeeper {ARGS.version}")

    def test_incomplete_bundle_fails_with_a_clear_message(self):
        unzip_into(ARGS.zip, self.root)
        os.remove(os.path.join(self.root, "lib", "ld-linux-x86-64.so.2"))
        rc, out, err = run_to_end(self.root, ["/bootstrap", "--version"], self.base_env())
        self.assertEqual(rc, 127)
        self.assertIn("/lib/ld-linux-x86-64.so.2", err)
        self.assertIn("unpacked whole", err)

    def run_runtime(self, events, aws, extra_env=None):
        """Runs /var/task/bootstrap as the Lambda runtime in the root until it has posted
        one result per event; returns [(path, headers, body)] of those POSTs."""
        runtime = RuntimeApi(events)
        env = self.base_env()
        env.update({
            "AWS_LAMBDA_RUNTIME_API": runtime.server.address,
            "SPOTKEEPER_CLUSTER": "empty-root",
            "SPOTKEEPER_SPOT_FLEET_ID": FLEET_ID,
            "SPOTKEEPER_LOG_FORMAT": "json",
        })
        env.update(extra_env or {})
        proc = run_in_root(self.root, [LAMBDA_BOOTSTRAP], env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        try:
            return runtime.posts(len(events), timeout=60)
        except queue.Empty:
            proc.kill()
            _, err = proc.communicate()
            self.fail(f"the runtime did not post {len(events)} results; "
                      f"exit {proc.returncode}, stderr:\n{err}")
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()
            runtime.close()
            aws.close()

    @staticmethod
    def authorizations(server):
        out = []
        while not server.requests.empty():
            out.append(server.requests.get()[2].get("Authorization", ""))
        return out

    def test_reaches_runtime_api_in_empty_root(self):
        unzip_into(ARGS.zip, os.path.join(self.root, LAMBDA_TASK_ROOT))
        aws = RecordingServer(lambda method, path: AWS_ERROR_REPLY)
        posts = self.run_runtime([
            (REQUEST_ID_1, b"this is not an event {"),
            (REQUEST_ID_2, json.dumps({"fleetID": FLEET_ID}).encode()),
        ], aws, {"AWS_ENDPOINT_URL": f"http://{aws.address}"})

        path, headers, body = posts[0]
        self.assertEqual(path, f"/2018-06-01/runtime/invocation/{REQUEST_ID_1}/error")
        self.assertEqual(json.loads(body)["errorType"], "Spotkeeper.InvalidEvent")

        path, headers, body = posts[1]
        self.assertEqual(path, f"/2018-06-01/runtime/invocation/{REQUEST_ID_2}/error")
        self.assertEqual(json.loads(body)["errorType"], "Spotkeeper.HandlingFailed")

        # The fleet event was handled far enough to sign an AWS request (libcrypto
        # from the bundle) and send it, to loopback only.
        signed = self.authorizations(aws)
        self.assertTrue(signed, "no AWS request reached the fake endpoint")
        self.assertTrue(all(a.startswith("AWS4-HMAC-SHA256 Credential=AKIDEMPTYROOTTEST/")
                            for a in signed), signed)

    def https_fleet_event(self, ca_path_in_root):
        """Puts the test CA at ca_path_in_root, points AWS at a TLS server whose
        certificate it signed, and handles one fleet event; returns
        (the runtime's POST body, the Authorization headers the server saw)."""
        unzip_into(ARGS.zip, os.path.join(self.root, LAMBDA_TASK_ROOT))
        ca, chain, key = make_test_pki(self.tmp)
        target = os.path.join(self.root, ca_path_in_root.lstrip("/"))
        os.makedirs(os.path.dirname(target))
        shutil.copy(ca, target)
        aws = RecordingServer(lambda method, path: AWS_ERROR_REPLY, tls=(chain, key))
        posts = self.run_runtime([(REQUEST_ID_2, json.dumps({"fleetID": FLEET_ID}).encode())],
                                 aws, {"AWS_ENDPOINT_URL": f"https://{aws.address}"})
        return json.loads(posts[0][2]), self.authorizations(aws)

    def test_https_trusts_amazon_linux_ca_bundle(self):
        # Amazon Linux 2023 keeps its CA bundle here; libcurl's Debian default
        # (/etc/ssl/certs/ca-certificates.crt) does not exist there (the only
        # file added to the root besides the zip).
        body, signed = self.https_fleet_event("/etc/pki/tls/certs/ca-bundle.crt")
        self.assertEqual(body["errorType"], "Spotkeeper.HandlingFailed")
        self.assertTrue(signed, f"no request got through TLS: {body}")

    def test_https_fails_without_a_trusted_ca(self):
        # The same with the CA where nothing looks: TLS verification refuses.
        body, signed = self.https_fleet_event("/opt/elsewhere/ca.pem")
        self.assertEqual(body["errorType"], "Spotkeeper.HandlingFailed")
        self.assertEqual(signed, [])
        self.assertIn("certificate", body["errorMessage"].lower())


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--zip", required=True)
    parser.add_argument("--version", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0], "-v", *rest])


if __name__ == "__main__":
    main()
