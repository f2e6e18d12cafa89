#!/usr/bin/env python3
"""A loopback ECS and Auto Scaling peer in front of moto_server for the on-demand fallback.

A test peer (never product code). moto 5.2 implements capacity providers,
services (with tags, UpdateService, TagResource, UntagResource), but its
services launch no tasks, its tasks never wait in PROVISIONING, it does not
return a service's capacityProviderStrategy, and DescribeScalingActivities is
always empty. Per test, this peer rewrites what the fallback needs and
forwards everything else to moto unchanged (moto checks the SigV4
signatures: the Host header is forwarded as signed):

- POST /__fallback_peer/tasks {"cluster", "service", "tasks": [{"provider",
  "created_at" (epoch seconds)}]}: the service's tasks waiting in
  PROVISIONING (replaces the previous list; [] clears it). ListTasks with
  that serviceName answers their ARNs; DescribeTasks of those ARNs answers
  them (lastStatus PROVISIONING, desiredStatus RUNNING, capacityProviderName,
  createdAt, group "service:NAME").
- POST /__fallback_peer/service {"service", FIELD: VALUE...} (e.g.
  "runningCount", "pendingCount", "capacityProviderStrategy", "events"):
  rewrites those fields of the service in moto's DescribeServices replies.
- POST /__fallback_peer/activities {"group", "activities": [{"StatusCode",
  "StatusMessage", "Description", "Cause", "StartTime", "EndTime"}]}: the
  group's scaling activities, newest first, answered to
  DescribeScalingActivities (times ISO 8601).
- GET /__fallback_peer/calls: the ECS and Auto Scaling operations seen, in
  order: [{"operation", "body"}] (body parsed: JSON, or the query's fields).

Standalone: tests/tools/fallback_peer.py --upstream http://127.0.0.1:PORT
[--port 0] prints its URL, then serves until SIGTERM/SIGINT. Everything on
127.0.0.1.
"""
import json
import os
import sys
import urllib.parse
import uuid
from xml.sax.saxutils import escape

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fault_proxy import FaultProxy, operation_of, serve_peer  # noqa: E402  (its server and forwarding)

PREFIX = "/__fallback_peer/"
NS = "http://autoscaling.amazonaws.com/doc/2011-01-01/"
ACCOUNT = "123456789012"
REGION = "us-east-1"


class FallbackPeer(FaultProxy):
    def __init__(self, upstream_port, port=0):
        self.tasks = {}        # (cluster, service) -> [task dict]
        self.by_arn = {}       # task arn -> task dict
        self.services = {}     # service name -> {field: value}
        self.activities = {}   # group -> [activity]
        self.calls = []
        super().__init__(upstream_port, fault_rate=0.0, port=port)

    def reply_json(self, h, status, value, content_type="application/json"):
        self.reply(h, status, [("Content-Type", content_type)], json.dumps(value).encode())

    def control(self, h, body):
        what = h.path[len(PREFIX):]
        if what == "calls":
            with self.lock:
                self.reply_json(h, 200, self.calls)
            return
        spec = json.loads(body or b"{}")
        with self.lock:
            if what == "tasks":
                key = (spec["cluster"], spec["service"])
                for t in self.tasks.get(key, []):
                    self.by_arn.pop(t["taskArn"], None)
                made = []
                for t in spec.get("tasks", []):
                    arn = "arn:aws:ecs:%s:%s:task/%s/%s" % (REGION, ACCOUNT, spec["cluster"],
                                                            uuid.uuid4().hex)
                    task = {"taskArn": arn,
                            "clusterArn": "arn:aws:ecs:%s:%s:cluster/%s" % (REGION, ACCOUNT,
                                                                             spec["cluster"]),
                            "lastStatus": "PROVISIONING", "desiredStatus": "RUNNING",
                            "capacityProviderName": t["provider"],
                            "createdAt": float(t["created_at"]),
                            "group": "service:" + spec["service"], "launchType": "EC2",
                            "containers": [], "attachments": []}
                    made.append(task)
                    self.by_arn[arn] = task
                self.tasks[key] = made
            elif what == "service":
                self.services.setdefault(spec["service"], {}).update(
                    {k: v for k, v in spec.items() if k != "service"})
            elif what == "activities":
                self.activities[spec["group"]] = spec.get("activities", [])
            else:
                self.reply_json(h, 404, {"error": "unknown control " + what})
                return
        self.reply_json(h, 200, {"ok": True})

    def handle(self, h):
        body = h.rfile.read(int(h.headers.get("Content-Length", 0) or 0))
        if h.path.startswith(PREFIX):
            self.control(h, body)
            return
        op = operation_of(h.headers, body)
        target = h.headers.get("X-Amz-Target") or ""
        if target.startswith("AmazonEC2ContainerService"):
            doc = json.loads(body or b"{}")
            with self.lock:
                self.calls.append({"operation": op, "body": doc})
            if self.answer_ecs(h, op, doc):
                return
            status, headers, data = self.forward(h, body)
            if op == "DescribeServices" and status == 200:
                data = self.rewrite_services(data)
            self.reply(h, status, headers, data)
            return
        params = {}
        if b"Action=" in body:
            params = {k: v[0] for k, v in urllib.parse.parse_qs(
                body.decode(), keep_blank_values=True).items()}
            with self.lock:
                self.calls.append({"operation": op, "body": params})
        if op == "DescribeScalingActivities":
            self.answer_activities(h, params)
            return
        status, headers, data = self.forward(h, body)
        self.reply(h, status, headers, data)

    def answer_ecs(self, h, op, doc):
        ctype = "application/x-amz-json-1.1"
        with self.lock:
            if op == "ListTasks" and doc.get("serviceName"):
                cluster = doc.get("cluster", "default").split("/")[-1]
                key = (cluster, doc["serviceName"])
                if key in self.tasks:
                    self.reply_json(h, 200, {"taskArns": [t["taskArn"] for t in self.tasks[key]]},
                                    ctype)
                    return True
            if op == "DescribeTasks":
                arns = doc.get("tasks", [])
                if arns and all(a in self.by_arn for a in arns):
                    self.reply_json(h, 200, {"tasks": [self.by_arn[a] for a in arns],
                                             "failures": []}, ctype)
                    return True
        return False

    def rewrite_services(self, data):
        reply = json.loads(data)
        with self.lock:
            for s in reply.get("services", []):
                s.update(self.services.get(s.get("serviceName"), {}))
        return json.dumps(reply).encode()

    def answer_activities(self, h, params):
        with self.lock:
            activities = list(self.activities.get(params.get("AutoScalingGroupName", ""), []))
        members = []
        for a in activities:
            fields = "".join("<%s>%s</%s>" % (k, escape(str(a[k])), k)
                             for k in ("StatusCode", "StatusMessage", "Description", "Cause",
                                       "StartTime", "EndTime") if k in a)
            members.append("<member><ActivityId>%s</ActivityId><AutoScalingGroupName>%s"
                           "</AutoScalingGroupName><Progress>100</Progress>%s</member>"
                           % (uuid.uuid4(), escape(params.get("AutoScalingGroupName", "")), fields))
        data = ('<DescribeScalingActivitiesResponse xmlns="%s"><DescribeScalingActivitiesResult>'
                '<Activities>%s</Activities></DescribeScalingActivitiesResult><ResponseMetadata>'
                '<RequestId>%s</RequestId></ResponseMetadata></DescribeScalingActivitiesResponse>'
                % (NS, "".join(members), uuid.uuid4())).encode()
        self.reply(h, 200, [("Content-Type", "text/xml")], data)


def main():
    serve_peer(FallbackPeer, "fallback_peer", __doc__.split("\n")[0])


if __name__ == "__main__":
    main()
