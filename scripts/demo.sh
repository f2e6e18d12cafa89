#!/usr/bin/env bash
# `make demo`: the simulator's what-if on the built-in default day, every
# policy (none, ecs-agent, reference, spotkeeper): prints the table and writes
# the HTML report. Usage: scripts/demo.sh [path/to/spotkeeper] [REPORT.html]
# (`make demo-aws`, scripts/demo_aws.sh, is the AWS-side demo against moto and
# the EC2 metadata mock.)
set -euo pipefail
bin=${1:-build/spotkeeper}
report=${2:-$(dirname "$bin")/simulation-report.html}

echo "== spotkeeper simulate   (the built-in default day; spotkeeper simulate --print-default-scenario shows it)"
"$bin" simulate --report "$report"
echo
echo "Columns: availability = task-seconds running / desired; tasks lost = killed by an"
echo "instance termination while not drained; min < tgt = minutes the fleet's capacity"
echo "(spot + on-demand units) was below its target. Models: docs/simulator.md."
echo "HTML report (open it in a browser; no network needed): $(cd "$(dirname "$report")" && pwd)/$(basename "$report")"
