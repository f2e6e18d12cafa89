"""`scripts/fuzz.sh --totals` adds up a fuzzing campaign's runs per harness.

Each run of scripts/fuzz.sh appends a line to the campaign log (date, harness,
executions, seconds, result, commit); the runs of a campaign resume from the
corpus the earlier ones left, so their executions add up toward issue 12's
10^7 per harness. Here a made-up log (FUZZ_CAMPAIGN) is totalled: sums, failed
runs (an interrupted run is not one), "done" at 10^7, and every harness of fuzz/*_fuzz.cc listed even with no run.
Run: python3 tests/scripts/fuzz_totals_test.py
"""
import glob
import os
import subprocess
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(ROOT, "scripts", "fuzz.sh")


def totals(campaign_text):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "campaign.tsv")
        if campaign_text is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(campaign_text)
        r = subprocess.run(["bash", SCRIPT, "--totals"], capture_output=True, text=True,
                           env=dict(os.environ, FUZZ_CAMPAIGN=path), timeout=60)
    if r.returncode != 0:
        raise AssertionError("fuzz.sh --totals: exit %d: %s" % (r.returncode, r.stderr))
    lines = r.stdout.splitlines()
    rows = {}
    for line in lines[1:]:
        name, runs, execs, failed, left = line.split()
        rows[name] = (int(runs), int(execs), int(failed), left)
    return lines[0], rows


class FuzzTotalsTest(unittest.TestCase):
    def test_runs_add_up_per_harness(self):
        header, rows = totals(
            "2026-12-02T00:00:00Z\tevent\t7037293\t918\tok\tabc1234\n"
            "2026-12-03T11:31:00Z\tevent\t2962707\t363\tok\tdef5678\n"
            "\n"  # a blank line (an editor's) counts nothing
            "2026-12-03T12:00:00Z\timds\t1000\t10\tfailed-1\tdef5678\n"
            "2026-12-03T12:10:00Z\timds\t2500\t20\tok\tdef5678\n"
            # Stopped by Ctrl-C (libFuzzer's exit 72): it counts, it did not fail.
            "2026-12-03T12:20:00Z\timds\t500\t5\tinterrupted\tdef5678\n")
        self.assertEqual(["harness", "runs", "executions", "failed", "to", "10^7"], header.split())
        self.assertEqual((2, 10000000, 0, "done"), rows["event"])
        self.assertEqual((3, 4000, 1, "9996000"), rows["imds"])

    def test_every_harness_is_listed_even_without_a_run(self):
        _, rows = totals(None)  # no campaign yet
        harnesses = {os.path.basename(p)[:-len("_fuzz.cc")]
                     for p in glob.glob(os.path.join(ROOT, "fuzz", "*_fuzz.cc"))}
        self.assertGreaterEqual(len(harnesses), 10)
        self.assertEqual(harnesses, set(rows))
        for name in harnesses:
            self.assertEqual((0, 0, 0, "10000000"), rows[name], name)


if __name__ == "__main__":
    unittest.main()
