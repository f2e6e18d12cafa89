"""Derives, from the C++ sources, the AWS operations each spotkeeper role can call.

How (no compiler needed, the sources are regular enough):
1. Operations of each service client: every `XxxClient::Method(` definition in
   src/aws/<service>.cc, and the operation string literals its body passes to
   CallQuery/CallJson/Call (directly or through `kAction = "..."`); a method
   that calls another method of its class gets that method's operations too.
   The IAM prefix of a client comes from the `services::Xxx()` it uses.
2. A role's code: its entry files (the commands it runs) plus, transitively,
   every project header they include and, for headers of the agent, cloud,
   controller and policy layers, the .cc beside it. The aws, base and net
   layers are not followed (the clients are defined there, nothing in them
   calls a client); headers of other cli commands are followed, their .cc not.
3. In a role's code: variables, members and references declared with a client
   type (`aws::EcsClient ecs_;`, `aws::SqsClient& sqs`, temporaries
   `aws::StsClient(c).Method(`) and the methods called on them.

Usage: iam_derive.py [--src DIR]   prints {role: {action: [evidence...]}} as JSON.
"""
import argparse
import json
import os
import re
import sys

# The roles and the commands (entry files) each runs.
ROLES = {
    "agent": ["cli/agent_command.cc", "cli/watch.cc"],
    "controller": ["cli/controller_command.cc", "cli/lambda_command.cc"],
}

# IAM service prefix of each services::Xxx() in src/aws/service.cc.
SERVICE_PREFIX = {
    "Ec2": "ec2",
    "AutoScaling": "autoscaling",
    "CloudWatch": "cloudwatch",
    "Sns": "sns",
    "Sqs": "sqs",
    "Ecs": "ecs",
    "Sts": "sts",
}

FOLLOW_CC_LAYERS = {"agent", "cloud", "controller", "policy"}
NO_FOLLOW_LAYERS = {"aws", "base", "net"}

_DEF = re.compile(r"^\S[^;]*?\b(\w+Client)::(\w+)\(", re.M)
_OP = re.compile(
    r'(?:kAction\s*=\s*|Call(?:Query|Json)?\(\s*(?:services::\w+\(\)\s*,\s*)?)"([A-Z]\w+)"')
_SERVICE = re.compile(r"services::(\w+)\(\)")
_INCLUDE = re.compile(r'^#include "([\w/]+\.h)"', re.M)


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def _strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


# Operations IAM authorises under another action's name (AWS's SQS batch
# actions take the permission of the single one).
SAME_PERMISSION = {"sqs:DeleteMessageBatch": "sqs:DeleteMessage",
                   "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility"}


def client_operations(src):
    """{client class: {method: set of "prefix:Operation"}}."""
    clients = {}
    aws_dir = os.path.join(src, "aws")
    for name in sorted(os.listdir(aws_dir)):
        if not name.endswith(".cc") or name.endswith("_test.cc"):
            continue
        text = _strip_comments(_read(os.path.join(aws_dir, name)))
        defs = list(_DEF.finditer(text))
        if not defs:
            continue
        services = set(_SERVICE.findall(text)) & set(SERVICE_PREFIX)
        if len(services) != 1:
            continue  # not a service client file (client.cc, session.cc, ...)
        prefix = SERVICE_PREFIX[services.pop()]
        bodies = {}
        for i, m in enumerate(defs):
            end = defs[i + 1].start() if i + 1 < len(defs) else len(text)
            bodies.setdefault((m.group(1), m.group(2)), []).append(text[m.start():end])
        ops = {}
        for (cls, method), parts in bodies.items():
            body = "\n".join(parts)
            ops.setdefault(cls, {})[method] = {
                SAME_PERMISSION.get(prefix + ":" + o, prefix + ":" + o) for o in _OP.findall(body)}
        # A method calling another method of its class inherits its operations.
        for cls, methods in ops.items():
            changed = True
            while changed:
                changed = False
                for (c, method), parts in bodies.items():
                    if c != cls:
                        continue
                    for other in methods:
                        if other != method and re.search(r"\b%s\(" % other, "\n".join(parts)):
                            before = len(methods[method])
                            methods[method] |= methods[other]
                            changed |= len(methods[method]) != before
        for cls, methods in ops.items():
            clients.setdefault(cls, {}).update(methods)
    return clients


def role_files(src, entries):
    """The files (relative to src) that make up a role's code."""
    seen, todo = [], list(entries)
    while todo:
        rel = todo.pop()
        if rel in seen or not os.path.exists(os.path.join(src, rel)):
            continue
        seen.append(rel)
        text = _read(os.path.join(src, rel))
        for inc in _INCLUDE.findall(text):
            layer = inc.split("/", 1)[0]
            if layer in NO_FOLLOW_LAYERS:
                continue
            todo.append(inc)
            cc = inc[:-2] + ".cc"
            if layer in FOLLOW_CC_LAYERS and os.path.exists(os.path.join(src, cc)):
                todo.append(cc)
    return sorted(seen)


def role_actions(src, files, clients):
    """{action: [evidence]} for the calls on client objects in files."""
    names = "|".join(sorted(clients))
    decl = re.compile(r"\b(?:aws::)?(%s)\s*[&*]?\s*(\w+)\s*[;,)=({]" % names)
    temp = re.compile(r"\b(?:aws::)?(%s)\([^;]*?\)\s*\.\s*(\w+)\s*\(" % names)
    texts = {f: _strip_comments(_read(os.path.join(src, f)))
             for f in files}
    var_classes = {}
    for text in texts.values():
        for cls, var in decl.findall(text):
            var_classes.setdefault(var, set()).add(cls)
    out = {}

    def add(cls, method, where):
        for action in sorted(clients[cls].get(method, ())):
            out.setdefault(action, []).append("%s %s::%s" % (where, cls, method))

    for f, text in sorted(texts.items()):
        for var, classes in var_classes.items():
            for m in re.finditer(r"\b%s\s*(?:\.|->)\s*(\w+)\s*\(" % re.escape(var), text):
                line = text.count("\n", 0, m.start()) + 1
                for cls in classes:
                    add(cls, m.group(1), "%s:%d" % (f, line))
        for m in temp.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            add(m.group(1), m.group(2), "%s:%d" % (f, line))
    return out


def derive(src):
    clients = client_operations(src)
    return {role: role_actions(src, role_files(src, entries), clients)
            for role, entries in ROLES.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--src", default=os.path.join(here, "..", "..", "src"))
    args = ap.parse_args()
    json.dump(derive(args.src), sys.stdout, indent=2, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
