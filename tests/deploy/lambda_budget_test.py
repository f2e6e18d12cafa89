"""The Lambda's time budget against the CloudFormation template (issue 11).

docs/lambda.md, "The time budget": the handler keeps `reserve` back from the
invocation's deadline, so its work has timeout - reserve; one AWS call with all
its attempts (max_attempts x the Lambda's per-attempt timeout + the backoff
between them, each at most base_delay x 2^(n-1)) must fit in that, and the
queue's visibility timeout must be at least 6 x the function timeout (AWS: an
event source mapping needs >= 1 x, 6 x recommended). The numbers are read from
the code they live in, so a change there (or in the template) that breaks the
arithmetic fails here; a template that breaks it is shown to be caught.
Run: python3 tests/deploy/lambda_budget_test.py
"""
import copy
import os
import re
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import cfn_yaml  # noqa: E402

TEMPLATE = os.path.join(ROOT, "deploy", "cloudformation", "spotkeeper.yaml")


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return f.read()


def number(rel, pattern):
    m = re.search(pattern, read(rel))
    if not m:
        raise AssertionError("%s: no match for %s" % (rel, pattern))
    return int(m.group(1))


def code_numbers():
    """Seconds (or counts) as the code has them."""
    return {
        "attempt_timeout_s": number("src/cli/lambda_command.cc",
                                    r"kLambdaAttemptTimeout\{(\d+)\}") / 1000,
        "reserve_s": number("src/controller/lambda_runtime.h",
                            r"Duration reserve = std::chrono::seconds\((\d+)\)"),
        "max_attempts": number("src/aws/retry.h", r"int max_attempts = (\d+);"),
        "base_delay_s": number("src/aws/retry.h",
                               r"base_delay = std::chrono::milliseconds\((\d+)\)") / 1000,
    }


def resources(template):
    out = {}
    for r in template["Resources"].values():
        out.setdefault(r["Type"], []).append(r["Properties"])
    return out


def budget_problems(template, n):
    """What is wrong with the template's timeouts; [] when nothing."""
    problems = []
    (function,) = resources(template)["AWS::Lambda::Function"]
    timeout = int(function["Timeout"])
    queues = [q for q in resources(template)["AWS::SQS::Queue"] if "RedrivePolicy" in q]
    (queue,) = queues  # the notice queue: the one with a dead-letter queue
    visibility = int(queue["VisibilityTimeout"])
    backoff = sum(n["base_delay_s"] * 2 ** (k - 1) for k in range(1, n["max_attempts"]))
    one_call = n["max_attempts"] * n["attempt_timeout_s"] + backoff
    budget = timeout - n["reserve_s"]
    if one_call > budget:
        problems.append("one call (%g s) does not fit the budget (%g s - %g s reserve)"
                        % (one_call, timeout, n["reserve_s"]))
    if visibility < 6 * timeout:
        problems.append("VisibilityTimeout %d < 6 x Timeout %d" % (visibility, timeout))
    return problems


class LambdaBudgetTest(unittest.TestCase):
    def setUp(self):
        self.template = cfn_yaml.load(TEMPLATE)
        self.n = code_numbers()

    def test_the_code_has_the_documented_numbers(self):
        self.assertEqual({"attempt_timeout_s": 10, "reserve_s": 5, "max_attempts": 3,
                          "base_delay_s": 1}, self.n)
        doc = read("docs/lambda.md")
        for text in ("3 x 10 s", "timeout - 5 s", "6 x 60 s = 360 s"):
            self.assertTrue(text in doc, "docs/lambda.md lacks %r" % text)

    def test_template_timeouts_fit_the_budget(self):
        self.assertEqual([], budget_problems(self.template, self.n))

    def test_a_short_timeout_or_visibility_is_caught(self):
        short = copy.deepcopy(self.template)
        for r in short["Resources"].values():
            if r["Type"] == "AWS::Lambda::Function":
                r["Properties"]["Timeout"] = 30
        self.assertEqual(1, len(budget_problems(short, self.n)))
        self.assertIn("does not fit", budget_problems(short, self.n)[0])
        slow = dict(self.n, attempt_timeout_s=20)  # the client's default: 3 x 20 s + 3 s
        self.assertIn("does not fit", " ".join(budget_problems(self.template, slow)))
        low = copy.deepcopy(self.template)
        for r in low["Resources"].values():
            if r["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in r["Properties"]:
                r["Properties"]["VisibilityTimeout"] = 300
        self.assertEqual(["VisibilityTimeout 300 < 6 x Timeout 60"],
                         budget_problems(low, self.n))


if __name__ == "__main__":
    unittest.main(verbosity=2)
