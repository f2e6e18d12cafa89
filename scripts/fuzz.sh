#!/usr/bin/env bash
# Builds the libFuzzer harnesses (preset `fuzz`, build-fuzz/) and runs each one
# for FUZZ_SECONDS (default 300) from its seed corpus fuzz/corpus/NAME, keeping
# what it finds in build-fuzz/fuzz/corpus/NAME; prints executions per harness.
# FUZZ_RUNS=N (optional) also ends a harness after N executions, whichever
# comes first: `FUZZ_RUNS=10000000 FUZZ_SECONDS=86400` runs each to 10^7.
# FUZZ_JOBS=N runs N processes of each harness on the shared corpus.
# FUZZ_CHUNK=N (default 1000000): a process runs at most N executions; a
# longer run is several processes, one after another, each resuming from the
# corpus (with ASan's allocation stacks on, its memory grows with every
# execution).
# ASAN_OPTIONS: malloc_context_size=0 comes first, before what the caller
# set (a later flag wins: ASAN_OPTIONS=malloc_context_size=30 keeps the
# stacks). No allocation and free stacks in a report: about a sixth faster,
# and flat memory; run the crash file again with build-fuzz/fuzz/NAME_fuzz
# FILE for the stacks.
# Each process is added to the campaign log build-fuzz/fuzz/campaign.tsv (or
# FUZZ_CAMPAIGN; date, harness, executions, seconds, result (ok, interrupted,
# failed-EXIT), commit): the runs of a campaign start from the corpus the
# earlier ones left, so their executions add up. Ctrl-C stops the fuzzer,
# logs it as interrupted and ends the script.
# Usage: scripts/fuzz.sh [--smoke] [HARNESS...]
#        scripts/fuzz.sh --totals   the campaign's executions per harness
#   --smoke  a short check (with FUZZ_SECONDS=3, say), not logged in the
#            campaign; without clang++ it says so and exits 0. (`make test`
#            runs its short runs with ctest in build-asan/: make fuzz-smoke.)
# A crash stops that harness and leaves crash-*/leak-*/timeout-* files in
# build-fuzz/fuzz/artifacts/; the script then exits 1.
set -uo pipefail
cd "$(dirname "$0")/.."
# FUZZ_DIR: harnesses built elsewhere (its NAME_fuzz binaries are run as they
# are, nothing is built; corpora, logs and artifacts go there too). For tests.
out=${FUZZ_DIR:-build-fuzz/fuzz}
campaign=${FUZZ_CAMPAIGN:-$out/campaign.tsv}
if [[ "${1:-}" == "--totals" ]]; then
  # Per harness (every fuzz/*_fuzz.cc, run or not): runs, executions, failed
  # runs (an interrupted one is not: its executions count), and what is left
  # to the 10^7 executions of issue 12.
  all=$(ls fuzz/*_fuzz.cc | xargs -n1 basename | sed 's/_fuzz\.cc$//' | tr '\n' ' ')
  [[ -f "$campaign" ]] || campaign=/dev/null
  awk -F'\t' -v all="$all" '
    NF >= 5 && $2 != "" {
      runs[$2]++; execs[$2] += $3
      if ($5 != "ok" && $5 != "interrupted") failed[$2]++
    }
    END {
      printf "%-14s %5s %12s %7s %s\n", "harness", "runs", "executions", "failed", "to 10^7"
      n = split(all, names, " ")
      for (i = 1; i <= n; i++) seen[names[i]] = 1
      for (h in runs) seen[h] = 1
      for (h in seen) {
        left = 10000000 - execs[h]
        printf "%-14s %5d %12d %7d %s\n", h, runs[h], execs[h], failed[h] + 0,
               (left > 0 ? left : "done")
      }
    }' "$campaign" | { read -r header; echo "$header"; sort; }
  exit 0
fi
# Recording a stack for every malloc and free was the harnesses' largest
# cost (perf on scenario_fuzz: 18% in the stack depot and unwinding).
export ASAN_OPTIONS="malloc_context_size=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
smoke=0
if [[ "${1:-}" == "--smoke" ]]; then smoke=1; shift; fi
if [[ -z "${FUZZ_DIR:-}" ]] && ! command -v clang++ >/dev/null; then
  if (( smoke )); then
    echo "fuzz: SKIPPED: clang++ is not installed (scripts/setup.sh installs clang, libfuzzer-14-dev)"
    exit 0
  fi
  echo "fuzz: clang++ is not installed (scripts/setup.sh installs clang, libfuzzer-14-dev)" >&2
  exit 2
fi
seconds="${FUZZ_SECONDS:-300}"
jobs="${FUZZ_JOBS:-1}"
runs="${FUZZ_RUNS:-}"
chunk="${FUZZ_CHUNK:-1000000}"
if [[ -n "$runs" && ! "$runs" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz: FUZZ_RUNS must be a positive number of executions, not \"$runs\"" >&2
  exit 2
fi
if [[ ! "$chunk" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz: FUZZ_CHUNK must be a positive number of executions, not \"$chunk\"" >&2
  exit 2
fi
if [[ ! "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz: FUZZ_SECONDS must be a positive number of seconds, not \"$seconds\"" >&2
  exit 2
fi
harnesses=("$@")
if (( ${#harnesses[@]} == 0 )); then
  harnesses=($(ls fuzz/*_fuzz.cc | xargs -n1 basename | sed 's/_fuzz\.cc$//'))
fi
if [[ -z "${FUZZ_DIR:-}" ]]; then
  test -f build-fuzz/build.ninja || cmake --preset fuzz >/dev/null || exit 2
  ninja -C build-fuzz -j2 $(printf '%s_fuzz ' "${harnesses[@]}") >/dev/null || exit 2
fi
mkdir -p "$out/artifacts"
out=$(CDPATH='' cd -- "$out" && pwd)
# The fuzzer runs in a directory of this run's own: with -jobs, libFuzzer
# writes each worker's output to ./fuzz-N.log, and two runs from one checkout
# (a campaign and the script's own test) must not read or remove each
# other's.
rundir=$(mktemp -d "${TMPDIR:-/tmp}/spk-fuzz.XXXXXX") || exit 2
trap 'rm -rf "$rundir"' EXIT
failed=0
# Ctrl-C (SIGINT) or SIGTERM: the fuzzer and its -jobs workers get SIGTERM
# (libFuzzer then prints its statistics and exits), the process is logged as
# interrupted and the script ends (130).
child=0
stop_requested=0
on_signal() {
  stop_requested=1
  if (( child > 0 )); then kill -TERM -- "-$child" 2>/dev/null || kill -TERM "$child" 2>/dev/null; fi
}
trap on_signal INT TERM
printf '%-14s %12s %10s %8s %s\n' harness executions exec/s seconds result
for h in "${harnesses[@]}"; do
  work=$out/corpus/$h
  seeds=$PWD/fuzz/corpus/$h
  mkdir -p "$work"
  log=$out/$h.log
  # -jobs only for more than one: with -jobs=1 libFuzzer still forks a worker
  # whose output goes to ./fuzz-0.log instead of $log.
  parallel=()
  if (( jobs > 1 )); then parallel=(-jobs="$jobs" -workers="$jobs"); fi
  # In processes of at most FUZZ_CHUNK executions each, one after another on
  # the corpus the last one left, until FUZZ_RUNS or FUZZ_SECONDS is used up:
  # ASan keeps every distinct allocation stack it sees for the life of the
  # process (its stack depot), and on the recursive YAML parsers that is
  # 0.4 to 0.6 KB per execution (config_fuzz: from 460 MB to 900 MB in 730,000
  # executions; flat with malloc_context_size=0), so one process of 10^7
  # would pass -rss_limit_mb (with the stacks on, as ASAN_OPTIONS may ask).
  # Each process is a line of the campaign log, and
  # each starts by running the whole corpus again (those executions count).
  left=$runs
  deadline=$(( SECONDS + seconds ))
  while :; do
    time_left=$(( deadline - SECONDS ))
    (( time_left >= 1 )) || break
    want=$chunk
    if [[ -n "$left" ]] && (( left < want )); then want=$left; fi
    # -runs counts one process's executions: with N jobs each runs its share.
    start=$SECONDS
    # In a session of its own, so that on_signal reaches the -jobs workers too.
    (cd "$rundir" && exec setsid -w "$out/${h}_fuzz" -max_total_time="$time_left" -print_final_stats=1 \
      -timeout=10 -rss_limit_mb=2048 "${parallel[@]}" -runs=$(( (want + jobs - 1) / jobs )) \
      -artifact_prefix="$out/artifacts/$h-" "$work" "$seeds") >"$log" 2>&1 &
    child=$!
    wait "$child"
    rc=$?
    # A signal ends the first wait early: the second gives the fuzzer's exit.
    if (( stop_requested )); then wait "$child"; rc=$?; fi
    # A stopped libFuzzer parent can exit before its -jobs workers have
    # written their statistics: wait (10 s at most) for its process group
    # to be gone.
    for ((i = 0; i < 100; i++)); do
      kill -0 -- "-$child" 2>/dev/null || break
      sleep 0.1
    done
    child=0
    # With -jobs each worker's statistics are in its fuzz-N.log, which the
    # parent also copies into $log: count them once.
    stats=("$log")
    if (( jobs > 1 )); then stats=("$rundir"/fuzz-*.log); fi
    execs=$(grep -h 'stat::number_of_executed_units' "${stats[@]}" 2>/dev/null | awk '{s+=$2} END {print s+0}')
    # Over the time it really ran (a crash ends it early).
    elapsed=$(( SECONDS - start ))
    rate=$(( execs / (elapsed > 0 ? elapsed : 1) ))
    result=ok
    interrupted=0
    # Stopped (on_signal, or 72: libFuzzer's exit on its own SIGINT/SIGTERM):
    # its executions count, it found nothing, and the script stops.
    if (( stop_requested || rc == 72 )); then result=interrupted; interrupted=1
    elif (( rc != 0 )); then result="FAILED (exit $rc, see $log)"; failed=1; fi
    printf '%-14s %12s %10s %8s %s\n' "$h" "$execs" "$rate" "$elapsed" "$result"
    if (( ! smoke )); then
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$h" "$execs" \
        "$elapsed" "$(case $result in ok|interrupted) echo "$result" ;; *) echo "failed-$rc" ;; esac)" \
        "$(git rev-parse --short HEAD 2>/dev/null || echo -)" >>"$campaign"
    fi
    rm -f "$rundir"/fuzz-*.log
    (( interrupted )) && exit 130
    (( rc == 0 )) || break
    (( execs > 0 )) || break
    if [[ -n "$left" ]]; then
      left=$(( left - execs ))
      (( left > 0 )) || break
    fi
    # Ended before its -runs: the time is up.
    (( execs >= want )) || break
  done
done
exit $failed
