#!/usr/bin/env bash
# Installs everything spotkeeper's build, tests and benchmarks need.
# Idempotent and non-interactive: each step is skipped when already satisfied.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools="$root/tools/bin"
mkdir -p "$tools"

log() { printf 'setup: %s\n' "$*" >&2; }

apt_packages=(
  cmake ninja-build g++ clang-format pkg-config zip unzip time
  libcurl4-openssl-dev libssl-dev libevent-dev nlohmann-json3-dev libpugixml-dev
  libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libfuzzer-14-dev libclang-rt-14-dev  # the libFuzzer harnesses and their sanitizer runtimes (fuzz/, docs/fuzzing.md)
  chromium  # headless check and screenshot of the simulator's HTML report (big: same apt step)
)

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages: all present"
fi

# Image builds (Dockerfile) need the Debian packages only.
if [ "${SPK_SETUP_PACKAGES_ONLY:-0}" = 1 ]; then
  log "SPK_SETUP_PACKAGES_ONLY=1: skipping the test tools (systemd-analyze, pip and Go peers)"
  exit 0
fi

# systemd-analyze checks deploy/systemd (tests/package); containers often lack it.
if ! command -v systemd-analyze >/dev/null 2>&1; then
  log "installing systemd (for systemd-analyze)"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends systemd >/dev/null
else
  log "systemd-analyze: present"
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import moto.server, flask, botocore' 2>/dev/null; then
  log "installing moto[server] with pip"
  "$python" -m pip install --quiet 'moto[server]'
else
  log "moto[server]: present"
fi

# cfn-lint checks the CloudFormation templates under deploy/ (tests/deploy).
if ! "$python" -c 'import cfnlint' 2>/dev/null; then
  log "installing cfn-lint with pip"
  "$python" -m pip install --quiet cfn-lint
else
  log "cfn-lint: present"
fi

# The AWS CLI runs scripts/install_by_hand.sh (docs/install.md Option B) against
# moto in tests/deploy/install_by_hand_test.py.
if ! command -v aws >/dev/null 2>&1; then
  log "installing the AWS CLI (awscli) with pip"
  "$python" -m pip install --quiet awscli
else
  log "aws CLI: present"
fi

go_tool() { # name module@version
  local name=$1 module=$2
  if [ -x "$tools/$name" ]; then
    log "$name: present"
    return
  fi
  if ! command -v go >/dev/null 2>&1; then
    log "go is not installed: cannot install $name (tests that need it will fail)"
    return 1
  fi
  log "installing $name ($module)"
  GOBIN="$tools" GOFLAGS=-mod=mod go install "$module"
}
go_tool ec2-metadata-mock github.com/aws/amazon-ec2-metadata-mock/cmd/ec2-metadata-mock@v1.13.0
go_tool aws-lambda-rie github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d
log "done"
