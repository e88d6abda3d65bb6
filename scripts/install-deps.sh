#!/usr/bin/env bash
# Installs what Earshot needs to build and test on a fresh Debian machine with the Swift
# toolchain. Idempotent and quiet: when everything is present it prints nothing.
#   scripts/install-deps.sh          build + run dependencies (C libraries)
#   scripts/install-deps.sh test     also what the tests and benchmarks use
set -euo pipefail

want=(pkg-config libsqlite3-dev libyaml-dev libncurses-dev librdkafka-dev librabbitmq-dev libpq-dev)
if [[ "${1:-}" == "test" ]]; then
    want+=(python3 sqlite3 tmux jq)
fi

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# python3 may come from elsewhere (pyenv); a working interpreter is enough.
if [[ " ${missing[*]-} " == *" python3 "* ]] && command -v python3 >/dev/null; then
    missing=("${missing[@]/python3}")
fi
missing=($(printf '%s\n' "${missing[@]-}" | grep -v '^$' || true))

if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "swift is not on PATH (Earshot needs the Swift 6 toolchain)" >&2; exit 1; }
