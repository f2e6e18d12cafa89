#!/usr/bin/env bash
# Runs every benchmark binary of a build tree. Usage: bench/run.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
for b in "$build"/bench/*_benchmark; do
  echo "== $(basename "$b")"
  "$b" --benchmark_min_time=0.5 --benchmark_counters_tabular=true
done
