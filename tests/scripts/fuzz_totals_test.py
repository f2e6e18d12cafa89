"""`scripts/fuzz.sh`: the campaign's totals, and how a long run is cut up.

Each process scripts/fuzz.sh runs appends a line to the campaign log (date,
harness, executions, seconds, result, commit); the runs of a campaign resume
from the corpus the earlier ones left, so their executions add up toward issue
12's 10^7 per harness. Here a made-up log (FUZZ_CAMPAIGN) is totalled: sums,
failed runs (an interrupted run is not one), "done" at 10^7, and every harness
of fuzz/*_fuzz.cc listed even with no run.

The run loop is driven against a stand-in for a libFuzzer binary (FUZZ_DIR, a
bash script that prints libFuzzer's statistics line): processes of at most
FUZZ_CHUNK executions until FUZZ_RUNS, the executions of -jobs workers counted
once, a crash ending the harness, and Ctrl-C recorded as interrupted with the
fuzzer stopped.
Run: python3 tests/scripts/fuzz_totals_test.py
"""
import glob
import os
import signal
import subprocess
import tempfile
import time
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


# A libFuzzer stand-in: records its arguments, the ASAN_OPTIONS it got and its
# directory; fails as libFuzzer does when a corpus directory is not there;
# prints the statistics line for -runs executions (FAKE_EXECS instead, when
# set), per worker with -jobs (each in ./fuzz-N.log, copied to stderr as
# libFuzzer's parent does); FAKE_EXIT is its exit code. FAKE_HANG: waits for
# SIGTERM, then prints 7 executions and exits 72 as libFuzzer does; with
# -jobs, as libFuzzer's parent does, it dies of the SIGTERM at once, and its
# one worker writes 7 executions to ./fuzz-0.log half a second later.
FAKE = r"""#!/usr/bin/env bash
runs=0; jobs=0
for a in "$@"; do
  case $a in
    -runs=*) runs=${a#-runs=} ;;
    -jobs=*) jobs=${a#-jobs=} ;;
    -*) ;;
    *) [[ -d $a ]] || { echo "No such file or directory: $a; exiting" >&2; exit 1; } ;;
  esac
done
if [[ -n "${FAKE_HANG:-}" ]]; then
  if (( jobs > 1 )); then
    (
      trap 'sleep 0.5; echo "stat::number_of_executed_units: 7" > fuzz-0.log; exit 72' TERM
      touch "$FAKE_ARGS.worker"
      sleep 60 & wait
    ) &
    while [[ ! -e "$FAKE_ARGS.worker" ]]; do sleep 0.01; done
  else
    trap 'echo "stat::number_of_executed_units: 7" >&2; exit 72' TERM
  fi
fi
echo "${ASAN_OPTIONS-(unset)}" > "$FAKE_ARGS.asan"
echo "$PWD" > "$FAKE_ARGS.cwd"
echo "$$ $*" >> "$FAKE_ARGS"  # started (and its trap set)
n=${FAKE_EXECS:-$runs}
if [[ -n "${FAKE_HANG:-}" ]]; then
  sleep 60 & wait
  exit 3
fi
if (( jobs > 1 )); then
  for ((i = 0; i < jobs; i++)); do
    echo "stat::number_of_executed_units: $n" > fuzz-$i.log
    cat fuzz-$i.log >&2
  done
else
  echo "stat::number_of_executed_units: $n" >&2
fi
exit ${FAKE_EXIT:-0}
"""


class FuzzRunTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.campaign = os.path.join(self.dir, "campaign.tsv")
        self.args = os.path.join(self.dir, "args")
        fake = os.path.join(self.dir, "time_fuzz")
        with open(fake, "w", encoding="utf-8") as f:
            f.write(FAKE)
        os.chmod(fake, 0o755)

    def tearDown(self):
        self.tmp.cleanup()

    def env(self, **extra):
        env = dict(os.environ, FUZZ_DIR=self.dir, FUZZ_CAMPAIGN=self.campaign,
                   FAKE_ARGS=self.args, FUZZ_SECONDS="60")
        env.update(extra)
        return env

    def run_script(self, **extra):
        return subprocess.run(["bash", SCRIPT, "time"], capture_output=True, text=True,
                              env=self.env(**extra), timeout=60)

    def rows(self):
        with open(self.campaign, encoding="utf-8") as f:
            return [line.split("\t")[1:5] for line in f.read().splitlines()]

    def processes(self):
        with open(self.args, encoding="utf-8") as f:
            return f.read().splitlines()

    def test_a_long_run_is_processes_of_at_most_the_chunk(self):
        r = self.run_script(FUZZ_RUNS="1000", FUZZ_CHUNK="400")
        self.assertEqual(0, r.returncode, r.stdout + r.stderr)
        self.assertEqual([["time", "400", "ok"], ["time", "400", "ok"], ["time", "200", "ok"]],
                         [[h, n, res] for h, n, _, res in self.rows()])
        self.assertEqual(["-runs=400", "-runs=400", "-runs=200"],
                         [next(a for a in p.split() if a.startswith("-runs="))
                          for p in self.processes()])
        with open(self.campaign, encoding="utf-8") as f:
            _, totals_rows = totals(f.read())
        self.assertEqual((3, 1000, 0, "9999000"), totals_rows["time"])

    def test_the_workers_of_jobs_are_counted_once(self):
        r = self.run_script(FUZZ_RUNS="1000", FUZZ_JOBS="2")
        self.assertEqual(0, r.returncode, r.stdout + r.stderr)
        self.assertEqual([["time", "1000", "ok"]], [[h, n, res] for h, n, _, res in self.rows()])
        self.assertIn("-runs=500", self.processes()[0].split())
        # The workers' fuzz-N.log went to a directory of the run's own, not
        # the checkout, where another run (make test's) would count or remove
        # them; it is gone after the run.
        with open(self.args + ".cwd", encoding="utf-8") as f:
            cwd = f.read().strip()
        self.assertNotEqual(ROOT, cwd)
        self.assertFalse(os.path.exists(cwd), cwd)

    def test_asan_keeps_no_allocation_stacks_unless_asked(self):
        # No stacks (they cost a sixth of the time, and memory that grows
        # with every execution), then what the caller set: ASan takes the
        # last value of a flag, so malloc_context_size=30 brings them back.
        for given, seen in ((None, "malloc_context_size=0"), ("", "malloc_context_size=0"),
                            ("abort_on_error=1", "malloc_context_size=0:abort_on_error=1"),
                            ("malloc_context_size=30",
                             "malloc_context_size=0:malloc_context_size=30")):
            with self.subTest(asan_options=given):
                env = self.env(FUZZ_RUNS="10")
                env.pop("ASAN_OPTIONS", None)
                if given is not None:
                    env["ASAN_OPTIONS"] = given
                r = subprocess.run(["bash", SCRIPT, "time"], capture_output=True, text=True,
                                   env=env, timeout=60)
                self.assertEqual(0, r.returncode, r.stdout + r.stderr)
                with open(self.args + ".asan", encoding="utf-8") as f:
                    self.assertEqual(seen, f.read().rstrip("\n"))

    def test_a_relative_fuzz_dir_works_from_the_private_directory(self):
        # The default build-fuzz/fuzz is relative to the checkout; the fuzzer
        # runs elsewhere, so the script must hand it absolute paths.
        r = self.run_script(FUZZ_RUNS="1000", FUZZ_JOBS="2",
                            FUZZ_DIR=os.path.relpath(self.dir, ROOT))
        self.assertEqual(0, r.returncode, r.stdout + r.stderr)
        self.assertEqual([["time", "1000", "ok"]], [[h, n, res] for h, n, _, res in self.rows()])
        prefix = next(a for a in self.processes()[0].split() if a.startswith("-artifact_prefix="))
        self.assertTrue(os.path.isabs(prefix[len("-artifact_prefix="):]), prefix)

    def test_time_up_before_the_runs_ends_the_harness(self):
        r = self.run_script(FUZZ_RUNS="1000", FUZZ_CHUNK="400", FAKE_EXECS="150")
        self.assertEqual(0, r.returncode, r.stdout + r.stderr)
        self.assertEqual([["time", "150", "ok"]], [[h, n, res] for h, n, _, res in self.rows()])

    def test_a_crash_ends_the_harness_and_fails(self):
        r = self.run_script(FUZZ_RUNS="1000", FUZZ_CHUNK="400", FAKE_EXIT="1")
        self.assertEqual(1, r.returncode, r.stdout + r.stderr)
        self.assertEqual([["time", "400", "failed-1"]], [[h, n, res] for h, n, _, res in self.rows()])
        self.assertEqual(1, len(self.processes()))

    def test_ctrl_c_stops_the_fuzzer_and_is_recorded_as_interrupted(self):
        # With -jobs the parent dies first and the worker's statistics come
        # later: the script waits for them.
        for sig, jobs in ((signal.SIGINT, "1"), (signal.SIGTERM, "1"), (signal.SIGTERM, "2")):
            with self.subTest(signal=sig.name, jobs=jobs):
                for path in (self.campaign, self.args, self.args + ".worker"):
                    if os.path.exists(path):
                        os.remove(path)
                p = subprocess.Popen(["bash", SCRIPT, "time"], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True,
                                     env=self.env(FUZZ_RUNS="1000", FAKE_HANG="1",
                                                  FUZZ_JOBS=jobs))
                deadline = time.monotonic() + 30
                while not os.path.exists(self.args) and time.monotonic() < deadline:
                    time.sleep(0.05)
                self.assertTrue(os.path.exists(self.args), "the fuzzer never started")
                p.send_signal(sig)
                out, _ = p.communicate(timeout=30)
                self.assertEqual(130, p.returncode, out)
                self.assertEqual([["time", "7", "interrupted"]],
                                 [[h, n, res] for h, n, _, res in self.rows()])
                self.assertEqual(1, len(self.processes()), "no second process after a stop")
                pid = int(self.processes()[0].split()[0])
                gone = False
                for _ in range(100):
                    try:
                        os.kill(pid, 0)
                    except ProcessLookupError:
                        gone = True
                        break
                    time.sleep(0.05)
                self.assertTrue(gone, "the fuzzer is still running")


if __name__ == "__main__":
    unittest.main()
