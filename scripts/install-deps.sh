#!/usr/bin/env bash
# Installs what the build and the tests need, and nothing that is already there.
#   scripts/install-deps.sh            Debian packages for building and testing
#   scripts/install-deps.sh --python   also the Python tooling, into .venv inside the repository
# Safe to run repeatedly: it only calls apt-get/pip when something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake ninja-build g++ make pkg-config git
  libbz2-dev zlib1g-dev libzstd-dev bzip2 pbzip2 zstd
  libfmt-dev libcli11-dev libexpected-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev libtsan2
  python3 python3-venv time
  help2man dpkg-dev debootstrap
  libsqlite3-dev libssl-dev libtomlplusplus-dev libsystemd-dev libcpp-httplib-dev procps util-linux
  prometheus prometheus-alertmanager prometheus-node-exporter logrotate systemd chromium jq
  slurm-wlm munge
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [[ "${1:-}" == "--python" ]]; then
  req=python/requirements-test.txt
  stamp=.venv/.requirements.sha256
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [[ ! -x .venv/bin/python ]]; then
    python3 -m venv .venv
  fi
  if [[ ! -f $stamp || "$(cat "$stamp")" != "$want" ]]; then
    echo "install-deps: installing Python test tools into .venv" >&2
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -r "$req"
    echo "$want" >"$stamp"
  fi
fi
