#!/usr/bin/env python3
"""A loopback Auto Scaling peer in front of moto_server for lifecycle hooks.

A test peer (never product code). moto 5.2 keeps lifecycle hooks
(PutLifecycleHook, DescribeLifecycleHooks) but implements neither
CompleteLifecycleAction nor RecordLifecycleActionHeartbeat, and it never
holds an instance in Terminating:Wait (TerminateInstanceInAutoScalingGroup
removes it at once). This peer answers those two calls itself and forwards
everything else to moto, unchanged (moto checks the SigV4 signatures: the
Host header is forwarded as signed).

Pending actions: the test tells the peer that an instance of a group waits on
a hook (POST /__lifecycle_peer/pending {"group", "hook", "instance",
"token", "transition"}), as Auto Scaling would when it starts terminating
the instance ("transition" "terminating", the default) or has launched it
("launching"). From then on the peer rewrites moto's DescribeAutoScalingGroups
replies: the instance's LifecycleState is "Terminating:Wait" (launching:
"Pending:Wait") while the action is pending, "Terminating:Proceed" once it was
completed (launching: "InService" after CONTINUE, "Terminating" after
ABANDON).

Each CompleteLifecycleAction / RecordLifecycleActionHeartbeat is recorded
(GET /__lifecycle_peer/calls: [{"action", "params", "error"}]) and checked
against the Auto Scaling service model of botocore's data
(autoscaling/2011-01-01/service-2.json[.gz]): every parameter is a member of
the operation's input shape, the required ones are present, enum values are
allowed ones, and a SigV4 Authorization for the autoscaling service is
present. A call that fails the check is answered 400 ValidationError (as AWS
would) with what was wrong; a valid call naming no pending action (by
InstanceId, else by token) is answered 400 ValidationError "No active
Lifecycle Action found", as AWS does.

Standalone: tests/tools/lifecycle_peer.py --upstream http://127.0.0.1:PORT
[--port 0] prints its URL, then serves until SIGTERM/SIGINT. Everything on
127.0.0.1.
"""
import gzip
import json
import os
import re
import sys
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fault_proxy import FaultProxy, serve_peer  # noqa: E402  (its server and forwarding; no faults)

PREFIX = "/__lifecycle_peer/"
ANSWERED = ("CompleteLifecycleAction", "RecordLifecycleActionHeartbeat")
NS = "http://autoscaling.amazonaws.com/doc/2011-01-01/"


def load_model():
    import botocore  # the model botocore ships, the same the AWS CLI uses
    base = os.path.join(os.path.dirname(botocore.__file__), "data", "autoscaling", "2011-01-01")
    for name, opener in (("service-2.json", open), ("service-2.json.gz", gzip.open)):
        path = os.path.join(base, name)
        if os.path.exists(path):
            with opener(path, "rt") as f:
                return json.load(f)
    raise SystemExit("lifecycle_peer: no autoscaling service model under " + base)


def check_against_model(model, action, params):
    """A list of what is wrong with `params` for `action` (empty: valid)."""
    op = model["operations"][action]
    shape = model["shapes"][op["input"]["shape"]]
    members = shape["members"]
    errors = []
    for key in params:
        if key in ("Action", "Version"):
            continue
        if key not in members:
            errors.append("unknown parameter %s" % key)
            continue
        target = model["shapes"][members[key]["shape"]]
        value = params[key]
        if "enum" in target and value not in target["enum"]:
            errors.append("%s=%r is not one of %s" % (key, value, target["enum"]))
        if target.get("type") == "string":
            if len(value) < target.get("min", 0) or len(value) > target.get("max", 1 << 30):
                errors.append("%s has a length outside [%s, %s]" %
                              (key, target.get("min"), target.get("max")))
    for key in shape.get("required", []):
        if key not in params:
            errors.append("missing required parameter %s" % key)
    if params.get("Version") != model["metadata"]["apiVersion"]:
        errors.append("Version is %r, not %s" % (params.get("Version"),
                                                 model["metadata"]["apiVersion"]))
    if "LifecycleActionToken" not in params and "InstanceId" not in params:
        errors.append("neither LifecycleActionToken nor InstanceId names the action")
    return errors


class LifecyclePeer(FaultProxy):
    """A FaultProxy that injects no fault, answers the two lifecycle calls
    itself and rewrites DescribeAutoScalingGroups."""

    def __init__(self, upstream_port, port=0):
        self.model = load_model()
        self.pending = {}    # instance -> {"group", "hook", "token"}
        self.completed = {}  # instance -> (transition, result: CONTINUE | ABANDON)
        self.calls = []
        super().__init__(upstream_port, fault_rate=0.0, port=port)

    def reply_json(self, h, status, value):
        self.reply(h, status, [("Content-Type", "application/json")], json.dumps(value).encode())

    def handle(self, h):
        body = h.rfile.read(int(h.headers.get("Content-Length", 0) or 0))
        if h.path == PREFIX + "calls":
            with self.lock:
                self.reply_json(h, 200, self.calls)
            return
        if h.path == PREFIX + "pending":
            action = json.loads(body)
            with self.lock:
                self.pending[action["instance"]] = {
                    "group": action["group"], "hook": action["hook"],
                    "token": action.get("token", ""),
                    "transition": action.get("transition", "terminating")}
                self.completed.pop(action["instance"], None)
            self.reply_json(h, 200, {"ok": True})
            return
        params = {}
        if h.command == "POST" and b"Action=" in body:
            params = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode(),
                                                                 keep_blank_values=True).items()}
        action = params.get("Action", "")
        if action in ANSWERED:
            self.answer(h, action, params)
            return
        status, headers, data = self.forward(h, body)
        if action == "DescribeAutoScalingGroups" and status == 200:
            data = self.rewrite_states(data)
        self.reply(h, status, headers, data)

    def rewrite_states(self, data):
        text = data.decode()
        with self.lock:
            states = {i: "Pending:Wait" if p["transition"] == "launching" else "Terminating:Wait"
                      for i, p in self.pending.items()}
            for i, (transition, result) in self.completed.items():
                if transition != "launching":
                    states[i] = "Terminating:Proceed"
                else:
                    states[i] = "InService" if result == "CONTINUE" else "Terminating"
        for instance, state in states.items():
            text = re.sub(r"(<InstanceId>%s</InstanceId>(?:(?!</member>).)*?<LifecycleState>)"
                          r"[^<]*(</LifecycleState>)" % re.escape(instance),
                          lambda m: m.group(1) + state + m.group(2), text, flags=re.S)
        return text.encode()

    def error(self, h, code, message):
        data = ('<ErrorResponse xmlns="%s"><Error><Type>Sender</Type><Code>%s</Code>'
                '<Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>'
                % (NS, code, message.replace("&", "&amp;").replace("<", "&lt;"),
                   uuid.uuid4())).encode()
        self.reply(h, 400, [("Content-Type", "text/xml")], data)

    def answer(self, h, action, params):
        errors = check_against_model(self.model, action, params)
        auth = h.headers.get("Authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 ") or "/autoscaling/aws4_request" not in auth:
            errors.append("no SigV4 Authorization for the autoscaling service")
        record = {"action": action, "params": params, "error": ""}
        with self.lock:
            found = None
            if not errors:
                for instance, p in self.pending.items():
                    if p["group"] != params["AutoScalingGroupName"] or \
                            p["hook"] != params["LifecycleHookName"]:
                        continue
                    if "InstanceId" in params and params["InstanceId"] != instance:
                        continue
                    if "LifecycleActionToken" in params and params["LifecycleActionToken"] != p["token"]:
                        continue
                    found = instance
                if found is None:
                    record["error"] = "No active Lifecycle Action found with instance ID %s" % \
                        params.get("InstanceId", "")
                elif action == "CompleteLifecycleAction":
                    transition = self.pending.pop(found)["transition"]
                    self.completed[found] = (transition, params["LifecycleActionResult"])
            else:
                record["error"] = "; ".join(errors)
            self.calls.append(record)
        if record["error"]:
            self.error(h, "ValidationError", record["error"])
            return
        data = ('<%sResponse xmlns="%s"><%sResult/><ResponseMetadata><RequestId>%s</RequestId>'
                '</ResponseMetadata></%sResponse>' % (action, NS, action, uuid.uuid4(),
                                                       action)).encode()
        self.reply(h, 200, [("Content-Type", "text/xml")], data)

def main():
    serve_peer(LifecyclePeer, "lifecycle_peer", __doc__.split("\n")[0])


if __name__ == "__main__":
    main()
