#!/usr/bin/env bash
# The Action's install, before and after issue 21: time and size of a fresh venv each, from
# PyPI with no pip cache. Usage: bench/bench_action_install.sh [PYTHON]  (from the repo root)
#   before: pip install "<project>[server]" (what action.yml installed: the server too)
#   after:  action.yml's way: the lock with --no-deps --only-binary, then the project
set -euo pipefail
python=${1:-python3}
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
measure() {  # name, then the commands that fill "$work/$name"
	local name=$1; shift
	"$python" -m venv "$work/$name"
	local start end
	start=$(date +%s.%N)
	"$@"
	end=$(date +%s.%N)
	printf '%-7s %6.1f s %5d MB\n' "$name" "$(echo "$end - $start" | bc)" \
		"$(du -sm "$work/$name" | cut -f1)"
}
pip() { "$work/$1/bin/python" -m pip --disable-pip-version-check --quiet --no-cache-dir "${@:2}"; }
before() { pip before install "$root[server]"; }
after() {
	pip after install --no-deps --only-binary=:all: -r "$root/action/requirements.lock"
	pip after install --no-deps "$root"
}
measure before before
measure after after
