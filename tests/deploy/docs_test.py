"""The operator docs cannot drift from the code.

docs/configuration.md:
- for every command `spotkeeper --help` lists (and the global options), the
  rows of its table are exactly the options `spotkeeper <command> --help`
  prints: same long flags, same SPOTKEEPER_* variable, same default where the
  help shows one; a row for a flag that does not exist fails, a missing flag fails;
- the YAML key column: for commands with `--config`, the flag's name without
  dashes (as src/cli/config_file.cc reads it), "-" for --config itself; "-" elsewhere
  (and for doctor's flags the controller does not have: its --config reads the
  controller's file);
- every "SPOTKEEPER_*" string literal in src/ (e.g. the variables `spotkeeper
  lambda` reads from its environment) is documented, and the doc names no
  SPOTKEEPER_* variable that the code does not know.
docs/metrics.md: lists exactly the metric names (spotkeeper_*) the controller
defines in src/controller/*.cc.
Self-checks show a missing and an invented row are caught.
Run: python3 tests/deploy/docs_test.py --spotkeeper build/spotkeeper
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
CONFIG_DOC = os.path.join(ROOT, "docs", "configuration.md")
METRICS_DOC = os.path.join(ROOT, "docs", "metrics.md")
SPOTKEEPER = os.environ.get("SPOTKEEPER_BIN", os.path.join(ROOT, "build", "spotkeeper"))

_OPT = re.compile(r"^  (?:-\w,)?(--[\w-]+)(?:\s+(\w+)(?:=(\S+))?)?(?:\s+\.\.\.)?"
                  r"(?:\s+\(Env:(\w+)\))?")


def run_help(*args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPOTKEEPER_")}
    r = subprocess.run([SPOTKEEPER, *args, "--help"], capture_output=True, text=True,
                       timeout=30, env=env)
    if r.returncode != 0:
        raise AssertionError("spotkeeper %s --help: exit %d: %s" % (" ".join(args), r.returncode,
                                                                   r.stderr))
    return r.stdout


def help_options(text):
    """{flag: (variable or "", default or None)} from CLI11 help text."""
    out = {}
    section = None
    for line in text.splitlines():
        if re.match(r"^\S.*:$", line):
            section = line
            continue
        if section != "Options:":
            continue
        m = _OPT.match(line)
        if m and m.group(1) not in ("--help", "--version"):
            out[m.group(1)] = (m.group(4) or "", m.group(3))
    return out


def subcommands(text):
    out, on = [], False
    for line in text.splitlines():
        if line.startswith("Subcommands:"):
            on = True
            continue
        if on:
            m = re.match(r"^  (\S+)", line)
            if m:
                out.append(m.group(1))
            elif line and not line.startswith(" "):
                on = False
    return out


def doc_tables(text):
    """{section title: [(flag, variable, yaml key, default)]} from the doc's tables."""
    out, title = {}, None
    for line in text.splitlines():
        h = re.match(r"^## (.+)$", line)
        if h:
            title = h.group(1).strip()
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") \
            else []
        if title and len(cells) >= 5 and cells[0].startswith("`--"):
            unq = [re.sub(r"^`(.*)`$", r"\1", c) for c in cells[:4]]
            out.setdefault(title, []).append(tuple(unq))
    return out


def source_variables():
    names = set()
    for path in glob.glob(os.path.join(ROOT, "src", "**", "*.*"), recursive=True):
        if path.endswith(("_test.cc",)) or not path.endswith((".cc", ".h")):
            continue
        with open(path, encoding="utf-8") as f:
            names.update(re.findall(r'"(SPOTKEEPER_[A-Z0-9_]+)"', f.read()))
    return names


def check_config_doc(doc_text):
    problems = []
    tables = doc_tables(doc_text)
    top = run_help()
    commands = subcommands(top)
    if not commands:
        problems.append("spotkeeper --help lists no subcommands")
    expected = {"global options": help_options(top)}
    for c in commands:
        expected["`spotkeeper %s`" % c] = help_options(run_help(c))
    for title, opts in expected.items():
        if not re.search(r"(?m)^## %s$" % re.escape(title), doc_text):
            problems.append("docs/configuration.md: no section \"## %s\"" % title)
            continue
        rows = tables.get(title, [])
        has_config = "--config" in opts
        documented = {r[0]: r for r in rows}
        for flag, (var, default) in sorted(opts.items()):
            row = documented.get(flag)
            if row is None:
                problems.append("%s: %s is missing" % (title, flag))
                continue
            if row[1] != (var or "-"):
                problems.append("%s: %s has variable %s, the code %s" % (title, flag, row[1],
                                                                         var or "-"))
            key = flag[2:] if has_config and flag != "--config" else "-"
            # doctor's --config is the controller's file: only the settings it
            # shares with the controller can be set there.
            if title == "`spotkeeper doctor`" and flag not in expected.get(
                    "`spotkeeper controller`", {}):
                key = "-"
            if row[2] != key:
                problems.append("%s: %s has YAML key %s, should be %s" % (title, flag, row[2], key))
            if default is not None and row[3] != default:
                problems.append("%s: %s has default %s, the code %s" % (title, flag, row[3],
                                                                        default))
        for flag in sorted(set(documented) - set(opts)):
            problems.append("%s: %s is documented but does not exist" % (title, flag))
    code_vars = source_variables()
    doc_vars = set(re.findall(r"SPOTKEEPER_[A-Z0-9_]+", doc_text))
    for v in sorted(code_vars - doc_vars):
        problems.append("docs/configuration.md: %s (in src/) is not documented" % v)
    for v in sorted(doc_vars - code_vars):
        problems.append("docs/configuration.md: %s is documented but not in src/" % v)
    return problems


def check_metrics_doc(doc_text):
    code = set()
    for path in glob.glob(os.path.join(ROOT, "src", "controller", "*.cc")):
        if path.endswith("_test.cc"):
            continue
        with open(path, encoding="utf-8") as f:
            code.update(re.findall(r'"(spotkeeper_[a-z0-9_]+)"', f.read()))
    doc = set(re.findall(r"^\| `(spotkeeper_[a-z0-9_]+)`", doc_text, re.M))
    return (["docs/metrics.md: %s is not documented" % m for m in sorted(code - doc)] +
            ["docs/metrics.md: %s is documented but not in the code" % m
             for m in sorted(doc - code)] + ([] if code else ["no metrics found in the code"]))


class DocsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(CONFIG_DOC, encoding="utf-8") as f:
            cls.config = f.read()
        with open(METRICS_DOC, encoding="utf-8") as f:
            cls.metrics = f.read()

    def test_configuration_reference_matches_the_code(self):
        self.assertEqual([], check_config_doc(self.config))

    def test_metrics_reference_matches_the_code(self):
        self.assertEqual([], check_metrics_doc(self.metrics))

    def test_a_missing_row_is_caught(self):
        text = re.sub(r"^\| `--wait-time` .*\n", "", self.config, flags=re.M)
        self.assertNotEqual(text, self.config)
        self.assertIn("`spotkeeper controller`: --wait-time is missing", check_config_doc(text))

    def test_an_invented_row_is_caught(self):
        text = self.config.replace(
            "| `--wait-time` |", "| `--no-such-flag` | `SPOTKEEPER_NO_SUCH` | `no-such-flag` | "
            "| x |\n| `--wait-time` |", 1)
        problems = check_config_doc(text)
        self.assertIn("`spotkeeper controller`: --no-such-flag is documented but does not exist",
                      problems)
        self.assertIn("docs/configuration.md: SPOTKEEPER_NO_SUCH is documented but not in src/",
                      problems)

    def test_a_wrong_yaml_key_is_caught(self):
        text = self.config.replace("| `settle-window` |", "| `settle_window` |", 1)
        self.assertNotEqual(text, self.config)
        self.assertTrue(any("--settle-window has YAML key settle_window" in p
                            for p in check_config_doc(text)))

    def test_a_missing_metric_is_caught(self):
        first = re.search(r"^\| `(spotkeeper_[a-z0-9_]+)` .*\n", self.metrics, re.M)
        text = self.metrics.replace(first.group(0), "")
        self.assertIn("docs/metrics.md: %s is not documented" % first.group(1),
                      check_metrics_doc(text))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--spotkeeper", default=SPOTKEEPER)
    args, rest = ap.parse_known_args()
    SPOTKEEPER = os.path.abspath(args.spotkeeper)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
