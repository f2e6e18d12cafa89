#!/usr/bin/env python3
"""A loopback HTTP proxy in front of moto_server that injects AWS faults.

A test peer (never product code). Every request is forwarded to the upstream
(moto) unless a fault is drawn for it; with probability --fault-rate (seeded)
one fault, of a kind drawn by weight (--mix), is injected either BEFORE the
request is forwarded (moto never sees it) or AFTER (moto applied it, the reply
is lost or damaged: the case that tests idempotence).

Kinds, and the phases each can happen in:
  http500   500 with the protocol's InternalError / InternalFailure     before, after
  http503   503 with a plain-text body (a load balancer's)               before, after
  throttle  the service's throttling error in its protocol's shape:       before
            query/XML <Code>Throttling</Code> (Auto Scaling, SNS,
            CloudWatch), RequestLimitExceeded (EC2); JSON
            ThrottlingException (ECS, and SQS as coral sends it)
  timeout   no answer: the connection is held until the client gives      before, after
            up (closes it), at most --hold seconds
  reset     the connection is reset (RST) without an answer               before, after
  slow      the real reply, its body trickled over --slow seconds         after (delivered)
  truncate  after: the real 200 reply cut in half, either with a          before, after
            matching Content-Length (a well-framed, unparseable body) or
            with the full length and the connection closed; before: a 500
            whose XML/JSON error body is cut in half

Counts: requests by operation, forwarded requests, faults by kind and phase.
Records every UpdateContainerInstancesState, DeleteMessage and
DeleteMessageBatch that moto
applied (2xx), in the order moto applied them, with whether the reply reached
the client; and, from ReceiveMessage replies moto produced (delivered or not),
which message each receipt handle belongs to. The soak benchmark
(bench/controller_soak.py) checks its invariants from these records.

Use in a Python test: FaultProxy(upstream_port, fault_rate=0.3, seed=1).
Standalone:
  tests/tools/fault_proxy.py --upstream http://127.0.0.1:PORT [--port 0]
      [--fault-rate 0.3] [--seed 1] [--mix http500=2,throttle=3,...]
prints its URL; GET /__fault_proxy/stats (JSON) on the proxy's own port; the
stats again on SIGTERM/SIGINT. Everything on 127.0.0.1.
"""
import argparse
import http.client
import http.server
import json
import random
import select
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
from collections import Counter

# Default weights of the kinds. Timeouts cost the client its whole per-attempt
# timeout (20 s for spotkeeper), so they are rare; the others are equal-ish.
DEFAULT_MIX = {"http500": 2, "http503": 2, "throttle": 3, "timeout": 0.1, "reset": 2,
               "slow": 1, "truncate": 2}
PHASES = {"http500": ("before", "after"), "http503": ("before", "after"),
          "throttle": ("before",), "timeout": ("before", "after"),
          "reset": ("before", "after"), "slow": ("after",),
          "truncate": ("before", "after")}
RECORDED = ("UpdateContainerInstancesState", "DeleteMessage", "DeleteMessageBatch")
HOP = ("connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection")
STATS_PATH = "/__fault_proxy/stats"


def parse_mix(text):
    """'http500=2,throttle=3' -> {kind: weight}; unknown kinds raise ValueError."""
    mix = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        kind, _, weight = part.partition("=")
        if kind not in PHASES:
            raise ValueError("unknown fault kind %r (known: %s)" % (kind, ", ".join(PHASES)))
        mix[kind] = float(weight or 1)
    return mix


def service_of(headers):
    """The signing name from the SigV4 credential scope (ecs, sqs, ec2, ...)."""
    auth = headers.get("Authorization") or ""
    i = auth.find("Credential=")
    if i >= 0:
        scope = auth[i + len("Credential="):].split(",")[0].split("/")
        if len(scope) >= 4:
            return scope[3]
    target = headers.get("X-Amz-Target") or ""
    if target.startswith("AmazonSQS"):
        return "sqs"
    if target.startswith("AmazonEC2ContainerService"):
        return "ecs"
    return "?"


def operation_of(headers, body):
    target = headers.get("X-Amz-Target")
    if target:
        return target.split(".")[-1]
    try:
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    except ValueError:
        return "?"
    return (form.get("Action") or ["?"])[0]


def is_json(service):
    return service in ("ecs", "sqs")


def error_reply(service, status, code, message):
    """(status, content type, body) of an AWS error in the service's protocol."""
    if is_json(service):
        ctype = "application/x-amz-json-1.1" if service == "ecs" else "application/x-amz-json-1.0"
        if service == "sqs" and code == "ThrottlingException":
            code = "com.amazon.coral.availability#ThrottlingException"
        return status, ctype, json.dumps({"__type": code, "message": message}).encode()
    if service == "ec2":
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>%s</Code>"
                "<Message>%s</Message></Error></Errors><RequestID>fault-proxy</RequestID>"
                "</Response>" % (code, message))
    else:
        body = ("<ErrorResponse xmlns=\"https://%s.amazonaws.com/doc/\"><Error><Type>%s</Type>"
                "<Code>%s</Code><Message>%s</Message></Error><RequestId>fault-proxy</RequestId>"
                "</ErrorResponse>" % (service, "Sender" if status < 500 else "Receiver", code,
                                      message))
    return status, "text/xml", body.encode()


def throttle_reply(service):
    if is_json(service):
        return error_reply(service, 400, "ThrottlingException", "Rate exceeded")
    if service == "ec2":
        return error_reply(service, 503, "RequestLimitExceeded", "Request limit exceeded.")
    return error_reply(service, 400, "Throttling", "Rate exceeded")


def internal_reply(service):
    code = "InternalFailure" if is_json(service) else "InternalError"
    return error_reply(service, 500, code, "We encountered an internal error. Please try again.")


class FaultProxy:
    """The proxy, serving on a free 127.0.0.1 port from threads of this process."""

    def __init__(self, upstream_port, fault_rate=0.0, seed=1, mix=None, hold=60.0, slow=1.5,
                 after_share=0.5, port=0):
        self.upstream_port = upstream_port
        self.fault_rate = fault_rate
        self.mix = dict(mix or DEFAULT_MIX)
        self.hold = hold
        self.slow = slow
        self.after_share = after_share
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.ops = Counter()          # requests by operation
        self.forwarded = 0            # requests that reached moto
        self.faults = Counter()       # "kind/phase" -> count
        self.seq = 0                  # order in which moto answered
        self.applied = []             # recorded operations moto applied (2xx)
        self.receipts = {}            # receipt handle -> (MessageId, Body)
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path == STATS_PATH:
                    data = json.dumps(proxy.stats()).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                self.do_any()

            def do_any(self):
                proxy.handle(self)

            do_POST = do_PUT = do_DELETE = do_HEAD = do_any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # -- decisions ---------------------------------------------------------

    def draw(self):
        """(kind, phase) or None, from the seeded generator."""
        with self.lock:
            if self.fault_rate <= 0 or self.rng.random() >= self.fault_rate:
                return None
            kinds = [k for k, w in self.mix.items() if w > 0]
            if not kinds:
                return None
            kind = self.rng.choices(kinds, weights=[self.mix[k] for k in kinds])[0]
            phases = PHASES[kind]
            if len(phases) == 1:
                phase = phases[0]
            else:
                phase = "after" if self.rng.random() < self.after_share else "before"
            self.faults["%s/%s" % (kind, phase)] += 1
            return kind, phase

    # -- one request -------------------------------------------------------

    def handle(self, h):
        body = h.rfile.read(int(h.headers.get("Content-Length", 0) or 0))
        service = service_of(h.headers)
        op = operation_of(h.headers, body)
        with self.lock:
            self.ops[op] += 1
        fault = self.draw()
        if fault and fault[1] == "before":
            self.inject_before(h, service, fault[0])
            return
        status, headers, data = self.forward(h, body)
        delivered = fault is None or fault[0] == "slow"
        self.record(op, body, status, data, delivered, fault)
        if fault is None:
            self.reply(h, status, headers, data)
        else:
            self.inject_after(h, service, fault[0], status, headers, data)

    def forward(self, h, body):
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=120)
        headers = {k: v for k, v in h.headers.items() if k.lower() not in HOP}
        conn.request(h.command, h.path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        with self.lock:
            self.forwarded += 1
        return r.status, [(k, v) for k, v in r.getheaders() if k.lower() not in HOP], data

    def record(self, op, body, status, data, delivered, fault):
        if not 200 <= status < 300:
            return
        if op == "ReceiveMessage":
            try:
                messages = json.loads(data or b"{}").get("Messages") or []
            except ValueError:
                messages = []
            with self.lock:
                for m in messages:
                    self.receipts[m.get("ReceiptHandle")] = (m.get("MessageId"), m.get("Body"))
            return
        if op not in RECORDED:
            return
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            request = {}
        with self.lock:
            self.seq += 1
            self.applied.append({"seq": self.seq, "time": time.time(), "op": op,
                                 "request": request, "body": body.decode("utf-8", "replace"),
                                 "delivered": delivered,
                                 "fault": "%s/%s" % fault if fault else None})

    # -- replies -----------------------------------------------------------

    def reply(self, h, status, headers, data, close=False):
        h.send_response(status)
        for k, v in headers:
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(data)))
        if close:
            h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(data)
        h.wfile.flush()
        if close:
            h.close_connection = True

    def reset(self, h):
        # SO_LINGER with a zero timeout: close() sends RST, not FIN.
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.close_connection = True
        try:
            h.connection.close()
        except OSError:
            pass

    def hold_until_client_leaves(self, h):
        end = time.monotonic() + self.hold
        while time.monotonic() < end:
            r, _, _ = select.select([h.connection], [], [], 0.5)
            if r:
                try:
                    if not h.connection.recv(4096):
                        break  # the client gave up and closed
                except OSError:
                    break
        h.close_connection = True

    def inject_before(self, h, service, kind):
        if kind == "throttle":
            status, ctype, data = throttle_reply(service)
            self.reply(h, status, [("Content-Type", ctype)], data)
        elif kind == "http500":
            status, ctype, data = internal_reply(service)
            self.reply(h, status, [("Content-Type", ctype)], data)
        elif kind == "http503":
            self.reply(h, 503, [("Content-Type", "text/plain")], b"Service Unavailable")
        elif kind == "truncate":
            status, ctype, data = internal_reply(service)
            self.reply(h, status, [("Content-Type", ctype)], data[:len(data) // 2])
        elif kind == "timeout":
            self.hold_until_client_leaves(h)
        elif kind == "reset":
            self.reset(h)

    def inject_after(self, h, service, kind, status, headers, data):
        if kind == "http500":
            status, ctype, body = internal_reply(service)
            self.reply(h, status, [("Content-Type", ctype)], body)
        elif kind == "http503":
            self.reply(h, 503, [("Content-Type", "text/plain")], b"Service Unavailable")
        elif kind == "timeout":
            self.hold_until_client_leaves(h)
        elif kind == "reset":
            self.reset(h)
        elif kind == "slow":
            h.send_response(status)
            for k, v in headers:
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.flush()
            chunks = 10
            step = max(1, (len(data) + chunks - 1) // chunks)
            for i in range(0, len(data), step):
                time.sleep(self.slow / chunks)
                h.wfile.write(data[i:i + step])
                h.wfile.flush()
        elif kind == "truncate":
            cut = data[:len(data) // 2]
            with self.lock:
                framed = self.rng.random() < 0.5
            if framed:  # well framed, the body itself cut: the parser must refuse it
                self.reply(h, status, headers, cut)
            else:  # promises the whole body, sends half and closes
                h.send_response(status)
                for k, v in headers:
                    h.send_header(k, v)
                h.send_header("Content-Length", str(len(data)))
                h.send_header("Connection", "close")
                h.end_headers()
                h.wfile.write(cut)
                h.wfile.flush()
                h.close_connection = True

    # -- results -----------------------------------------------------------

    def stats(self):
        with self.lock:
            by_kind = Counter()
            for key, n in self.faults.items():
                by_kind[key.split("/")[0]] += n
            return {"requests": sum(self.ops.values()), "forwarded": self.forwarded,
                    "faults": sum(self.faults.values()), "faults_by_kind": dict(by_kind),
                    "faults_by_kind_and_phase": dict(sorted(self.faults.items())),
                    "requests_by_operation": dict(sorted(self.ops.items())),
                    "applied_recorded": len(self.applied)}

    def records(self):
        """(applied records in moto's order, receipt handle -> (MessageId, Body))."""
        with self.lock:
            return list(self.applied), dict(self.receipts)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def serve_peer(peer_class, name, description):
    """A peer's command line: --upstream http://127.0.0.1:PORT [--port 0]; prints
    its URL, then serves until SIGTERM/SIGINT (the lifecycle and fallback peers)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--upstream", required=True, help="http://127.0.0.1:PORT (moto_server)")
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    up = urllib.parse.urlparse(a.upstream)
    if up.hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("%s: the upstream must be on loopback" % name)
    peer = peer_class(up.port, port=a.port)
    print(peer.url, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    peer.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--upstream", required=True, help="http://127.0.0.1:PORT (moto_server)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--fault-rate", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mix", default="", help="kind=weight,... (default %s)" %
                    ",".join("%s=%g" % kv for kv in DEFAULT_MIX.items()))
    ap.add_argument("--hold", type=float, default=60.0,
                    help="a timeout holds the connection until the client closes it, at most this")
    ap.add_argument("--slow", type=float, default=1.5, help="seconds a slow body takes")
    a = ap.parse_args()
    up = urllib.parse.urlparse(a.upstream)
    if up.hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("fault_proxy: the upstream must be on loopback")
    proxy = FaultProxy(up.port, fault_rate=a.fault_rate, seed=a.seed,
                       mix=parse_mix(a.mix) if a.mix else None, hold=a.hold, slow=a.slow,
                       port=a.port)
    print(proxy.url, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    print(json.dumps(proxy.stats(), indent=2), flush=True)
    proxy.close()


if __name__ == "__main__":
    main()
