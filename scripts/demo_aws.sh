#!/usr/bin/env bash
# `make demo-aws`: `spotkeeper --help`, `spotkeeper doctor` against a
# moto_server (SigV4 checking on), and `spotkeeper metadata` against the EC2
# metadata mock; both peers run on loopback and are stopped on exit.
# (`make demo`, scripts/demo.sh, runs the simulator.)
set -euo pipefail
bin=${1:-build/spotkeeper}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=${SPK_PYTHON:-python3}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "demo: nothing answers on 127.0.0.1:$1" >&2
  return 1
}

echo "== spotkeeper --help"
"$bin" --help
echo

moto_port=$(free_port)
INITIAL_NO_AUTH_ACTION_COUNT=4 "$python" -m moto.server -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
pids+=($!)
imds_port=$(free_port)
if command -v ec2-metadata-mock >/dev/null; then
  ec2-metadata-mock -n 127.0.0.1 -p "$imds_port" >"$work/imds.log" 2>&1 &
  pids+=($!)
  wait_port "$imds_port"
fi
wait_port "$moto_port"
read -r key secret arn < <("$python" "$root/tests/tools/moto_iam_user.py" "http://127.0.0.1:$moto_port")
echo "== moto_server on 127.0.0.1:$moto_port checks signatures; IAM user $arn"
echo "== spotkeeper doctor"
env -i PATH="$PATH" HOME="$work" \
  AWS_REGION=us-east-1 AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port" \
  AWS_ACCESS_KEY_ID="$key" AWS_SECRET_ACCESS_KEY="$secret" \
  AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$imds_port" \
  "$bin" doctor
if command -v ec2-metadata-mock >/dev/null; then
  echo
  echo "== spotkeeper metadata (the message the agent would send, from the EC2 metadata mock on 127.0.0.1:$imds_port)"
  env -i PATH="$PATH" HOME="$work" AWS_REGION=us-east-1 \
    AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$imds_port" \
    SPOTKEEPER_ECS_AGENT_ENDPOINT="http://127.0.0.1:$(free_port)" \
    "$bin" metadata
fi
