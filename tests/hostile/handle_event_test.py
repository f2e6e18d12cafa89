#!/usr/bin/env python3
"""Issue 12: a corpus of hostile events through `spotkeeper handle-event -`.

Each must end with exit 1 (or 2 for bad usage), exactly one line on stderr
naming the problem, and no signal (no abort, no SIGSEGV). No AWS endpoint is
ever reached: every case is rejected while the event is parsed, before a
session exists; the environment points every endpoint at a closed loopback
port anyway and disables IMDS.
Usage: handle_event_test.py --spotkeeper PATH
"""
import argparse
import json
import os
import subprocess
import sys

AGENT = {"terminationNotificiation": "true", "instanceId": "i-0abc",
         "instanceType": "c5.2xlarge", "ecsCluster": "web",
         "ecsContainer": "arn:aws:ecs:us-east-1:1:container-instance/web/c1"}


def eventbridge(time="2024-01-01T00:00:00Z", **detail):
    d = {"instance-id": "i-0eb", "instance-action": "terminate"}
    d.update(detail)
    return json.dumps({"version": "0", "id": "eb-1",
                       "detail-type": "EC2 Spot Instance Interruption Warning",
                       "source": "aws.ec2", "time": time, "detail": d})


def sns(message):
    return json.dumps({"Records": [{"EventSource": "aws:sns",
                                    "Sns": {"MessageId": "sns-1", "Message": message}}]})


def sqs_in_sns(message):
    return json.dumps({"Type": "Notification", "MessageId": "s", "Message": message})


def deep_objects(n):
    return '{"a":' * n + "1" + "}" * n


# (name, stdin bytes, a part the stderr line must contain)
CASES = [
    ("offset_letters", eventbridge("2030-01-01T00:00:00+ab:cd"), "is not an ISO 8601 time"),
    ("offset_hours_25", eventbridge("2030-01-01T00:00:00+25:00"), "is not an ISO 8601 time"),
    ("seconds_nan", eventbridge("2030-01-01T00:02:nan"), "is not an ISO 8601 time"),
    ("seconds_inf", eventbridge("2030-01-01T00:02:inf"), "is not an ISO 8601 time"),
    ("year_overflow", eventbridge("99999-01-01T00:00:00Z"), "is not an ISO 8601 time"),
    ("feb_30", eventbridge("2030-02-30T00:00:00Z"), "is not an ISO 8601 time"),
    ("time_number", eventbridge(1e308), "time is not a string"),
    ("agent_time_nan", json.dumps(dict(AGENT, terminationTime="NaN")), "terminationTime"),
    ("agent_notice_time_bad", json.dumps(dict(AGENT, noticeTime="2030-01-01T00:00:00+ab:cd")),
     "noticeTime"),
    ("wrong_type_instance", json.dumps(dict(AGENT, instanceId=["i-1"])), "not a string"),
    ("wrong_type_flag", json.dumps(dict(AGENT, terminationNotificiation=None)), "not a string"),
    ("wrong_type_detail", json.dumps({"detail-type": "EC2 Spot Instance Interruption Warning",
                                      "detail": "i-1"}), "detail is not an object"),
    ("wrong_type_records", json.dumps({"Records": "x"}), "Records"),
    ("fleet_id_number", '{"fleetID": 1e400}', "not JSON"),
    ("huge_integer", '{"fleetID": ' + "9" * 5000 + "}", "not JSON"),
    ("deep_objects", deep_objects(40000), "nested deeper than 64"),  # 240 KB
    ("deep_objects_huge", deep_objects(100000), "more than 262144"),
    ("deep_arrays", "[" * 100000 + "]" * 100000, "nested deeper than 64"),
    ("deep_in_sns", sns(deep_objects(1000)), "nested deeper than 64"),
    ("deep_unclosed", "[" * 1000000, "more than 262144"),
    ("deep_unclosed_small", "[" * 200000, "nested deeper than 64"),
    ("huge_string", json.dumps({"fleetID": "x" * (300 * 1024)}), "more than 262144"),
    ("huge_in_sns", sns(json.dumps({"fleetID": "x" * (300 * 1024)})), "more than 262144"),
    ("invalid_utf8", b'{"fleetID": "sfr-\xff\xfe"}', "not JSON"),
    ("overlong_utf8", b'{"fleetID": "\xc0\xaf"}', "not JSON"),
    ("lone_surrogate", '{"fleetID": "\\ud800"}', "not JSON"),
    ("nul_byte_raw", b'{"fleetID": "sfr\x00-1"}', "not JSON"),
    ("nul_byte_escaped", eventbridge("2030-01-01T00:00:00\\u0000Z").replace("\\\\u", "\\u"),
     "is not an ISO 8601 time"),
    ("truncated", '{"fleetID": "sfr-1"', "not JSON"),
    ("truncated_sns", sns(json.dumps(AGENT))[:-5], "not JSON"),
    ("truncated_inner", sns(json.dumps(AGENT)[:-3]), "not JSON"),
    ("empty", "", "empty"),
    ("binary", bytes(range(256)), "not JSON"),
    ("control_chars_kind", json.dumps(dict(AGENT, kind="\u001b[31mred\n")), "unknown kind"),
    ("too_many_envelopes", sns(sns(sns(sns(json.dumps(AGENT))))), "nested envelopes"),
    ("envelope_body_object", sqs_in_sns({"a": 1}), "not a string"),
    ("not_an_object", "[1, 2, 3]", "not a JSON object"),
    ("unknown_shape", '{"hello": "world"}', "unsupported event"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spotkeeper", required=True)
    args = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_CONFIG_FILE": "/dev/null",
                "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    failures = 0
    for name, data, part in CASES:
        if isinstance(data, str):
            data = data.encode()
        r = subprocess.run([args.spotkeeper, "handle-event", "-", "--cluster", "web"], input=data,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=60)
        lines = r.stderr.decode(errors="replace").splitlines()
        problems = []
        if r.returncode < 0:
            problems.append("killed by signal %d" % -r.returncode)
        elif r.returncode not in (1, 2):
            problems.append("exit %d, not 1 or 2" % r.returncode)
        if len(lines) != 1:
            problems.append("%d stderr lines, not 1" % len(lines))
        elif part not in lines[0]:
            problems.append("stderr lacks %r" % part)
        if lines and len(lines[0]) > 1000:
            problems.append("stderr line of %d characters" % len(lines[0]))
        status = "FAIL" if problems else "ok"
        print("%-24s %s exit=%d %s" % (name, status, r.returncode,
                                       (lines[0][:160] if lines else "") +
                                       ("" if not problems else "  <- " + "; ".join(problems))))
        failures += bool(problems)
    print("%d of %d hostile events handled as required" % (len(CASES) - failures, len(CASES)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
