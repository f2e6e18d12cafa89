"""cfn-lint on every CloudFormation template under deploy/: zero errors, zero warnings.

A template is any .yaml/.yml/.json/.template file under deploy/ that declares
AWSTemplateFormatVersion. The test also lints a template with a known mistake
to show cfn-lint really runs and reports (so a silent cfn-lint cannot pass).
Run: python3 tests/deploy/cfn_lint_test.py   (cfn-lint: scripts/setup.sh installs it;
without it on PATH, its Python entry point; without either the test fails)
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DEPLOY = os.path.join(ROOT, "deploy")


def templates():
    out = []
    for base, _, files in os.walk(DEPLOY):
        for f in files:
            if f.rsplit(".", 1)[-1] not in ("yaml", "yml", "json", "template"):
                continue
            path = os.path.join(base, f)
            with open(path, encoding="utf-8") as fh:
                if "AWSTemplateFormatVersion" in fh.read():
                    out.append(path)
    return sorted(out)


def cfn_lint(paths):
    exe = shutil.which("cfn-lint")
    cmd = [exe] if exe else [os.environ.get("SPK_PYTHON", sys.executable), "-c",
                             "import sys; from cfnlint.runner import main; sys.exit(main())"]
    return subprocess.run(cmd + ["--format", "parseable", "--"] + paths,
                          capture_output=True, text=True, timeout=600)


class CfnLintTest(unittest.TestCase):
    def test_every_template_is_clean(self):
        paths = templates()
        rel = [os.path.relpath(p, ROOT) for p in paths]
        print("templates: " + ", ".join(rel))
        self.assertIn("deploy/cloudformation/spotkeeper.yaml", rel)
        self.assertIn("deploy/examples/reference-architecture.yaml", rel)
        self.assertIn("deploy/examples/capacity-providers.yaml", rel)
        r = cfn_lint(paths)
        self.assertEqual("", r.stdout + r.stderr)
        self.assertEqual(0, r.returncode)

    def test_a_bad_template_is_reported(self):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write('AWSTemplateFormatVersion: "2010-09-09"\n'
                    "Parameters:\n  Unused: {Type: String}\n"
                    "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"
                    "    Properties: {VisibilityTimeout: !Ref Missing}\n")
        self.addCleanup(os.unlink, f.name)
        r = cfn_lint([f.name])
        self.assertNotEqual(0, r.returncode)
        self.assertRegex(r.stdout, r":W\d{4}:Parameter Unused")  # unused: a warning
        self.assertRegex(r.stdout, r":E\d{4}:.*Missing")  # the Ref to nothing: an error


if __name__ == "__main__":
    unittest.main(verbosity=2)
