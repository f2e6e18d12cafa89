#!/usr/bin/env bash
# The simulator's wall times and peak memory (numbers for README/docs):
#  - the built-in default day, every policy (target < 1 s);
#  - 50 seeds of the default day, every policy, on all cores (target < 5 s on 2);
#  - examples/large-30d.yaml (1,000 instances, 10,000 tasks, 30 days), the
#    spotkeeper policy alone, wall time and peak RSS (target < 20 s);
#  - how wall time grows with the fleet: 100 / 1,000 / 10,000 instances (10
#    tasks per instance), one day, spotkeeper policy, generated from large-30d.
# Usage: bench/sim_bench.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$build/spotkeeper"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Runs "$@" under /usr/bin/time; prints "wall_s peak_rss_MiB".
measure() {
  /usr/bin/time -f '%e %M' -o "$work/time" "$@" >"$work/out" 2>"$work/err" || {
    cat "$work/err" >&2
    return 1
  }
  read -r wall rss <"$work/time"
  echo "$wall $((rss / 1024))"
}

echo "== default scenario (24 h, all four policies)"
read -r wall rss < <(measure "$bin" simulate)
echo "wall ${wall} s, peak RSS ${rss} MiB"
cat "$work/out"

echo "== default scenario, --seeds 50 (every policy, $(nproc) cores)"
read -r wall rss < <(measure "$bin" simulate --seeds 50)
echo "wall ${wall} s, peak RSS ${rss} MiB"
cat "$work/out"

echo "== examples/large-30d.yaml (1,000 instances, 10,000 tasks, 30 days), spotkeeper"
read -r wall rss < <(measure "$bin" simulate "$root/examples/large-30d.yaml" --policy spotkeeper)
echo "wall ${wall} s, peak RSS ${rss} MiB"
cat "$work/out"

echo "== fleet size (1 day, 10 tasks per instance, spotkeeper)"
printf '%10s %10s %10s %12s\n' instances tasks wall_s peak_MiB
for n in 100 1000 10000; do
  python3 - "$root/examples/large-30d.yaml" "$n" >"$work/size-$n.yaml" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
n = int(sys.argv[2])
scale = n / 1000
text = re.sub(r"^duration: .*$", "duration: 1d", text, flags=re.M)
text = re.sub(r"^sample_interval: .*$", "sample_interval: 15m", text, flags=re.M)
text = re.sub(r"target_capacity: \d+", f"target_capacity: {n}", text)
text = re.sub(r"capacity: 140", f"capacity: {max(2, int(140 * scale))}", text)
text = re.sub(r"desired: 500", f"desired: {max(1, int(500 * scale))}", text)
text = re.sub(r"^  min: \d+$", f"  min: {max(1, int(20 * scale))}", text, flags=re.M)
text = re.sub(r"^  max: \d+$", f"  max: {max(10, int(300 * scale))}", text, flags=re.M)
# Keep only the events inside the first day.
text = re.sub(r"^  - \{at: (\d+)d.*\n", lambda m: m.group(0) if m.group(1) == "0" else "", text, flags=re.M)
text = text.replace("events:\n", "events: []\n") if "  - {at:" not in text.split("events:")[1] else text
print(text, end="")
PY
  read -r wall rss < <(measure "$bin" simulate "$work/size-$n.yaml" --policy spotkeeper)
  printf '%10d %10d %10s %12s\n' "$n" "$((n * 10))" "$wall" "$rss"
done
